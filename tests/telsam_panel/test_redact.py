"""A password written into a URL is masked like the password settings are."""

from __future__ import annotations

from calls.live.poll import poll_active_calls
from calls.live.snapshot import load_snapshot_text
from telsam_panel.redact import redact
from tests.support.services import free_port


def test_the_password_of_a_pbx_url_with_credentials_is_masked_wherever_it_appears(settings):
    # Start-up refuses such a URL; settings changed since must not leak it either.
    settings.TELSAM_API_URL = "http://panel-api:Url-S3cret-pw@pbx.example.com/"
    message = "Could not connect to the PBX at {}@pbx.example.com (connection refused)"
    shown = redact(message.format("panel-api:Url-S3cret-pw"))
    assert shown == message.format("panel-api:***")


def test_any_url_with_a_password_in_it_has_that_password_masked():
    text = "GET http://agent:hunter22-pw@10.0.0.5/x failed; see https://user:p@ss:w0rd@h.example/"
    assert redact(text) == "GET http://agent:***@10.0.0.5/x failed; see https://user:***@h.example/"


def test_urls_without_a_password_stay_as_they_are():
    text = "http://pbx.example.com:8080/api/old/get?a=b@c and mailto:ops@example.com"
    assert redact(text) == text


def test_a_pbx_url_password_reaches_neither_the_panels_nor_the_log(
    settings, db, live_redis, caplog
):
    """Settings changed after start-up (which refuses such a URL) still leak nothing: the poll
    fails to connect, and its message names the PBX by host, as the panels show it."""
    settings.TELSAM_API_URL = f"http://panel-api:Url-S3cret-pw@127.0.0.1:{free_port()}/"
    settings.TELSAM_API_TIMEOUT = 0.5
    poll_active_calls()
    snapshot = load_snapshot_text()
    assert '"ok":false' in snapshot.replace(" ", "")
    assert "127.0.0.1" in snapshot  # the message is there, with the host
    assert "Url-S3cret-pw" not in snapshot
    assert "Url-S3cret-pw" not in caplog.text


def test_a_display_link_s_token_is_masked_in_request_lines_of_the_page_and_its_socket():
    from calls.wallboard.display_links import display_path

    token = "Zx9_" + "a1B2-" * 7 + "Qq"  # 43 characters, as a display link's token is
    page, socket = display_path(token), display_path(token).replace("/display/", "/ws/display/")
    line = f'127.0.0.1:5000 - "GET {page} HTTP/1.1" 200; "WebSocket {socket}" [accepted]'
    shown = redact(line)
    assert token not in shown
    assert shown == line.replace(token, "***")
