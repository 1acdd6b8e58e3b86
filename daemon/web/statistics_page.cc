#include "web/statistics_page.h"

#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <memory>

#include "core/statistics.h"
#include "server/time_util.h"
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

// One chart's data as a table (templates/chart_table.mustache): a row per day of the period, a
// column per series, in the order first seen.
class DayTable {
 public:
  explicit DayTable(const v1::Statistics& stats) {
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

  std::string Render(const std::string& id, const std::string& title, bool stacked) const {
    TemplateData data;
    data.set("id", id);
    data.set("title", title);
    data.set("stacked", stacked);
    data.set("has_series", !series_.empty());
    TemplateData headers{TemplateData::type::list};
    for (const std::string& s : series_) {
      TemplateData h;
      h.set("label", s);
      h.set("plot", true);
      headers << h;
    }
    data.set("headers", headers);
    data.set("row_header", "Dag");
    TemplateData rows{TemplateData::type::list};
    for (const std::string& day : days_) {
      TemplateData row;
      row.set("label", day);
      TemplateData cells{TemplateData::type::list};
      for (const std::string& s : series_) {
        const auto& by_day = counts_.at(s);
        auto it = by_day.find(day);
        const std::string n = std::to_string(it == by_day.end() ? 0 : it->second);
        TemplateData cell;
        cell.set("text", n);
        cell.set("value", n);
        cells << cell;
      }
      row.set("cells", cells);
      rows << row;
    }
    data.set("rows", rows);
    return RenderTemplate("chart_table", data);
  }

 private:
  std::vector<std::string> days_;
  std::vector<std::string> series_;
  std::map<std::string, std::map<std::string, uint64_t>> counts_;
};

std::string AckTable(const v1::Statistics& stats, const Catalogs& catalogs) {
  TemplateData data;
  data.set("id", "acknowledgements");
  data.set("title", "Tid til bekreftelse per kommune (timer)");
  data.set("stacked", false);
  data.set("has_series", stats.acknowledgements_size() > 0);
  data.set("row_header", "Kommune");
  TemplateData headers{TemplateData::type::list};
  for (auto [label, plot] : {std::pair{"Utleveringer", false},
                             {"Bekreftet", false},
                             {"Median", true},
                             {"90. persentil", true},
                             {"Innen fristen", false}}) {
    TemplateData h;
    h.set("label", label);
    h.set("plot", plot);
    headers << h;
  }
  data.set("headers", headers);
  TemplateData rows{TemplateData::type::list};
  for (const auto& a : stats.acknowledgements()) {
    TemplateData row;
    const Party* party = catalogs.parties.FindByKey(a.municipality());
    row.set("label", party == nullptr ? a.municipality() : PartyName(*party));
    TemplateData cells{TemplateData::type::list};
    auto add = [&cells](const std::string& text, const std::string& value) {
      TemplateData cell;
      cell.set("text", text);
      cell.set("value", value);
      cells << cell;
    };
    add(std::to_string(a.deliveries()), "");
    add(std::to_string(a.acknowledged()), "");
    const bool any = a.acknowledged() > 0;
    char hours[32];
    std::snprintf(hours, sizeof hours, "%.2f", a.median_seconds() / 3600);
    add(any ? Duration(a.median_seconds()) : "–", any ? hours : "");
    std::snprintf(hours, sizeof hours, "%.2f", a.p90_seconds() / 3600);
    add(any ? Duration(a.p90_seconds()) : "–", any ? hours : "");
    add(a.with_deadline() == 0 ? "ingen frist"
                               : std::to_string(a.within_deadline() * 100 / a.with_deadline()) +
                                     " % (" + std::to_string(a.within_deadline()) + " av " +
                                     std::to_string(a.with_deadline()) + ")",
        "");
    row.set("cells", cells);
    rows << row;
  }
  data.set("rows", rows);
  return RenderTemplate("chart_table", data);
}

std::string Charts(const v1::Statistics& stats, const Catalogs& catalogs) {
  DayTable by_basis(stats);
  DayTable by_sender(stats);
  DayTable refusals(stats);
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
    data.set("period",
             FormatTime(ToMicros(stats->from())) + " – " + FormatTime(ToMicros(stats->until())));
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
