from __future__ import annotations

from django.contrib import admin

from customers.models import Customer, PhoneNumber


class PhoneNumberInline(admin.TabularInline):
    model = PhoneNumber
    extra = 1


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["name", "company", "email", "updated_at"]
    search_fields = ["name", "company", "email", "phones__number"]
    inlines = [PhoneNumberInline]
