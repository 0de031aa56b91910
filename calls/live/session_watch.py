"""An open panel lives only as long as the session and the role behind it.

A session ends in many ways: logout, expiry, an administrator deleting it, a password change (the
session's auth hash no longer matches), the user deactivated; a role can be taken away while the
session lasts. Most of them never pass through this process, so instead of being told, each web
process looks: every `CHECK_SECONDS` it checks all its open sockets at once and closes those whose
session ended (4401) or whose user lost the permission for what the socket streams (4403), and the
wallboard screens whose display link was revoked (4410, calls.wallboard.consumer); no push reaches
them after the check that finds them (until then, up to `CHECK_SECONDS`, they still stream).

Why one batch per process: a web process holds about a thousand panels. One check for all of them
is four queries (their sessions, their users, the users' own and group permissions), chunked past
`_CHUNK` rows, whatever their number, run off the event loop; a check per socket would be
thousands of queries every few seconds, and a timer per socket thousands of wake-ups. Sockets
connecting together (a reconnect storm after a restart) likewise share their admission check.
Only what cannot change unseen is cached between checks (a user's session hashes, keyed by their
password hash): a removed role must take effect within seconds, and the queries are cheap
(1,000 panels of 1,000 users: 30–40 ms on SQLite, 40–60 ms on PostgreSQL, on a busy 2-core
machine). While the database cannot be reached the panels stay open: the live calls do not need
it, and nobody can end a session in it meanwhile; the first check after it is back closes the
sessions that expired in between. A check that gets no answer within `CHECK_TIMEOUT_SECONDS` (a
partition: no error, just silence) counts as the database out of reach: open panels stay, and a
connecting one is closed with 1011 and retries. No check starts while an earlier one still waits
in its thread.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import weakref
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import import_module
from typing import Protocol

from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db.models import Q
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from calls.access import LIVE_CALLS

logger = logging.getLogger(__name__)

# Panels close at most this long (plus one check) after their session ended: within 5 s.
CHECK_SECONDS = 2.0
# A check that takes longer has lost the database (a partition, a lock): it is given up.
CHECK_TIMEOUT_SECONDS = 3.0
# Rows per IN (…) list: SQLite refuses more than a few thousand parameters in one query.
_CHUNK = 500


class Standing(enum.IntEnum):
    """A socket's right to stream, as the close code that ends it (docs/websocket-protocol.md)."""

    OK = 0
    SESSION_ENDED = 4401  # the browser goes to the login page
    FORBIDDEN = 4403  # logged in, but no role that shows live calls: the page says so
    REVOKED = 4410  # a display link (calls.wallboard) was revoked: the screen stops for good


class Pass(Protocol):
    """What a socket was let in with. Its class checks a batch of passes of its kind at once
    (`check_all`, database queries: called off the loop), so one check serves every socket."""

    @classmethod
    def check_all(cls, passes: Sequence[Pass]) -> list[Standing]: ...


@dataclass(frozen=True, eq=False)
class SessionPass:
    """A logged-in socket's pass: its session, its user, the session's auth hash, and the
    permissions what it streams needs (the live calls', or the wallboard's)."""

    session_key: str
    user_id: int
    auth_hash: str
    permissions: tuple[str, ...] = LIVE_CALLS

    @classmethod
    def check_all(cls, passes: Sequence[SessionPass]) -> list[Standing]:
        return _session_standings(passes)


class WatchedSocket(Protocol):
    def end(self, standing: Standing) -> None:
        """Stop streaming at once: nothing is sent after this returns."""

    async def close(self, code: int) -> None: ...


def standings(passes: Sequence[Pass]) -> list[Standing]:
    """Whether each pass still holds, in the same order (database queries: call it off the loop)."""
    by_kind: defaultdict[type, list[int]] = defaultdict(list)
    for index, entry in enumerate(passes):
        by_kind[type(entry)].append(index)
    result: list[Standing] = [Standing.OK] * len(passes)
    for kind, indexes in by_kind.items():
        checked = kind.check_all([passes[i] for i in indexes])
        for index, standing in zip(indexes, checked, strict=True):
            result[index] = standing
    return result


def _session_standings(passes: Sequence[SessionPass]) -> list[Standing]:
    now = timezone.now()
    # The database session engines (the default, or cached_db) keep every session in one table.
    sessions = import_module(settings.SESSION_ENGINE).SessionStore.get_model_class()
    live: set[str] = set()
    for keys in _chunks({p.session_key for p in passes}):
        live.update(
            sessions.objects.filter(session_key__in=keys, expire_date__gt=now).values_list(
                "session_key", flat=True
            )
        )
    users = {}
    for ids in _chunks({p.user_id for p in passes}):
        # Inactive users are logged out by Django's backend as well.
        users.update(
            (user.pk, user)
            for user in get_user_model()
            .objects.filter(pk__in=ids, is_active=True)
            .only("password", "is_superuser")
        )
    allowed = {
        permissions: _holding(users, permissions)
        for permissions in {entry.permissions for entry in passes}
    }
    result = []
    for entry in passes:
        user = users.get(entry.user_id)
        if entry.session_key not in live or user is None or not _hash_holds(entry, user):
            result.append(Standing.SESSION_ENDED)
        elif entry.user_id not in allowed[entry.permissions]:
            result.append(Standing.FORBIDDEN)
        else:
            result.append(Standing.OK)
    return result


def _hash_holds(entry: SessionPass, user) -> bool:
    """Django's rule (django.contrib.auth.get_user): a password change ends every session whose
    hash no longer matches, with the current secret or a fallback one. (The session where the
    password was changed gets a new key with the new hash: its panels close too and come back
    at once, see docs/websocket-protocol.md.)"""
    return bool(entry.auth_hash) and any(
        constant_time_compare(entry.auth_hash, valid) for valid in _valid_hashes(user)
    )


# A user's valid session hashes by (id, password hash, secrets): an HMAC per user and check was a
# third of a check's time, and they change only with the password or the secrets (a fallback
# secret dropped ends the sessions only it had signed).
_known_hashes: dict[tuple[int, str, str, tuple[str, ...]], tuple[str, ...]] = {}
_KNOWN_HASHES_MAX = 50_000


def _valid_hashes(user) -> tuple[str, ...]:
    key = (user.pk, user.password, settings.SECRET_KEY, tuple(settings.SECRET_KEY_FALLBACKS))
    hashes = _known_hashes.get(key)
    if hashes is None:
        if len(_known_hashes) >= _KNOWN_HASHES_MAX:
            _known_hashes.clear()
        hashes = (user.get_session_auth_hash(), *user.get_session_auth_fallback_hash())
        _known_hashes[key] = hashes
    return hashes


def _holding(users: dict, permissions: Iterable[str]) -> set[int]:
    """The ids of `users` holding every one of `permissions`, in two queries for all of them.

    Django's ModelBackend rule, the only backend here that grants permissions (LockoutBackend only
    refuses logins): a superuser holds all; anyone else what their own permissions and their
    groups' give. `user.has_perm` would cost two queries per user."""
    wanted = {tuple(p.split(".", 1)) for p in permissions}
    which = Q()
    for app_label, codename in wanted:
        which |= Q(content_type__app_label=app_label, codename=codename)
    held: defaultdict[int, set[tuple[str, str]]] = defaultdict(set)
    for ids in _chunks({pk for pk, user in users.items() if not user.is_superuser}):
        for via in ("user", "group__user"):
            rows = Permission.objects.filter(which, **{f"{via}__in": ids}).values_list(
                via, "content_type__app_label", "codename"
            )
            for user_id, app_label, codename in rows:
                held[user_id].add((app_label, codename))
    return {pk for pk, user in users.items() if user.is_superuser or held[pk] >= wanted}


def _chunks(values: set) -> Iterable[list]:
    ordered = list(values)
    for start in range(0, len(ordered), _CHUNK):
        yield ordered[start : start + _CHUNK]


# Off the event loop, and not on the one thread Channels runs its database work on: a thousand
# connecting browsers wait there for their sessions and users.
_check = database_sync_to_async(standings, thread_sensitive=False)


class SessionWatch:
    """This process's open sockets and the passes they were let in with (one per event loop)."""

    def __init__(self) -> None:
        self._watched: dict[WatchedSocket, Pass] = {}
        self._watcher: asyncio.Task[None] | None = None
        self._admitting: list[tuple[Pass, asyncio.Future[Standing]]] = []
        self._admission: asyncio.Task[None] | None = None
        self._failing = False
        self._closing: set[asyncio.Task[None]] = set()  # referenced until done
        self._checking: asyncio.Future[list[Standing]] | None = None

    def __len__(self) -> int:
        """How many open sockets are watched."""
        return len(self._watched)

    async def admit(self, entry: Pass) -> Standing:
        """The standing of a connecting socket's pass. One check runs at a time: the sockets that
        arrive meanwhile share the next."""
        answer: asyncio.Future[Standing] = asyncio.get_running_loop().create_future()
        self._admitting.append((entry, answer))
        if self._admission is None or self._admission.done():
            self._admission = asyncio.create_task(self._admit())
        return await answer

    def watch(self, socket: WatchedSocket, entry: Pass) -> None:
        self._watched[socket] = entry
        if self._watcher is None or self._watcher.done():
            self._watcher = asyncio.create_task(self._watch(), name="live-calls session watch")

    def forget(self, socket: WatchedSocket) -> None:
        self._watched.pop(socket, None)

    async def _bounded_check(self, passes: list[Pass]) -> list[Standing]:
        """`standings(passes)`, or TimeoutError after CHECK_TIMEOUT_SECONDS (waiting for the
        previous check included). A thread cannot be stopped: a check given up keeps its thread
        and its database connection until the database answers, so the next one starts only
        after it has ended, and a partition costs one waiting thread, not one per attempt."""
        async with asyncio.timeout(CHECK_TIMEOUT_SECONDS):
            while self._checking is not None and not self._checking.done():
                await asyncio.wait({self._checking})
            self._checking = asyncio.ensure_future(_check(passes))
            self._checking.add_done_callback(_retrieve)
            return await asyncio.shield(self._checking)

    async def _admit(self) -> None:
        while self._admitting:
            batch, self._admitting = self._admitting, []
            try:
                results = await self._bounded_check([entry for entry, _ in batch])
            except Exception as exc:  # each waiting socket fails with it, not the others
                results = [exc] * len(batch)
            for (_, answer), result in zip(batch, results, strict=True):
                if answer.done():  # its socket went away meanwhile
                    continue
                if isinstance(result, Exception):
                    answer.set_exception(result)
                else:
                    answer.set_result(result)

    async def _watch(self) -> None:
        while self._watched:
            await asyncio.sleep(CHECK_SECONDS)
            watched = list(self._watched.items())
            try:
                results = await self._bounded_check([entry for _, entry in watched])
            except Exception as exc:  # the panels stay open meanwhile (module docstring)
                if not self._failing:
                    logger.warning(
                        "Cannot check the open panels' sessions, retrying: %s",
                        exc or f"no answer within {CHECK_TIMEOUT_SECONDS:g} s",
                    )
                self._failing = True
                continue
            if self._failing:
                logger.info("Checking the open panels' sessions again")
                self._failing = False
            for (socket, entry), standing in zip(watched, results, strict=True):
                if standing is not Standing.OK and self._watched.get(socket) is entry:
                    # Streaming stops for all of them now; the closes each run on their own: a
                    # close waits for a browser that stopped reading until TCP gives up (minutes),
                    # and must not hold up the other closes or the next check.
                    self.forget(socket)
                    socket.end(standing)
                    closing = asyncio.create_task(_close_quietly(socket, standing))
                    self._closing.add(closing)
                    closing.add_done_callback(self._closing.discard)


def _retrieve(check: asyncio.Future) -> None:
    if not check.cancelled():
        check.exception()  # a check given up still fails, its waiter gone: nobody else reads it


async def _close_quietly(socket: WatchedSocket, standing: Standing) -> None:
    try:
        await socket.close(code=standing.value)
    except Exception:  # already gone is as good as closed
        logger.debug("The socket was already gone", exc_info=True)


_watches: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, SessionWatch] = (
    weakref.WeakKeyDictionary()
)


def session_watch() -> SessionWatch:
    """The running event loop's watch (one per web process; tests run several loops)."""
    loop = asyncio.get_running_loop()
    watch = _watches.get(loop)
    if watch is None:
        watch = _watches[loop] = SessionWatch()
    return watch
