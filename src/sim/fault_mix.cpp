#include "sim/fault_mix.h"

#include <fmt/format.h>

#include <algorithm>

namespace kmchain::sim {

std::string FaultMix::describe() const {
  std::string text =
      fmt::format("loss {:.2f} dup {:.2f} delay {}-{} ms partitions {} crashes {} skew {} ms", loss,
                  duplicate, delay_min_ms, delay_max_ms, partitions ? "yes" : "no",
                  crashes ? fmt::format("{:.3f}", crash_probability) : "no", skew_max_ms);
  if (clock_offset_ms != 0)
    text += fmt::format(" clock offset {:+.2f} h", static_cast<double>(clock_offset_ms) / 3.6e6);
  return text;
}

FaultMix draw_fault_mix(crypto::Rng& rng, bool force_partitions, bool force_crashes) {
  static constexpr double kLoss[] = {0, 0, 0.02, 0.1, 0.3};
  static constexpr double kDup[] = {0, 0.02, 0.1};
  static constexpr std::uint64_t kDelayMax[] = {5, 20, 100, 400};
  static constexpr std::uint64_t kSkew[] = {0, 0, 50, 500};
  static constexpr double kCrash[] = {0.0005, 0.002, 0.01};
  FaultMix mix;
  mix.loss = kLoss[rng.uniform(5)];
  mix.duplicate = kDup[rng.uniform(3)];
  mix.delay_max_ms = kDelayMax[rng.uniform(4)];
  mix.delay_min_ms = 1 + rng.uniform(std::max<std::uint64_t>(1, mix.delay_max_ms / 4));
  mix.partitions = force_partitions || rng.uniform(2) == 0;
  mix.crashes = force_crashes || rng.uniform(2) == 0;
  mix.crash_probability = mix.crashes ? kCrash[rng.uniform(3)] : 0;
  mix.skew_max_ms = kSkew[rng.uniform(4)];
  return mix;
}

std::int64_t draw_clock_offset(std::uint64_t seed) {
  crypto::DeterministicRng rng(seed ^ 0x636c6f636bULL);
  if (rng.uniform(3) != 0) return 0;
  const auto hours_ms = static_cast<std::int64_t>(3'600'000 + rng.uniform(7'200'001));
  return rng.uniform(2) == 0 ? hours_ms : -hours_ms;
}

std::optional<std::size_t> clock_offset_gateway(const std::vector<std::uint64_t>& powers,
                                                const std::function<bool(std::size_t)>& byzantine) {
  if (powers.size() < 2) return std::nullopt;
  std::optional<std::size_t> chosen;
  for (std::size_t i = 0; i < powers.size(); ++i) {
    if (byzantine(i)) continue;
    if (!chosen || powers[i] <= powers[*chosen]) chosen = i;
  }
  return chosen;
}

}  // namespace kmchain::sim
