#include "web/statistics_page.h"

#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <memory>
#include <utility>
#include <vector>

#include "core/statistics.h"
#include "core/time_util.h"
#include "web/await.h"
#include "web/form.h"
#include "web/page.h"

namespace infoflyt {
namespace {

constexpr int64_t kMicrosPerDay = int64_t{86'400} * 1'000'000;

std::vector<FormField> PeriodFields() {
  return {Field("from", "Fra og med (UTC)", Input::kDateTime, false, "Tom: 30 dager tilbake."),
          Field("until", "Til (UTC)", Input::kDateTime, false, "Tom: nå.")};
}

// The Norwegian name of a kind of sender.
std::string KindName(const std::string& kind) {
  static const auto* names =
      new std::map<std::string, std::string>{{"correctional", "Kriminalomsorgen"},
                                             {"police", "Politiet"},
                                             {"pst", "PST"},
                                             {"municipality", "Kommuner"},
                                             {"auditor", "Tilsyn og revisorer"},
                                             {"infoflytd", "infoflyt selv"}};
  auto it = names->find(kind);
  return it == names->end() ? kind : it->second;
}

// "3 t 5 min", "12 min", "40 s".
std::string Duration(double seconds) {
  const auto s = static_cast<int64_t>(std::llround(seconds));
  if (s < 60) return std::to_string(s) + " s";
  if (s < 3600) return std::to_string(s / 60) + " min";
  return std::to_string(s / 3600) + " t " + std::to_string((s % 3600) / 60) + " min";
}

// One chart's data as a table (templates/chart_table.mustache): its columns (those plotted
// have a numeric value in each cell) and a row per day or municipality.
struct ChartTable {
  struct Cell {
    std::string text;
    std::string value;  // What the chart plots; empty for columns it does not.
  };
  std::string id;
  std::string title;
  std::string row_header;
  bool stacked = false;
  std::vector<std::pair<std::string, bool>> columns;  // Label, plotted.
  std::vector<std::pair<std::string, std::vector<Cell>>> rows;

  std::string Render() const {
    TemplateData data;
    data.set("id", id);
    data.set("title", title);
    data.set("row_header", row_header);
    data.set("stacked", stacked);
    data.set("has_series", !columns.empty() && !rows.empty());
    TemplateData headers{TemplateData::type::list};
    for (const auto& [label, plot] : columns) {
      TemplateData h;
      h.set("label", label);
      h.set("plot", plot);
      headers << h;
    }
    data.set("headers", headers);
    TemplateData list{TemplateData::type::list};
    for (const auto& [label, cells] : rows) {
      TemplateData row;
      row.set("label", label);
      TemplateData values{TemplateData::type::list};
      for (const Cell& c : cells) {
        TemplateData cell;
        cell.set("text", c.text);
        cell.set("value", c.value);
        values << cell;
      }
      row.set("cells", values);
      list << row;
    }
    data.set("rows", list);
    return RenderTemplate("chart_table", data);
  }
};

// Counts by day of the period and series (in the order first seen), for a chart.
class DayCounts {
 public:
  explicit DayCounts(const v1::Statistics& stats) {
    // The period is [from, until): its last day is the one holding the microsecond before until.
    const int64_t first = ToMicros(stats.from()) / kMicrosPerDay;
    const int64_t last = (ToMicros(stats.until()) - 1) / kMicrosPerDay;
    for (int64_t day = first; day <= last; ++day) days_.push_back(DayName(day));
  }

  void Add(const std::string& day, const std::string& series, uint64_t count) {
    if (std::find(days_.begin(), days_.end(), day) == days_.end()) return;  // Not in the period.
    if (!counts_.contains(series)) series_.push_back(series);
    counts_[series][day] += count;
  }

  std::string Render(std::string id, std::string title, bool stacked) const {
    ChartTable table{std::move(id), std::move(title), "Dag", stacked, {}, {}};
    if (series_.empty()) return table.Render();
    for (const std::string& s : series_) table.columns.emplace_back(s, true);
    for (const std::string& day : days_) {
      std::vector<ChartTable::Cell> cells;
      for (const std::string& s : series_) {
        const auto& by_day = counts_.at(s);
        auto it = by_day.find(day);
        const std::string n = std::to_string(it == by_day.end() ? 0 : it->second);
        cells.push_back({n, n});
      }
      table.rows.emplace_back(day, std::move(cells));
    }
    return table.Render();
  }

 private:
  std::vector<std::string> days_;
  std::vector<std::string> series_;
  std::map<std::string, std::map<std::string, uint64_t>> counts_;
};

// "1.25" hours, for the chart; empty if nothing was acknowledged.
std::string Hours(double seconds, bool any) {
  if (!any) return "";
  char hours[32];
  std::snprintf(hours, sizeof hours, "%.2f", seconds / 3600);
  return hours;
}

std::string AckTable(const v1::Statistics& stats, const Catalogs& catalogs) {
  ChartTable table{"acknowledgements",
                   "Tid til bekreftelse per kommune (timer)",
                   "Kommune",
                   false,
                   {{"Utleveringer", false},
                    {"Bekreftet", false},
                    {"Median", true},
                    {"90. persentil", true},
                    {"Innen fristen", false}},
                   {}};
  for (const auto& a : stats.acknowledgements()) {
    const Party* party = catalogs.parties.FindByKey(a.municipality());
    const bool any = a.acknowledged() > 0;
    const std::string within = a.with_deadline() == 0
                                   ? "ingen frist"
                                   : std::to_string(a.within_deadline() * 100 / a.with_deadline()) +
                                         " % (" + std::to_string(a.within_deadline()) + " av " +
                                         std::to_string(a.with_deadline()) + ")";
    table.rows.emplace_back(
        party == nullptr ? a.municipality() : PartyName(*party),
        std::vector<ChartTable::Cell>{
            {std::to_string(a.deliveries()), ""},
            {std::to_string(a.acknowledged()), ""},
            {any ? Duration(a.median_seconds()) : "–", Hours(a.median_seconds(), any)},
            {any ? Duration(a.p90_seconds()) : "–", Hours(a.p90_seconds(), any)},
            {within, ""}});
  }
  return table.Render();
}

std::string Charts(const v1::Statistics& stats, const Catalogs& catalogs) {
  DayCounts by_basis(stats);
  DayCounts by_sender(stats);
  DayCounts refusals(stats);
  for (const auto& c : stats.counts()) {
    if (c.event() == "disclose") {
      const LegalBasis* basis = catalogs.legal_bases.Find(c.legal_basis());
      by_basis.Add(c.day(), basis == nullptr ? c.legal_basis() : basis->citation, c.count());
      by_sender.Add(c.day(), KindName(c.sender_kind()), c.count());
    } else if (c.event() == "refuse") {
      refusals.Add(c.day(), "Avvist av reglene", c.count());
    } else if (c.event() == "deny") {
      refusals.Add(c.day(), "Kall nektet", c.count());
    } else if (c.event() == "escalate") {
      refusals.Add(c.day(), "Eskalert (ikke bekreftet i tide)", c.count());
    }
  }
  return by_basis.Render("by-basis", "Utleveringer per dag etter rettsgrunnlag", true) +
         by_sender.Render("by-sender", "Utleveringer per dag etter avsender", true) +
         refusals.Render("refusals", "Avvisninger, nektede kall og eskaleringer per dag", false) +
         AckTable(stats, catalogs);
}

void Render(const WebRequest& request, const std::map<std::string, std::string>& values,
            const std::map<std::string, std::string>& errors, const v1::Statistics* stats,
            const Catalogs& catalogs, httplib::Response& response) {
  TemplateData data = FormData(PeriodFields(), values, errors);
  if (stats != nullptr) {
    data.set("shown", true);
    data.set("period", FormatTime(stats->from()) + " – " + FormatTime(stats->until()));
    data.set("charts_html", Charts(*stats, catalogs));
  }
  SetPage(RenderPage(request.caller, "Statistikk for tilsyn", RenderTemplate("statistics", data),
                     {"chart.umd.js", "statistics.js"}),
          &response);
}

void Statistics(const ServiceContext& ctx, AuditService* audit, const WebRequest& request,
                httplib::Response& response) {
  const auto catalogs = ctx.catalogs->Get();
  std::map<std::string, std::string> values;
  for (const char* name : {"from", "until"}) {
    if (request.http.has_param(name)) values[name] = request.http.get_param_value(name);
  }
  v1::GetStatisticsRequest asked;
  if (auto s =
          google::protobuf::util::JsonStringToMessage(FormJson(PeriodFields(), values), &asked);
      !s.ok()) {
    response.status = 400;
    Render(request, values, {{"", "ugyldig tidspunkt: " + s.message().ToString()}}, nullptr,
           *catalogs, response);
    return;
  }
  auto stats = std::make_shared<v1::Statistics>();
  const std::optional<Status> answered = AwaitAct(stats, [&](v1::Statistics* out, auto done) {
    audit->Aggregates(request.peer, asked, out, std::move(done));
  });
  if (answered && answered->code() == Code::kInvalidArgument) {
    response.status = 400;
    Render(request, values, FieldErrors(*answered, ""), nullptr, *catalogs, response);
    return;
  }
  if (!answered || !answered->ok()) {
    SetActErrorPage(answered, &response);
    return;
  }
  Render(request, values, {}, stats.get(), *catalogs, response);
}

}  // namespace

void AddStatisticsPage(WebServer* server, const ServiceContext* ctx, AuditService* audit) {
  server->Route(
      WebMethod::kGet, "/audit/statistics", "Web/AuditStatistics", AuditorKinds(),
      [ctx, audit](const WebRequest& q, httplib::Response& r) { Statistics(*ctx, audit, q, r); });
}

}  // namespace infoflyt
