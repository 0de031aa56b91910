"""The web server: uvicorn serving pages, static files and the websockets, with the panel's options.

    python -m telsam_panel.web [--host 127.0.0.1] [--port 8000]

Every place that starts the web server (Dockerfile, docker-compose.yml, `make demo`, the test
stacks, the benchmarks) goes through here, so they all run what was measured. uvicorn rather than
daphne: with 1,000 open panels daphne took 2.5× the CPU per push and missed the 150 ms target
for our own overhead, uvicorn met it (docs/benchmarks.md, "Live path"). daphne stays installed
for `manage.py runserver`.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import uvicorn
from environs import Env

from calls.live.client_messages import MAX_MESSAGE_BYTES

BASE_DIR = Path(__file__).resolve().parent.parent
APPLICATION = "telsam_panel.asgi:application"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--app", default=APPLICATION, help="ASGI application (the benchmarks')")
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "telsam_panel.settings")
    # As the settings do, so that FORWARDED_ALLOW_IPS may live in .env like every other variable.
    Env().read_env(BASE_DIR / ".env", recurse=False)
    uvicorn.run(
        args.app,
        host=args.host,
        port=args.port,
        # Diffs are a few hundred bytes; a zlib context per socket would double the memory of an
        # idle connection (60 → 107 KB measured) for next to no saving.
        ws_per_message_deflate=False,
        # A browser sends only `{"type": "resync"}`: a larger message closes its socket with 1009
        # as it is read, instead of up to 16 MiB (uvicorn's default) reaching the application.
        ws_max_size=MAX_MESSAGE_BYTES,
        # Neither Django nor Channels has start-up or shutdown hooks to run.
        lifespan="off",
        # The browser's address (login lockout, logs) from X-Forwarded-For, trusted only from the
        # addresses in FORWARDED_ALLOW_IPS (uvicorn reads it; default 127.0.0.1).
        proxy_headers=True,
        # Websockets never end by themselves: at shutdown, close them (browsers reconnect) and
        # stop after this long instead of waiting for them.
        timeout_graceful_shutdown=5,
        # Django's LOGGING (plain or JSON lines, LOG_FORMAT) formats uvicorn's lines too.
        log_config=None,
    )


if __name__ == "__main__":
    main()
