"""Database models of the calls app. Live calls are not here: they live in Redis (live_state)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class HangupAttempt(models.Model):
    """The audit trail of every hang-up request made from the panel, allowed or not."""

    class Result(models.TextChoices):
        OK = "ok", _("ended")
        FORBIDDEN = "forbidden", _("not permitted")
        NOT_FOUND = "not_found", _("call not found")
        PBX_ERROR = "pbx_error", _("PBX error")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("user"),
    )
    username = models.CharField(_("username"), max_length=150)  # survives the user's deletion
    at = models.DateTimeField(_("at"), auto_now_add=True, db_index=True)
    channel = models.CharField(_("channel"), max_length=200)
    src = models.CharField(_("caller"), max_length=64, blank=True)
    dst = models.CharField(_("callee"), max_length=64, blank=True)
    result = models.CharField(_("result"), max_length=16, choices=Result.choices)
    pbx_answer = models.TextField(_("PBX answer"), blank=True)

    class Meta:
        ordering = ["-at"]
        verbose_name = _("hang-up attempt")
        verbose_name_plural = _("hang-up attempts")
        permissions = [("hangup_call", _("Can hang up live calls"))]

    def __str__(self) -> str:
        return f"{self.username} {self.channel} {self.result}"
