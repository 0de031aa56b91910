"""Database models of the calls app. Live calls are not here: see `calls.live.snapshot`."""

from __future__ import annotations

import uuid
from datetime import datetime

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


def clip_to_column(model: type[models.Model], field_name: str, text: str) -> str:
    """`text` cut to the length of `model.field_name`'s column: the one way PBX text that does
    not fit (a `src` of 150 characters) is stored, wherever it is stored. PostgreSQL refuses
    longer text outright (SQLite would keep it whole), so the cut must happen before saving."""
    return text[: model._meta.get_field(field_name).max_length]


class HangupAttempt(models.Model):
    """The audit trail of every hang-up request made from the panel, allowed or not."""

    class Result(models.TextChoices):
        # Written before the PBX is asked, so that a call ended is never a call unrecorded; it
        # stays so only if the database failed between the PBX's answer and the update.
        PENDING = "pending", _("pending")
        OK = "ok", _("ended")
        FORBIDDEN = "forbidden", _("not permitted")
        NOT_FOUND = "not_found", _("call not found")
        PBX_ERROR = "pbx_error", _("PBX error")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("user"),
    )
    username = models.CharField(_("username"), max_length=150)  # survives the user's deletion
    at = models.DateTimeField(_("at"), auto_now_add=True, db_index=True)
    channel = models.CharField(_("channel"), max_length=200)
    src = models.CharField(_("caller"), max_length=64, blank=True)
    dst = models.CharField(_("callee"), max_length=64, blank=True)
    result = models.CharField(_("result"), max_length=16, choices=Result.choices)
    pbx_answer = models.TextField(_("PBX answer"), blank=True)

    class Meta:
        ordering = ["-at"]
        verbose_name = _("hang-up attempt")
        verbose_name_plural = _("hang-up attempts")
        permissions = [("hangup_call", _("Can hang up live calls"))]

    def __str__(self) -> str:
        return f"{self.username} {self.channel} {self.result}"


class AgentProfile(models.Model):
    """What the panel needs to know about a person: which extensions ring on their desk."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="agent_profile",
        verbose_name=_("user"),
    )
    extensions = models.CharField(
        _("extensions"),
        max_length=200,
        blank=True,
        help_text=_("Your extension numbers (dahili), separated by commas, e.g. 110, 111."),
    )
    pop_all_calls = models.BooleanField(
        _("screen-pop for every call"),
        default=False,
        help_text=_("Show a card for every incoming call, not only those ringing your extensions."),
    )

    class Meta:
        verbose_name = _("agent profile")
        verbose_name_plural = _("agent profiles")
        permissions = [("pop_all_calls", _("Can choose a screen-pop for every call"))]

    def __str__(self) -> str:
        return str(self.user)

    @property
    def extension_list(self) -> list[str]:
        return [e.strip() for e in self.extensions.split(",") if e.strip()]


class CallRecord(models.Model):
    """One finished call from the PBX's call detail records (CDR), kept for history and stats."""

    class Direction(models.TextChoices):
        IN = "in", _("incoming")
        OUT = "out", _("outgoing")
        INTERNAL = "internal", _("internal")
        UNKNOWN = "unknown", _("unknown")

    class Disposition(models.TextChoices):
        """How the call ended, in the PBX's (Asterisk's) words. Pages show the label; exports
        and query strings keep the code, their stable interface. A code the PBX invents later
        is stored and shown as it came."""

        ANSWERED = "ANSWERED", _("answered")
        NO_ANSWER = "NO ANSWER", _("not answered")
        BUSY = "BUSY", _("busy")
        FAILED = "FAILED", _("failed")
        CONGESTION = "CONGESTION", _("congestion")

    pbx_id = models.CharField(_("PBX id"), max_length=64, unique=True)
    calldate = models.DateTimeField(_("date"), db_index=True)
    direction = models.CharField(_("direction"), max_length=10, choices=Direction.choices)
    src = models.CharField(_("caller"), max_length=64, blank=True)
    dst = models.CharField(_("callee"), max_length=64, blank=True)
    # The outside party in E.164 (calls.pbx.parties): filters and customer links.
    outside_number = models.CharField(_("outside number"), max_length=32, blank=True)
    duration = models.FloatField(_("duration (s)"), default=0)
    disposition = models.CharField(
        _("result"), max_length=20, blank=True, choices=Disposition.choices
    )
    queue = models.CharField(_("queue"), max_length=20, blank=True)
    recorded = models.BooleanField(_("recorded"), default=False)
    userfield = models.TextField(_("user field"), blank=True)
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="call_records",
        verbose_name=_("customer"),
    )
    callback_done_at = models.DateTimeField(_("called back at"), null=True, blank=True)
    callback_done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("called back by"),
    )

    class Meta:
        ordering = ["-calldate", "-id"]
        verbose_name = _("call record")
        verbose_name_plural = _("call records")
        permissions = [("view_stats", _("Can see call statistics"))]
        indexes = [
            # A number's calls (history filter, screen-pop timeline, callbacks).
            models.Index(fields=["outside_number", "calldate"], name="callrecord_number_date"),
            # A customer's calls (their admin page).
            models.Index(fields=["customer", "calldate"], name="callrecord_customer_date"),
        ]

    def __str__(self) -> str:
        return f"{self.calldate:%Y-%m-%d %H:%M} {self.src} → {self.dst} {self.disposition}"

    @property
    def answered(self) -> bool:
        return self.disposition == self.Disposition.ANSWERED

    @property
    def work(self) -> CallWork | None:
        """The agent's note and wrap-up code, once the CDR sync has joined this record to the
        call the poller saw (docs/history.md); select_related("tracked_call__work__wrap_up")."""
        try:
            return self.tracked_call.work
        except ObjectDoesNotExist:
            return None

    @property
    def follow_ups(self) -> list[FollowUp]:
        """The follow-ups set on this call, soonest first, once the CDR sync has joined it;
        prefetch_related("tracked_call__follow_ups")."""
        try:
            return list(self.tracked_call.follow_ups.all())
        except ObjectDoesNotExist:
            return []


class CallHourStat(models.Model):
    """Call counts per UTC hour, direction, queue and extension, kept up to date by the CDR sync.

    Statistics read these few rows instead of scanning every call of the range.
    """

    hour = models.DateTimeField(_("hour"))  # start of the hour, UTC
    direction = models.CharField(_("direction"), max_length=10)
    queue = models.CharField(_("queue"), max_length=20, blank=True)
    extension = models.CharField(_("extension"), max_length=64, blank=True)
    calls = models.PositiveIntegerField(default=0)
    answered = models.PositiveIntegerField(default=0)
    missed = models.PositiveIntegerField(default=0)
    talk_seconds = models.FloatField(default=0)  # answered calls only
    longest_talk = models.FloatField(default=0)

    class Meta:
        verbose_name = _("hourly call statistic")
        verbose_name_plural = _("hourly call statistics")
        constraints = [
            models.UniqueConstraint(
                fields=["hour", "direction", "queue", "extension"], name="unique_hour_stat"
            )
        ]

    def __str__(self) -> str:
        return f"{self.hour:%Y-%m-%d %H}:00 {self.direction} {self.queue} {self.extension}"


class PendingCallback(models.Model):
    """A number whose inbound calls were missed and not answered since (either way): one row per
    number, kept up to date by the CDR sync so the callbacks list never scans the history."""

    number = models.CharField(_("number"), max_length=32, unique=True)  # E.164
    last_missed_at = models.DateTimeField(_("last missed call"), db_index=True)
    missed = models.PositiveIntegerField(_("missed calls"), default=0)

    class Meta:
        ordering = ["-last_missed_at"]
        verbose_name = _("pending callback")
        verbose_name_plural = _("pending callbacks")

    def __str__(self) -> str:
        return self.number


class TrackedCall(models.Model):
    """A call the poller saw, from the first poll that saw it on: its lasting identity.

    The live panel knows a call by its channel for as long as it is on the line; this row gives
    it a `key` (the live `Call` object's `key`, docs/websocket-protocol.md) that lasts. When the
    CDR sync brings the call's row, the two are joined (`record`, by the rule of
    `calls.history.joining`), so whatever is attached to the call is on its history row too.

    The PBX writes a call's row when it ends but dates it by its start, so the periodic sync must
    look back to that start, however long ago it was: the calls still without their row tell it
    where (calls.history.tracked_calls). A call is noted when the poller first sees it
    (`ended_at` empty while it is live), so that an outage that loses the live state still leaves
    its start on record. One whose row has not come a day after it ended is given up on
    (`given_up_at`): it stays, a call known only from the live panel.
    """

    key = models.UUIDField(_("key"), default=uuid.uuid4, unique=True, editable=False)
    channel = models.CharField(_("channel"), max_length=200)
    src = models.CharField(_("caller"), max_length=64, blank=True)
    dst = models.CharField(_("callee"), max_length=64, blank=True)
    queue = models.CharField(_("queue"), max_length=20, blank=True)
    started_at = models.DateTimeField(_("started at"), db_index=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True, db_index=True)
    record = models.OneToOneField(
        CallRecord,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="tracked_call",
        verbose_name=_("call record"),
    )
    # When the sync last asked the PBX for this call's row (successfully): the least recently
    # asked go first, and a wait ends only once a lookup a day past the call's end found nothing.
    looked_at = models.DateTimeField(_("last looked for"), null=True, blank=True)
    # How many lookups have succeeded: they come less and less often
    # (calls.history.tracked_calls.BACKOFF).
    lookups = models.PositiveSmallIntegerField(_("lookups"), default=0)
    given_up_at = models.DateTimeField(_("no CDR row since"), null=True, blank=True)

    class Meta:
        verbose_name = _("tracked call")
        verbose_name_plural = _("tracked calls")
        constraints = [
            models.UniqueConstraint(fields=["channel", "started_at"], name="unique_tracked_call")
        ]
        indexes = [
            # The calls still waiting for their row (lookups, health): a small part of the table.
            models.Index(
                fields=["started_at"],
                name="trackedcall_awaiting",
                condition=models.Q(record__isnull=True, given_up_at__isnull=True),
            )
        ]

    def __str__(self) -> str:
        return f"{self.channel} {self.started_at:%Y-%m-%d %H:%M}"

    @property
    def awaiting(self) -> bool:
        """Whether the sync still looks for this call's row."""
        return self.record_id is None and self.given_up_at is None


class WrapUpCode(models.Model):
    """How a call ended, as the agent files it: a list the administrators keep.

    A code is deactivated rather than deleted once calls carry it (it is protected): old calls
    keep showing it, new ones cannot pick it.
    """

    name_tr = models.CharField(_("name (Turkish)"), max_length=60)
    name_en = models.CharField(_("name (English)"), max_length=60)
    colour = models.CharField(
        _("colour"),
        max_length=7,
        default="#64748b",
        validators=[RegexValidator(r"^#[0-9a-fA-F]{6}$", _("A colour as #rrggbb."))],
    )
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["order", "name_tr", "pk"]
        verbose_name = _("wrap-up code")
        verbose_name_plural = _("wrap-up codes")

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        """The name in the language of the page (Turkish unless English is chosen)."""
        return self.name_en if (get_language() or "tr").startswith("en") else self.name_tr


class WrapUpQueue(models.Model):
    """A queue whose calls must be given a wrap-up code before their wrap-up is done."""

    queue = models.CharField(_("queue"), max_length=20, unique=True)
    code_required = models.BooleanField(_("wrap-up code required"), default=True)

    class Meta:
        ordering = ["queue"]
        verbose_name = _("queue's wrap-up rule")
        verbose_name_plural = _("queues' wrap-up rules")

    def __str__(self) -> str:
        return self.queue


class CallWork(models.Model):
    """The agent's work on one call: the note and the wrap-up code (calls.work).

    It belongs to the tracked call, so it is on the call's history row once the CDR sync has
    joined the two (docs/history.md).
    """

    call = models.OneToOneField(
        TrackedCall, on_delete=models.CASCADE, related_name="work", verbose_name=_("call")
    )
    note = models.TextField(_("note"), blank=True)
    wrap_up = models.ForeignKey(
        WrapUpCode,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("wrap-up code"),
    )
    wrapped_up_at = models.DateTimeField(_("wrapped up at"), null=True, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("written by"),
    )
    author_name = models.CharField(_("written by"), max_length=150)  # survives the user
    created_at = models.DateTimeField(_("written at"), default=timezone.now)
    updated_at = models.DateTimeField(_("changed at"), default=timezone.now)

    class Meta:
        verbose_name = _("call work")
        verbose_name_plural = _("call work")
        permissions = [("change_any_callwork", _("Can change any agent's call notes"))]

    def __str__(self) -> str:
        return f"{self.call} {self.author_name}"


class CallWorkChange(models.Model):
    """One change of a call's work: who, when, before and after (calls.work.saving)."""

    work = models.ForeignKey(CallWork, on_delete=models.CASCADE, related_name="changes")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    username = models.CharField(_("username"), max_length=150)
    at = models.DateTimeField(_("at"), default=timezone.now)
    note_before = models.TextField(_("note before"), blank=True)
    note_after = models.TextField(_("note after"), blank=True)
    wrap_up_before = models.CharField(_("wrap-up code before"), max_length=60, blank=True)
    wrap_up_after = models.CharField(_("wrap-up code after"), max_length=60, blank=True)

    class Meta:
        ordering = ["at", "pk"]
        verbose_name = _("change of call work")
        verbose_name_plural = _("changes of call work")

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.username}"


class CdrSyncState(models.Model):
    """Where the call-history sync stands (one row): kept in the database, which is backed up,
    not in Redis, which the production stack does not persist."""

    # Every row dated before this has been fetched (the end of the last good window).
    synced_until = models.DateTimeField(_("synced until"), null=True, blank=True)
    last_window_start = models.DateTimeField(_("last good window from"), null=True, blank=True)
    last_ok_at = models.DateTimeField(_("last successful sync"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    last_error_at = models.DateTimeField(_("last failed sync"), null=True, blank=True)
    swept_at = models.DateTimeField(_("last complete sweep"), null=True, blank=True)
    # Where a sweep cut short (time limit, PBX failure) stopped: the next one goes on from there.
    sweep_cursor = models.DateTimeField(_("sweep continues from"), null=True, blank=True)
    # When the sync first ran: a sweep is overdue once it has run for a few sweep intervals.
    created_at = models.DateTimeField(_("first sync"), default=timezone.now)

    class Meta:
        verbose_name = _("call-history sync state")
        verbose_name_plural = _("call-history sync state")

    def __str__(self) -> str:
        return f"synced until {self.synced_until}"

    @classmethod
    def load(cls, now: datetime | None = None) -> CdrSyncState:
        return cls.objects.get_or_create(pk=1, defaults={"created_at": now or timezone.now()})[0]


class FollowUp(models.Model):
    """ "Call this caller back at …": a promise made on (or after) a call, with a reminder for its
    assignee when it is due (calls.work.follow_ups, docs/call-work.md)."""

    call = models.ForeignKey(
        TrackedCall,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="follow_ups",
        verbose_name=_("call"),
    )
    # E.164 (customers.phones): the outside party of the call it came from.
    number = models.CharField(_("number"), max_length=32)
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("customer"),
    )
    due_at = models.DateTimeField(_("due at"))
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="follow_ups",
        verbose_name=_("assignee"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("set by"),
    )
    note = models.CharField(_("note"), max_length=300, blank=True)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("done by"),
    )
    created_at = models.DateTimeField(_("set at"), default=timezone.now)

    class Meta:
        ordering = ["due_at", "pk"]
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")
        indexes = [
            # An assignee's open follow-ups (the reminder's poll): the undone part of the table.
            models.Index(
                fields=["assignee", "due_at"],
                name="followup_open",
                condition=models.Q(done_at__isnull=True),
            )
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.due_at:%Y-%m-%d %H:%M}"


def default_service_level_seconds() -> int:
    """A new queue's service level target (`TELSAM_SERVICE_LEVEL_SECONDS`), read when the queue is
    added, so that the setting is no part of the migrations."""
    return settings.TELSAM_SERVICE_LEVEL_SECONDS


def _level(verbose_name, help_text, *validators) -> models.PositiveIntegerField:
    """One optional warning or alert level of a wallboard figure (empty: none)."""
    return models.PositiveIntegerField(
        verbose_name, null=True, blank=True, validators=list(validators), help_text=help_text
    )


_PERCENT = (MinValueValidator(0), MaxValueValidator(100))


class WallboardQueue(models.Model):
    """A queue as the wallboard shows it: its label, its service level target, and the levels at
    which its tile turns amber (warning) or red (alert). The rule that reads them is
    `calls.wallboard.thresholds`; docs/wallboard-setup.md says how to set them."""

    queue = models.CharField(_("queue"), max_length=20, unique=True)
    name = models.CharField(
        _("name"), max_length=60, blank=True, help_text=_("Shown on the tile (optional).")
    )
    service_level_seconds = models.PositiveSmallIntegerField(
        _("service level within (s)"),
        default=default_service_level_seconds,
        validators=[MinValueValidator(1), MaxValueValidator(3600)],
        help_text=_("A call answered within this many seconds counts as answered in time."),
    )
    waiting_amber = _level(
        _("waiting: warning at"),
        _("Calls waiting: the tile turns amber when this many or more wait."),
        MinValueValidator(1),
    )
    waiting_red = _level(
        _("waiting: alert at"),
        _("Calls waiting: the tile turns red when this many or more wait."),
        MinValueValidator(1),
    )
    longest_wait_amber = _level(
        _("longest wait: warning at (s)"),
        _("The longest wait, in seconds: amber from this on."),
        MinValueValidator(1),
    )
    longest_wait_red = _level(
        _("longest wait: alert at (s)"),
        _("The longest wait, in seconds: red from this on."),
        MinValueValidator(1),
    )
    service_level_amber = _level(
        _("service level: warning below (%)"),
        _("Today's service level, in percent: amber when it is below this."),
        *_PERCENT,
    )
    service_level_red = _level(
        _("service level: alert below (%)"),
        _("Today's service level, in percent: red when it is below this."),
        *_PERCENT,
    )

    class Meta:
        ordering = ["queue"]
        verbose_name = _("wallboard queue")
        verbose_name_plural = _("wallboard queues")
        permissions = [("view_wallboard", _("Can see the wallboard"))]

    def __str__(self) -> str:
        return f"{self.queue} {self.name}".strip()

    def clean(self) -> None:
        # Red must lie beyond amber: above it for the figures that rise (a queue getting worse
        # waits longer), below it for the service level, which falls. Red at amber would leave
        # amber never shown, so it is refused too.
        errors = {}
        for figure in ("waiting", "longest_wait"):
            amber, red = getattr(self, f"{figure}_amber"), getattr(self, f"{figure}_red")
            if amber is not None and red is not None and red <= amber:
                errors[f"{figure}_red"] = _("The alert level must be above the warning level.")
        amber, red = self.service_level_amber, self.service_level_red
        if amber is not None and red is not None and red >= amber:
            errors["service_level_red"] = _("The alert level must be below the warning level.")
        if errors:
            raise ValidationError(errors)


class DisplayLink(models.Model):
    """A wallboard screen's address: no login, read-only, the wallboard only
    (calls.wallboard.display_links). Only the token's SHA-256 is kept; the token itself is shown
    once, when the link is created, and a lost one is replaced by a new link."""

    name = models.CharField(
        _("name"), max_length=100, help_text=_("Where the screen is, e.g. “TV by the door”.")
    )
    token_hash = models.CharField(_("token hash"), max_length=64, unique=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    # Written at most once a minute (calls.wallboard.display_links.LAST_USED_EVERY).
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("revoked by"),
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("display link")
        verbose_name_plural = _("display links")

    def __str__(self) -> str:
        return self.name

    @property
    def active(self) -> bool:
        return self.revoked_at is None
