"""`{% if user|may_open:"calls:history" %}`: show a link only to a user the page would let in.

The rule is read from the view itself (`calls.access.requires`), so a link and its page can never
disagree."""

from __future__ import annotations

from django import template
from django.urls import resolve, reverse

register = template.Library()


@register.filter
def may_open(user, url_name: str) -> bool:
    view = resolve(reverse(url_name)).func
    return user.is_authenticated and user.has_perms(getattr(view, "required_permissions", ()))
