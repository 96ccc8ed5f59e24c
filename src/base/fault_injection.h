// Rules broken on purpose, to show that the simulators' checks catch them, exist only in builds
// configured with -DKMCHAIN_FAULT_INJECTION=ON: the sanitizer build that runs the tests, and
// `make faults`. Elsewhere, and so in the release binary that `make build` leaves, the switches
// are absent and every KMCHAIN_FAULT(...) is the constant false: the broken code is not compiled
// into the program at all.
#pragma once

#if defined(KMCHAIN_FAULT_INJECTION) && KMCHAIN_FAULT_INJECTION
#define KMCHAIN_FAULTS_ENABLED 1
// Whether the rule broken on purpose that `condition` names is broken in this run.
#define KMCHAIN_FAULT(condition) (condition)
#else
#define KMCHAIN_FAULTS_ENABLED 0
#define KMCHAIN_FAULT(condition) false
#endif

namespace kmchain {

inline constexpr bool kFaultInjection = KMCHAIN_FAULTS_ENABLED != 0;

}  // namespace kmchain
