"""`make bench`: run every benchmark on SQLite and PostgreSQL and print a table.

`--quick` uses smaller data (minutes); the full run uses the sizes the targets are stated for.
Each benchmark runs in its own process (Django is configured once per process) against its own
database (a temporary SQLite file; PostgreSQL database `telsam_bench`).
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SIZES = {
    "quick": {"cdr_sync": 20_000, "history_queries": 100_000},
    "full": {"cdr_sync": 100_000, "history_queries": 1_000_000},
}
TARGETS = {
    "cdr_sync": "under 30 s for 100,000 rows, memory flat",
    "history_queries": "p95 under 200 ms",
}


def run(script: str, backend: str, rows: int) -> list[dict]:
    result = subprocess.run(
        [sys.executable, str(HERE / f"{script}.py"), backend, str(rows)],
        cwd=HERE,
        capture_output=True,
        text=True,
        check=False,
        timeout=3600,
    )
    if result.returncode != 0:
        print(result.stderr[-3000:], file=sys.stderr)
        return [{"benchmark": script, "backend": backend, "rows": rows, "error": "failed"}]
    return [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller data, a few minutes")
    parser.add_argument("--backend", choices=["sqlite", "postgres"], action="append")
    args = parser.parse_args()
    sizes = SIZES["quick" if args.quick else "full"]
    backends = args.backend or ["sqlite", "postgres"]
    machine = platform.processor() or platform.machine()
    print(f"# {platform.node()} · {machine} · Python {platform.python_version()}")
    for script, rows in sizes.items():
        print(f"\n## {script} ({rows:,} rows; target: {TARGETS[script]})")
        for backend in backends:
            for line in run(script, backend, rows):
                fields = {k: v for k, v in line.items() if k not in ("benchmark", "rows")}
                print("  " + "  ".join(f"{k}={v}" for k, v in fields.items()))


if __name__ == "__main__":
    main()
