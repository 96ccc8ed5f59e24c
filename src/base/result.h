// Result<T, E>: a value or a typed error. Cores do not throw; a caller that drops a Result
// without looking at it is a compile error ([[nodiscard]] on the type).
#pragma once

#include <cassert>
#include <type_traits>
#include <utility>
#include <variant>

namespace kmchain {

template <class E>
struct Err {
  E error;
};

template <class E>
Err(E) -> Err<E>;

template <class T, class E>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit
  Result(Err<E> err) : state_(std::in_place_index<1>, err.error) {}      // NOLINT: implicit

  bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & {
    assert(ok());
    return std::get<0>(state_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<0>(state_);
  }
  T&& value() && {
    assert(ok());
    return std::get<0>(std::move(state_));
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  E error() const {
    assert(!ok());
    return std::get<1>(state_);
  }

 private:
  std::variant<T, E> state_;
};

// Result of an operation that yields nothing but may fail.
template <class E>
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Err<E> err) : error_(err.error), failed_(true) {}  // NOLINT: implicit

  bool ok() const { return !failed_; }
  explicit operator bool() const { return ok(); }
  E error() const {
    assert(failed_);
    return error_;
  }

 private:
  E error_{};
  bool failed_ = false;
};

}  // namespace kmchain

// Propagates the error of a Result/Status expression from the enclosing function.
#define KMCHAIN_TRY(expr)                                 \
  do {                                                    \
    auto&& kmchain_try_result_ = (expr);                  \
    if (!kmchain_try_result_.ok()) {                      \
      return ::kmchain::Err{kmchain_try_result_.error()}; \
    }                                                     \
  } while (false)
