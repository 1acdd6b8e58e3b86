// Transparency-log benchmark (not a test). Appends --records leaves to an in-memory node store
// the way a log does (hash the leaf, extend the compact range, store the completed nodes), then
// times inclusion proofs (generation + verification) for random leaves, consistency proofs
// from random earlier sizes to the full size, and recomputing the root from every leaf, which
// is what an offline auditor does. Each run starts from an empty store; medians are reported.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "merkle/compact_range.h"
#include "merkle/memory_node_store.h"
#include "merkle/merkle_hash.h"
#include "merkle/proof.h"

namespace infoflyt::merkle {
namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kLeafBytes = 64;

// Stands in for a record: distinct, kLeafBytes long.
std::string LeafData(uint64_t i) {
  std::string data = "record " + std::to_string(i) + " ";
  data.resize(kLeafBytes, '.');
  return data;
}

double Seconds(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

bool Check(const Status& status, const char* what) {
  if (!status.ok()) std::fprintf(stderr, "%s failed: %s\n", what, status.message().c_str());
  return status.ok();
}

struct RunResult {
  double appends_per_second = 0;
  double inclusion_generate_us = 0;  // Medians over the run's proofs.
  double inclusion_verify_us = 0;
  double inclusion_total_us = 0;
  double consistency_generate_us = 0;
  double consistency_verify_us = 0;
  double consistency_total_us = 0;
  double recompute_seconds = 0;
  size_t inclusion_hashes = 0;  // Length of the last proof, for scale.
  size_t consistency_hashes = 0;
};

bool Run(uint64_t records, int proofs, std::mt19937_64* random, RunResult* result) {
  MemoryNodeStore store;
  CompactRange range;
  std::vector<Node> completed;
  Clock::time_point start = Clock::now();
  for (uint64_t i = 0; i < records; ++i) {
    if (!Check(range.Append(LeafHash(LeafData(i)), &completed), "append") ||
        !Check(store.Put(completed), "store")) {
      return false;
    }
  }
  result->appends_per_second = static_cast<double>(records) / Seconds(start);
  const std::string root = range.Root();

  std::vector<double> generate;
  std::vector<double> verify;
  std::vector<double> total;
  std::vector<std::string> proof;
  std::uniform_int_distribution<uint64_t> any_leaf(0, records - 1);
  for (int q = 0; q < proofs; ++q) {
    const uint64_t index = any_leaf(*random);
    const std::string leaf_hash = LeafHash(LeafData(index));
    start = Clock::now();
    if (!Check(InclusionProof(store, index, records, &proof), "inclusion proof")) return false;
    const double generated = Seconds(start);
    start = Clock::now();
    if (!Check(VerifyInclusion(leaf_hash, index, records, proof, root), "inclusion check")) {
      return false;
    }
    const double verified = Seconds(start);
    generate.push_back(generated * 1e6);
    verify.push_back(verified * 1e6);
    total.push_back((generated + verified) * 1e6);
  }
  result->inclusion_generate_us = Median(generate);
  result->inclusion_verify_us = Median(verify);
  result->inclusion_total_us = Median(total);
  result->inclusion_hashes = proof.size();

  generate.clear(), verify.clear(), total.clear();
  // Earlier sizes only (a size's proof to itself is empty), unless there is no earlier one.
  std::uniform_int_distribution<uint64_t> old_size(1, records > 1 ? records - 1 : 1);
  for (int q = 0; q < proofs; ++q) {
    const uint64_t size1 = old_size(*random);
    std::string root1;  // What the client kept from its last checkpoint: not timed.
    if (!Check(SubtreeHash(store, 0, size1, &root1), "old root")) return false;
    start = Clock::now();
    if (!Check(ConsistencyProof(store, size1, records, &proof), "consistency proof")) {
      return false;
    }
    const double generated = Seconds(start);
    start = Clock::now();
    if (!Check(VerifyConsistency(size1, records, proof, root1, root), "consistency check")) {
      return false;
    }
    const double verified = Seconds(start);
    generate.push_back(generated * 1e6);
    verify.push_back(verified * 1e6);
    total.push_back((generated + verified) * 1e6);
  }
  result->consistency_generate_us = Median(generate);
  result->consistency_verify_us = Median(verify);
  result->consistency_total_us = Median(total);
  result->consistency_hashes = proof.size();

  // The auditor: every leaf hashed again and folded, nothing stored.
  start = Clock::now();
  CompactRange auditor;
  for (uint64_t i = 0; i < records; ++i) {
    if (!Check(auditor.Append(LeafHash(LeafData(i)), &completed), "recompute")) return false;
  }
  const std::string recomputed = auditor.Root();
  result->recompute_seconds = Seconds(start);
  if (recomputed != root) {
    std::fprintf(stderr, "recomputed root differs\n");
    return false;
  }
  return true;
}

int Main(int argc, char** argv) {
  CLI::App app{"merkle_bench: transparency-log append, proof and audit costs"};
  uint64_t records = 1'000'000;
  int runs = 3;
  int proofs = 1000;
  app.add_option("--records", records, "leaves to append")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--runs", runs, "runs (median reported)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--proofs", proofs, "proofs of each kind per run")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  CLI11_PARSE(app, argc, argv);

  std::printf("merkle_bench: %llu leaves of %zu bytes, %d runs, %d proofs of each kind per run\n",
              static_cast<unsigned long long>(records), kLeafBytes, runs, proofs);
  std::mt19937_64 random(20260101);
  std::vector<RunResult> results(runs);
  for (int r = 0; r < runs; ++r) {
    if (!Run(records, proofs, &random, &results[r])) return 1;
    const RunResult& x = results[r];
    std::printf(
        "run %d: %9.0f appends/s  inclusion %6.1f us  consistency %6.1f us  recompute %.3f s\n",
        r + 1, x.appends_per_second, x.inclusion_total_us, x.consistency_total_us,
        x.recompute_seconds);
  }
  auto median = [&](double RunResult::*field) {
    std::vector<double> v;
    v.reserve(results.size());
    for (const RunResult& x : results) v.push_back(x.*field);
    return Median(v);
  };
  std::printf("median of %d runs:\n", runs);
  std::printf("  append (leaf hash + compact range + store): %.0f appends/s\n",
              median(&RunResult::appends_per_second));
  std::printf("  inclusion proof (~%zu hashes): %.1f us (generate %.1f, verify %.1f)\n",
              results.back().inclusion_hashes, median(&RunResult::inclusion_total_us),
              median(&RunResult::inclusion_generate_us), median(&RunResult::inclusion_verify_us));
  std::printf("  consistency proof (~%zu hashes): %.1f us (generate %.1f, verify %.1f)\n",
              results.back().consistency_hashes, median(&RunResult::consistency_total_us),
              median(&RunResult::consistency_generate_us),
              median(&RunResult::consistency_verify_us));
  std::printf("  full root recomputation from all leaves: %.3f s (%.0f leaves/s)\n",
              median(&RunResult::recompute_seconds),
              static_cast<double>(records) / median(&RunResult::recompute_seconds));
  return 0;
}

}  // namespace
}  // namespace infoflyt::merkle

int main(int argc, char** argv) { return infoflyt::merkle::Main(argc, argv); }
