#!/usr/bin/env bash
# Runs the release sse-listen under `valgrind --leak-check=full` twice and reports definite leaks:
#   1. a whole mixed 1 MiB corpus from shared/bench/blast.c, --no-reconnect, --format data;
#   2. a Benchmarks/Servers/ticker.c stream dropped every 100 events (clean close), reconnecting
#      (--retry-initial 0) until --max-events 400.
# Exit status: 0 when neither run has a definitely lost block, 1 otherwise or on any error.
#
# Usage, from the repository root:
#   swift build -c release --package-path Benchmarks --product sse-listen
#   Benchmarks/Scripts/valgrind-sse-listen.sh
# Environment: SSE_LISTEN (default Benchmarks/.build/release/sse-listen), SHARED_BENCH (default
# shared/bench next to the repository), KEEP_LOGS=1 to keep valgrind's logs.
set -euo pipefail

benchmarks=$(cd "$(dirname "$0")/.." && pwd)
shared=${SHARED_BENCH:-$benchmarks/../../shared/bench}
listen=${SSE_LISTEN:-$benchmarks/.build/release/sse-listen}
if [ ! -x "$listen" ]; then
    echo "no sse-listen at $listen; build it with:" >&2
    echo "  swift build -c release --package-path Benchmarks --product sse-listen" >&2
    exit 1
fi
command -v valgrind >/dev/null || { echo "valgrind is not installed (apt-get install valgrind)" >&2; exit 1; }

work=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
    if [ "${KEEP_LOGS:-}" = 1 ]; then echo "logs kept in $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT

# Valgrind 3.19 cannot read the DWARF 5 debug information Swift 6 writes ("possibly corrupted
# debuginfo file"): a copy without it keeps the symbols, so stacks still name functions.
cp "$listen" "$work/sse-listen"
strip --strip-debug "$work/sse-listen"
# ... and dies in rt_sigsuspend on the read-only mask of dispatch_main(): see sigsuspend-shim.c.
gcc -O2 -shared -fPIC -o "$work/sigsuspend-shim.so" "$benchmarks/Scripts/sigsuspend-shim.c"
gcc -O2 -o "$work/blast" "$shared/blast.c"
gcc -O2 -o "$work/ticker" "$benchmarks/Servers/ticker.c"
corpus=$benchmarks/.corpora/mixed-1M.sse
if [ ! -s "$corpus" ]; then
    corpus=$work/mixed-1M.sse
    python3 "$shared/gen_corpus.py" -o "$corpus" --size 1M 2>/dev/null
fi

# blast takes a port: find a free one.
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$work/blast" "$corpus" "$port" 1 2>"$work/blast.err" &
pids+=($!)
"$work/ticker" 0 >"$work/ticker.out" &
pids+=($!)
for _ in $(seq 100); do
    grep -q '^blast:' "$work/blast.err" 2>/dev/null && grep -q '^port=' "$work/ticker.out" 2>/dev/null && break
    sleep 0.1
done
ticker_port=$(sed -n 's/^port=//p' "$work/ticker.out")
[ -n "$ticker_port" ] || { echo "the servers did not start" >&2; exit 1; }

status=0
run() {
    local name=$1
    shift
    echo "== $name: sse-listen $*" >&2
    LD_PRELOAD="$work/sigsuspend-shim.so" valgrind --leak-check=full --show-leak-kinds=definite \
        --errors-for-leak-kinds=definite --log-file="$work/$name.log" "$work/sse-listen" "$@" >"$work/$name.out" 2>"$work/$name.err" || {
        echo "sse-listen exited with status $? under valgrind:" >&2
        cat "$work/$name.err" >&2
        status=1
    }
    local lost
    lost=$(sed -n 's/.*definitely lost: \([0-9,]*\) bytes in \([0-9,]*\) blocks.*/\1 bytes in \2 blocks/p' "$work/$name.log")
    echo "$name: $(wc -c <"$work/$name.out") bytes of output; definitely lost: ${lost:-? (no leak summary)}"
    sed -n '/LEAK SUMMARY/,/suppressed/p; /ERROR SUMMARY/p' "$work/$name.log" | sed 's/^==[0-9]*== /    /'
    # Other errors (not leaks): their kind and the frame they were found in.
    grep -A1 -E '== (Conditional jump|Use of uninitialised|Invalid (read|write|free)|Syscall param|Mismatched)' \
        "$work/$name.log" | grep -v '^--$' | sed 's/^==[0-9]*== */    other error: /' | paste - - | sort | uniq -c || true
    if [ -z "$lost" ]; then
        echo "valgrind wrote no leak summary for $name:" >&2
        cat "$work/$name.log" >&2
        status=1
    elif [ "${lost%% *}" != 0 ]; then
        echo "DEFINITE LEAK in $name; valgrind's report:" >&2
        cat "$work/$name.log" >&2
        status=1
    fi
}

run whole-corpus -q --format data --no-reconnect "http://127.0.0.1:$port/?n=1"
run reconnects -q --format data --retry-initial 0 --max-events 400 \
    "http://127.0.0.1:$ticker_port/?interval_us=2000&drop_after=100&pad=64"
exit $status
