from __future__ import annotations

from django import forms
from django.conf import settings
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


class CustomerFileForm(forms.Form):
    """The admin's import page: a customer file up to `CUSTOMER_IMPORT_MAX_MB` (the rows'
    limit, `CUSTOMER_IMPORT_MAX_ROWS`, is checked once the file is read)."""

    file = forms.FileField(label=_("CSV or XLSX file"))
    dry_run = forms.BooleanField(label=_("Only check, import nothing"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = _("Up to %(rows)d rows and %(limit)d MB.") % {
            "rows": settings.CUSTOMER_IMPORT_MAX_ROWS,
            "limit": settings.CUSTOMER_IMPORT_MAX_MB,
        }

    def clean_file(self):
        upload = self.cleaned_data["file"]
        limit_mb = settings.CUSTOMER_IMPORT_MAX_MB
        if upload.size > limit_mb * 1024 * 1024:
            raise forms.ValidationError(
                _(
                    "The file is %(size).1f MB; files up to %(limit)d MB can be imported. "
                    "Split it into smaller files."
                ),
                params={"size": upload.size / (1024 * 1024), "limit": limit_mb},
                code="too_large",
            )
        return upload
