from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CallsConfig(AppConfig):
    name = "calls"
    verbose_name = _("Calls")

    def ready(self) -> None:
        from calls import checks  # noqa: F401  (registers the system checks)
        from calls.history import linking  # noqa: F401  (follows customers' number changes)
        from calls.live import rematch  # noqa: F401  (live calls follow them too)
        from calls.wallboard import live_board  # noqa: F401  (the wallboard follows the polls)
        from telsam_panel.redact import install_log_redaction

        # Before any request to the PBX can be logged by requests/urllib3 with its password in it.
        install_log_redaction()
