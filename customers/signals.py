"""Keep call history linked to the right customer when numbers or customers change."""

from __future__ import annotations

from django.db import transaction
from django.db.models.signals import post_delete, post_save, pre_delete, pre_save
from django.dispatch import receiver

from customers.linking import relink_call_records
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
    numbers = {instance.number, getattr(instance, "_old_number", None) or ""}
    transaction.on_commit(lambda: relink_call_records(numbers))


@receiver(post_save, sender=Customer)
def _customer_saved(sender, instance: Customer, **kwargs) -> None:
    # The latest-updated customer of a shared number is its best match: saving may change that.
    numbers = list(instance.phones.values_list("number", flat=True))
    transaction.on_commit(lambda: relink_call_records(numbers))


@receiver(pre_delete, sender=Customer)
def _customer_deleted(sender, instance: Customer, **kwargs) -> None:
    numbers = list(instance.phones.values_list("number", flat=True))
    transaction.on_commit(lambda: relink_call_records(numbers))
