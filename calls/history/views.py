"""Call history pages: the searchable list with export, callbacks to make, and statistics."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from calls.access import SEE_CALLS, SEE_CUSTOMERS, SEE_STATS, requires
from calls.history import exports
from calls.history.export_tables import callbacks_table, history_table
from calls.history.records import HistoryFilterForm, mark_called_back, pending_callbacks, totals
from calls.history.stats import build_stats
from calls.history.wrap_up_stats import wrap_up_report
from calls.models import CallRecord, FollowUp
from customers.linking import customers_for_numbers
from customers.models import Customer

PAGE_SIZE = 50
CALLBACKS_SHOWN = 500


# Calls and the customer behind each, on the page and in its exports.
@requires(SEE_CALLS, SEE_CUSTOMERS)
def history(request: HttpRequest) -> HttpResponse:
    export = request.GET.get("export", "")
    if export and export not in exports.FORMATS:
        return HttpResponseBadRequest(_("Unknown export format: use csv or xlsx."))
    form = HistoryFilterForm(request.GET or None)
    if not form.is_bound:
        form = HistoryFilterForm({})
    records = CallRecord.objects.none()
    if form.is_valid():
        records = form.filter(
            CallRecord.objects.select_related("customer", "tracked_call__work__wrap_up")
        )
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("export", None)
    if export and form.is_valid():
        calls = records.count() if export == "xlsx" else 0
        if calls <= exports.XLSX_ROW_LIMIT:
            return exports.response(request, history_table(records), export)
        messages.warning(request, exports.xlsx_limit_message(calls))
        return redirect(f"{request.path}?{query.urlencode()}")
    page = Paginator(records.order_by("-calldate", "-id"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "calls/history.html",
        {
            "form": form,
            "page": page,
            "totals": totals(records),
            "query": query.urlencode(),
            "xlsx_row_limit": exports.XLSX_ROW_LIMIT,
        },
    )


@requires(SEE_CALLS, SEE_CUSTOMERS)
def callbacks(request: HttpRequest) -> HttpResponse:
    export = request.GET.get("export", "")
    if export and export not in exports.FORMATS:
        return HttpResponseBadRequest(_("Unknown export format: use csv or xlsx."))
    rows = list(pending_callbacks()[:CALLBACKS_SHOWN])
    names = dict(customers_for_numbers(row.number for row in rows).items())
    customers = dict(Customer.objects.filter(pk__in=names.values()).values_list("pk", "name"))
    for row in rows:
        row.customer_name = customers.get(names.get(row.number), "")
    if export:
        return exports.response(request, callbacks_table(rows), export)
    return render(
        request,
        "calls/callbacks.html",
        {"rows": rows, "follow_ups": _open_follow_ups(request.user)},
    )


def _open_follow_ups(user) -> list[FollowUp] | None:
    """The follow-ups not done yet, soonest first, each with whether `user` may mark it done
    (its assignee, or a supervisor: calls.work.follow_ups.mark_done); None without the role."""
    if not user.has_perm("calls.view_followup"):
        return None
    may_change_any = user.has_perm("calls.change_any_callwork")
    may_change = user.has_perm("calls.change_followup")
    shown = FollowUp.objects.filter(done_at__isnull=True).select_related("assignee", "customer")
    follow_ups = list(shown[:CALLBACKS_SHOWN])
    now = timezone.now()
    for follow_up in follow_ups:
        follow_up.is_due = follow_up.due_at <= now
        follow_up.may_mark_done = may_change and (
            may_change_any or follow_up.assignee_id == user.pk
        )
    return follow_ups


# Whoever may see the callbacks works through them.
@requires(SEE_CALLS, SEE_CUSTOMERS)
@require_POST
def callback_done(request: HttpRequest) -> HttpResponse:
    done = mark_called_back(request.POST.get("number", "")[:32], request.user)
    if done:
        messages.success(request, _("Marked as called back."))
    return redirect("calls:callbacks")


@requires(SEE_STATS)
def stats(request: HttpRequest) -> HttpResponse:
    data = request.GET.copy()
    today = timezone.localdate().isoformat()
    data.setdefault("date_from", today)
    data.setdefault("date_to", today)
    form = HistoryFilterForm(data)
    report = wrap_ups = None
    if form.is_valid():
        days = form.cleaned_data["date_from"], form.cleaned_data["date_to"]
        report, wrap_ups = build_stats(*days), wrap_up_report(*days)
    return render(
        request, "calls/stats.html", {"form": form, "report": report, "wrap_ups": wrap_ups}
    )
