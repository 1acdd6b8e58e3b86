// Oversight statistics for auditors (GET /audit/statistics?from=…&until=…): disclosures per day
// by legal basis and by kind of sender, refusals, denials and escalations per day, and how fast
// each municipality acknowledges — the Audit service's GetStatistics (a recorded read), drawn by
// Chart.js from the page's own tables, which are the charts' text alternative. No personal data.
#pragma once

#include "server/audit_service.h"
#include "web/web_server.h"

namespace infoflyt {

void AddStatisticsPage(WebServer* server, const ServiceContext* ctx, AuditService* audit);

}  // namespace infoflyt
