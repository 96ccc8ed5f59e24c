// The p-th quantile (0 <= p <= 1) of a sample by the nearest-rank rule on the sorted values: the
// value at index round(p * (n - 1)). 0 for an empty sample. For figures in status and summaries.
#pragma once

#include <algorithm>
#include <cstddef>
#include <vector>

namespace kmchain {

template <class T>
T percentile(std::vector<T> values, double p) {
  if (values.empty()) return T{};
  std::sort(values.begin(), values.end());
  const auto i = static_cast<std::size_t>(p * static_cast<double>(values.size() - 1) + 0.5);
  return values[std::min(i, values.size() - 1)];
}

}  // namespace kmchain
