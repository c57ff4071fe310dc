"""`repodoc serve` and `repodoc worker`: read the environment (and `.env`), then run."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Mapping
from urllib.parse import urlsplit

from .settings import Settings, SettingsError, environment

SECRET_NAMES = re.compile(r"(SECRET|TOKEN|PASSWORD|PRIVATE_KEY)$")


def _logging(settings: Settings, env: Mapping[str, str]) -> None:
    """JSON lines on stderr (text on a terminal), with every secret the settings hold redacted."""
    from bot import logs

    password = urlsplit(settings.redis_url).password if settings.redis_url else None
    named = [value for name, value in env.items() if SECRET_NAMES.search(name)]
    logs.configure([settings.webhook_secret, settings.private_key, password or "", *named])


def serve(host: str = "0.0.0.0", port: int | None = None) -> int:
    """Run the webhook server until interrupted; 2 on a bad setting."""
    try:
        env = environment()
        settings = Settings.from_env(env)
    except SettingsError as exc:
        for line in str(exc).splitlines():
            print(f"repodoc serve: {line}", file=sys.stderr)
        return 2
    import asyncio

    from bot.github.sync import close_render_pool
    from bot.logs import AccessLogger

    # The event loop answers webhooks while threads plan large syncs: it gets the interpreter back within
    # 1 ms of asking (default 5 ms), so a busy thread delays an answer by a millisecond, not by many.
    sys.setswitchinterval(0.001)

    from .app import create_app, run

    _logging(settings, env)
    try:
        asyncio.run(
            run(
                create_app(settings),
                host,
                port or int(env.get("PORT", "8080")),
                access_log_class=AccessLogger,
                access_log=logging.getLogger("aiohttp.access"),
            )
        )
    finally:
        close_render_pool()
    return 0


def worker(metrics_host: str = "0.0.0.0", metrics_port: int | None = None) -> int:
    """Run a queue worker (distributed mode) until interrupted; 2 on a bad setting. With a metrics port
    (or METRICS_PORT), it serves its own `GET /metrics` there for Prometheus to scrape."""
    try:
        env = environment()
        settings = Settings.from_env(env, worker=True)
        port = metrics_port if metrics_port is not None else _port(env.get("METRICS_PORT", ""))
    except SettingsError as exc:
        for line in str(exc).splitlines():
            print(f"repodoc worker: {line}", file=sys.stderr)
        return 2
    import asyncio

    from bot import metrics
    from bot.github.auth import AppCredentials
    from bot.github.sync import close_render_pool
    from bot.redis_queue import make_worker

    _logging(settings, env)

    async def main() -> None:
        exposed = None if port is None else await metrics.serve_worker_metrics(metrics_host, port)
        arq_worker = make_worker(
            settings.redis_url or "",
            AppCredentials(settings.app_id, settings.private_key),
            settings.api_url,
            concurrency=settings.concurrency,
            lease=settings.lease_seconds,
            grace=settings.grace_seconds,
        )
        try:
            await arq_worker.async_run()
        except asyncio.CancelledError:  # SIGINT/SIGTERM: arq waits `grace`, then cancels its main task
            pass
        finally:
            await arq_worker.close()
            if exposed is not None:
                await exposed.cleanup()

    try:
        asyncio.run(main())
    finally:
        close_render_pool()
    return 0


def _port(text: str) -> int | None:
    """METRICS_PORT: empty for none, else a port number."""
    text = text.strip()
    if not text:
        return None
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise SettingsError("METRICS_PORT must be a port number (1-65535)")
    return int(text)


if __name__ == "__main__":
    sys.exit(serve())
