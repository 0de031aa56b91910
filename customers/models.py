"""Customers and their phone numbers; numbers are stored in E.164 so any typed format matches."""

from __future__ import annotations

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
