# Ferry: build, test, demo, bench, install. See README.md.
SWIFT       ?= swift
PREFIX      ?= /usr/local
DATA        ?= ferry-data
BENCH_ITEMS ?= 1000000
BENCH_RUNS  ?= 3
BENCH_DIR   ?= bench-data
BENCH_OUT   ?=
BENCH_S3_BYTES ?= 536870912
BENCH_S3_KEYS  ?= 50000
BENCH_SCALE    ?= 1000000,4000000,16000000
BENCH_SERVE_SECONDS ?= 5
ifeq ($(BENCH_QUICK),1)
BENCH_ITEMS := 50000
BENCH_S3_BYTES := 67108864
BENCH_S3_KEYS := 10000
BENCH_SCALE := 50000,200000,800000
endif

.PHONY: all deps build test test-faults demo bench bench-serve install clean

all: build

# zlib's headers are the one system library Ferry builds against.
deps:
	@scripts/check-deps.sh

build: deps
	$(SWIFT) build -c release

test: deps
	@scripts/run-tests.sh

# The fault and bad-input suites at full size (make test runs them with fewer rounds).
FAULT_SUITES = CrashPointSweepTests|TamperMatrixTests|FaultSuiteTests|TableCrashTests|LoadExactlyOnceTests|LoadPositionTests|CatalogSafetyTests|WriteAheadLogTests|SortedRunTests|DurabilityTests|BackupToolTests|BadInputCorpusTests|TableLockTests|CSVDifferentialTests
test-faults: deps
	@FERRY_FAULTS=full scripts/run-tests.sh --filter '$(FAULT_SUITES)'

demo: build
	@scripts/demo.sh "$(DATA)"

bench: build
	.build/release/ferry-bench --items $(BENCH_ITEMS) --runs $(BENCH_RUNS) --dir "$(BENCH_DIR)" \
		--s3-bytes $(BENCH_S3_BYTES) --s3-keys $(BENCH_S3_KEYS) --scale $(BENCH_SCALE) \
		$(if $(BENCH_OUT),--json "$(BENCH_OUT)")
	@scripts/bench-serve.sh $(BENCH_SERVE_SECONDS)

# Only the server section of make bench (wrk against ferry-serve and moto_server).
bench-serve: build
	@scripts/bench-serve.sh $(BENCH_SERVE_SECONDS)

install: build
	install -d "$(PREFIX)/bin"
	@for f in .build/release/ferry-*; do \
		if [ -f "$$f" ] && [ -x "$$f" ]; then install -m 0755 "$$f" "$(PREFIX)/bin/" && echo "installed $(PREFIX)/bin/$${f##*/}"; fi; \
	done

clean:
	rm -rf .build "$(BENCH_DIR)"
