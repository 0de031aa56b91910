from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CallsConfig(AppConfig):
    name = "calls"
    verbose_name = _("Calls")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_out

        from calls import checks  # noqa: F401  (registers the system checks)
        from calls.events import end_sessions_of
        from telsam_panel.redact import install_log_redaction

        user_logged_out.connect(
            lambda sender, user, **kwargs: user and end_sessions_of(user.pk),
            dispatch_uid="calls.close-panels-at-logout",
            weak=False,
        )

        # Before any request to the PBX can be logged by requests/urllib3 with its password in it.
        install_log_redaction()
