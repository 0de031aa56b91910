"""System checks for the PBX connection settings (`manage.py check` explains what is wrong).

A missing setting is a warning, so that `migrate` and the admin still work on a half-configured
install; a malformed one is an error, because it can never work.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register

from telsam_panel import pbx_url

ENV_HINT = "Set it in the environment or in the .env file (see .env.example)."


@register(Tags.compatibility)
def check_pbx_settings(app_configs=None, **kwargs) -> list:
    """calls.E001–E002, calls.W001–W004: the PBX URL and credentials are present and usable."""
    problems = []
    url = settings.TELSAM_API_URL
    if not url:
        problems.append(
            Warning(
                "TELSAM_API_URL is not set: the panel cannot reach the PBX.",
                hint="The full base URL, e.g. http://yourcompany.telsam.com.tr/ (V1) or "
                "http://domain/api/old/get (V2). " + ENV_HINT,
                id="calls.W001",
            )
        )
    else:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            problems.append(
                Error(
                    "TELSAM_API_URL is not an http(s) URL with a host name.",
                    hint="Example: http://yourcompany.telsam.com.tr/ — without username, password "
                    "or action, which the panel adds itself.",
                    id="calls.E001",
                )
            )
        elif pbx_url.has_credentials(url):
            # The settings refuse such a URL at start-up; this is for settings changed since.
            problems.append(Error(f"TELSAM_API_URL {pbx_url.REFUSAL}", id="calls.E002"))
        elif "action" in parse_qs(parts.query):
            problems.append(
                Warning(
                    "TELSAM_API_URL carries an action in it.",
                    hint="Give only the base URL: the panel adds the action of each request.",
                    id="calls.W004",
                )
            )
    for name, check_id in (
        ("TELSAM_API_USERNAME", "calls.W002"),
        ("TELSAM_API_PASSWORD", "calls.W003"),
    ):
        if not getattr(settings, name):
            problems.append(
                Warning(
                    f"{name} is not set: the PBX will refuse every request.",
                    hint="Use the API user from the Telsam panel (not a SIP extension). "
                    + ENV_HINT,
                    id=check_id,
                )
            )
    return problems
