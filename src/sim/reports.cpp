#include "sim/reports.h"

#include <fmt/format.h>

#include <map>

#include "base/percentile.h"

namespace kmchain::sim {

namespace {

std::string problems(const std::vector<Violation>& violations, bool liveness_failure,
                     const std::string& liveness_detail) {
  std::string out;
  for (const auto& v : violations)
    out += fmt::format("\n  violation {} at {} ms: {}", v.invariant, v.at_ms, v.detail);
  if (liveness_failure) out += "\n  liveness failure: " + liveness_detail;
  return out;
}

// The totals every batch has: seeds, violations by invariant, liveness, failing seeds.
template <class Result>
nlohmann::json verdicts(const std::vector<Result>& results) {
  std::uint64_t violations = 0;
  std::uint64_t liveness = 0;
  std::vector<std::uint64_t> failing;
  std::map<std::string, std::uint64_t> by_invariant;
  for (const auto& r : results) {
    violations += r.violations.size();
    for (const auto& v : r.violations)
      ++by_invariant[v.invariant];
    liveness += r.liveness_failure ? 1 : 0;
    if (!r.ok()) failing.push_back(r.seed);
  }
  return {{"seeds", results.size()},
          {"violations", violations},
          {"liveness_failures", liveness},
          {"violations_by_invariant", by_invariant},
          {"failing_seeds", failing}};
}

}  // namespace

std::string describe(const ConsensusSimResult& r) {
  return fmt::format(
             "seed {}: {} blocks {} txs {} rounds<={} msgs {} (dropped {}) crashes {} partitions "
             "{} equivocations {} split-lock attacks {} forged transactions {}",
             r.seed, r.ok() ? "PASS" : "FAIL", r.blocks, r.transactions_committed, r.max_round,
             r.messages_sent, r.messages_dropped, r.crashes, r.partitions, r.equivocations_detected,
             r.split_lock_attacks, r.forged_transactions) +
         problems(r.violations, r.liveness_failure, r.liveness_detail);
}

std::string describe(const SystemSimResult& r) {
  return fmt::format(
             "seed {}: {} {} mode: blocks {} devices {} joins {} removals {} failed joins {} "
             "records {} (opened {}) probes {} keyrings checked {} gateway crashes {} device "
             "restarts {} sleeps {} lost posts {} resubmissions {} sync repairs {} foreign "
             "members {}",
             r.seed, r.ok() ? "PASS" : "FAIL", ledger::to_string(r.mode), r.blocks, r.devices,
             r.joins, r.removals, r.joins_failed, r.records, r.records_opened, r.probes,
             r.keyrings_compared, r.gateway_crashes, r.device_restarts, r.device_sleeps,
             r.posts_lost, r.resubmissions, r.sync_repairs, r.foreign_members) +
         problems(r.violations, r.liveness_failure, r.liveness_detail);
}

nlohmann::json summarize(const std::vector<ConsensusSimResult>& results) {
  nlohmann::json j = verdicts(results);
  std::uint64_t blocks = 0, txs = 0, messages = 0, crashes = 0, equivocations = 0, verified = 0,
                sim_ms = 0, split_locks = 0, forged = 0, eviction_requests = 0;
  std::vector<std::uint64_t> latencies;
  for (const auto& r : results) {
    blocks += r.blocks;
    txs += r.transactions_committed;
    messages += r.messages_sent;
    crashes += r.crashes;
    equivocations += r.equivocations_detected;
    split_locks += r.split_lock_attacks;
    forged += r.forged_transactions;
    eviction_requests += r.eviction_requests_final;
    verified += r.signatures_verified;
    sim_ms += r.sim_ms;
    latencies.insert(latencies.end(), r.commit_latency_ms.begin(), r.commit_latency_ms.end());
  }
  j["blocks"] = blocks;
  j["transactions"] = txs;
  j["messages"] = messages;
  j["crashes"] = crashes;
  j["equivocations_detected"] = equivocations;
  j["split_lock_attacks"] = split_locks;
  j["forged_transactions"] = forged;
  j["eviction_requests_final"] = eviction_requests;
  j["signature_verifications"] = verified;
  j["simulated_ms"] = sim_ms;
  j["commit_latency_ms"] = {{"p50", percentile(latencies, 0.5)},
                            {"p99", percentile(latencies, 0.99)}};
  return j;
}

nlohmann::json summarize(const std::vector<SystemSimResult>& results) {
  nlohmann::json j = verdicts(results);
  std::map<std::string, std::uint64_t> totals;
  std::map<std::string, std::uint64_t> modes;
  for (const auto& r : results) {
    ++modes[ledger::to_string(r.mode)];
    totals["blocks"] += r.blocks;
    totals["devices"] += r.devices;
    totals["joins"] += r.joins;
    totals["removals"] += r.removals;
    totals["joins_failed"] += r.joins_failed;
    totals["records"] += r.records;
    totals["records_opened"] += r.records_opened;
    totals["probes"] += r.probes;
    totals["keyrings_compared"] += r.keyrings_compared;
    totals["gateway_crashes"] += r.gateway_crashes;
    totals["device_restarts"] += r.device_restarts;
    totals["device_sleeps"] += r.device_sleeps;
    totals["posts_lost"] += r.posts_lost;
    totals["resubmissions"] += r.resubmissions;
    totals["sync_repairs"] += r.sync_repairs;
    totals["foreign_members"] += r.foreign_members;
    totals["simulated_ms"] += r.sim_ms;
  }
  for (const auto& [k, v] : totals)
    j[k] = v;
  j["modes"] = modes;
  return j;
}

std::string summary_line(const nlohmann::json& s) {
  std::string line =
      fmt::format("{} seeds: {} violations, {} liveness failures", s.value("seeds", 0u),
                  s.value("violations", 0u), s.value("liveness_failures", 0u));
  for (const char* key : {"blocks", "transactions", "crashes", "equivocations_detected", "joins",
                          "removals", "probes", "keyrings_compared"}) {
    if (s.contains(key)) line += fmt::format(", {} {}", s[key].get<std::uint64_t>(), key);
  }
  if (s.contains("commit_latency_ms")) {
    line += fmt::format("; commit latency p50 {} ms p99 {} ms",
                        s["commit_latency_ms"]["p50"].get<std::uint64_t>(),
                        s["commit_latency_ms"]["p99"].get<std::uint64_t>());
  }
  return line;
}

}  // namespace kmchain::sim
