"""Announce the numbers whose customer may have changed when numbers or customers are saved or
deleted (`customers.linking.announce_numbers_changed`)."""

from __future__ import annotations

from django.db.models.signals import post_delete, post_save, pre_delete, pre_save
from django.dispatch import receiver

from customers.linking import announce_numbers_changed
from customers.models import Customer, PhoneNumber


@receiver(pre_save, sender=PhoneNumber)
def _remember_old_number(sender, instance: PhoneNumber, **kwargs) -> None:
    instance._old_number = (  # an edited number leaves its old calls behind
        PhoneNumber.objects.filter(pk=instance.pk).values_list("number", flat=True).first()
        if instance.pk
        else None
    )


@receiver(post_save, sender=PhoneNumber)
@receiver(post_delete, sender=PhoneNumber)
def _number_changed(sender, instance: PhoneNumber, **kwargs) -> None:
    announce_numbers_changed({instance.number, getattr(instance, "_old_number", None) or ""})


@receiver(post_save, sender=Customer)
def _customer_saved(sender, instance: Customer, **kwargs) -> None:
    # The latest-updated customer of a shared number is its best match: saving may change that.
    announce_numbers_changed(instance.phones.values_list("number", flat=True))


@receiver(pre_delete, sender=Customer)
def _customer_deleted(sender, instance: Customer, **kwargs) -> None:
    announce_numbers_changed(instance.phones.values_list("number", flat=True))
