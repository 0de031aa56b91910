"""Benchmark: the cost of one poll with 0, 50 and 500 calls on the line.

Runs `calls.live.poll.poll_active_calls` in this process against the simulator over HTTP, Redis
database 9 and the benchmark database (10,000 customers). For each call count it measures:

- `first`: the poll that sees every call for the first time (every number is looked up);
- `steady`: REPEAT polls in which nothing changes (each fifth one looks the unknown callers up
  again, by design);
- `churn`: REPEAT polls before each of which a tenth of the calls end and as many new ones start.

For each: wall time (fetching over HTTP, parsing, diffing, matching, storing the snapshot,
broadcasting the diff), SQL queries (`CaptureQueriesContext`) and Redis round trips (commands and
pipelines, the channel layer's included).

Prints one JSON line per call count. Usage: python bench/poll_cost.py sqlite|postgres
[--calls 0,50,500] [--repeat 20]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import sys
import time
from contextlib import contextmanager

from bench.setup_django import fresh_database

CUSTOMERS = 10_000
KNOWN_SHARE = 0.5
CHURN_SHARE = 0.1
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/9")
EXTENSIONS = tuple(str(n) for n in range(101, 113))


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("backend", choices=["sqlite", "postgres"])
    parser.add_argument("--calls", default="0,50,500")
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args(argv)
    args.calls = [int(n) for n in args.calls.split(",")]
    return args


class RedisCounter:
    """Counts Redis round trips of every client in the process (sync and asyncio)."""

    def __init__(self) -> None:
        self.count = 0

    def install(self) -> None:
        import redis
        import redis.asyncio

        counter = self

        def counting(original):
            def sync_wrapper(*args, **kwargs):
                counter.count += 1
                return original(*args, **kwargs)

            async def async_wrapper(*args, **kwargs):
                counter.count += 1
                return await original(*args, **kwargs)

            import inspect

            return async_wrapper if inspect.iscoroutinefunction(original) else sync_wrapper

        for cls in (redis.Redis, redis.asyncio.Redis):
            cls.execute_command = counting(cls.execute_command)
        for cls in (redis.client.Pipeline, redis.asyncio.client.Pipeline):
            cls.execute = counting(cls.execute)


def main(argv: list[str]) -> None:
    args = parse_args(argv)
    if REDIS_URL.rstrip("/").endswith(("/0", ":6379")):
        raise SystemExit("BENCH_REDIS_URL must name a Redis database other than 0")
    os.environ["REDIS_URL"] = REDIS_URL
    os.environ["LOG_LEVEL"] = "WARNING"
    fresh_database(args.backend)
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from calls.live.poll import poll_active_calls
    from calls.pbx import TelsamClient
    from calls.simulator import CALLINFO_RINGING, CALLINFO_TALKING, PbxSimulator, SimulatorServer
    from customers.models import Customer, PhoneNumber

    numbers = [f"+90533{index:07d}" for index in range(CUSTOMERS)]
    customers = Customer.objects.bulk_create(
        Customer(name=f"Müşteri {index}") for index in range(CUSTOMERS)
    )
    if customers[0].pk is None:
        customers = list(Customer.objects.order_by("id"))
    PhoneNumber.objects.bulk_create(
        PhoneNumber(customer=c, number=n) for c, n in zip(customers, numbers, strict=True)
    )
    known = [n.lstrip("+") for n in numbers]

    sim = PbxSimulator("bench", "bench-password", traffic=False)
    server = SimulatorServer(sim).start()
    client = TelsamClient(server.url, "bench", "bench-password", timeout=10)
    rng = random.Random(5)
    counter = RedisCounter()
    counter.install()

    def add_calls(count: int) -> None:
        for _ in range(count):
            caller = rng.choice(known) if rng.random() < KNOWN_SHARE else _stranger(rng)
            state = rng.choice((CALLINFO_RINGING, CALLINFO_TALKING))
            if rng.random() < 0.8:
                sim.add_call(caller, rng.choice(EXTENSIONS), callinfo=state, queue="630")
            else:
                sim.add_call(rng.choice(EXTENSIONS), caller, callinfo=state)

    @contextmanager
    def measured(samples: dict[str, list]):
        counter.count = 0
        with CaptureQueriesContext(connection) as queries:
            began = time.perf_counter()
            yield
            samples["ms"].append((time.perf_counter() - began) * 1000)
        samples["queries"].append(len(queries.captured_queries))
        samples["redis"].append(counter.count)

    try:
        for calls in args.calls:
            sim.reset()
            redis.Redis.from_url(REDIS_URL).flushdb()
            poll_active_calls(client)  # a fresh state: the calls below are all new
            add_calls(calls)
            body = len(json.dumps(sim.api_payload(_params())).encode())
            results = {name: {"ms": [], "queries": [], "redis": []} for name in ("first", "steady")}
            results["churn"] = {"ms": [], "queries": [], "redis": []}
            with measured(results["first"]):
                outcome = poll_active_calls(client)
            assert outcome.added == calls, outcome
            for _ in range(args.repeat):
                with measured(results["steady"]):
                    poll_active_calls(client)
            for _ in range(args.repeat):
                live = [row["channel"] for row in sim.active_calls()]
                churn = math.ceil(len(live) * CHURN_SHARE)
                for channel in rng.sample(live, churn):
                    sim.end_call(channel)
                add_calls(churn)
                with measured(results["churn"]):
                    poll_active_calls(client)
            record = {
                "benchmark": "poll_cost",
                "backend": args.backend,
                "calls": calls,
                "pbx_answer_bytes": body,
            }
            for name, samples in results.items():
                record[f"{name}_p50_ms"] = _pct(samples["ms"], 0.5)
                record[f"{name}_p95_ms"] = _pct(samples["ms"], 0.95)
                record[f"{name}_queries_max"] = max(samples["queries"])
                record[f"{name}_redis_max"] = max(samples["redis"])
            print(json.dumps(record), flush=True)
    finally:
        server.stop()


def _params() -> dict[str, str]:
    return {"username": "bench", "password": "bench-password", "action": "activecalls"}


def _stranger(rng: random.Random) -> str:
    return f"90544{rng.randrange(10**7):07d}"


def _pct(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return round(ordered[max(1, math.ceil(len(ordered) * share)) - 1], 1)


if __name__ == "__main__":
    main(sys.argv[1:])
