"""Create the demo's users and sample customers (idempotent), and print how to log in.

The demo's passwords are printed in the README: with DEBUG off (a real installation, or one
being prepared) the command refuses to create them unless `--force` says that this is meant.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError, CommandParser

from calls.models import AgentProfile, WallboardQueue, WrapUpCode
from customers.demo_data import DEMO_CUSTOMERS, DEMO_USERS
from customers.models import Customer
from customers.services import customer_create

# The wrap-up codes a call centre starts with (Turkish, English, colour); admins edit them later.
# The simulator's queues on the wallboard, named, with levels its traffic reaches now and then.
DEMO_WALLBOARD_QUEUES = [
    {"queue": "630", "name": "Satış", "waiting_amber": 2, "waiting_red": 4,
     "longest_wait_amber": 30, "longest_wait_red": 60, "service_level_red": 70},
    {"queue": "631", "name": "Destek", "waiting_amber": 2, "waiting_red": 4,
     "longest_wait_amber": 45, "longest_wait_red": 90},
]  # fmt: skip
DEMO_WRAP_UP_CODES = [
    ("Çözüldü", "Resolved", "#16a34a"),
    ("Bilgi verildi", "Information given", "#2563eb"),
    ("Geri aranacak", "To call back", "#d97706"),
    ("Şikâyet", "Complaint", "#dc2626"),
    ("Satış", "Sale", "#7c3aed"),
]


class Command(BaseCommand):
    help = "Create demo users (agent, supervisor, admin) and sample customers."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--force",
            action="store_true",
            help="create the demo users with their published passwords even with DEBUG off",
        )

    def handle(self, *args, **options) -> None:
        if not settings.DEBUG and not options["force"]:
            raise CommandError(
                "DEBUG is off: this looks like a real installation, and the demo users' "
                "passwords are published. Nothing was created. Run it with DEBUG=true (as "
                "make demo does), or with --force if you really want these accounts here."
            )
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
        if not WrapUpCode.objects.exists():  # an installation's own list is left alone
            WrapUpCode.objects.bulk_create(
                WrapUpCode(name_tr=tr, name_en=en, colour=colour, order=order)
                for order, (tr, en, colour) in enumerate(DEMO_WRAP_UP_CODES)
            )
        if not WallboardQueue.objects.exists():
            WallboardQueue.objects.bulk_create(WallboardQueue(**q) for q in DEMO_WALLBOARD_QUEUES)
        self.stdout.write("Demo users (username / password):")
        for username, (password, role) in DEMO_USERS.items():
            self.stdout.write(f"  {role:<11} {username} / {password}")
