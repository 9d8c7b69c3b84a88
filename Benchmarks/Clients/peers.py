"""The Python peers of streams-bench: N concurrent event streams from ticker.c in one asyncio
process, counting events, as lightly as each library allows.

    python3 peers.py aiohttp|httpx-sse PORT PATH_AND_QUERY STREAMS WARMUP_S MEASURE_S

aiohttp reads raw chunks (no SSE parsing, the lightest); httpx-sse parses the stream with its
own SSE decoder (`aconnect_sse`, `iter_sse`). Both take the send time from each event's data
(`t=NANOSECONDS`, ticker.c's CLOCK_MONOTONIC, which `time.monotonic_ns` reads too).

Prints one line of key=value pairs: opened, events, cpu_seconds, rss_before, rss_all, p50_ms,
p99_ms, max_ms (over the events received in the measured window).
"""

import asyncio
import resource
import sys
import time


def rss_bytes():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize()


def cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class Tally:
    def __init__(self):
        self.opened = 0
        self.events = 0
        self.window = None  # (start_ns, end_ns) once measuring
        self.latencies = []

    def event(self, send_ns):
        now = time.monotonic_ns()
        self.events += 1
        if self.window and self.window[0] <= now and (self.window[1] is None or now <= self.window[1]):
            if send_ns:
                self.latencies.append((now - send_ns) / 1e6)


def send_time(text, start):
    """The number after "t=" at `start` in `text`, or 0."""
    end = start
    while end < len(text) and text[end].isdigit():
        end += 1
    return int(text[start:end]) if end > start else 0


async def aiohttp_stream(session, url, tally):
    async with session.get(url) as response:
        first = True
        pending = ""
        async for chunk in response.content.iter_any():
            pending += chunk.decode()
            while True:
                end = pending.find("\n\n")
                if end < 0:
                    break
                block, pending = pending[:end], pending[end + 2:]
                mark = block.find("data: t=")
                if first:
                    first = False
                    tally.opened += 1
                tally.event(send_time(block, mark + 8) if mark >= 0 else 0)


async def httpx_sse_stream(client, url, tally):
    from httpx_sse import aconnect_sse

    async with aconnect_sse(client, "GET", url) as source:
        first = True
        async for event in source.aiter_sse():
            if first:
                first = False
                tally.opened += 1
            data = event.data
            tally.event(send_time(data, 2) if data.startswith("t=") else 0)


async def main():
    kind, port, path, streams, warmup, measure = sys.argv[1:7]
    streams, warmup, measure = int(streams), float(warmup), float(measure)
    url = f"http://127.0.0.1:{port}{path}"
    tally = Tally()
    if kind == "aiohttp":
        import aiohttp

        session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=0), timeout=aiohttp.ClientTimeout(total=None)
        )
        run = lambda: aiohttp_stream(session, url, tally)
    else:
        import httpx
        import httpx_sse  # noqa: F401 (fails here, not in a task, when it is missing)

        session = httpx.AsyncClient(
            limits=httpx.Limits(max_connections=None, max_keepalive_connections=None), timeout=None
        )
        run = lambda: httpx_sse_stream(session, url, tally)
    rss_before = rss_bytes()
    tasks = [asyncio.create_task(run()) for _ in range(streams)]
    # As many as open within two minutes.
    deadline = time.monotonic() + 120
    while tally.opened < streams and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
        if all(task.done() for task in tasks):
            break
    await asyncio.sleep(warmup)
    rss_all = rss_bytes()
    events_start, cpu_start = tally.events, cpu_seconds()
    tally.window = (time.monotonic_ns(), None)
    await asyncio.sleep(measure)
    tally.window = (tally.window[0], time.monotonic_ns())
    events, cpu = tally.events - events_start, cpu_seconds() - cpu_start
    rss_all = max(rss_all, rss_bytes())
    latencies = sorted(tally.latencies)

    def percentile(p):
        return latencies[min(len(latencies) - 1, int(len(latencies) * p / 100))] if latencies else float("nan")

    print(
        f"opened={tally.opened} events={events} cpu_seconds={cpu:.6f} rss_before={rss_before} "
        f"rss_all={rss_all} p50_ms={percentile(50):.4f} p99_ms={percentile(99):.4f} "
        f"max_ms={(latencies[-1] if latencies else float('nan')):.4f}",
        flush=True,
    )
    for task in tasks:
        task.cancel()
    # Exit without waiting for the connections to close.
    sys.stdout.flush()
    import os

    os._exit(0)


asyncio.run(main())
