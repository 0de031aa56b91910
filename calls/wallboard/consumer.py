"""The wallboard's sockets: `/ws/wallboard/` for logged-in users with `calls.view_wallboard`, and
`/ws/display/<token>/` for display links (no login; the masked board). Both send the stored board
on connect and on a resync, then the board after every poll (docs/websocket-protocol.md).

They are the live calls' consumer with another group, another stored message and another pass:
a display link's pass is checked with the process's sessions, every few seconds, so a revoked
link's screens close (4410) within seconds.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from channels.db import database_sync_to_async
from django.utils import timezone

from calls.access import SEE_WALLBOARD
from calls.live.consumer import StreamConsumer
from calls.live.session_watch import SessionPass, Standing
from calls.live.snapshot import load_message_text
from calls.wallboard.display_links import active_link_ids, link_for_token
from calls.wallboard.live_board import DISPLAY_GROUP, DISPLAY_MESSAGE_KEY, GROUP, MESSAGE_KEY

# Before the first poll has stored a board: an empty one, stale, with nothing known yet.
NO_BOARD_YET = json.dumps(
    {
        "type": "wallboard",
        "waiting": True,
        "at": None,
        "stale": True,
        "pbx_ok": False,
        "last_ok_at": None,
        "age_seconds": None,
        "queues": [],
        "total": None,
        "extensions": [],
    }
)


class WallboardConsumer(StreamConsumer):
    group = GROUP
    no_state_text = NO_BOARD_YET

    def pass_of_scope(self) -> SessionPass | None:
        entry = super().pass_of_scope()
        if entry is None:
            return None
        return SessionPass(entry.session_key, entry.user_id, entry.auth_hash, (SEE_WALLBOARD,))

    def load_state_text(self) -> str | None:
        return load_message_text(MESSAGE_KEY)


@dataclass(frozen=True, eq=False)
class DisplayLinkPass:
    """A display link's screen: let in while the link is not revoked."""

    link_id: int

    @classmethod
    def check_all(cls, passes: Sequence[DisplayLinkPass]) -> list[Standing]:
        active = active_link_ids({entry.link_id for entry in passes})
        return [Standing.OK if e.link_id in active else Standing.REVOKED for e in passes]


class DisplayConsumer(StreamConsumer):
    group = DISPLAY_GROUP
    no_state_text = NO_BOARD_YET

    def pass_of_scope(self) -> DisplayLinkPass | None:
        # Looked up before the accept; the watch's admission then checks it as it will every
        # few seconds (an unknown token gets REVOKED from there: the screen stops for good).
        return self.scope.get("display_pass")

    async def connect(self) -> None:
        token = self.scope["url_route"]["kwargs"]["token"]
        link = await database_sync_to_async(link_for_token)(token, timezone.now())
        self.scope["display_pass"] = DisplayLinkPass(link.pk if link is not None else 0)
        await super().connect()

    def load_state_text(self) -> str | None:
        return load_message_text(DISPLAY_MESSAGE_KEY)
