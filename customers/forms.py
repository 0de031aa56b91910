from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from customers.models import PhoneNumber
from customers.phones import InvalidPhoneNumber, normalize


class PhoneNumberForm(forms.ModelForm):
    """Accepts a number as people type it and stores it in E.164."""

    class Meta:
        model = PhoneNumber
        fields = ["number", "label"]
        help_texts = {"number": _("Any format: 0532 123 45 67, +90 532 123 45 67, 905321234567…")}

    def clean_number(self) -> str:
        try:
            return normalize(self.cleaned_data["number"])
        except InvalidPhoneNumber:
            raise forms.ValidationError(
                _("%(number)s is not a possible phone number."),
                params={"number": self.cleaned_data["number"]},
                code="invalid",
            ) from None
