"""The aiohttp application: POST /webhooks verifies, filters and queues; GET /healthz."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import aiohttp
import gidgethub
from aiohttp import web
from gidgethub import routing, sansio

from bot.github.auth import AppCredentials
from bot.jobs import InProcessQueue, Job, JobQueue, Runner
from bot.redis_queue import RedisQueue

from . import installation, push
from .settings import Settings

log = logging.getLogger("repodoc.webhooks")
MAX_BODY = 25 * 1024 * 1024  # GitHub caps payloads at 25 MB
ROUTER = routing.Router(push.router, installation.router)
SETTINGS = web.AppKey("settings", Settings)
QUEUE = web.AppKey("queue", JobQueue)


def create_app(settings: Settings, *, backoff: float = 1.0) -> web.Application:
    """Build the application; the session, runner and queue live in its cleanup context."""
    app = web.Application(client_max_size=MAX_BODY)
    app[SETTINGS] = settings
    app.cleanup_ctx.append(_worker(backoff))
    app.router.add_post("/webhooks", webhook)
    app.router.add_get("/healthz", healthz)
    return app


def _worker(backoff: float):  # type: ignore[no-untyped-def]
    async def context(app: web.Application) -> AsyncIterator[None]:
        settings = app[SETTINGS]
        if settings.redis_url:  # distributed mode: `repodoc worker` processes run the jobs
            queue = await RedisQueue.connect(settings.redis_url)
            app[QUEUE] = queue
            yield
            await queue.close()
            return
        async with aiohttp.ClientSession() as session:
            runner = Runner(session, AppCredentials(settings.app_id, settings.private_key), settings.api_url, backoff)
            local = InProcessQueue(runner.run)
            app[QUEUE] = local
            task = asyncio.create_task(local.serve())
            yield
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    return context


def _answer(status: int, message: str) -> web.Response:
    return web.json_response({"status": message}, status=status)


async def webhook(request: web.Request) -> web.Response:
    """Verify the signature before anything else, then route and queue; never do the work here."""
    body = await request.read()  # over client_max_size aiohttp answers 413
    if "x-hub-signature-256" not in request.headers:
        return _answer(401, "missing X-Hub-Signature-256")
    try:
        event = sansio.Event.from_http(request.headers, body, secret=request.app[SETTINGS].webhook_secret)
    except gidgethub.ValidationFailure:
        return _answer(401, "signature does not match")
    except (gidgethub.BadRequest, KeyError, ValueError) as exc:
        return _answer(400, f"malformed delivery: {type(exc).__name__}")
    if not isinstance(event.data, dict):
        return _answer(400, "malformed delivery: the body is not a JSON object")
    jobs: list[Job] = []
    try:
        await ROUTER.dispatch(event, jobs)
    except (KeyError, TypeError, ValueError) as exc:
        return _answer(400, f"malformed {event.event} payload: {type(exc).__name__}")
    if not jobs:
        return _answer(200, f"ignored {event.event}")
    queued = [await request.app[QUEUE].enqueue(job) for job in jobs]
    if not any(queued):
        return _answer(200, "duplicate delivery")
    return _answer(202, "queued")


async def healthz(request: web.Request) -> web.Response:
    """200 while the server can accept work (503 when its queue does not answer)."""
    try:
        return web.json_response(await request.app[QUEUE].health())
    except Exception as exc:  # noqa: BLE001 - any failure of the queue means no work can be accepted
        return web.json_response({"status": "unavailable", "reason": type(exc).__name__}, status=503)
