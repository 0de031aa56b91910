"""`manage.py check` tells an admin what is wrong with the PBX settings, with a hint."""

from __future__ import annotations

import pytest

from calls.checks import check_pbx_settings


def _ids(settings) -> list[str]:
    return [problem.id for problem in check_pbx_settings()]


def test_it_is_silent_when_the_pbx_is_configured(settings):
    settings.TELSAM_API_URL = "http://firma.telsam.com.tr/"
    assert _ids(settings) == []


@pytest.mark.parametrize(
    "url", ["http://firma.telsam.com.tr/", "https://domain.example/api/old/get"]
)
def test_it_accepts_v1_and_v2_base_urls(settings, url):
    settings.TELSAM_API_URL = url
    assert _ids(settings) == []


def test_it_warns_about_a_missing_url(settings):
    settings.TELSAM_API_URL = ""
    assert _ids(settings) == ["calls.W001"]
    assert "TELSAM_API_URL" in check_pbx_settings()[0].msg


@pytest.mark.parametrize("url", ["firma.telsam.com.tr", "ftp://host/", "http://", "http:/path"])
def test_it_reports_a_malformed_url_as_an_error(settings, url):
    settings.TELSAM_API_URL = url
    problems = check_pbx_settings()
    assert [p.id for p in problems] == ["calls.E001"]
    assert problems[0].hint


@pytest.mark.parametrize(
    "url",
    [
        "http://firma.telsam.com.tr/?username=u&password=p",
        "http://u:S3cret-pw@firma.telsam.com.tr/",
        "http://u@firma.telsam.com.tr/",
    ],
)
def test_it_reports_credentials_written_into_the_url_as_an_error_without_them(settings, url):
    settings.TELSAM_API_URL = url
    problems = check_pbx_settings()
    assert [p.id for p in problems] == ["calls.E002"]
    assert "TELSAM_API_USERNAME and TELSAM_API_PASSWORD" in problems[0].msg
    assert "S3cret-pw" not in problems[0].msg


def test_it_warns_when_an_action_is_written_into_the_url(settings):
    settings.TELSAM_API_URL = "http://firma.telsam.com.tr/?action=activecalls"
    assert _ids(settings) == ["calls.W004"]


def test_it_warns_about_missing_credentials(settings):
    settings.TELSAM_API_URL = "http://firma.telsam.com.tr/"
    settings.TELSAM_API_USERNAME = ""
    settings.TELSAM_API_PASSWORD = ""
    assert _ids(settings) == ["calls.W002", "calls.W003"]
