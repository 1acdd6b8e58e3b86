// The disclosure log's own pages for auditors: a record's page (GET /audit/records/<index>) with
// its inclusion proof verified in the browser, and the log's state (GET /audit/log: the latest
// signed checkpoint, and its cosignatures once witnesses exist). The record's proof is also
// served as the Audit service's JSON (…/proof) for the page's script, which verifies it and the
// signed checkpoint with WebCrypto against the key the auditor configured — never against a key
// the daemon supplies. Every page and JSON answer is the Audit service's own recorded read.
#pragma once

#include "server/audit_service.h"
#include "web/web_server.h"

namespace infoflyt {

void AddLogPages(WebServer* server, AuditService* audit);

}  // namespace infoflyt
