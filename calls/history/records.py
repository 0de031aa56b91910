"""Call history queries: filtering, totals, a customer's timeline, and callbacks to make."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import transaction
from django.db.models import Count, Max, Prefetch, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from calls.models import CallRecord, FollowUp, PendingCallback, WrapUpCode
from customers.phones import try_normalize

ANSWERED = CallRecord.Disposition.ANSWERED
# A caller who heard no answer: counted as missed, and waiting for a call back.
MISSED = (CallRecord.Disposition.NO_ANSWER, CallRecord.Disposition.BUSY)
_DIGITS = re.compile(r"\D")
# The days a filter may name. Outside them a day's bounds in the UI's time zone, or a week before
# it, cannot be represented (0001-01-01 minus three hours, 9999-12-31 plus a day); and no PBX has
# calls from before 2000.
EARLIEST_DAY = date(2000, 1, 1)
LATEST_DAY = date(2099, 12, 31)
_DAY_RANGE = [MinValueValidator(EARLIEST_DAY), MaxValueValidator(LATEST_DAY)]


def day_bounds(first: date, last: date) -> tuple[datetime, datetime]:
    """[first 00:00, the day after last 00:00) in the UI's time zone."""
    zone = timezone.get_current_timezone()
    return (
        datetime.combine(first, time.min, tzinfo=zone),
        datetime.combine(last + timedelta(days=1), time.min, tzinfo=zone),
    )


class HistoryFilterForm(forms.Form):
    """The history page's filters; every field is optional and reads from the query string."""

    date_from = forms.DateField(
        label=_("From"),
        required=False,
        validators=_DAY_RANGE,
        widget=forms.DateInput(attrs={"type": "date", "min": EARLIEST_DAY, "max": LATEST_DAY}),
    )
    date_to = forms.DateField(
        label=_("To"),
        required=False,
        validators=_DAY_RANGE,
        widget=forms.DateInput(attrs={"type": "date", "min": EARLIEST_DAY, "max": LATEST_DAY}),
    )
    number = forms.CharField(label=_("Number"), required=False, max_length=40)
    customer = forms.CharField(label=_("Customer"), required=False, max_length=100)
    direction = forms.ChoiceField(
        label=_("Direction"), required=False, choices=[("", "—"), *CallRecord.Direction.choices]
    )
    disposition = forms.ChoiceField(
        label=_("Result"), required=False, choices=[("", "—"), *CallRecord.Disposition.choices]
    )
    queue = forms.CharField(label=_("Queue"), required=False, max_length=20)
    # Deactivated codes too: old calls carry them.
    wrap_up = forms.ModelChoiceField(
        label=_("Wrap-up code"), required=False, queryset=WrapUpCode.objects.all()
    )

    def clean(self):
        data = super().clean()
        today = timezone.localdate()
        if self.has_error("date_from") or self.has_error("date_to"):
            return data
        data["date_to"] = data.get("date_to") or today
        data["date_from"] = data.get("date_from") or max(
            EARLIEST_DAY, data["date_to"] - timedelta(days=6)
        )
        if data["date_from"] > data["date_to"]:
            self.add_error("date_to", _("The end date is before the start date."))
        return data

    def filter(self, records: QuerySet[CallRecord]) -> QuerySet[CallRecord]:
        """The records matching the (valid) form."""
        data = self.cleaned_data
        start, end = day_bounds(data["date_from"], data["date_to"])
        records = records.filter(calldate__gte=start, calldate__lt=end)
        if data.get("number"):
            records = records.filter(number_q(data["number"]))
        if data.get("customer"):
            records = records.filter(customer__name__icontains=data["customer"])
        for name in ("direction", "disposition", "queue"):
            if data.get(name):
                records = records.filter(**{name: data[name]})
        if data.get("wrap_up"):
            records = records.filter(tracked_call__work__wrap_up=data["wrap_up"])
        return records


def number_q(typed: str) -> Q:
    """A number typed in any format: the exact outside number, or digits inside src/dst."""
    e164 = try_normalize(typed)
    if e164:
        return Q(outside_number=e164)
    digits = _DIGITS.sub("", typed)
    return Q(src__contains=digits) | Q(dst__contains=digits) if digits else Q(pk__in=[])


@dataclass(frozen=True)
class Totals:
    calls: int
    answered: int
    missed: int
    talk_seconds: float


def totals(records: QuerySet[CallRecord]) -> Totals:
    row = records.aggregate(
        calls=Count("id"),
        answered=Count("id", filter=Q(disposition=ANSWERED)),
        missed=Count("id", filter=Q(disposition__in=MISSED)),
        talk=Sum("duration", filter=Q(disposition=ANSWERED)),
    )
    return Totals(row["calls"], row["answered"], row["missed"], row["talk"] or 0.0)


def timeline(numbers: Iterable[str], customer_id: int | None = None, limit: int = 5) -> dict:
    """A customer's timeline, for the screen-pop and the customer's admin page: the recent calls
    with these E.164 numbers or this customer, newest first, each with its note, wrap-up code and
    follow-ups; the open follow-ups whose call is not among them (its CDR row has not come yet,
    or it is older); and today's count."""
    numbers = [n for n in numbers if n]
    match = Q(outside_number__in=numbers)
    if customer_id:
        match |= Q(customer_id=customer_id)
    calls = CallRecord.objects.filter(match)
    start, end = day_bounds(timezone.localdate(), timezone.localdate())
    today = calls.filter(calldate__gte=start, calldate__lt=end).aggregate(
        calls=Count("id"), unanswered=Count("id", filter=~Q(disposition=ANSWERED))
    )
    follow_ups = FollowUp.objects.select_related("assignee", "customer")
    recent = list(
        calls.select_related("tracked_call__work__wrap_up")
        .prefetch_related(Prefetch("tracked_call__follow_ups", queryset=follow_ups))
        .order_by("-calldate")[:limit]
    )
    shown = [f.pk for record in recent for f in record.follow_ups]
    whose = Q(number__in=numbers)
    if customer_id:
        whose |= Q(customer_id=customer_id)
    waiting = follow_ups.filter(whose, done_at__isnull=True).exclude(pk__in=shown)
    return {"recent": recent, "open_follow_ups": list(waiting[:limit]), "today": today}


CALLBACK_DAYS = 7  # a missed call older than a week is history, not a callback to make


def refresh_callbacks(numbers: Iterable[str]) -> None:
    """Recompute the pending callbacks of these E.164 numbers from their call records: the missed
    inbound calls, not yet marked done, after the number's last answered call in either way."""
    numbers = set(numbers) - {""}
    if not numbers:
        return
    # Only the last week is ever listed, so only its calls matter (a backfill of old history
    # costs nothing here). An answer before the week cannot hide a miss within it.
    since = timezone.now() - timedelta(days=CALLBACK_DAYS + 1)
    calls = CallRecord.objects.filter(outside_number__in=numbers, calldate__gte=since)
    last_answered = dict(
        calls.filter(disposition=ANSWERED)
        .values("outside_number")
        .annotate(at=Max("calldate"))
        .values_list("outside_number", "at")
    )
    missed = calls.filter(
        direction=CallRecord.Direction.IN, disposition__in=MISSED, callback_done_at__isnull=True
    ).values_list("outside_number", "calldate")
    waiting: dict[str, list] = {}
    for number, at in missed:
        answered = last_answered.get(number)
        if answered is None or at > answered:
            waiting.setdefault(number, []).append(at)
    with transaction.atomic():
        PendingCallback.objects.filter(number__in=numbers).delete()
        PendingCallback.objects.bulk_create(
            PendingCallback(number=number, last_missed_at=max(times), missed=len(times))
            for number, times in waiting.items()
        )


def pending_callbacks(now: datetime | None = None) -> QuerySet[PendingCallback]:
    """Numbers waiting for a call back whose last missed call was in the last week, latest first."""
    since = (now or timezone.now()) - timedelta(days=CALLBACK_DAYS)
    return PendingCallback.objects.filter(last_missed_at__gte=since).order_by("-last_missed_at")


def mark_called_back(e164: str, user) -> int:
    """The agent called this number back: its waiting missed calls leave the list."""
    done = CallRecord.objects.filter(
        outside_number=e164,
        direction=CallRecord.Direction.IN,
        disposition__in=MISSED,
        callback_done_at__isnull=True,
    ).update(callback_done_at=timezone.now(), callback_done_by=user)
    refresh_callbacks([e164])
    return done
