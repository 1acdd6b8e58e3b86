// Exchange benchmark (not a test). Starts a bare mTLS gRPC echo server (same API, same TLS
// settings, a Post that stores nothing) in this process and the real infoflytd as a child
// process on SQLite, on PostgreSQL (a throwaway cluster, fsync on by default so that both
// stores are durable alike) or both, drives each with the same number of concurrent clients
// posting ~1 KiB release notices, and prints posts/s for each and their ratio to the echo's.
// Runs alternate between the targets so machine noise hits all alike; medians are reported.
// With --rate it measures latency instead: see DriveAtRate.
// The ratio is the median of each run's own ratio (daemon / echo of the same run, seconds
// apart): the machine's speed drifts by tens of percent over a minute, which a ratio of
// medians taken from different moments would carry.
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_builder.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>
#include <thread>
#include <vector>

#include "bench/filesystem.h"
#include "integration/daemon_harness.h"
#include "pg_cluster.h"
#include "test_util.h"
#include "unit/test_envelopes.h"

namespace infoflyt::bench {
namespace {

using Clock = std::chrono::steady_clock;

// The baseline: gRPC over mutual TLS and nothing else.
class EchoExchange final : public v1::Exchange::CallbackService {
  grpc::ServerUnaryReactor* Post(grpc::CallbackServerContext* call, const v1::PostRequest* request,
                                 v1::Receipt* receipt) override {
    receipt->set_message_id(request->envelope().idempotency_key());
    auto* reactor = call->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
};

std::unique_ptr<grpc::Server> StartEcho(EchoExchange* service, std::string* address) {
  const std::string& pki = testing::Pki().dir;
  grpc::SslServerCredentialsOptions tls(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  tls.pem_root_certs = testing::ReadFile(pki + "/ca.pem");
  tls.pem_key_cert_pairs.push_back(
      {testing::ReadFile(pki + "/server.key"), testing::ReadFile(pki + "/server.pem")});
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::SslServerCredentials(tls), &port);
  builder.RegisterService(service);
  auto server = builder.BuildAndStart();
  *address = "127.0.0.1:" + std::to_string(port);
  return server;
}

// One stub per client, each on its own connection, as separate parties would be.
std::vector<std::unique_ptr<v1::Exchange::Stub>> Stubs(const std::string& address, int n) {
  const std::string& pki = testing::Pki().dir;
  grpc::SslCredentialsOptions tls;
  tls.pem_root_certs = testing::ReadFile(pki + "/ca.pem");
  tls.pem_cert_chain = testing::ReadFile(pki + "/parties/correctional-oslo-fengsel.pem");
  tls.pem_private_key = testing::ReadFile(pki + "/parties/correctional-oslo-fengsel.key");
  std::vector<std::unique_ptr<v1::Exchange::Stub>> stubs;
  for (int i = 0; i < n; ++i) {
    grpc::ChannelArguments args;
    args.SetSslTargetNameOverride("localhost");
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    stubs.push_back(
        v1::Exchange::NewStub(grpc::CreateCustomChannel(address, grpc::SslCredentials(tls), args)));
  }
  return stubs;
}

// ~1 KiB serialized.
v1::PostRequest Request(const std::string& key) {
  v1::PostRequest request;
  *request.mutable_envelope() = testing::ReleaseNotice(key);
  auto* note = request.mutable_envelope()->mutable_release_notice()->mutable_note();
  const size_t size = request.ByteSizeLong();
  if (size < 1024) note->resize(note->size() + (1024 - size), '.');
  return request;
}

struct RunResult {
  double posts_per_second;
  uint64_t failures;
};

// All clients post as fast as they can for `seconds`; counts posts that got a receipt.
RunResult Drive(std::vector<std::unique_ptr<v1::Exchange::Stub>>& stubs, const std::string& tag,
                double seconds) {
  std::atomic<uint64_t> ok{0};
  std::atomic<uint64_t> failed{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (size_t c = 0; c < stubs.size(); ++c) {
    threads.emplace_back([&, c] {
      for (uint64_t i = 0; !stop; ++i) {
        const v1::PostRequest request =
            Request(tag + "-" + std::to_string(c) + "-" + std::to_string(i));
        grpc::ClientContext context;
        context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
        v1::Receipt receipt;
        (stubs[c]->Post(&context, request, &receipt).ok() ? ok : failed)++;
      }
    });
  }
  const auto start = Clock::now();
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto& t : threads) t.join();
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  return {static_cast<double>(ok) / elapsed, failed};
}

// --rate: posts sent open loop at a fixed rate, each at its scheduled time whatever the answers
// to earlier ones (a slow answer does not delay the next post), and how long each took from its
// scheduled start: to its receipt (`receipt_ms`), and to a subscriber of one of its recipients
// (`delivered_ms`, if `subscriber` is set). Measured from the scheduled time, so that a stall
// shows in every post it delays (no coordinated omission).
struct LatencyResult {
  std::vector<double> receipt_ms;
  std::vector<double> delivered_ms;
  uint64_t failures = 0;
  uint64_t undelivered = 0;
};

constexpr char kLatencyTag[] = "latency-seq:";

// The sequence number a latency run wrote into a post's note, or -1.
int64_t SequenceOf(const v1::Envelope& envelope, const std::string& run) {
  const std::string& note = envelope.release_notice().note();
  const std::string prefix = kLatencyTag + run + ":";
  if (note.compare(0, prefix.size(), prefix) != 0) return -1;
  return std::stoll(note.substr(prefix.size(), note.find(';') - prefix.size()));
}

LatencyResult DriveAtRate(std::vector<std::unique_ptr<v1::Exchange::Stub>>& stubs,
                          client::ExchangeClient* subscriber, const std::string& run, int rate,
                          double seconds) {
  const auto total = static_cast<int64_t>(rate * seconds);
  const auto interval = std::chrono::duration<double>(1.0 / rate);
  std::vector<Clock::time_point> delivered(total);
  std::vector<char> seen(total, 0);
  std::mutex mu;
  grpc::ClientContext stream;
  std::thread reader;
  if (subscriber != nullptr) {
    reader = std::thread([&] {
      subscriber->Subscribe(0, &stream, [&](const v1::Delivery& d) {
        const int64_t i = SequenceOf(d.envelope(), run);
        if (i >= 0 && i < total) {
          std::lock_guard lock(mu);
          delivered[i] = Clock::now();
          seen[i] = 1;
        }
        return true;
      });
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(500));  // Its backlog first.
  }
  const Clock::time_point start = Clock::now() + std::chrono::milliseconds(100);
  auto scheduled = [&](int64_t i) {
    return start + std::chrono::duration_cast<Clock::duration>(interval * static_cast<double>(i));
  };
  std::vector<double> receipt_ms(total, -1);
  std::atomic<uint64_t> failures{0};
  std::vector<std::thread> threads;
  for (size_t c = 0; c < stubs.size(); ++c) {
    threads.emplace_back([&, c] {
      for (auto i = static_cast<int64_t>(c); i < total; i += static_cast<int64_t>(stubs.size())) {
        v1::PostRequest request = Request(run + "-" + std::to_string(i));
        auto* note = request.mutable_envelope()->mutable_release_notice()->mutable_note();
        *note = kLatencyTag + run + ":" + std::to_string(i) + ";" + *note;
        std::this_thread::sleep_until(scheduled(i));
        grpc::ClientContext context;
        context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
        v1::Receipt receipt;
        if (stubs[c]->Post(&context, request, &receipt).ok()) {
          receipt_ms[i] =
              std::chrono::duration<double, std::milli>(Clock::now() - scheduled(i)).count();
        } else {
          ++failures;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  LatencyResult result;
  result.failures = failures;
  for (double ms : receipt_ms) {
    if (ms >= 0) result.receipt_ms.push_back(ms);
  }
  if (subscriber == nullptr) return result;
  testing::Eventually(
      [&] {
        std::lock_guard lock(mu);
        return std::count(seen.begin(), seen.end(), 1) == static_cast<int64_t>(total);
      },
      std::chrono::seconds(10));
  stream.TryCancel();
  reader.join();
  for (int64_t i = 0; i < total; ++i) {
    if (seen[i]) {
      result.delivered_ms.push_back(
          std::chrono::duration<double, std::milli>(delivered[i] - scheduled(i)).count());
    } else {
      ++result.undelivered;
    }
  }
  return result;
}

// "p50 1.2 ms, p99 3.4 ms, max 9.9 ms" of `ms`.
std::string Percentiles(std::vector<double> ms) {
  if (ms.empty()) return "no samples";
  std::sort(ms.begin(), ms.end());
  auto at = [&](double q) {
    return ms[static_cast<size_t>(q * static_cast<double>(ms.size() - 1))];
  };
  char text[96];
  std::snprintf(text, sizeof text, "p50 %.2f ms, p99 %.2f ms, max %.2f ms", at(0.5), at(0.99),
                ms.back());
  return text;
}

// The daemon's own metrics, as Prometheus scrapes them; empty if that fails.
std::string Scrape(const std::string& http_address) {
  FILE* pipe = popen(("curl -sf http://" + http_address + "/metrics").c_str(), "r");
  if (pipe == nullptr) return "";
  std::string text;
  char chunk[4096];
  for (size_t n; (n = fread(chunk, 1, sizeof chunk, pipe)) > 0;) text.append(chunk, n);
  pclose(pipe);
  return text;
}

// A histogram's observations and their sum, and each bucket's upper bound with its cumulative
// count, from a scrape.
struct Histogram {
  double count = 0;
  double sum = 0;
  std::vector<std::pair<double, double>> buckets;  // (le, cumulative count), finite bounds.
};

Histogram ParseHistogram(const std::string& metrics, const std::string& name) {
  Histogram h;
  std::istringstream lines(metrics);
  for (std::string line; std::getline(lines, line);) {
    double le = 0;
    double n = 0;
    if (std::sscanf(line.c_str(), (name + "_count %lf").c_str(), &n) == 1) h.count = n;
    if (std::sscanf(line.c_str(), (name + "_sum %lf").c_str(), &n) == 1) h.sum = n;
    if (std::sscanf(line.c_str(), (name + "_bucket{le=\"%lf\"} %lf").c_str(), &le, &n) == 2) {
      h.buckets.emplace_back(le, n);
    }
  }
  return h;
}

double MeanOf(const Histogram& h) { return h.count > 0 ? h.sum / h.count : 0; }

// "p50 <= 2 ms, p99 <= 8 ms": the bucket bound each quantile falls under.
std::string BucketQuantiles(const Histogram& h) {
  std::string text;
  for (double q : {0.5, 0.99, 0.999}) {
    std::string bound = "> the last bucket";
    for (const auto& [le, n] : h.buckets) {
      if (n >= q * h.count) {
        bound = "<= " + std::to_string(static_cast<int>(le * 1000 + 0.5)) + " ms";
        break;
      }
    }
    char name[16];
    std::snprintf(name, sizeof name, "p%g", q * 100);
    text += (text.empty() ? "" : ", ") + std::string(name) + " " + bound;
  }
  return text;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

// What the daemon logged of its store at start: the durability settings it read back from the
// committing sessions, not what this benchmark asked for.
std::string StoreLine(const std::string& log) {
  size_t at = log.find("msg=\"store sqlite ");
  if (at == std::string::npos) at = log.find("msg=\"store postgres ");
  if (at == std::string::npos) return "(no store line in the daemon's log)";
  const size_t from = at + 5;
  return log.substr(from, log.find('"', from) - from);
}

int Main(int argc, char** argv) {
  CLI::App app{"exchange_bench: infoflytd posts/s against a bare mTLS gRPC echo server"};
  int clients = 32;
  int runs = 5;
  double seconds = 3;
  std::string backend = "both";
  bool pg_fsync = true;
  app.add_option("--clients", clients, "concurrent clients")->capture_default_str();
  app.add_option("--runs", runs, "runs per target (median reported)")->capture_default_str();
  app.add_option("--seconds", seconds, "length of each run")->capture_default_str();
  app.add_option("--backend", backend, "the daemon's store")
      ->check(CLI::IsMember({"sqlite", "postgres", "both"}))
      ->capture_default_str();
  app.add_option("--pg-fsync", pg_fsync,
                 "PostgreSQL with fsync and full_page_writes on (off: not durable, like tests)")
      ->capture_default_str();
  bool allow_tmpfs = false;
  app.add_flag("--allow-tmpfs", allow_tmpfs,
               "measure even if the data directory is on tmpfs (fsync there is free)");
  std::string variant;
  app.add_option("--sqlite-variant", variant,
                 "[store] settings for a second SQLite daemon driven alongside the first, to "
                 "compare settings in the same runs (e.g. \"sqlite_cache_mib = 64\")");
  std::string other_binary;
  app.add_option("--sqlite-binary", other_binary,
                 "another infoflytd build (e.g. from before a change) for a second SQLite daemon "
                 "driven alongside the first, to compare builds in the same runs");
  int rate = 0;
  app.add_option("--rate", rate,
                 "instead of posting as fast as possible, post open loop at this many posts/s "
                 "and report latency: to the receipt (echo included, the baseline) and to a "
                 "subscriber of a recipient (pst/pst), p50/p99/max over all runs")
      ->check(CLI::Range(1, 100'000));
  CLI11_PARSE(app, argc, argv);

  struct Target {
    std::string name;
    std::unique_ptr<infoflyt::testing::DaemonProcess> daemon;  // None for the echo.
    std::vector<std::unique_ptr<infoflyt::v1::Exchange::Stub>> stubs;
    std::vector<double> rates;
  };
  std::vector<Target> targets;
  EchoExchange echo_service;
  std::string echo_address;
  auto echo = StartEcho(&echo_service, &echo_address);
  targets.push_back({"echo", nullptr, Stubs(echo_address, clients), {}});

  std::printf("exchange_bench: %d clients, %d runs of %.1f s each, %zu-byte posts\n", clients, runs,
              seconds, Request("x").ByteSizeLong());
  // The daemons' state and the PostgreSQL cluster go to the temporary directory ($TMPDIR).
  if (!ReportDataFileSystem("data directory", std::filesystem::temp_directory_path().string(),
                            allow_tmpfs)) {
    return 2;
  }
  struct SqliteTarget {
    std::string name;
    std::string settings;  // Extra [store] settings.
    std::string binary;    // Empty: this tree's.
  };
  std::vector<SqliteTarget> sqlite_targets;
  if (backend != "postgres") {
    sqlite_targets.push_back({"sqlite", "", ""});
    if (!variant.empty()) sqlite_targets.push_back({"variant", variant, ""});
    if (!other_binary.empty()) sqlite_targets.push_back({"other-build", "", other_binary});
  }
  for (const auto& [name, settings, binary] : sqlite_targets) {
    auto daemon = std::make_unique<infoflyt::testing::DaemonProcess>();
    if (!binary.empty()) daemon->set_binary(binary);
    if (!settings.empty()) {
      daemon->set_store_config("sqlite_path = \"" + daemon->db_path() + "\"\n" + settings + "\n");
    }
    if (!daemon->Start()) {
      std::fprintf(stderr, "infoflytd (%s) did not start:\n%s\n", name.c_str(),
                   daemon->Log().c_str());
      return 1;
    }
    std::printf("%s: %s%s%s%s%s\n", name.c_str(), StoreLine(daemon->Log()).c_str(),
                settings.empty() ? "" : ", with ", settings.c_str(),
                binary.empty() ? "" : ", infoflytd ", binary.c_str());
    auto stubs = Stubs(daemon->address(), clients);
    targets.push_back({name, std::move(daemon), std::move(stubs), {}});
  }
  // Declared before the daemon that uses it, so it outlives it.
  std::unique_ptr<infoflyt::testing::PgCluster> cluster;
  if (backend != "sqlite") {
    cluster = std::make_unique<infoflyt::testing::PgCluster>(pg_fsync);
    std::string database;
    infoflyt::Status s = cluster->Start();
    if (s.ok()) s = cluster->CreateDatabase(&database);
    if (!s.ok()) {
      std::fprintf(stderr, "postgres cluster: %s\n", s.message().c_str());
      return 1;
    }
    auto daemon = std::make_unique<infoflyt::testing::DaemonProcess>();
    daemon->set_store_config("backend = \"postgres\"\npostgres_conninfo = \"" +
                             cluster->ConnInfo(database) + "\"\n" +
                             (pg_fsync ? "" : "postgres_allow_fsync_off = true\n"));
    if (!daemon->Start()) {
      std::fprintf(stderr, "infoflytd (postgres) did not start:\n%s\n", daemon->Log().c_str());
      return 1;
    }
    std::printf("postgres: local server over TCP, %s%s\n", StoreLine(daemon->Log()).c_str(),
                pg_fsync ? "" : " (NOT durable)");
    auto stubs = Stubs(daemon->address(), clients);
    targets.push_back({"postgres", std::move(daemon), std::move(stubs), {}});
  }
  // Warm-up: connections, TLS handshakes, caches.
  for (Target& t : targets) Drive(t.stubs, "warm-" + t.name, 0.5);

  if (rate > 0) {
    std::printf(
        "open loop at %d posts/s, %d runs of %.1f s, latency from each post's scheduled "
        "start\n",
        rate, runs, seconds);
    uint64_t failures = 0;
    for (Target& t : targets) {
      std::unique_ptr<client::ExchangeClient> pst;
      if (t.daemon) pst = t.daemon->Client("pst-pst");
      std::vector<double> receipts;
      std::vector<double> deliveries;
      uint64_t undelivered = 0;
      for (int r = 0; r < runs; ++r) {
        LatencyResult result =
            DriveAtRate(t.stubs, pst.get(), t.name + "-" + std::to_string(r), rate, seconds);
        receipts.insert(receipts.end(), result.receipt_ms.begin(), result.receipt_ms.end());
        deliveries.insert(deliveries.end(), result.delivered_ms.begin(), result.delivered_ms.end());
        failures += result.failures;
        undelivered += result.undelivered;
      }
      std::printf("%s: to the receipt %s", t.name.c_str(), Percentiles(receipts).c_str());
      if (t.daemon) {
        std::printf("; to the subscriber %s (%llu not delivered)", Percentiles(deliveries).c_str(),
                    static_cast<unsigned long long>(undelivered));
      }
      std::printf("\n");
      if (t.daemon) {
        const Histogram commits =
            ParseHistogram(Scrape(t.daemon->http_address()), "infoflyt_commit_seconds");
        std::printf("%s: %.0f store transactions (warm-up included), mean %.2f ms, %s\n",
                    t.name.c_str(), commits.count, MeanOf(commits) * 1000,
                    BucketQuantiles(commits).c_str());
      }
    }
    std::printf("failures: %llu\n", static_cast<unsigned long long>(failures));
    for (Target& t : targets) t.daemon.reset();
    echo->Shutdown();
    return failures == 0 ? 0 : 1;
  }

  uint64_t failures = 0;
  for (int r = 0; r < runs; ++r) {
    std::printf("run %d:", r + 1);
    for (Target& t : targets) {
      const RunResult result = Drive(t.stubs, t.name + "-" + std::to_string(r), seconds);
      t.rates.push_back(result.posts_per_second);
      failures += result.failures;
      std::printf("  %s %7.0f posts/s", t.name.c_str(), result.posts_per_second);
    }
    std::printf("\n");
  }
  const double echo_median = Median(targets[0].rates);
  std::printf("median: echo %.0f posts/s", echo_median);
  for (size_t i = 1; i < targets.size(); ++i) {
    std::vector<double> ratios;
    ratios.reserve(runs);
    for (int r = 0; r < runs; ++r) ratios.push_back(targets[i].rates[r] / targets[0].rates[r]);
    const auto [lowest, highest] = std::minmax_element(ratios.begin(), ratios.end());
    std::printf(", infoflytd on %s %.0f posts/s (ratio %.2f, runs %.2f-%.2f)",
                targets[i].name.c_str(), Median(targets[i].rates), Median(ratios), *lowest,
                *highest);
  }
  std::printf(" (failures: %llu)\n", static_cast<unsigned long long>(failures));
  for (size_t i = 1; i < targets.size(); ++i) {
    std::printf("group commit on %s: %.1f posts per durable transaction on average\n",
                targets[i].name.c_str(),
                MeanOf(ParseHistogram(Scrape(targets[i].daemon->http_address()),
                                      "infoflyt_commit_batch_size")));
  }
  for (Target& t : targets) t.daemon.reset();  // Before the cluster they may use.
  echo->Shutdown();
  return failures == 0 ? 0 : 1;
}

}  // namespace
}  // namespace infoflyt::bench

int main(int argc, char** argv) { return infoflyt::bench::Main(argc, argv); }
