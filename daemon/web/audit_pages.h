// The auditor console: search the disclosure log (GET /audit, POST /audit/search: by identity
// number, party, basis, message type, outcome and time, paged) and the subject access report
// as a printable page (POST /audit/report). Identity numbers travel only in POST bodies. Each
// search and report is the Audit service's own act: authorized, recorded as a "read" before it
// is answered, and scoped to what the auditor may see.
#pragma once

#include "server/audit_service.h"
#include "web/web_server.h"

namespace infoflyt {

void AddAuditPages(WebServer* server, const ServiceContext* ctx, AuditService* audit);

}  // namespace infoflyt
