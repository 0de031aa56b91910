"""The simulated PBX's own traffic: calls that arrive, queue, ring, talk, hold and hang up by
themselves, and a pre-filled call history.

Event driven: every call gets its whole timeline when it arrives, drawn from a seeded
`random.Random`, and the state is advanced lazily, event by event, up to "now" whenever someone
looks. Because random numbers are drawn in event order rather than poll order, the same seed and
the same clock give the same calls however often (or rarely) the simulator is polled.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from calls.simulator.records import PlannedStep, SimulatedCall
from calls.simulator.vocabulary import (
    ANSWERED,
    BUSY,
    CALLINFO_ON_HOLD,
    CALLINFO_QUEUED,
    CALLINFO_RINGING,
    CALLINFO_TALKING,
    DIRECTION_IN,
    DIRECTION_INTERNAL,
    DIRECTION_OUT,
    NO_ANSWER,
    PBX_TIMEZONE,
    default_calltype,
    queue_calltype,
)

# Times in seconds. The live stream is much busier than the pre-filled history on purpose: a demo
# wants movement on screen, a CDR sync wants a plausible day.
WARMUP = 180.0  # live traffic starts this long before the simulator, so calls are up at once
_SHARE_INBOUND, _SHARE_OUTBOUND = 0.7, 0.2  # the rest is internal
_SHARE_QUEUED = 0.6  # of inbound calls
_SHARE_ANSWERED, _SHARE_NO_ANSWER = 0.75, 0.18  # the rest is busy
_SHARE_HOLD = 0.25  # of answered calls
_SHARE_RECORDED = 0.9  # of answered calls
_USERFIELDS = ("", "", "", "IVR:1", "IVR:2", "Gelen bilgi")
_HISTORY_PEAK_RATE = 12.0  # calls per hour
# Inbound numbers: country code 90 without "+", then a 10-digit national number.
_MOBILE_PREFIXES = ("50", "53", "54", "55")
_FIXED_PREFIXES = ("212", "216", "312", "850")

NewChannel = Callable[[str, str], str]  # (direction, src) → a channel never issued before
Finish = Callable[[str, datetime, str | None], None]  # (channel, at, disposition)


class Traffic:
    """The calls a seeded PBX makes by itself, played into `calls` (the simulator's live calls).

    Calls arrive about every `mean_gap` seconds (at most `max_concurrent` at once; arrivals beyond
    that are turned away by the "trunk" and leave no CDR); inbound callers come from `caller_pool`
    with probability `caller_pool_share`. `new_channel` names a call and `finish` hangs one up
    (it leaves `calls` and becomes a CDR row). Not thread-safe: the simulator holds its lock.
    """

    def __init__(
        self,
        seed: int,
        *,
        calls: dict[str, SimulatedCall],
        new_channel: NewChannel,
        finish: Finish,
        extensions: Sequence[str],
        queues: Sequence[str],
        caller_pool: Sequence[str],
        caller_pool_share: float,
        mean_gap: float,
        max_concurrent: int,
        start: datetime,
    ) -> None:
        self.seed = seed
        self._calls = calls
        self._new_channel = new_channel
        self._finish = finish
        self.extensions = tuple(extensions)
        self.queues = tuple(queues)
        self.caller_pool = tuple(caller_pool)
        self.caller_pool_share = caller_pool_share
        self.mean_gap = mean_gap
        self.max_concurrent = max_concurrent
        # Its own stream, so that manual calls or the history's length do not change which calls
        # a seed's live traffic makes (only, perhaps, their channel names).
        self._rng = random.Random(f"traffic:{seed}")
        self._next_arrival = start

    def restart(self, at: datetime) -> None:
        """The next call arrives at `at` (after a reset, which drops every call)."""
        self._next_arrival = at

    def advance(self, now: datetime) -> None:
        """Play traffic events up to `now`, earliest first (call steps before a tied arrival)."""
        while True:
            due: SimulatedCall | None = None
            for call in self._calls.values():
                if call.plan and (due is None or call.plan[0].at < due.plan[0].at):
                    due = call
            if due is not None and due.plan[0].at <= self._next_arrival:
                if due.plan[0].at > now:
                    return
                self._apply(due, due.plan.pop(0))
            else:
                if self._next_arrival > now:
                    return
                at = self._next_arrival
                if len(self._calls) < self.max_concurrent:
                    call = self._plan_call(self._rng, at)
                    self._calls[call.channel] = call
                gap = min(self._rng.expovariate(1 / self.mean_gap), self.mean_gap * 6)
                self._next_arrival = at + timedelta(seconds=gap)

    def prefill_history(self, until: datetime, hours: float) -> None:
        """A few hundred CDR rows over the last `hours`, busier in Istanbul business hours."""
        if hours <= 0:
            return
        rng = random.Random(f"history:{self.seed}")
        at = until - timedelta(hours=hours)
        finished: list[tuple[datetime, SimulatedCall, str]] = []
        while True:
            # Thinning: draw at the peak rate and keep each arrival with probability rate/peak.
            # (Drawing the gap at the current rate would let one long night-time gap jump over
            # the start of the business day.)
            at += timedelta(seconds=rng.expovariate(_HISTORY_PEAK_RATE / 3600))
            if at >= until:
                break
            if rng.random() * _HISTORY_PEAK_RATE > _history_rate(at.astimezone(PBX_TIMEZONE)):
                continue
            call = self._plan_call(rng, at)
            for step in call.plan:
                if step.action == "end":
                    finished.append((step.at, call, step.value))
                else:
                    _apply_offline(call, step)
        # CDR ids follow hang-up order, as Asterisk inserts the row when the call ends.
        finished.sort(key=lambda item: item[0])
        for ended_at, call, disposition in finished:
            if ended_at >= until:
                continue
            self._calls[call.channel] = call
            self._finish(call.channel, ended_at, disposition)

    def _apply(self, call: SimulatedCall, step: PlannedStep) -> None:
        if step.action == "ring":
            call.callinfo, call.dst = CALLINFO_RINGING, step.value
        elif step.action == "answer":
            call.callinfo, call.answered_at = CALLINFO_TALKING, step.at
        elif step.action == "hold":
            call.callinfo = CALLINFO_ON_HOLD
        elif step.action == "resume":
            call.callinfo = CALLINFO_TALKING
        elif step.action == "end":
            self._finish(call.channel, step.at, step.value)

    def _plan_call(self, rng: random.Random, at: datetime) -> SimulatedCall:
        """A new call arriving at `at`, with its whole future drawn from `rng`."""
        kind = rng.random()
        if kind < _SHARE_INBOUND:
            direction = DIRECTION_IN
            src = self._caller(rng)
            agent = rng.choice(self.extensions)
            queued = rng.random() < _SHARE_QUEUED
        else:
            direction = (
                DIRECTION_OUT if kind < _SHARE_INBOUND + _SHARE_OUTBOUND else DIRECTION_INTERNAL
            )
            src = rng.choice(self.extensions)
            if direction == DIRECTION_OUT:
                agent = random_number(rng)
            else:
                others = [e for e in self.extensions if e != src] or [src]
                agent = rng.choice(others)
            queued = False
        queue = rng.choice(self.queues) if queued else ""
        call = SimulatedCall(
            channel=self._new_channel(direction, src),
            src=src,
            dst=queue or agent,
            calltype=queue_calltype(queue) if queue else default_calltype(direction),
            callinfo=CALLINFO_QUEUED if queue else CALLINFO_RINGING,
            direction=direction,
            started_at=at,
            queue=queue,
            userfield=rng.choice(_USERFIELDS) if direction == DIRECTION_IN else "",
        )

        def later(seconds: float) -> datetime:
            return at + timedelta(seconds=seconds)

        t = 0.0
        outcome = rng.random()
        if queue:
            t += rng.uniform(3, 25) if outcome < _SHARE_ANSWERED else rng.uniform(10, 45)
            if outcome >= _SHARE_ANSWERED:
                # The caller gave up while waiting in the queue.
                call.plan.append(PlannedStep(later(t), "end", NO_ANSWER))
                return call
            call.plan.append(PlannedStep(later(t), "ring", agent))
        if outcome < _SHARE_ANSWERED:
            t += rng.uniform(2, 12)
            call.plan.append(PlannedStep(later(t), "answer"))
            talk = rng.uniform(15, 180)
            if rng.random() < _SHARE_HOLD:
                hold_from = t + rng.uniform(5, talk * 0.7)
                call.plan.append(PlannedStep(later(hold_from), "hold"))
                call.plan.append(PlannedStep(later(hold_from + rng.uniform(5, 40)), "resume"))
                talk = max(talk, hold_from - t + 50)
            call.record = rng.random() < _SHARE_RECORDED
            call.plan.append(PlannedStep(later(t + talk), "end", ANSWERED))
        elif outcome < _SHARE_ANSWERED + _SHARE_NO_ANSWER:
            call.plan.append(PlannedStep(later(t + rng.uniform(10, 30)), "end", NO_ANSWER))
        else:
            call.plan.append(PlannedStep(later(t + rng.uniform(0.5, 3)), "end", BUSY))
        return call

    def _caller(self, rng: random.Random) -> str:
        if self.caller_pool and rng.random() < self.caller_pool_share:
            # A customer rarely calls twice at once: pick among those not already on a call.
            busy = {number for call in self._calls.values() for number in (call.src, call.dst)}
            free = [number for number in self.caller_pool if number not in busy]
            if free:
                return rng.choice(free)
        return random_number(rng)


def random_number(rng: random.Random) -> str:
    """A Turkish number in the PBX's form: `90` + 10 national digits, mobile or fixed line."""
    if rng.random() < 0.75:
        prefix = rng.choice(_MOBILE_PREFIXES) + str(rng.randint(0, 9))
    else:
        prefix = rng.choice(_FIXED_PREFIXES)
    rest = "".join(str(rng.randint(0, 9)) for _ in range(10 - len(prefix)))
    return f"90{prefix}{rest}"


def _apply_offline(call: SimulatedCall, step: PlannedStep) -> None:
    if step.action == "ring":
        call.dst = step.value
    elif step.action == "answer":
        call.answered_at = step.at


def _history_rate(local: datetime) -> float:
    """Calls per hour at a given Istanbul local time."""
    weekend = local.weekday() >= 5
    if 9 <= local.hour < 18:
        return 4.0 if weekend else 12.0
    if 8 <= local.hour < 21:
        return 2.0 if weekend else 4.0
    return 0.5
