"""Benchmark: sync N call detail records from the simulator over HTTP into an empty database.

Prints one JSON line: rows, seconds, rows per second, and the process's resident memory before the
sync and at its peak (the difference is what syncing cost: it stays flat as rows grow, because the
sync asks for a day at a time, `ROWS_PER_DAY` rows here, and stores each answer in chunks of
`calls.history.cdr_sync.CHUNK` rows). Usage: python -m bench.cdr_sync sqlite|postgres ROWS
"""

from __future__ import annotations

import json
import resource
import sys
import time
from datetime import UTC, datetime, timedelta

from bench.setup_django import fresh_database

ROWS_PER_DAY = 10_000
# Call centres hear from the same customers again and again; a fifth of the rows are new numbers.
DISTINCT_CALLERS_SHARE = 0.2


def main(backend: str, rows: int) -> None:
    fresh_database(backend)
    from calls.history.cdr_sync import SyncSummary, day_windows, sync_window
    from calls.pbx import TelsamClient
    from calls.simulator import PbxSimulator, SimulatorServer

    sim = PbxSimulator("bench", "bench-password", traffic=False)
    days = max(1, rows // ROWS_PER_DAY)
    first = datetime(2026, 10, 1, tzinfo=UTC)
    step = timedelta(days=days) / rows
    callers = max(1, int(rows * DISTINCT_CALLERS_SHARE))
    for index in range(rows):
        sim.add_cdr(
            f"9053{index * 7919 % callers:08d}",
            str(101 + index % 12),
            started_at=first + index * step,
            duration=30 + index % 300,
            disposition=("ANSWERED", "NO ANSWER", "BUSY")[index % 7 % 3],
            queue=("630", "631", "")[index % 3],
        )
    server = SimulatorServer(sim).start()
    client = TelsamClient(server.url, "bench", "bench-password", timeout=60)

    rss_before = _max_rss_mb()
    started = time.perf_counter()
    total = SyncSummary()
    for window_start, window_end in day_windows(first, first + timedelta(days=days)):
        total.add(sync_window(window_start, window_end, client))
    elapsed = time.perf_counter() - started
    server.stop()

    from calls.models import CallRecord

    assert CallRecord.objects.count() == rows == total.new, (CallRecord.objects.count(), total)
    print(
        json.dumps(
            {
                "benchmark": "cdr_sync",
                "backend": backend,
                "rows": rows,
                "seconds": round(elapsed, 2),
                "rows_per_second": round(rows / elapsed),
                "rss_before_mb": rss_before,
                "rss_peak_mb": _max_rss_mb(),
            }
        )
    )


def _max_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
