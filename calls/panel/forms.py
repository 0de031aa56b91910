from __future__ import annotations

import re

from django import forms
from django.utils.translation import gettext_lazy as _

from calls.models import AgentProfile, WrapUpCode
from calls.work.saving import MAX_NOTE_CHARS
from customers.phones import from_pbx

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


class CallWorkForm(forms.Form):
    """A save of a call's work: the fields the page sends (a missing one stays as it is)."""

    note = forms.CharField(required=False, max_length=MAX_NOTE_CHARS, strip=False)
    wrap_up = forms.ModelChoiceField(
        queryset=WrapUpCode.objects.filter(active=True), required=False
    )
    finish = forms.BooleanField(required=False)


class CallerCustomerForm(forms.Form):
    """An unknown caller added as a customer from the screen-pop: the number as the PBX sent it."""

    number = forms.CharField(max_length=40)
    name = forms.CharField(label=_("Name"), max_length=200)
    company = forms.CharField(label=_("Company"), max_length=200, required=False)
    notes = forms.CharField(label=_("Notes"), max_length=5000, required=False)

    def clean_number(self) -> str:
        e164 = from_pbx(self.cleaned_data["number"])
        if e164 is None:
            raise forms.ValidationError(_("This is not a phone number a customer can have."))
        return e164
