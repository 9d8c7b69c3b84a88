# Everything a new machine needs is installed by the targets that need it.
SHELL := /bin/bash
SWIFT ?= swift
SECONDS ?= 60
FUZZ_BIN := .build/fuzz/parser-fuzzer

.PHONY: test deps build fuzz bench format lint clean-fuzz

## make test: install what is missing, build, and run every test.
test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

## make deps: system packages a fresh Debian machine lacks (needs root or sudo).
deps:
	@./.ci/install-deps

build: deps
	$(SWIFT) build -c release

## make fuzz SECONDS=60: libFuzzer over the parser (chunk-split invariance, no crashes).
fuzz:
	@mkdir -p .build/fuzz Fuzz/.out
	swiftc -O -sanitize=fuzzer,address -parse-as-library -module-name ParserFuzz \
		Sources/SSEParser/*.swift Fuzz/ParserFuzzer.swift -o $(FUZZ_BIN)
	$(FUZZ_BIN) -max_total_time=$(SECONDS) -max_len=4096 -print_final_stats=1 Fuzz/.out Fuzz/corpus

## make bench: parser throughput against swift-openapi-runtime and the C limit (release build).
## BENCH_ARGS="--quick" for a smoke run, "--runs 9" for steadier medians.
bench:
	$(SWIFT) build -c release --package-path Benchmarks
	Benchmarks/.build/release/parser-bench $(BENCH_ARGS)

FORMATTED := Package.swift Sources Tests TestServer Fuzz Benchmarks/Package.swift Benchmarks/Sources

format:
	$(SWIFT) format --in-place --recursive $(FORMATTED)

lint:
	$(SWIFT) format lint --strict --recursive $(FORMATTED)
