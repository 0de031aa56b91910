"""Benchmark: exporting the whole call history while panels are open.

The panel runs as deployed (web server, Celery worker and beat, Redis, the benchmark database)
with N call records (bulk insert, `history_queries.insert_records`) and 100 open panels. Steps:

1. idle: the push latency of calls started at random moments (`live_latency.measure`), with the
   web server's memory read before;
2. the same while one client downloads `/history/?date_from=2000-01-01&export=csv` (every record)
   as fast as it can, from another process; the web server's memory is read every 0.1 s;
3. the same while the largest XLSX export allowed (`XLSX_ROW_LIMIT` rows) is built and sent.

Prints one JSON line per step ("idle", "csv", "xlsx") with the push latency and our own overhead
(as `live_latency`), and for the exports the rows, seconds and the web server's memory growth.
Targets: the CSV export of every record grows the web server by at most 50 MB, and the panels'
push latency stays within 100 ms of the idle figure meanwhile. Judged on our own overhead's p95
(the PBX's answer → the last panel received the call): the rest of the latency is the wait for the
next poll, random per call and the same whatever the web server does; p50 and p95 of the whole
latency are printed too.

Usage: python -m bench.export_load sqlite|postgres [--records 1000000] [--panels 100]
[--calls 30] [--keep]
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import threading
import time
import urllib.request
from datetime import datetime, timedelta
from datetime import time as clock
from zoneinfo import ZoneInfo

from bench.history_queries import DAYS, FIRST_DAY, insert_records
from bench.live_latency import measure
from bench.live_stack import ROOT, emit, live_bench
from bench.soak_setup import rss_mb

INTERVAL = 1.0
BACKGROUND_CALLS = 20


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("backend", choices=["sqlite", "postgres"])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--panels", type=int, default=100)
    parser.add_argument("--calls", type=int, default=30, help="test calls per step")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (logs)")
    return parser.parse_args(argv)


class Download:
    """One export downloaded as fast as possible by another process (as a browser would), so
    the reading costs this process (which runs the simulator) nothing."""

    def __init__(self, url: str, cookie: str) -> None:
        self.popen = subprocess.Popen(
            [sys.executable, "-m", "bench.export_load", "download", url, cookie],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )

    def running(self) -> bool:
        return self.popen.poll() is None

    def result(self) -> dict:
        out, _ = self.popen.communicate(timeout=3600)
        return json.loads(out)


def download(url: str, cookie: str) -> None:
    """The download process: read the whole body; print status, bytes, lines and timings."""
    started = time.monotonic()
    request = urllib.request.Request(url, headers={"Cookie": cookie})  # noqa: S310 (loopback)
    first_byte = None
    size = lines = 0
    with urllib.request.urlopen(request, timeout=600) as response:  # noqa: S310
        status = response.status
        while block := response.read1(256 * 1024):
            if first_byte is None:
                first_byte = time.monotonic() - started
            size += len(block)
            lines += block.count(b"\n")
    print(
        json.dumps(
            {
                "status": status,
                "bytes": size,
                "lines": lines,
                "first_byte_s": round(first_byte or 0, 3),
                "seconds": round(time.monotonic() - started, 2),
            }
        )
    )


class MemoryWatch:
    """The peak resident memory of a process, read every 0.1 s in a thread."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak = rss_mb(pid) or 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.1):
            self.peak = max(self.peak, rss_mb(self.pid) or 0.0)

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return self.peak


def main(argv: list[str]) -> None:
    args = parse_args(argv)
    with live_bench(args.backend, sessions=args.panels + 1, keep=args.keep) as bench:
        from django.conf import settings

        from calls.history.exports import XLSX_ROW_LIMIT

        started = time.monotonic()
        insert_records(args.records)
        from django.db import connections

        connections.close_all()
        fill_s = time.monotonic() - started
        rng = random.Random(2026)
        bench.add_background_calls(BACKGROUND_CALLS, rng)
        stack, fleets = bench.stack, bench.fleets
        # The last session downloads; the others are the open panels.
        cookie = bench.cookies[-1]
        fleets.grow(args.panels, batch=100)
        stack.start_poller(INTERVAL)
        fleets.set_poll_interval(INTERVAL)
        web = stack.pids()["web"]
        common = {
            "benchmark": "export_load",
            "backend": args.backend,
            "records": args.records,
            "panels": args.panels,
            "interval_s": INTERVAL,
            "fill_s": round(fill_s, 1),
        }

        rss_idle = rss_mb(web)
        idle = measure(bench.sim, stack, fleets, INTERVAL, args.calls, rng, bench.pool)
        emit({**common, "step": "idle", "web_rss_mb": rss_idle, **_latency(idle)})

        # Every record as CSV; then the largest XLSX allowed: the last days holding at most
        # XLSX_ROW_LIMIT of the records (spread evenly over DAYS days).
        days = max(1, int(DAYS * XLSX_ROW_LIMIT / args.records))
        zone = ZoneInfo(settings.TIME_ZONE)
        last_day = (FIRST_DAY + timedelta(days=DAYS)).astimezone(zone).date()
        exports = {
            "csv": "date_from=2000-01-01&export=csv",
            "xlsx": f"date_from={last_day - timedelta(days=days - 1)}&date_to={last_day}"
            "&export=xlsx",
        }
        from calls.models import CallRecord

        xlsx_start = datetime.combine(last_day - timedelta(days=days - 1), clock.min, tzinfo=zone)
        expected = {
            "csv": CallRecord.objects.count(),
            "xlsx": CallRecord.objects.filter(calldate__gte=xlsx_start).count(),
        }
        connections.close_all()
        for kind, query in exports.items():
            before = rss_mb(web)
            watch = MemoryWatch(web)
            transfer = Download(f"{stack.url}/history/?{query}", cookie)
            during = measure(bench.sim, stack, fleets, INTERVAL, args.calls, rng, bench.pool)
            throughout = transfer.running()
            result = transfer.result()
            peak = watch.stop()
            # The calls of the measurement reach history too (the CDR sync runs meanwhile).
            stored_after = CallRecord.objects.count()
            connections.close_all()
            emit(
                {
                    **common,
                    "step": kind,
                    **_latency(during),
                    "p95_delta_ms": _delta(during["p95_ms"], idle["p95_ms"]),
                    "overhead_p95_delta_ms": _delta(
                        during["overhead_p95_ms"], idle["overhead_p95_ms"]
                    ),
                    "export_ran_throughout": throughout,
                    "status": result["status"],
                    "rows": expected[kind],
                    # Every record arrived, once (the CSV's lines, between the records stored
                    # before and after; XLSX is compressed: not counted).
                    "complete": (
                        expected[kind] <= result["lines"] - 1 <= stored_after
                        if kind == "csv"
                        else None
                    ),
                    "lines": result["lines"] if kind == "csv" else None,
                    "stored_after": stored_after,
                    "megabytes": round(result["bytes"] / 2**20, 1),
                    "first_byte_s": result["first_byte_s"],
                    "export_s": result["seconds"],
                    "web_rss_before_mb": before,
                    "web_rss_peak_mb": peak,
                    "web_growth_mb": round(peak - (before or 0), 1),
                }
            )


def _latency(result: dict) -> dict:
    keys = ("calls", "missed", "p50_ms", "p95_ms", "overhead_p50_ms", "overhead_p95_ms", "cpu_pct")
    return {key: result[key] for key in keys}


def _delta(value: float | None, idle: float | None) -> float | None:
    return None if value is None or idle is None else round(value - idle, 1)


if __name__ == "__main__":
    if sys.argv[1:2] == ["download"]:
        download(*sys.argv[2:4])
    else:
        main(sys.argv[1:])
