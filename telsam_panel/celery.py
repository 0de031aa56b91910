"""The Celery application: configured from Django settings (`CELERY_*`), tasks found in apps."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "telsam_panel.settings")

app = Celery("telsam_panel")
app.config_from_object("django.conf:settings", namespace="CELERY")

# Redis can vanish without closing the TCP connection (a network blip, a firewall or NAT that
# forgets the connection, a failover). Kombu's defaults then wait forever: beat blocks for good in
# its first publish on the dead connection (no socket timeout), so no poll is ever scheduled
# again, and the worker notices its dead BRPOP only after about 51 s. A socket timeout makes beat's
# publish fail and reconnect; a short health-check interval makes the worker drop a BRPOP whose
# reply is overdue within about 1 + 2 × 2 s (kombu 5.7 checks BRPOP too). A crash that closes the
# connections is noticed at once either way; tests/resilience/test_redis_faults.py shows both.
app.conf.broker_transport_options = {
    "socket_timeout": 5,
    "socket_connect_timeout": 5,
    "health_check_interval": 2,
}
app.autodiscover_tasks()
