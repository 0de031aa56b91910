"""Customers and their phone numbers; numbers are stored in E.164 so any typed format matches."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


def customer_admin_url(customer_id: int) -> str:
    """The customer's page in the admin, where agents and admins read and edit it."""
    return reverse("admin:customers_customer_change", args=[customer_id])


class Customer(models.Model):
    name = models.CharField(_("name"), max_length=200)
    company = models.CharField(_("company"), max_length=200, blank=True)
    email = models.EmailField(_("email"), blank=True)
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("customer")
        verbose_name_plural = _("customers")

    def __str__(self) -> str:
        return f"{self.name} ({self.company})" if self.company else self.name

    def get_admin_url(self) -> str:
        return customer_admin_url(self.pk)


class PhoneNumber(models.Model):
    """One number of a customer. `number` is E.164 (`+905321234567`), made by `customers.phones`."""

    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="phones", verbose_name=_("customer")
    )
    number = models.CharField(_("number"), max_length=32, db_index=True)
    label = models.CharField(_("label"), max_length=50, blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("phone number")
        verbose_name_plural = _("phone numbers")
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "number"], name="unique_number_per_customer"
            )
        ]

    def __str__(self) -> str:
        return self.number


class CustomerImport(models.Model):
    """The audit trail of customer imports: who imported which file when, and what came of it."""

    class Source(models.TextChoices):
        ADMIN = "admin", _("admin page")
        COMMAND = "command", _("command line")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("user"),
    )
    # Survives the user's deletion; for the command line, the operating-system account.
    username = models.CharField(_("username"), max_length=150)
    source = models.CharField(_("source"), max_length=10, choices=Source.choices)
    at = models.DateTimeField(_("at"), auto_now_add=True, db_index=True)
    file_name = models.CharField(_("file"), max_length=255)
    new = models.PositiveIntegerField(_("new"))
    updated = models.PositiveIntegerField(_("updated"))
    rejected = models.PositiveIntegerField(_("rejected rows"))

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("customer import")
        verbose_name_plural = _("customer imports")

    def __str__(self) -> str:
        return f"{self.file_name} ({self.username})"
