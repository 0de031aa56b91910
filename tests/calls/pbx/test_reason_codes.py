"""`PbxReason` is the one list of why the PBX cannot be used; every copy of it agrees.

The copies that cannot import it are read here: the payload type (a `Literal`, which type checkers
need spelled out), the page's sentence per code (`static/js/connection-status.js`) and its Turkish
translation, and the tables in the docs. Besides the PBX's reasons, browsers get one code of the
live layer's own, `waiting` (no poll yet).
"""

from __future__ import annotations

import gettext
import re
from pathlib import Path
from typing import get_args

from calls.live.payloads import PbxReasonCode
from calls.pbx import PbxReason

ROOT = Path(__file__).resolve().parents[3]
PBX_CODES = {reason.value for reason in PbxReason}
LIVE_ONLY_CODES = {"waiting"}
BROWSER_CODES = PBX_CODES | LIVE_ONLY_CODES


def read(path: str) -> str:
    return (ROOT / path).read_text(encoding="utf-8")


def page_sentences() -> dict[str, str]:
    """`PBX_REASONS` of connection-status.js: code → the English sentence it passes to gettext."""
    source = read("static/js/connection-status.js")
    block = re.search(r"^const PBX_REASONS = \{\n(.*?)^\};", source, re.MULTILINE | re.DOTALL)
    assert block, "connection-status.js has no PBX_REASONS object"
    entries = re.findall(r'^\s*(\w+): gettext\("((?:[^"\\]|\\.)*)"\),?$', block[1], re.MULTILINE)
    assert len(entries) == len(block[1].strip().splitlines()), "a PBX_REASONS entry is not read"
    return dict(entries)


def table_after(text: str, marker: str) -> list[list[str]]:
    """The cells of the first Markdown table after the line holding `marker` (header left out)."""
    lines = text[text.index(marker) :].splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("|"))
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows


def code(cell: str) -> str:
    match = re.fullmatch(r"`([a-z_]+)`", cell)
    assert match, f"not a code: {cell!r}"
    return match[1]


def test_the_payload_type_lists_the_pbx_reasons_and_waiting():
    assert set(get_args(PbxReasonCode)) == BROWSER_CODES


def test_the_page_has_a_sentence_for_every_code_and_no_other():
    assert set(page_sentences()) == BROWSER_CODES


def test_every_sentence_of_the_page_is_translated_into_turkish():
    # The compiled catalogue, which is what the page's script catalogue is served from.
    turkish = gettext.translation("djangojs", ROOT / "locale", languages=["tr"])
    untranslated = [s for s in page_sentences().values() if turkish.gettext(s) == s]
    assert untranslated == []


def test_the_protocol_documents_every_code_with_the_page_s_sentence():
    rows = table_after(read("docs/websocket-protocol.md"), "`reason` codes")
    documented = {code(cells[0]): cells[-1] for cells in rows}
    assert documented == page_sentences()


def test_the_api_notes_give_every_pbx_reason():
    rows = table_after(read("docs/telsam-api.md"), "passes to browsers as `pbx.reason`")
    assert {code(cells[-1]) for cells in rows} == PBX_CODES


def test_the_reliability_summary_lists_every_pbx_reason():
    listed = re.search(r"with a reason code \(([^)]*)\)", read("docs/reliability.md"))
    assert listed, "docs/reliability.md no longer lists the reason codes"
    assert set(re.findall(r"`([a-z_]+)`", listed[1])) == PBX_CODES
