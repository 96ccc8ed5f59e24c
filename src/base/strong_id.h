// StrongId<Tag, Rep>: an integer with a type of its own, so a SetId cannot be passed where a
// NodeId is expected. Ordered and hashable so it can key maps deterministically.
#pragma once

#include <compare>
#include <cstdint>
#include <functional>

namespace kmchain {

template <class Tag, class Rep>
class StrongId {
 public:
  using rep_type = Rep;
  constexpr StrongId() = default;
  constexpr explicit StrongId(Rep value) : value_(value) {}
  constexpr Rep value() const { return value_; }
  constexpr auto operator<=>(const StrongId&) const = default;

 private:
  Rep value_{};
};

}  // namespace kmchain

template <class Tag, class Rep>
struct std::hash<kmchain::StrongId<Tag, Rep>> {
  std::size_t operator()(const kmchain::StrongId<Tag, Rep>& id) const noexcept {
    return std::hash<Rep>{}(id.value());
  }
};
