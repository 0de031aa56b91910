"""Property tests of the PBX client's parsing: whatever the PBX sends, the answer is typed results
or the client's own `PbxError`, never any other exception, and the results are fit for the rest of
the pipeline (bounded, printable, UTF-8 encodable text; aware dates; finite durations).

The parsing entry points are pure (`parse_active_calls`, `parse_hangup`, `parse_cdr`: text or bytes
in), so no HTTP is needed here; `tests/calls/pbx/test_pbx_faults.py` serves the same kinds of
answers over HTTP through the whole poll.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from calls.live import payloads
from calls.live.diff import diff_calls
from calls.pbx import (
    MAX_CDR_ID_CHARS,
    MAX_CHANNEL_CHARS,
    MAX_ELAPSED_SECONDS,
    MAX_TEXT_CHARS,
    MAX_USERFIELD_CHARS,
    ActiveCall,
    CdrBatch,
    CdrRecord,
    HangupResult,
    PbxError,
    PbxReason,
    decode_body,
    parse_active_calls,
    parse_cdr,
    parse_hangup,
)

# Few enough examples that the file runs in seconds; no deadline, as a loaded CI machine is slow.
settings.register_profile(
    "telsam-parsers",
    max_examples=150,
    deadline=None,
    database=None,  # no .hypothesis/ directory in the work tree
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
PROFILE = settings.get_profile("telsam-parsers")
NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)

# --- strategies ---------------------------------------------------------------------------------

# Any code point, lone surrogates and control characters included (JSON escapes can carry them).
any_char = st.characters(min_codepoint=0, max_codepoint=0x10FFFF, exclude_categories=())
any_text = st.text(any_char, max_size=40) | st.text(any_char, min_size=300, max_size=600)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=10**300, max_value=10**320),  # too large for a float
    st.floats(allow_nan=True, allow_infinity=True),
    any_text,
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(any_text, children, max_size=4)
    ),
    max_leaves=12,
)


def numeric_text(max_value: int) -> st.SearchStrategy[str]:
    return st.integers(min_value=0, max_value=max_value).map(str)


durations = st.one_of(
    st.builds(
        lambda h, m, s: f"{h:02d}:{m:02d}:{s:02d}",
        st.integers(0, 10**12),
        st.integers(0, 99),
        st.integers(0, 99),
    ),
    st.builds(lambda m, s: f"{m}:{s}", numeric_text(10**6), numeric_text(99)),
    numeric_text(10**15),
    st.text("0123456789:²٣ -", max_size=12),
    json_values,
)
calldates = st.one_of(
    st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2100, 1, 1)).map(
        lambda moment: moment.strftime("%d.%m.%Y %H:%M:%S")
    ),
    st.builds(
        lambda d, mo, y, h, mi, s, sep: f"{d:02d}.{mo:02d}.{y:04d}{sep}{h:02d}:{mi:02d}:{s:02d}",
        st.integers(0, 40),
        st.integers(0, 14),
        st.integers(0, 9999),
        st.integers(0, 30),
        st.integers(0, 70),
        st.integers(0, 70),
        st.sampled_from([" ", "", "  ", "T"]),
    ),
    json_values,
)
cdr_durations = st.one_of(
    st.builds(lambda a, b: f"{a},{b}", numeric_text(10**20), numeric_text(10**6)),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**400), max_value=10**400),
    json_values,
)
real_channels = st.sampled_from(
    ["SIP/trunk-sip-Trunk110-36a9b", "SIP/101-0000a1b2", "Local/630@queue"]
)
channels = st.one_of(
    real_channels,
    real_channels,
    st.builds(lambda n: f"SIP/{'x' * n}", st.integers(150, 260)),
    json_values,
)
numbers = st.one_of(st.sampled_from(["905321234567", "110", "", "anonymous"]), json_values)
free_text = st.one_of(
    st.sampled_from(["Konuşuyor", "Çalıyor", "Kuyruk(630)", "Dahili"]), json_values
)
extra_fields = st.dictionaries(any_text, json_values, max_size=2)


def rows_with(
    identity: dict[str, st.SearchStrategy], fields: dict[str, st.SearchStrategy]
) -> st.SearchStrategy[dict]:
    """Rows of plausible or random values plus extra fields: mostly with the fields a row cannot do
    without (`identity`), so that the other fields' parsers are reached, and sometimes without."""
    return st.builds(
        lambda extra, row: {**extra, **row},
        extra_fields,
        st.one_of(
            st.fixed_dictionaries(identity, optional=fields),
            st.fixed_dictionaries(identity, optional=fields),
            st.fixed_dictionaries({}, optional={**identity, **fields}),
        ),
    )


active_rows = rows_with(
    {"channel": channels},
    {
        "duration": durations,
        "calltype": free_text,
        "callinfo": free_text,
        "src": numbers,
        "dst": numbers,
    },
)
cdr_rows = rows_with(
    {
        "id": st.one_of(numeric_text(10**9), numeric_text(10**9), st.integers(), channels),
        "calldate": calldates,
    },
    {
        "calltype": st.one_of(st.sampled_from(["incoming", "outcoming", "internal"]), json_values),
        "src": numbers,
        "dst": numbers,
        "duration": cdr_durations,
        "disposition": st.one_of(st.sampled_from(["ANSWERED", "NO ANSWER", "BUSY"]), json_values),
        "queue": numbers,
        "record": json_values,
        "userfield": st.one_of(any_text, st.text(any_char, min_size=2000, max_size=2100)),
    },
)


def encoded(values: st.SearchStrategy) -> st.SearchStrategy[str]:
    return st.builds(
        lambda value, ascii_only: json.dumps(value, ensure_ascii=ascii_only), values, st.booleans()
    )


def shaped(rows: st.SearchStrategy) -> st.SearchStrategy[str]:
    """The documented wrapper around rows that are each right, odd or random."""
    return encoded(
        st.fixed_dictionaries(
            {
                "success": st.sampled_from([True, "true", 1, "evet"]),
                "data": st.lists(st.one_of(rows, rows, rows, json_values), min_size=1, max_size=6),
            },
            optional={"count": json_values, "message": json_values},
        ).map(lambda envelope: [envelope])
    )


def misshapen(rows: st.SearchStrategy) -> st.SearchStrategy[str]:
    """The envelope with each part missing, odd or random, wrapped or not, once or more."""
    data = st.one_of(st.lists(st.one_of(rows, json_values), max_size=6), rows, json_values)
    envelope = st.builds(
        lambda extra, env: {**extra, **env},
        extra_fields,
        st.fixed_dictionaries(
            {},
            optional={
                "success": st.one_of(
                    st.sampled_from([True, False, "true", "false", 1, 0, "evet"]), json_values
                ),
                "count": json_values,
                "data": data,
                "message": json_values,
            },
        ),
    )
    return encoded(st.one_of(envelope.map(lambda e: [e]), envelope, st.lists(envelope, max_size=3)))


def cut(texts: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """An answer cut off anywhere, as when the PBX's worker dies mid-answer."""
    return st.builds(lambda text, share: text[: int(len(text) * share)], texts, st.floats(0, 1))


def bodies(rows: st.SearchStrategy) -> st.SearchStrategy[str | bytes]:
    return st.one_of(
        # Near-valid answers are the interesting ones: they reach the row parsers.
        shaped(rows),
        shaped(rows),
        shaped(rows),
        misshapen(rows),
        cut(shaped(rows)),
        shaped(rows).map(lambda text: text.encode("utf-8", errors="surrogatepass")),
        st.binary(max_size=300),
        json_values.map(json.dumps),
        st.text(any_char, max_size=80),
    )


# --- what is acceptable -------------------------------------------------------------------------


def assert_fit_text(text: str, limit: int) -> None:
    assert isinstance(text, str)
    assert len(text) <= limit
    assert text == text.strip()
    assert not any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in text)
    text.encode("utf-8")  # no lone surrogates: Redis and PostgreSQL would refuse them


def assert_own_error(exc: PbxError) -> None:
    assert exc.reason in set(PbxReason)
    message = str(exc)
    assert 0 < len(message) <= 400
    message.encode("utf-8")  # it travels to the page and into Redis as `pbx.error`


def assert_fit_call(call: ActiveCall) -> None:
    assert type(call) is ActiveCall
    assert call.channel
    assert_fit_text(call.channel, MAX_CHANNEL_CHARS)
    for text in (call.src, call.dst, call.calltype, call.callinfo):
        assert_fit_text(text, MAX_TEXT_CHARS)
    assert call.elapsed is None or (
        type(call.elapsed) is int and 0 <= call.elapsed <= MAX_ELAPSED_SECONDS
    )


def assert_fit_record(record: CdrRecord) -> None:
    assert type(record) is CdrRecord
    assert record.id
    assert_fit_text(record.id, MAX_CDR_ID_CHARS)
    assert record.calldate.tzinfo is not None
    assert math.isfinite(record.duration) and record.duration >= 0
    for text in (record.src, record.dst, record.disposition, record.queue):
        assert_fit_text(text, MAX_TEXT_CHARS)
    assert_fit_text(record.userfield, MAX_USERFIELD_CHARS)
    assert type(record.record) is bool


# --- properties ---------------------------------------------------------------------------------


@PROFILE
@given(bodies(active_rows))
def test_any_activecalls_answer_gives_fit_calls_or_a_pbx_error(body):
    try:
        calls = parse_active_calls(body)
    except PbxError as exc:
        event(f"error: {exc}"[:60])  # --hypothesis-show-statistics shows what was reached
        assert_own_error(exc)
        return
    event(f"calls: {min(len(calls), 3)}")
    assert isinstance(calls, list)
    for call in calls:
        assert_fit_call(call)
    # What the parser lets through, the rest of the poll can carry: diff it, encode the websocket
    # message and store it as UTF-8 (as Redis does).
    diff = diff_calls({}, calls, NOW)
    assert set(diff.calls) == {call.channel for call in calls}
    message = payloads.diff_message("run", 1, NOW.isoformat(), diff.added, [], [], {"ok": True})
    assert json.loads(payloads.encode(message).encode("utf-8"))["added"] is not None


@PROFILE
@given(bodies(cdr_rows))
def test_any_cdr_answer_gives_fit_records_or_a_pbx_error(body):
    try:
        batch = parse_cdr(body)
    except PbxError as exc:
        event(f"error: {exc.reason}")
        assert_own_error(exc)
        return
    event(f"records: {min(len(batch.records), 3)}, rejected: {min(len(batch.rejected), 3)}")
    assert type(batch) is CdrBatch
    for record in batch.records:
        assert_fit_record(record)
    for rejected in batch.rejected:
        assert_fit_text(rejected.row_id, MAX_CDR_ID_CHARS)
        assert isinstance(rejected.reason, str) and rejected.reason


@PROFILE
@given(bodies(st.dictionaries(any_text, json_values, max_size=3)))
def test_any_hangup_answer_gives_a_result_or_a_pbx_error(body):
    try:
        result = parse_hangup(body)
    except PbxError as exc:
        assert_own_error(exc)
        assert isinstance(exc.raw, str) and len(exc.raw) <= 2000
        return
    assert type(result) is HangupResult
    assert isinstance(result.raw, str) and len(result.raw) <= 2000


@PROFILE
@given(st.binary(max_size=200), st.one_of(st.none(), st.text(max_size=20)))
def test_any_bytes_in_any_declared_charset_decode_to_text(raw, charset):
    assert isinstance(decode_body(raw, charset), str)


@PROFILE
@given(json_values)
def test_an_answer_whose_rows_are_unreadable_is_an_error_not_an_empty_pbx(junk):
    # Rows with no readable channel must not pass for "no calls": that would clear every panel.
    rows = [{"channel": junk}, junk]
    body = json.dumps([{"success": True, "count": 2, "data": rows}])
    try:
        calls = parse_active_calls(body)
    except PbxError as exc:
        assert exc.reason is PbxReason.BAD_RESPONSE
    else:
        assert calls, "unreadable rows were read as an empty PBX"
