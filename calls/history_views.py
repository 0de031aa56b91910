"""Call history pages: the searchable list with export, callbacks to make, and statistics."""

from __future__ import annotations

import csv
from collections.abc import Iterator

import tablib
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from calls.access import SEE_CALLS, SEE_CUSTOMERS, SEE_STATS, requires
from calls.history import HistoryFilterForm, mark_called_back, pending_callbacks, totals
from calls.models import CallRecord
from calls.stats import build_stats
from customers.linking import customers_for_numbers
from customers.models import Customer
from customers.phones import display_number
from customers.resources import neutralise_formula

PAGE_SIZE = 50
XLSX_ROW_LIMIT = 100_000  # a spreadsheet of more is unusable; CSV has no limit
EXPORT_COLUMNS = [
    "date",
    "direction",
    "caller",
    "callee",
    "customer",
    "duration_s",
    "result",
    "queue",
    "userfield",
]


# Calls and the customer behind each, on the page and in its exports.
@requires(SEE_CALLS, SEE_CUSTOMERS)
def history(request: HttpRequest) -> HttpResponse:
    form = HistoryFilterForm(request.GET or None)
    if not form.is_bound:
        form = HistoryFilterForm({})
    records = CallRecord.objects.none()
    if form.is_valid():
        records = form.filter(CallRecord.objects.select_related("customer"))
    export = request.GET.get("export")
    if export in ("csv", "xlsx") and form.is_valid():
        return _export(records, export)
    page = Paginator(records.order_by("-calldate", "-id"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "calls/history.html",
        {"form": form, "page": page, "totals": totals(records), "query": query.urlencode()},
    )


def _export_rows(records) -> Iterator[list]:
    zone = timezone.get_current_timezone()
    for record in records.iterator(chunk_size=2000):
        yield [
            record.calldate.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S"),
            record.direction,
            record.src,
            record.dst,
            neutralise_formula(record.customer.name) if record.customer else "",
            round(record.duration, 1),
            record.disposition,
            record.queue,
            neutralise_formula(record.userfield),
        ]


class _Echo:
    def write(self, value: str) -> str:
        return value


def _export(records, kind: str) -> HttpResponse:
    records = records.select_related("customer").order_by("-calldate", "-id")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    if kind == "csv":
        response = StreamingHttpResponse(
            _csv_lines(records), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="calls-{stamp}.csv"'
        return response
    dataset = tablib.Dataset(headers=EXPORT_COLUMNS)
    for row in _export_rows(records[:XLSX_ROW_LIMIT]):
        dataset.append(row)
    response = HttpResponse(
        dataset.export("xlsx"),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f'attachment; filename="calls-{stamp}.xlsx"'
    return response


def _csv_lines(records) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield "\ufeff"  # Excel reads a CSV as UTF-8 only with a byte-order mark
    yield writer.writerow(EXPORT_COLUMNS)
    for row in _export_rows(records):
        yield writer.writerow(row)


@requires(SEE_CALLS, SEE_CUSTOMERS)
def callbacks(request: HttpRequest) -> HttpResponse:
    rows = list(pending_callbacks()[:500])
    names = dict(customers_for_numbers(row.number for row in rows).items())
    customers = dict(Customer.objects.filter(pk__in=names.values()).values_list("pk", "name"))
    for row in rows:
        row.display = display_number(row.number.lstrip("+"))
        row.customer_name = customers.get(names.get(row.number), "")
    return render(request, "calls/callbacks.html", {"rows": rows})


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
    report = (
        build_stats(form.cleaned_data["date_from"], form.cleaned_data["date_to"])
        if form.is_valid()
        else None
    )
    return render(request, "calls/stats.html", {"form": form, "report": report})
