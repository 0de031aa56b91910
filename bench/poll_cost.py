"""Benchmark: the poll's own cost, against the time it takes to parse the PBX's answer.

Runs `calls.live.poll.poll_active_calls` in this process with Redis database 9 (`BENCH_REDIS_URL`)
and the benchmark database (10,000 customers; half the callers are theirs). The simulator makes
each answer; the poll is then served that answer's text again without the network (the PBX's
and the network's time are not the poll's), so a poll's time is parsing the answer plus
everything the panel does with it: diffing, matching, storing the snapshot, broadcasting the diff
and noting calls for the history. For each call count, in the same run:

- `parse`: `parse_active_calls` of the answer alone, timed before each poll below;
- `first`: the poll that sees every call for the first time (every number is looked up);
- `steady`: REPEAT polls in which nothing changes (each fifth one looks the unknown callers up
  again, by design); `steady_ratio` is its median over parse's;
- `other_worker`: the same, each poll run as by a worker process that did not store the last
  state (it decodes the stored snapshot);
- `changed`: REPEAT polls before each of which a tenth of the calls change state (answered, put
  on hold, resumed); `changed_ratio` is its median over parse's;
- `churn`: REPEAT polls before each of which a tenth of the calls end and as many new ones start
  (new numbers to read and look up, calls to note for the history); `churn_ratio` likewise.

Targets, at 2,000 calls: `steady_ratio` ≤ 2 and `changed_ratio` ≤ 3 (`churn_ratio` is shown, not
judged: it is mostly reading new numbers and writing to the database). Also SQL queries (counted by
an execute wrapper: Django's query log would format every statement, which costs more than some
of them) and Redis round trips (commands and pipelines, the channel layer's
included) per poll. Prints one JSON line per call count and exits with 1 when a target is missed.

    python -m bench.poll_cost sqlite|postgres [--calls 0,50,500,2000] [--repeat 20]
"""

from __future__ import annotations

import argparse
import inspect
import json
import math
import random
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from bench.in_process import REDIS_URL, replayed_pbx, start

CUSTOMERS = 10_000
KNOWN_SHARE = 0.5
CHURN_SHARE = 0.1
EXTENSIONS = tuple(str(n) for n in range(101, 113))
# The targets: a poll's median time over the median time of parsing its answer, at TARGET_CALLS.
TARGET_CALLS = 2000
STEADY_TARGET = 2.0
CHANGED_TARGET = 3.0


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("backend", choices=["sqlite", "postgres"])
    parser.add_argument("--calls", default=f"0,50,500,{TARGET_CALLS}")
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

            return async_wrapper if inspect.iscoroutinefunction(original) else sync_wrapper

        for cls in (redis.Redis, redis.asyncio.Redis):
            cls.execute_command = counting(cls.execute_command)
        for cls in (redis.client.Pipeline, redis.asyncio.client.Pipeline):
            cls.execute = counting(cls.execute)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    start(args.backend)
    import redis
    from django.db import connection

    from calls.live import snapshot
    from calls.live.poll import poll_active_calls
    from calls.pbx import TelsamClient, parse_active_calls
    from calls.simulator import (
        CALLINFO_ON_HOLD,
        CALLINFO_RINGING,
        CALLINFO_TALKING,
        PbxSimulator,
        SimulatorServer,
    )
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
    pbx = TelsamClient(server.url, "bench", "bench-password", timeout=10)
    replayed = replayed_pbx(server.url, "bench", "bench-password")
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

    next_state = {
        CALLINFO_RINGING: CALLINFO_TALKING,
        CALLINFO_TALKING: CALLINFO_ON_HOLD,
        CALLINFO_ON_HOLD: CALLINFO_TALKING,
    }

    def change() -> None:
        live = sim.active_calls()
        for row in rng.sample(live, math.ceil(len(live) * CHURN_SHARE)):
            sim.update_call(
                row["channel"], callinfo=next_state.get(row["callinfo"], CALLINFO_TALKING)
            )

    def churn() -> None:
        live = [row["channel"] for row in sim.active_calls()]
        ended = math.ceil(len(live) * CHURN_SHARE)
        for channel in rng.sample(live, ended):
            sim.end_call(channel)
        add_calls(ended)

    def fetch() -> None:
        """The PBX's answer over HTTP, not timed: the next poll and parse read this text."""
        replayed.body = pbx._request("activecalls")

    @contextmanager
    def measured(samples: dict[str, list]) -> Iterator[None]:
        counter.count = 0
        queries = []

        def count_query(execute, sql, params, many, context):
            queries.append(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(count_query):
            began = time.perf_counter()
            yield
            samples["ms"].append((time.perf_counter() - began) * 1000)
        samples["queries"].append(len(queries))
        samples["redis"].append(counter.count)

    def repeat(samples: dict[str, list], parse_ms: list[float], prepare: Callable[[], object]):
        """REPEAT polls, each after `prepare()` and after timing the parse of its answer."""
        outcomes = []
        for _ in range(args.repeat):
            prepare()
            fetch()
            parse_ms.append(timed(lambda: parse_active_calls(replayed.body)))
            with measured(samples):
                outcomes.append(poll_active_calls(replayed))
        return outcomes

    def timed(action: Callable[[], object]) -> float:
        began = time.perf_counter()
        action()
        return (time.perf_counter() - began) * 1000

    missed = False
    try:
        for calls in args.calls:
            sim.reset()
            redis.Redis.from_url(REDIS_URL).flushdb()
            snapshot.forget_remembered_state()
            fetch()
            poll_active_calls(replayed)  # a fresh state: the calls below are all new
            add_calls(calls)
            fetch()
            body = len(replayed.body.encode())
            kinds = ("first", "steady", "other_worker", "changed", "churn")
            results = {kind: {"ms": [], "queries": [], "redis": []} for kind in kinds}
            parse_ms: list[float] = []
            with measured(results["first"]):
                outcome = poll_active_calls(replayed)
            assert outcome.added == calls, outcome
            steady = repeat(results["steady"], parse_ms, lambda: None)
            repeat(results["other_worker"], parse_ms, snapshot.forget_remembered_state)
            changed = repeat(results["changed"], parse_ms, change)
            churned = repeat(results["churn"], parse_ms, churn)
            tenth = math.ceil(calls * CHURN_SHARE)
            assert all(o.added == o.changed == o.removed == 0 for o in steady), steady
            assert all(o.changed >= tenth for o in changed), changed
            assert all(o.added == o.removed == tenth for o in churned), churned
            record = {
                "benchmark": "poll_cost",
                "backend": args.backend,
                "calls": calls,
                "pbx_answer_bytes": body,
                "parse_p50_ms": _pct(parse_ms, 0.5),
            }
            for name, samples in results.items():
                record[f"{name}_p50_ms"] = _pct(samples["ms"], 0.5)
                record[f"{name}_p95_ms"] = _pct(samples["ms"], 0.95)
                record[f"{name}_queries_max"] = max(samples["queries"])
                record[f"{name}_redis_max"] = max(samples["redis"])
            parse = statistics.median(parse_ms)
            for name in ("steady", "other_worker", "changed", "churn"):
                ratio = statistics.median(results[name]["ms"]) / parse if calls else None
                record[f"{name}_ratio"] = None if ratio is None else round(ratio, 2)
            verdict = target_met(record)
            if verdict is not None:
                record["target_met"] = verdict
                missed = missed or not verdict
            print(json.dumps(record), flush=True)
    finally:
        server.stop()
    return 1 if missed else 0


def target_met(record: dict) -> bool | None:
    """Whether a result line meets the targets (None: they are not stated for its call count)."""
    if record["calls"] != TARGET_CALLS:
        return None
    return record["steady_ratio"] <= STEADY_TARGET and record["changed_ratio"] <= CHANGED_TARGET


def _stranger(rng: random.Random) -> str:
    return f"90544{rng.randrange(10**7):07d}"


def _pct(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return round(ordered[max(1, math.ceil(len(ordered) * share)) - 1], 1)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
