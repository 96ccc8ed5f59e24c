#include "gateway/actions.h"

#include <string>
#include <type_traits>
#include <utility>

namespace kmchain::gateway {

Action from_replica(consensus::Action&& action) {
  return std::visit(
      [](auto&& a) -> Action {
        using T = std::decay_t<decltype(a)>;
        if constexpr (std::is_same_v<T, consensus::ClockNote>) {
          return Note{consensus::to_string(a.kind),
                      {{"height", std::to_string(a.height.value())},
                       {"proposer", std::to_string(a.proposer.value())},
                       {"by_ms", std::to_string(a.by_ms)}},
                      /*warning=*/true};
        } else {
          return Action{std::move(a)};
        }
      },
      std::move(action));
}

}  // namespace kmchain::gateway
