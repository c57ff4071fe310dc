"""`repodoc serve` and `repodoc worker`: read the environment, then run."""

from __future__ import annotations

import logging
import os
import sys

from .settings import Settings, SettingsError


def serve(host: str = "0.0.0.0", port: int | None = None) -> int:
    """Run the webhook server until interrupted; 2 on a bad setting."""
    try:
        settings = Settings.from_env(os.environ)
    except SettingsError as exc:
        for line in str(exc).splitlines():
            print(f"repodoc serve: {line}", file=sys.stderr)
        return 2
    from aiohttp import web

    from .app import create_app

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    if settings.redis_url:
        logging.getLogger("repodoc").warning(
            "REDIS_URL is set, but the Redis queue is not available yet: jobs run in-process"
        )
    web.run_app(create_app(settings), host=host, port=port or int(os.environ.get("PORT", "8080")))
    return 0


def worker() -> int:
    """A queue worker for the distributed mode (REDIS_URL)."""
    print(
        "repodoc worker: the distributed (Redis) mode is not available yet; `repodoc serve` runs jobs in-process",
        file=sys.stderr,
    )
    return 2


if __name__ == "__main__":
    sys.exit(serve())
