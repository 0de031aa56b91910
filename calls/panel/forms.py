from __future__ import annotations

import re

from django import forms
from django.utils.translation import gettext_lazy as _

from calls.models import AgentProfile

_EXTENSION = re.compile(r"\d{2,6}")


class AgentProfileForm(forms.ModelForm):
    class Meta:
        model = AgentProfile
        fields = ["extensions", "pop_all_calls"]

    def __init__(self, *args, can_pop_all: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not can_pop_all:
            del self.fields["pop_all_calls"]

    def clean_extensions(self) -> str:
        parts = [p.strip() for p in re.split(r"[,;\s]+", self.cleaned_data["extensions"]) if p]
        bad = [p for p in parts if not _EXTENSION.fullmatch(p)]
        if bad:
            raise forms.ValidationError(
                _("Not an extension: %(bad)s. Use 2 to 6 digits, e.g. 110."),
                params={"bad": ", ".join(bad)},
            )
        return ", ".join(dict.fromkeys(parts))
