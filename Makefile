# Everything a new machine needs is installed by the targets that need it.
SHELL := /bin/bash
SWIFT ?= swift
SECONDS ?= 60
FUZZ_BIN := .build/fuzz/parser-fuzzer
# A crashing test process reports the crashed thread only: with hundreds of threads alive, the
# full backtrace once spun for minutes, and CI would have waited for it instead of failing.
SWIFT_BACKTRACE ?= interactive=no,threads=crashed
export SWIFT_BACKTRACE

.PHONY: test test-repeat deps build fuzz fuzz-response soak bench bench-client bench-decode format lint

## make test: install what is missing, build, and run every test.
test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build --skip ChaosSoak
	@# The soak loads both cores for 20 s: run it on its own so it cannot skew the timing tests.
	$(SWIFT) test --skip-build --filter ChaosSoak

## make test-repeat N=10: build once, then run the whole suite (as make test does) N times in a
## row; stops at the first failing run, keeps each run's log in .build/test-repeat/, and prints
## one line per run and a summary. Exits non-zero when any run failed.
N ?= 10
test-repeat: deps
	$(SWIFT) build --build-tests
	@mkdir -p .build/test-repeat; passed=0; failed=0; \
	for run in $$(seq 1 $(N)); do \
		log=.build/test-repeat/run-$$run.log; start=$$(date +%s); \
		if { $(SWIFT) test --skip-build --skip ChaosSoak && $(SWIFT) test --skip-build --filter ChaosSoak; } >$$log 2>&1; \
		then passed=$$((passed + 1)); echo "run $$run/$(N): passed in $$(( $$(date +%s) - start )) s"; \
		else failed=$$((failed + 1)); echo "run $$run/$(N): FAILED in $$(( $$(date +%s) - start )) s; log: $$log"; \
			grep -E '✘|error:|Fatal' $$log | head -40; break; fi; \
	done; \
	echo "test-repeat: $$passed passed, $$failed failed, of $(N) runs"; \
	[ $$failed -eq 0 ] && [ $$passed -eq $(N) ]

## make deps: system packages a fresh Debian machine lacks (needs root or sudo).
deps:
	@./.ci/install-deps

build: deps
	$(SWIFT) build -c release

## make fuzz SECONDS=60: libFuzzer over the parser (chunk-split invariance, no crashes).
fuzz:
	@mkdir -p .build/fuzz Fuzz/.out
	clang -O2 -fsanitize=fuzzer-no-link,address -I Sources/CUTF8Validation/include \
		-c Sources/CUTF8Validation/CUTF8Validation.c -o .build/fuzz/CUTF8Validation.o
	swiftc -O -sanitize=fuzzer,address -parse-as-library -module-name ParserFuzz -package-name swift_sse \
		-I Sources/CUTF8Validation/include .build/fuzz/CUTF8Validation.o \
		Sources/SSEParser/*.swift Fuzz/ParserFuzzer.swift -o $(FUZZ_BIN)
	$(FUZZ_BIN) -max_total_time=$(SECONDS) -max_len=4096 -print_final_stats=1 Fuzz/.out Fuzz/corpus

## make fuzz-response SECONDS=60: libFuzzer over the client's response-head handling.
fuzz-response:
	@mkdir -p .build/fuzz Fuzz/.out-response
	swiftc -O -sanitize=fuzzer,address -parse-as-library -module-name ResponseFuzz -package-name swift_sse \
		Sources/SSEClient/ResponseHeadParser.swift Sources/SSEClient/ResponseClassifier.swift Sources/SSEClient/ResponseHead.swift \
		Sources/SSEClient/HTTPDate.swift Sources/SSEClient/Duration+Formatting.swift \
		Sources/SSEClient/HTTPHeader.swift Sources/SSEClient/EventSourceError.swift \
		Fuzz/ResponseFuzzer.swift -o .build/fuzz/response-fuzzer
	.build/fuzz/response-fuzzer -max_total_time=$(SECONDS) -max_len=2048 -print_final_stats=1 \
		Fuzz/.out-response Fuzz/response-corpus

## make soak MINUTES=30: the chaos soak for MINUTES (CI runs a 20-second one); SEED=n replays a seed.
MINUTES ?= 30
soak: deps
	$(SWIFT) build --build-tests
	SSE_SOAK_MINUTES=$(MINUTES) $(if $(SEED),SSE_SOAK_SEED=$(SEED)) $(SWIFT) test --skip-build --filter ChaosSoak

## make bench: parser throughput against swift-openapi-runtime and the C limit (release build).
## BENCH_ARGS="--quick" for a smoke run, "--runs 9" for steadier medians.
bench:
	$(SWIFT) build -c release --package-path Benchmarks
	Benchmarks/.build/release/parser-bench $(BENCH_ARGS)

## make bench-client: the whole-client benchmarks (throughput against curl and async-http-client,
## 1,000 streams, reconnect latency and backoff, memory over time); see Benchmarks/README.md.
bench-client: deps
	$(SWIFT) build -c release --package-path Benchmarks
	$(SWIFT) build -c release --package-path Benchmarks --product sse-listen
	Benchmarks/.build/release/client-bench
	Benchmarks/.build/release/streams-bench
	Benchmarks/.build/release/reconnect-bench
	Benchmarks/.build/release/soak-bench

## make bench-decode: typed decoding of an OpenAI chat-completion stream (EventStreamParser +
## decodeData) against swift-openapi-runtime's asDecodedServerSentEventsWithJSONData, in memory.
## BENCH_ARGS="--quick" for a smoke run, "--runs 9" for steadier medians.
bench-decode: deps
	$(SWIFT) build -c release --package-path Benchmarks --product decode-bench
	Benchmarks/.build/release/decode-bench $(BENCH_ARGS)

## make contract-service: build and start the SSE contract-test service (stops on DELETE / or Ctrl-C).
CONTRACT_PORT ?= 8000
.PHONY: contract-service
contract-service: deps
	$(SWIFT) build -c release --product sse-contract-service
	"$$($(SWIFT) build -c release --show-bin-path)/sse-contract-service" --port $(CONTRACT_PORT)

FORMATTED := Package.swift Sources Tests TestServer Fuzz Benchmarks/Package.swift Benchmarks/Sources

format:
	$(SWIFT) format --in-place --recursive $(FORMATTED)

lint:
	$(SWIFT) format lint --strict --recursive $(FORMATTED)

## make demo: install what is missing, build sse-listen and the bundled test server, start the
## server on a free port, and watch sse-listen ride out dropped connections (reconnect with
## backoff, resume from Last-Event-ID), then restart from its state file. About 10 s after the
## build; DEMO_CONFIG=release builds optimised.
.PHONY: demo
DEMO_CONFIG ?= debug
demo: deps
	@SWIFT="$(SWIFT)" DEMO_CONFIG="$(DEMO_CONFIG)" bash -c "$$DEMO_SCRIPT"

define DEMO_SCRIPT
set -euo pipefail
bold=""; plain=""
if [ -t 1 ] && [ -z "$${NO_COLOR:-}" ]; then bold=$$'\033[1m'; plain=$$'\033[0m'; fi
say() { printf '\n%s== %s%s\n' "$$bold" "$$*" "$$plain"; }
$$SWIFT build -c "$$DEMO_CONFIG" --product sse-test-server
$$SWIFT build -c "$$DEMO_CONFIG" --product sse-listen
bin=$$($$SWIFT build -c "$$DEMO_CONFIG" --show-bin-path)
work=$$(mktemp -d)
server_pid=""
cleanup() {
    if [ -n "$$server_pid" ]; then kill "$$server_pid" 2>/dev/null || true; wait "$$server_pid" 2>/dev/null || true; fi
    rm -rf "$$work"
}
trap cleanup EXIT
"$$bin/sse-test-server" --port 0 --quiet >"$$work/server.out" 2>"$$work/server.err" &
server_pid=$$!
for _ in $$(seq 100); do
    grep -q '^listening on ' "$$work/server.out" && break
    kill -0 "$$server_pid" 2>/dev/null || { cat "$$work/server.err" >&2; exit 1; }
    sleep 0.1
done
base=$$(sed -n 's/^listening on //p' "$$work/server.out")
[ -n "$$base" ] || { echo "the test server did not start" >&2; exit 1; }
listen() { "$$bin/sse-listen" --format pretty --timeout 15 "$$@"; }

say "sse-test-server is listening on $$base"
say "1/3: a stream that drops the connection every 4 events; sse-listen reconnects with backoff and resumes"
echo "\$$ sse-listen --retry-initial 500 --max-events 10 --state-file demo.state '$$base/events?dropAfter=4&end=reset&interval=300'"
listen --retry-initial 500 --max-events 10 --state-file "$$work/demo.state" "$$base/events?dropAfter=4&end=reset&interval=300"
say "demo.state now holds the last event ID: $$(cat "$$work/demo.state")"
say "2/3: run it again: it resumes from the state file, at event $$(( $$(cat "$$work/demo.state") + 1 ))"
echo "\$$ sse-listen --max-events 3 --state-file demo.state '$$base/events?interval=300'"
listen --max-events 3 --state-file "$$work/demo.state" "$$base/events?interval=300"
say "3/3: load the server: 200 streams for 3 s, each dropping and resuming after about 10 events"
echo "\$$ sse-listen load --connections 200 --duration 3 --drop-after-events 10 '$$base/events?interval=100&stamp=1'"
"$$bin/sse-listen" load --connections 200 --duration 3 --drop-after-events 10 "$$base/events?interval=100&stamp=1"
say "done: all stopped. Next: make test, sse-listen --help and sse-listen load --help"
endef
export DEMO_SCRIPT
