# The two commands of the README: `make demo` and `make test`. Both install what is missing.
JOBS ?= $(shell nproc)
BUILD ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
CMAKE_FLAGS ?=

.PHONY: all deps lint build test test-release test-asan fuzz-smoke demo bench format clean faults sweep

all: build

deps:
	@scripts/install-deps.sh

$(BUILD)/build.ninja $(BUILD)/Makefile:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS)

build: deps $(BUILD)/Makefile
	cmake --build $(BUILD) -j $(JOBS)

demo: build
	./$(BUILD)/kmchain demo

test: deps lint test-release test-asan fuzz-smoke

lint:
	@scripts/lint.sh

test-release: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# The sanitizer build is also the one with the rules broken on purpose compiled in
# (src/base/fault_injection.h): its tests show the simulators' checks catch each of them.
$(ASAN_BUILD)/Makefile:
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DKMCHAIN_SANITIZE=ON -DKMCHAIN_BENCH=OFF \
	  -DKMCHAIN_FAULT_INJECTION=ON -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g" $(CMAKE_FLAGS)

test-asan: deps $(ASAN_BUILD)/Makefile
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	  ctest --output-on-failure -j $(JOBS)

$(FUZZ_BUILD)/Makefile:
	cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_COMPILER=clang++-16 \
	  -DKMCHAIN_FUZZ=ON -DKMCHAIN_TESTS=OFF -DKMCHAIN_BENCH=OFF $(CMAKE_FLAGS)

fuzz-smoke: deps $(FUZZ_BUILD)/Makefile
	cmake --build $(FUZZ_BUILD) -j $(JOBS)
	scripts/fuzz-smoke.sh $(FUZZ_BUILD)

# A release build with the rules broken on purpose compiled in, for `sim ... --inject-fault`
# at full speed: build-faults/kmchain. Never the binary `make build` leaves.
FAULTS_BUILD ?= build-faults
$(FAULTS_BUILD)/Makefile:
	cmake -S . -B $(FAULTS_BUILD) -DCMAKE_BUILD_TYPE=Release -DKMCHAIN_FAULT_INJECTION=ON \
	  -DKMCHAIN_TESTS=OFF -DKMCHAIN_BENCH=OFF $(CMAKE_FLAGS)

faults: deps $(FAULTS_BUILD)/Makefile
	cmake --build $(FAULTS_BUILD) -j $(JOBS) --target kmchain

# The release sweep, before tagging: the consensus simulator over every consortium size 1-10
# and unequal powers (10,100 seeds, totals as one JSON line on stdout, a line per consortium on
# stderr), then the system simulator at the sizes of its figures. `make test` runs a few seeds
# of each.
sweep: build
	./$(BUILD)/kmchain sim sweep --json
	./$(BUILD)/kmchain sim system --gateways 4 --devices 60 --byzantine 1 --seeds 1-300 --json
	./$(BUILD)/kmchain sim system --gateways 7 --devices 60 --byzantine 2 --seeds 1-100 --json

bench: build
	./$(BUILD)/bench/kmchain_bench

format:
	clang-format -i $$(git ls-files '*.cpp' '*.h')

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD) $(FAULTS_BUILD)
