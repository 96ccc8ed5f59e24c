// KMCHAIN_CHECK: a broken local invariant. Kept on in release builds; the process stops and
// restarts from durable state. Never used for input that came from outside the process.
#pragma once

#include <cstdio>
#include <cstdlib>

#define KMCHAIN_CHECK(cond)                                                               \
  do {                                                                                    \
    if (!(cond)) {                                                                        \
      std::fprintf(stderr, "invariant broken: %s at %s:%d\n", #cond, __FILE__, __LINE__); \
      std::abort();                                                                       \
    }                                                                                     \
  } while (false)
