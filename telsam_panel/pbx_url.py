"""What a PBX base URL (`TELSAM_API_URL`) may not contain.

The PBX takes its credentials in the query string, which the panel builds from
`TELSAM_API_USERNAME` and `TELSAM_API_PASSWORD`. Credentials written into the URL itself would
travel in every text that names the PBX (error messages, the live panel's status, logs), where the
password setting is masked but the URL is not: the settings refuse such a URL at start-up and
`manage.py check` reports it (calls.E002). Plain Python, no Django: the settings import it.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

CREDENTIAL_PARAMETERS = frozenset({"username", "password"})


def has_credentials(url: str) -> bool:
    """Whether `url` carries a user name or password (`user:password@host`, `?password=`)."""
    try:
        parts = urlsplit(url)
    except ValueError:  # malformed: reported as such by the checks
        return False
    query = parse_qs(parts.query, keep_blank_values=True)
    return "@" in parts.netloc or bool(CREDENTIAL_PARAMETERS & set(query))


REFUSAL = (
    "carries credentials (user:password@ or username=/password= in it): give only the base URL, "
    "e.g. http://yourcompany.telsam.com.tr/, and put the credentials in TELSAM_API_USERNAME and "
    "TELSAM_API_PASSWORD, which are kept out of logs and messages."
)
