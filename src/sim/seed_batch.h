// Runs one simulation per seed of a range on several threads and returns the results in seed
// order. Each run is a function of its seed alone, so the batch's results do not depend on the
// number of threads.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace kmchain::sim {

struct SeedRange {
  std::uint64_t first = 0;
  std::uint64_t last = 0;
  std::size_t count() const { return static_cast<std::size_t>(last - first + 1); }
};

// "A-B" (or "A"), A <= B.
inline std::optional<SeedRange> parse_seed_range(const std::string& text) {
  const auto dash = text.find('-');
  SeedRange r;
  try {
    std::size_t used = 0;
    r.first = std::stoull(text.substr(0, dash), &used);
    if (used != (dash == std::string::npos ? text.size() : dash)) return std::nullopt;
    if (dash == std::string::npos) {
      r.last = r.first;
    } else {
      const std::string tail = text.substr(dash + 1);
      r.last = std::stoull(tail, &used);
      if (used != tail.size()) return std::nullopt;
    }
  } catch (const std::exception&) {
    return std::nullopt;
  }
  if (r.first > r.last || r.last - r.first >= 10'000'000) return std::nullopt;
  return r;
}

// `run(seed)` for every seed of `seeds` on `jobs` threads (0: one per core).
template <class Run>
auto run_seeds(const SeedRange& seeds, unsigned jobs, const Run& run) {
  using Result = decltype(run(std::uint64_t{}));
  const std::size_t count = seeds.count();
  std::vector<Result> results(count);
  std::atomic<std::size_t> next{0};
  if (jobs == 0) jobs = std::max(1u, std::thread::hardware_concurrency());
  auto worker = [&] {
    for (std::size_t i = next++; i < count; i = next++)
      results[i] = run(seeds.first + i);
  };
  std::vector<std::thread> threads;
  for (unsigned j = 0; j < std::min<std::size_t>(jobs, count); ++j)
    threads.emplace_back(worker);
  for (auto& t : threads)
    t.join();
  return results;
}

}  // namespace kmchain::sim
