"""`repodoc serve` and `repodoc worker`: read the environment (and `.env`), then run."""

from __future__ import annotations

import logging
import sys

from .settings import Settings, SettingsError, environment


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

    from .app import create_app, run

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        asyncio.run(run(create_app(settings), host, port or int(env.get("PORT", "8080"))))
    finally:
        close_render_pool()
    return 0


def worker() -> int:
    """Run a queue worker (distributed mode) until interrupted; 2 on a bad setting."""
    try:
        settings = Settings.from_env(environment(), worker=True)
    except SettingsError as exc:
        for line in str(exc).splitlines():
            print(f"repodoc worker: {line}", file=sys.stderr)
        return 2
    import asyncio

    from bot.github.auth import AppCredentials
    from bot.github.sync import close_render_pool
    from bot.redis_queue import make_worker

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")

    async def main() -> None:
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

    try:
        asyncio.run(main())
    finally:
        close_render_pool()
    return 0


if __name__ == "__main__":
    sys.exit(serve())
