"""Benchmark: the wallboard's work per poll, against the poll's own cost.

50 queues set up in the admin (each with its levels), 500 agents with an extension each, and
2,000 calls on the line: a fifth waiting in a queue, the rest ringing or talking on an extension.
The poll runs in this process, as `bench.poll_cost` runs it (the simulator's answer served again
without the network, Redis database 9, the benchmark database), with the wallboard's receiver
taken off the poll's signal; the wallboard's step (`calls.wallboard.live_board.follow_poll`:
load its state, observe, store, read both boards, encode, push) is then timed on its own with
the state that poll stored. Before each poll a tenth of the calls change state (answered,
waiting calls picked up by an agent, talking calls put on hold), so the board moves every time.

- `poll_p50_ms`: the poll without the wallboard;
- `wallboard_p50_ms`, `wallboard_ratio`: the wallboard's step, and its median over the poll's;
- `other_worker_p50_ms`, `other_worker_ratio`: the same when another worker process stored the
  wallboard's last state (it reads and decodes it from Redis: about half the polls with two
  worker processes);
- `steady_poll_p50_ms`, `steady_p50_ms`, `steady_ratio`: the same when no call changes (the
  least a poll costs the wallboard);
- `board_bytes`: the board message each wallboard socket receives.

Target: `wallboard_ratio` under 0.2 (a fifth of the poll's own cost). Exits 1 when missed.

    python -m bench.wallboard_cost sqlite|postgres [--calls 2000] [--queues 50]
        [--extensions 500] [--repeat 20]
"""

from __future__ import annotations

import argparse
import json
import math
import random
import statistics
import sys
import time

from bench.in_process import REDIS_URL, replayed_pbx, start

TARGET = 0.2
WAITING_SHARE = 0.2
CHANGE_SHARE = 0.1


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("backend", choices=["sqlite", "postgres"])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--queues", type=int, default=50)
    parser.add_argument("--extensions", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=20)
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    start(args.backend)
    import redis
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from calls.live import snapshot
    from calls.live.poll import poll_active_calls, polled
    from calls.models import AgentProfile, WallboardQueue
    from calls.pbx import TelsamClient
    from calls.simulator import (
        CALLINFO_ON_HOLD,
        CALLINFO_RINGING,
        CALLINFO_TALKING,
        PbxSimulator,
        SimulatorServer,
    )
    from calls.wallboard import live_board

    queues = [str(600 + n) for n in range(args.queues)]
    extensions = [str(1000 + n) for n in range(args.extensions)]
    WallboardQueue.objects.bulk_create(
        WallboardQueue(
            queue=q, name=f"Kuyruk {q}", service_level_seconds=20, waiting_amber=3,
            waiting_red=6, longest_wait_amber=30, longest_wait_red=60,
            service_level_amber=85, service_level_red=70,
        )
        for q in queues
    )  # fmt: skip
    users = get_user_model().objects.bulk_create(
        get_user_model()(username=f"agent{e}", first_name="Ajan", last_name=e) for e in extensions
    )
    if users[0].pk is None:
        users = list(get_user_model().objects.order_by("id"))
    AgentProfile.objects.bulk_create(
        AgentProfile(user=u, extensions=e) for u, e in zip(users, extensions, strict=True)
    )

    polled.disconnect(dispatch_uid="calls.wallboard.live_board")
    sim = PbxSimulator("bench", "bench-password", traffic=False)
    server = SimulatorServer(sim).start()
    pbx = TelsamClient(server.url, "bench", "bench-password", timeout=10)
    replayed = replayed_pbx(server.url, "bench", "bench-password")
    rng = random.Random(15)

    def caller() -> str:
        return f"90532{rng.randrange(10**7):07d}"

    for _ in range(args.calls):
        queue = rng.choice(queues)
        if rng.random() < WAITING_SHARE:
            sim.add_call(caller(), queue, callinfo="Kuyrukta", queue=queue)
        else:
            state = rng.choice((CALLINFO_RINGING, CALLINFO_TALKING))
            sim.add_call(caller(), rng.choice(extensions), callinfo=state, queue=queue)

    def change() -> None:
        for row in rng.sample(sim.active_calls(), math.ceil(args.calls * CHANGE_SHARE)):
            if row["callinfo"] == "Kuyrukta":
                sim.update_call(row["channel"], dst=rng.choice(extensions), callinfo="Konuşuyor")
            elif row["callinfo"] == CALLINFO_TALKING:
                sim.update_call(row["channel"], callinfo=CALLINFO_ON_HOLD)
            else:
                sim.update_call(row["channel"], callinfo=CALLINFO_TALKING)

    def timed(action) -> float:
        began = time.perf_counter()
        action()
        return (time.perf_counter() - began) * 1000

    def wallboard_step() -> None:
        live_board.follow_poll(
            None, state=snapshot.read_snapshot(), pbx_ok=True, now=timezone.now()
        )

    try:
        redis.Redis.from_url(REDIS_URL).flushdb()
        snapshot.forget_remembered_state()
        replayed.body = pbx._request("activecalls")
        poll_active_calls(replayed)  # every call new: its numbers looked up once
        wallboard_step()
        steady_poll_ms, steady_ms = [], []
        for _ in range(args.repeat):  # nothing changes: what every poll costs at least
            steady_poll_ms.append(timed(lambda: poll_active_calls(replayed)))
            steady_ms.append(timed(wallboard_step))
        poll_ms, board_ms, other_ms = [], [], []
        for round_ in range(2 * args.repeat):
            change()
            replayed.body = pbx._request("activecalls")
            poll_ms.append(timed(lambda: poll_active_calls(replayed)))
            if round_ % 2:
                live_board.forget_remembered_state()
                other_ms.append(timed(wallboard_step))
            else:
                board_ms.append(timed(wallboard_step))
        message = redis.Redis.from_url(REDIS_URL).get(live_board.MESSAGE_KEY)
    finally:
        server.stop()
    poll = statistics.median(poll_ms)
    record = {
        "benchmark": "wallboard_cost",
        "backend": args.backend,
        "calls": args.calls,
        "queues": args.queues,
        "extensions": args.extensions,
        "poll_p50_ms": round(poll, 1),
        "wallboard_p50_ms": round(statistics.median(board_ms), 1),
        "wallboard_ratio": round(statistics.median(board_ms) / poll, 3),
        "other_worker_p50_ms": round(statistics.median(other_ms), 1),
        "other_worker_ratio": round(statistics.median(other_ms) / poll, 3),
        "steady_poll_p50_ms": round(statistics.median(steady_poll_ms), 1),
        "steady_p50_ms": round(statistics.median(steady_ms), 1),
        "steady_ratio": round(statistics.median(steady_ms) / statistics.median(steady_poll_ms), 3),
        "board_bytes": len(message),
    }
    record["target_met"] = record["wallboard_ratio"] < TARGET
    print(json.dumps(record), flush=True)
    return 0 if record["target_met"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
