# Thin wrapper over CMake + Ninja. Every target first installs what is missing.
BUILD_DIR ?= build
ASAN_DIR  ?= build-asan
JOBS      ?= $(shell nproc)
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=Release
LISTEN    ?= 0.0.0.0:9090

.PHONY: all deps build test run bench asan asan-test fuzz-parser fuzz-textparse format compliance clean

all: build

deps:
	@bash scripts/install-deps.sh

$(BUILD_DIR)/build.ninja: | deps
	cmake -S . -B $(BUILD_DIR) -G Ninja $(CMAKE_FLAGS)

build: deps $(BUILD_DIR)/build.ninja
	cmake --build $(BUILD_DIR) -j $(JOBS)

test: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS) --timeout 600

run: build
	mkdir -p data
	$(BUILD_DIR)/bin/kiln --config.file=scripts/default-kiln.yml --storage.tsdb.path=data/ \
	  --web.listen-address=$(LISTEN) --web.enable-remote-write-receiver --web.enable-lifecycle

bench: build
	cmake --build $(BUILD_DIR) -j $(JOBS) --target benchmarks
	bash bench/run.sh $(BUILD_DIR)

# ASan + UBSan build of everything, and its test run.
asan: deps
	cmake -S . -B $(ASAN_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DKILN_SANITIZE=ON
	cmake --build $(ASAN_DIR) -j $(JOBS)

# UBSan aborts on the first finding (-fno-sanitize-recover); print_stacktrace says where.
asan-test: asan
	cd $(ASAN_DIR) && UBSAN_OPTIONS=print_stacktrace=1 ctest --output-on-failure -j $(JOBS) --timeout 1200

# libFuzzer on the PromQL parser under ASan + UBSan, 10 minutes (FUZZ_SECONDS to change).
fuzz-parser: deps
	bash scripts/fuzz-parser.sh

# libFuzzer on the text, OpenMetrics and protobuf scrape parsers under ASan + UBSan, one after
# another, FUZZ_SECONDS (600) each.
fuzz-textparse: deps
	bash scripts/fuzz-textparse.sh

compliance: build
	/usr/bin/python3 compliance/run.py --build-dir $(BUILD_DIR) --live-seconds 180

format:
	git ls-files '*.h' '*.cc' | xargs clang-format -i

clean:
	rm -rf $(BUILD_DIR) $(ASAN_DIR)
