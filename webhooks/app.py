"""The aiohttp application: POST /webhooks verifies, filters and queues; GET /healthz; GET / (the operator's page)."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import logging
import signal
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import gidgethub
from aiohttp import web
from gidgethub import routing, sansio

from bot import metrics, sweep
from bot.github.auth import AppCredentials, load_key
from bot.github.sync import start_render_pool
from bot.jobs import BOOTSTRAP_SPACING, RETRY_DELAY, InProcessQueue, Job, JobQueue, QueueUnavailable, Retries, Runner
from bot.redis_queue import RedisQueue, redacted

from . import comments, installation, page, pulls, push
from .deliveries import VERIFIED, recorded
from .payloads import Fields, MalformedPayload
from .settings import Settings

log = logging.getLogger("repodoc.webhooks")
MAX_BODY = 25 * 1024 * 1024  # GitHub caps payloads at 25 MB
BODY_BUDGET = 2 * MAX_BODY  # bytes of bodies read at once, over all requests
READ_SECONDS = 10.0  # to wait for room and read a body (GitHub itself gives up on a delivery after 10 s)
ROUTER = routing.Router(push.router, installation.router, pulls.router, comments.router)
SETTINGS = web.AppKey("settings", Settings)
QUEUE = web.AppKey("queue", JobQueue)
RUNNER = web.AppKey("runner", Runner)
READ_LIMIT = web.AppKey("read_limit", float)
STOPPING = web.AppKey("stopping", asyncio.Event)  # set on SIGTERM: deliveries are answered 503


class BodyBudget:
    """How many body bytes may be held by reads in progress; a read waits until its size fits."""

    def __init__(self, total: int) -> None:
        self.free = total
        self._changed = asyncio.Condition()

    async def take(self, size: int) -> None:
        """Wait until size bytes are free, and hold them."""
        async with self._changed:
            await self._changed.wait_for(lambda: self.free >= size)
            self.free -= size

    async def give(self, size: int) -> None:
        """Give back what take held."""
        async with self._changed:
            self.free += size
            self._changed.notify_all()


BUDGET = web.AppKey("budget", BodyBudget)


class Refused(Exception):
    """A delivery answered before it is routed: the status and why."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def create_app(
    settings: Settings,
    *,
    backoff: float = 1.0,
    read_seconds: float = READ_SECONDS,
    budget: int = BODY_BUDGET,
    retries: Retries | None = None,
) -> web.Application:
    """Build the application; the session, runner, queue and sweeps live in its cleanup context.
    backoff scales every wait (0 in tests): the client's retries, the jobs' (unless `retries` is
    given) and the sweep's pace."""
    app = web.Application(client_max_size=MAX_BODY)
    app[SETTINGS] = settings
    app[BUDGET] = BodyBudget(max(budget, MAX_BODY))
    app[READ_LIMIT] = read_seconds
    app[STOPPING] = asyncio.Event()
    app.cleanup_ctx.append(_worker(backoff, retries or Retries(delay=RETRY_DELAY * backoff)))
    app.router.add_post("/webhooks", recorded(webhook))
    app.router.add_get("/healthz", healthz)
    page.setup(app, settings.admin_token, settings.api_url, QUEUE)
    app.router.add_get("/metrics", metrics_page)
    return app


def _worker(backoff: float, retries: Retries):  # type: ignore[no-untyped-def]
    async def context(app: web.Application) -> AsyncIterator[None]:
        settings = app[SETTINGS]
        async with aiohttp.ClientSession() as session:
            runner = Runner(session, AppCredentials(settings.app_id, settings.private_key), settings.api_url, backoff)
            app[RUNNER] = runner
            await load_key(runner.tokens.creds)  # tens of ms: not while answering the first deliveries
            tasks = []
            local: InProcessQueue | None = None
            remote: RedisQueue | None = None
            if settings.redis_url:  # distributed mode: `repodoc worker` processes run the jobs
                remote = RedisQueue.connect(
                    settings.redis_url, spacing=BOOTSTRAP_SPACING * backoff, bound=settings.queue_bound
                )
                app[QUEUE] = remote
                log.info("queue: Redis at %s; `repodoc worker` processes run the jobs", redacted(settings.redis_url))
            else:
                local = InProcessQueue(
                    runner.run,
                    report=runner.report_failure,
                    retries=retries,
                    spacing=BOOTSTRAP_SPACING * backoff,
                    concurrency=settings.concurrency,
                    bound=settings.queue_bound,
                )
                app[QUEUE] = local
                await asyncio.to_thread(start_render_pool)  # its processes boot now, not during a job
                log.info(
                    "queue: in-process; this server runs the jobs, %d keys at a time, at most %d pending",
                    settings.concurrency,
                    settings.queue_bound,
                )
                tasks.append(asyncio.create_task(local.serve()))
            interval = settings.reconcile_interval
            if interval > 0:
                claim = None if remote is None else functools.partial(remote.claim_sweep, max(interval // 2, 60))
                census = app[page.OPERATOR].census
                sweeps = sweep.sweep_forever(
                    runner, app[QUEUE], interval, claim=claim, pace=sweep.PACE * backoff, census=census
                )
                tasks.append(asyncio.create_task(sweeps))
                log.info("sweeps: at start-up, then every %d s", interval)
            else:
                log.info("sweeps: off (RECONCILE_INTERVAL=0)")
            yield
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            if local is not None:
                await local.stop(settings.grace_seconds if app[STOPPING].is_set() else 0)
            if remote is not None:
                await remote.close()

    return context


def _answer(status: int, message: str, outcome: str | None = None) -> web.Response:
    response = web.json_response({"status": message}, status=status)
    if outcome is not None:
        response[metrics.OUTCOME] = outcome
    return response


@metrics.answered
async def webhook(request: web.Request) -> web.Response:
    """Refuse on the headers alone what can be refused, read and verify the body, then route and queue;
    never do the work here."""
    if request.app[STOPPING].is_set():
        return _answer(503, "the server is shutting down")
    try:
        event = await _verified(request)
    except Refused as refused:
        return _answer(refused.status, str(refused))
    request[metrics.EVENT] = event.event
    try:
        request[VERIFIED] = Fields.of(event.data).optional_text("action")  # the router reads it
        jobs: list[Job] = []
        await ROUTER.dispatch(event, jobs)
        if not jobs:
            return _answer(200, f"ignored {event.event}")
        queued = [await request.app[QUEUE].enqueue(job) for job in jobs]
    except MalformedPayload as exc:
        return _answer(400, f"malformed {event.event} payload: {exc}")
    except QueueUnavailable as exc:
        log.error("delivery %s (%s) not queued: %s", event.delivery_id, event.event, exc, extra=_fields(event))
        return _answer(503, "the queue cannot take work")
    except Exception:
        log.exception("delivery %s (%s): a bug in repodoc", event.delivery_id, event.event, extra=_fields(event))
        return _answer(500, "internal error")
    if not any(queued):
        return _answer(200, "duplicate delivery", "duplicate")
    return _answer(202, "queued")


async def _verified(request: web.Request) -> sansio.Event:
    """The delivery's event, its signature checked; Refused with the answer otherwise.
    Headers first: nothing is read of a request they condemn."""
    headers = request.headers
    if "X-Hub-Signature-256" not in headers:
        raise Refused(401, "missing X-Hub-Signature-256")
    for name in ("X-GitHub-Event", "X-GitHub-Delivery"):
        if name not in headers:
            raise Refused(400, f"missing {name}")
    size = request.content_length
    if size is not None and size > MAX_BODY:
        raise Refused(413, "body too large")
    deadline = asyncio.get_running_loop().time() + request.app[READ_LIMIT]
    budget, need = request.app[BUDGET], MAX_BODY if size is None else size
    try:
        async with asyncio.timeout_at(deadline):
            await budget.take(need)
    except TimeoutError:
        raise Refused(503, "too many deliveries being read; try again") from None
    try:
        body = await _read(request, deadline)
        try:
            return sansio.Event.from_http(headers, body, secret=request.app[SETTINGS].webhook_secret)
        except gidgethub.ValidationFailure:
            raise Refused(401, "signature does not match") from None
        except (gidgethub.BadRequest, ValueError, RecursionError) as exc:
            raise Refused(400, f"malformed delivery: {type(exc).__name__}") from None
    finally:
        await budget.give(need)


async def _read(request: web.Request, deadline: float) -> bytes:
    """The body, read by the deadline (408 after: slow senders are cut off) and at most MAX_BODY (413)."""
    chunks, total = [], 0
    try:
        async with asyncio.timeout_at(deadline):
            while chunk := await request.content.readany():
                total += len(chunk)
                if total > MAX_BODY:
                    raise Refused(413, "body too large")
                chunks.append(chunk)
    except TimeoutError:
        raise Refused(408, "the body did not arrive in time") from None
    except (aiohttp.ClientError, ConnectionError):
        raise Refused(400, "incomplete body") from None
    return b"".join(chunks)


async def healthz(request: web.Request) -> web.Response:
    """200 while the server can accept work (503 when its queue does not answer, or it is shutting down)."""
    if request.app[STOPPING].is_set():
        return web.json_response({"status": "unavailable", "reason": "shutting down"}, status=503)
    try:
        return web.json_response(await request.app[QUEUE].health())
    except Exception as exc:  # noqa: BLE001 - any failure of the queue means no work can be accepted
        return web.json_response({"status": "unavailable", "reason": type(exc).__name__}, status=503)


async def drain(app: web.Application) -> None:
    """SIGTERM: answer deliveries 503 from now on and let the in-process queue finish its running jobs
    within the grace period (it hands back the rest: the next start-up sweep finds their work); in Redis
    mode what is queued stays queued for the workers."""
    app[STOPPING].set()
    queue = app[QUEUE]
    if isinstance(queue, InProcessQueue):
        await queue.stop(app[SETTINGS].grace_seconds)


async def run(app: web.Application, host: str, port: int, **runner_options: Any) -> None:
    """Serve until SIGTERM or SIGINT, then drain (503 to deliveries meanwhile) and close; runner_options go to
    aiohttp's AppRunner (the access log's class and logger)."""
    runner = web.AppRunner(app, handle_signals=False, **runner_options)
    await runner.setup()
    # What startup made (modules, the app) lives as long as the process: the collector stops scanning it,
    # which shortens every full collection (a pause of the event loop) by a good 15 ms.
    gc.freeze()
    try:
        await web.TCPSite(runner, host, port).start()
        log.info("listening on http://%s:%d", host, port)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        log.info("shutting down: deliveries are answered 503; running jobs get %d s", app[SETTINGS].grace_seconds)
        await drain(app)
    finally:
        await runner.cleanup()
    log.info("stopped")


def _fields(event: sansio.Event) -> dict[str, str]:
    """A delivery's fields for a structured log line."""
    return {"delivery": str(event.delivery_id), "event": event.event}


async def metrics_page(request: web.Request) -> web.Response:
    """Prometheus' text format, without credentials: counts and states, no repository or owner names."""
    return await metrics.page(request.app[QUEUE])
