"""Create the demo's users and sample customers (idempotent), and print how to log in."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand

from calls.models import AgentProfile
from customers.demo_data import DEMO_CUSTOMERS, DEMO_USERS
from customers.models import Customer
from customers.services import customer_create


class Command(BaseCommand):
    help = "Create demo users (agent, supervisor, admin) and sample customers."

    def handle(self, *args, **options) -> None:
        user_model = get_user_model()
        for username, (password, role) in DEMO_USERS.items():
            user, _ = user_model.objects.get_or_create(username=username)
            # Agents use the admin too: to read and add customers from a screen-pop.
            user.is_staff = True
            user.is_superuser = role == "admin"
            user.set_password(password)
            user.save()
            group = {"agent": "Agents", "supervisor": "Supervisors"}.get(role)
            if group:
                user.groups.set([Group.objects.get(name=group)])
            # The simulator rings extensions 101–112: the agent gets pops for a quarter of them,
            # the supervisor for every call.
            AgentProfile.objects.update_or_create(
                user=user,
                defaults={
                    "extensions": "101, 102, 103" if role == "agent" else "",
                    "pop_all_calls": role == "supervisor",
                },
            )
        created = 0
        for entry in DEMO_CUSTOMERS:
            fields = {k: v for k, v in entry.items() if k != "phones"}
            if not Customer.objects.filter(name=fields["name"]).exists():
                customer_create(phones=entry["phones"], **fields)
                created += 1
        self.stdout.write(
            f"Demo customers: {created} created, {Customer.objects.count()} in total."
        )
        self.stdout.write("Demo users (username / password):")
        for username, (password, role) in DEMO_USERS.items():
            self.stdout.write(f"  {role:<11} {username} / {password}")
