"""Live calls follow their customers: when customers' numbers change (an agent adds the caller
from the screen-pop, an import, the admin), a poll is asked for at once that matches every unknown
caller still on the line again, so every open panel shows the new name within a poll.

The request travels with the poll task (`request_poll(rematch=True)`), so polls pay nothing for it;
one lost with the broker leaves the match to the poll's periodic rematch
(`poll._REMATCH_EVERY_POLLS`).
"""

from __future__ import annotations

from django.dispatch import receiver

from calls.live.poll_requests import request_poll
from customers.linking import numbers_changed


@receiver(numbers_changed, dispatch_uid="calls.live.rematch")
def _rematch_on_change(sender, numbers: frozenset[str], **kwargs) -> None:
    request_poll(rematch=True)
