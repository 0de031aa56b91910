"""Display links: a wallboard screen's address, with no login (docs/wallboard-setup.md).

A link is a long random token in the URL (`DISPLAY_PATH`). Only its SHA-256 is stored, so the
database (or a backup of it) opens no screen; the token is handed out once, when the link is
created. A link is active until it is revoked; a screen using it checks that it still is
(`active_link_ids`) and closes within seconds of its revocation. What a screen shows of a caller
is `mask_number`'s.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db.models import Q

from calls.models import DisplayLink
from customers.phones import is_extension

# The path of a display link's screen; the URL pattern of the page is built from it.
DISPLAY_PATH = "/display/{token}/"
TOKEN_BYTES = 32  # 256 bits: `secrets.token_urlsafe` makes 43 characters of them
# What `secrets.token_urlsafe(TOKEN_BYTES)` makes and nothing else: anything longer or of other
# characters is refused before it is hashed or looked up.
_TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")
# A screen reconnects often (restarts, networks): "last used" is precise to a minute, and a
# reconnect within it writes nothing.
LAST_USED_EVERY = timedelta(minutes=1)
MASK = "•"


def token_hash(token: str) -> str:
    """The stored form of a token: its SHA-256 in hex."""
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def display_path(token: str) -> str:
    """The path of the screen a token opens (the host is the deployer's)."""
    return DISPLAY_PATH.format(token=token)


def issue(link: DisplayLink, user) -> str:
    """Save a new, unsaved `link` created by `user` (or None: the command line) with a fresh
    token, and return the token: the one time it exists outside the screen's URL."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    link.token_hash = token_hash(token)
    link.created_by = user
    link.save()
    return token


def create_display_link(name: str, user) -> tuple[DisplayLink, str]:
    """A new active link named `name`, and its token (shown once, stored nowhere)."""
    link = DisplayLink(name=name)
    return link, issue(link, user)


def link_for_token(token: object, now: datetime) -> DisplayLink | None:
    """The active link a token opens, or None (unknown, revoked, malformed: the caller cannot tell
    which). Marks it used at `now`, at most once every `LAST_USED_EVERY`.

    The token is compared by its hash, in the database's index: nothing about how much of a
    guess matched leaks through timing, as a comparison of the tokens themselves would let it.
    """
    if not isinstance(token, str) or not _TOKEN.fullmatch(token):
        return None
    link = DisplayLink.objects.filter(token_hash=token_hash(token), revoked_at=None).first()
    if link is None:
        return None
    due = now - LAST_USED_EVERY
    if link.last_used_at is None or link.last_used_at <= due:
        # Conditional, so that of the screens reconnecting at once only one writes.
        stale = Q(last_used_at=None) | Q(last_used_at__lte=due)
        if DisplayLink.objects.filter(stale, pk=link.pk).update(last_used_at=now):
            link.last_used_at = now
    return link


def revoke(link: DisplayLink, user, now: datetime) -> bool:
    """Revoke `link` at `now` by `user`; False if it was revoked already (the first revocation
    stands, with its time and who did it)."""
    revoked = DisplayLink.objects.filter(pk=link.pk, revoked_at=None).update(
        revoked_at=now, revoked_by=user
    )
    if revoked:
        link.revoked_at, link.revoked_by = now, user
    return bool(revoked)


def active_link_ids(ids: Iterable[int]) -> set[int]:
    """Which of these links are still active (neither revoked nor deleted), in one query: the
    periodic check of the screens open in a process."""
    ids = set(ids)
    if not ids:
        return set()
    return set(DisplayLink.objects.filter(pk__in=ids, revoked_at=None).values_list("pk", flat=True))


def mask_number(text: str) -> str:
    """A number as a display link's screen shows it: every digit but the last two masked, the
    rest of the text as it was (`0532 123 45 67` → `•••• ••• •• 67`), so the layout still reads
    as a number and a supervisor can tell two callers apart without the room reading either.

    An extension or queue (`110`, `630`, by `customers.phones.is_extension`) is internal, not
    someone's number, and is shown as it is; so is text without digits (`anonymous`).
    """
    if is_extension(text.strip()):
        return text
    shown = 0
    masked = []
    for char in reversed(text):
        if char.isdigit():
            char = char if shown < 2 else MASK
            shown += 1
        masked.append(char)
    return "".join(reversed(masked))
