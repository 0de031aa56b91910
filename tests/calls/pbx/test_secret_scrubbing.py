"""The PBX password travels in every URL; it must never come out of the process.

Each failure kind is forced for real (over HTTP against the simulator, or a dead port) with a
sentinel password, and everything a person could ever see is searched for it: the exception's text,
repr and full traceback chain, and every log record at DEBUG from every library (urllib3 logs the
request URL at DEBUG).
"""

from __future__ import annotations

import html
import logging
import socket
import sys
import traceback
from urllib.parse import quote, quote_plus

import pytest

from calls.pbx import PbxError, TelsamClient
from telsam_panel.redact import redact
from tests.support.pbx import PBX_PASSWORD, PBX_USER

SENTINEL_FORMS = {PBX_PASSWORD, quote(PBX_PASSWORD, safe=""), quote_plus(PBX_PASSWORD)}


def _dead_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}/"


def _everything_shown(exc: BaseException, caplog) -> str:
    chain, seen = [], exc
    while seen is not None:
        chain.append(f"{seen!s}\n{seen!r}\n{seen.args!r}")
        seen = seen.__cause__ or seen.__context__
    shown = "\n".join(chain)
    shown += "".join(traceback.format_exception(exc))
    for record in caplog.records:
        shown += record.getMessage() + (record.exc_text or "")
    shown += caplog.text
    return shown


@pytest.fixture(autouse=True)
def _sentinel_in_settings(settings):
    # The deployed client reads the password from settings, which is where redaction looks too.
    settings.TELSAM_API_PASSWORD = PBX_PASSWORD


@pytest.mark.parametrize(
    "fault",
    [
        "http_500",
        "html",
        "truncated",
        "success_false",
        "latency",
        "bad_credentials",
        "refused",
        "unresolvable",
    ],
)
def test_it_never_shows_the_password_for_any_failure(pbx_sim, caplog, fault):
    caplog.set_level(logging.DEBUG)
    url, password = pbx_sim.url, PBX_PASSWORD
    if fault == "latency":
        pbx_sim.sim.set_fault("latency", latency=1.0)
    elif fault == "bad_credentials":
        password = (
            PBX_PASSWORD + "-wrong"
        )  # the wrong one is a secret too: it contains the real one
    elif fault == "refused":
        url = _dead_url()
    elif fault == "unresolvable":
        url = "http://pbx.invalid/"
    else:
        pbx_sim.sim.set_fault(fault)
    client = TelsamClient(url, PBX_USER, password, timeout=0.3)

    with pytest.raises(PbxError) as caught:
        client.active_calls()

    shown = _everything_shown(caught.value, caplog)
    assert caplog.records, "urllib3 should have logged the request at DEBUG"
    for form in SENTINEL_FORMS:
        assert form not in shown
    assert "password=" not in shown.replace("password=***", "")


def test_it_never_chains_the_requests_exception(pbx_sim):
    client = TelsamClient(_dead_url(), PBX_USER, PBX_PASSWORD, timeout=0.3)
    with pytest.raises(PbxError) as caught:
        client.active_calls()
    assert caught.value.__cause__ is None
    assert caught.value.__context__ is None


def test_it_redacts_a_logged_url_even_with_a_password_it_was_never_told_about(caplog):
    caplog.set_level(logging.INFO)
    logging.getLogger("some.library").info(
        "GET http://pbx/?username=u&password=unknown-pw&action=x"
    )
    assert "unknown-pw" not in caplog.text
    assert "password=***" in caplog.text


def test_it_redacts_exceptions_logged_with_a_traceback(caplog):
    caplog.set_level(logging.ERROR)
    try:
        raise RuntimeError(f"boom http://pbx/?password={quote_plus(PBX_PASSWORD)}")
    except RuntimeError:
        logging.getLogger("some.library").exception("request failed")
    assert "boom" in caplog.text
    for form in SENTINEL_FORMS:
        assert form not in caplog.text


@pytest.mark.parametrize(
    "text",
    [
        f"password={PBX_PASSWORD}",
        f"url: http://h/?a=1&password={quote(PBX_PASSWORD, safe='')}&action=activecalls",
        f"it was {PBX_PASSWORD}!",
        f"plus-encoded {quote_plus(PBX_PASSWORD)}",
    ],
)
def test_redact_masks_every_form_of_a_secret(text):
    cleaned = redact(text, [PBX_PASSWORD])
    for form in SENTINEL_FORMS:
        assert form not in cleaned
    assert "***" in cleaned


def _fail_with_the_password_in_a_local_variable() -> None:
    url = f"http://pbx.example/?username=u&password={quote_plus(PBX_PASSWORD)}"  # noqa: F841
    password = PBX_PASSWORD  # noqa: F841
    raise RuntimeError(f"PBX said no to {PBX_PASSWORD}")


@pytest.mark.parametrize("form", ["html", "text"])
def test_error_reports_never_show_the_password(rf, form):
    """The DEBUG error page and the mail to ADMINS show every frame's local variables."""
    from django.views.debug import ExceptionReporter, get_exception_reporter_class

    request = rf.get("/calls/hangup/")
    try:
        _fail_with_the_password_in_a_local_variable()
    except RuntimeError:
        exc_info = sys.exc_info()

    def report(reporter_class) -> str:
        reporter = reporter_class(request, *exc_info)
        return reporter.get_traceback_html() if form == "html" else reporter.get_traceback_text()

    shown = report(get_exception_reporter_class(request))
    assert "_fail_with_the_password_in_a_local_variable" in shown
    assert "PBX said no to ***" in shown.replace("&#x27;", "'")
    for secret_form in {*SENTINEL_FORMS, html.escape(PBX_PASSWORD)}:
        assert secret_form not in shown
    # Django's own report would have shown it: the setting is what protects.
    assert any(f in report(ExceptionReporter) for f in {*SENTINEL_FORMS, html.escape(PBX_PASSWORD)})
