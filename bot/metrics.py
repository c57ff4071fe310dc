"""What `GET /metrics` shows, in Prometheus' text format (prometheus_client's default registry).

Instrumented at a few central places, each a one-line call into this module: the webhook handler's answer
(`answered`), the end of a job in either queue (`job_finished`), every request to GitHub (`github_request`,
from `GitHubClient._request`). The queue's depth is read from its `health()` when /metrics is scraped.

Labels hold bounded values only: event names, outcomes, job kinds, read/write, HTTP statuses, and an
installation's numeric id; never a repository's or an owner's name, a branch or a delivery id.
In Redis mode each `repodoc worker` serves its own registry on `--metrics-port` (see `serve_worker_metrics`).
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import web
from prometheus_client import (
    CONTENT_TYPE_PLAIN_0_0_4,
    REGISTRY,
    Counter,
    Gauge,
    Histogram,
    Info,
    disable_created_metrics,
    generate_latest,
)

from . import __version__

if TYPE_CHECKING:
    from .jobs import Job

log = logging.getLogger("repodoc.metrics")
disable_created_metrics()  # no `_created` series: the counters' start times add nothing an operator reads

INFO = Info("repodoc", "The running repodoc's version.")
INFO.info({"version": __version__})
DELIVERIES = Counter(
    "repodoc_deliveries",
    "Webhook deliveries answered, by event (`unverified` before the signature is checked) and outcome.",
    ["event", "outcome"],
)
ANSWER_SECONDS = Histogram(
    "repodoc_delivery_answer_seconds",
    "Seconds from a delivery's arrival to its answer.",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
QUEUE_JOBS = Gauge("repodoc_queue_jobs", "Jobs the queue holds, by state (the queue's health() counts).", ["state"])
QUEUE_UP = Gauge("repodoc_queue_up", "1 while the queue answers (Redis reachable), else 0.")
JOBS = Counter("repodoc_jobs", "Jobs that ended (one try each), by kind and outcome.", ["kind", "outcome"])
JOB_SECONDS = Histogram(
    "repodoc_job_duration_seconds",
    "Seconds a job's try took, by kind.",
    ["kind"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0),
)
GITHUB_REQUESTS = Counter(
    "repodoc_github_requests",
    "Requests sent to GitHub, by method class (read: GET/HEAD; write: the rest) and answer status "
    "(`error`: no answer, a timeout or a dropped connection).",
    ["method", "status"],
)
RATE_REMAINING = Gauge(
    "repodoc_github_rate_limit_remaining",
    "Requests left in an installation's primary rate limit (`app`: the App's own), as GitHub last reported.",
    ["installation"],
)

# Answers of POST /webhooks, by status; a 200 is `ignored` unless the handler marks it otherwise.
OUTCOMES = {
    200: "ignored",
    202: "queued",
    400: "malformed",
    401: "unauthorized",
    408: "timeout",
    413: "too_large",
    500: "error",
    503: "unavailable",
}
OUTCOME = "repodoc_outcome"  # key of a response (and of a request: EVENT) where the handler leaves what it knows
EVENT = "repodoc_event"  # the verified event's name, set on the request


@dataclass
class _Try:
    started: float
    requests: int = 0


_current: contextvars.ContextVar[_Try | None] = contextvars.ContextVar("repodoc_job_try", default=None)


def outcome_of(status: int) -> str:
    return OUTCOMES.get(status, str(status))


def answered(
    handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """The webhook handler, counted: its answer's outcome (the response's OUTCOME, else by status) under the
    verified event's name (the request's EVENT; `unverified` when it was refused before), and its time."""

    @functools.wraps(handler)
    async def counted(request: web.Request) -> web.StreamResponse:
        began = time.perf_counter()
        response = await handler(request)
        outcome = response.get(OUTCOME) or outcome_of(response.status)
        response[OUTCOME] = outcome
        DELIVERIES.labels(request.get(EVENT, "unverified"), outcome).inc()
        ANSWER_SECONDS.observe(time.perf_counter() - began)
        return response

    return counted


def job_started() -> None:
    """A job's try begins (Runner.run): its clock and its count of GitHub requests start here."""
    _current.set(_Try(time.monotonic()))


def job_finished(job: Job, outcome: str) -> dict[str, Any]:
    """A job's try ended with `outcome` (the Outcome's action, or the queue's: retrying, deferred, failed,
    dropped): counted, timed by kind; returns the fields of its log line (`extra=`)."""
    took = _current.get()
    _current.set(None)
    seconds = time.monotonic() - took.started if took is not None else 0.0
    JOBS.labels(job.kind, outcome).inc()
    JOB_SECONDS.labels(job.kind).observe(seconds)
    return {
        "delivery": job.delivery,
        "kind": job.kind,
        "key": job.key,
        "outcome": outcome,
        "duration_ms": round(seconds * 1000, 1),
        "requests": took.requests if took is not None else 0,
    }


def github_request(method: str, status: int | None, installation: str, remaining: int | None) -> None:
    """One request sent to GitHub (status None: no answer) and the rate limit its answer reported."""
    GITHUB_REQUESTS.labels(
        "read" if method in ("GET", "HEAD") else "write", "error" if status is None else status
    ).inc()
    if remaining is not None:
        RATE_REMAINING.labels(installation).set(remaining)
    took = _current.get()
    if took is not None:
        took.requests += 1


async def observe_queue(queue: Any) -> None:
    """Read the queue's depth from its health() (every numeric field is a state); QUEUE_UP 0 when it fails."""
    try:
        async with asyncio.timeout(5):
            health = await queue.health()
    except Exception:  # noqa: BLE001 - any failure of the queue is what this gauge shows
        QUEUE_UP.set(0)
        return
    QUEUE_UP.set(1)
    for state, value in health.items():
        if isinstance(value, int | float) and not isinstance(value, bool):
            QUEUE_JOBS.labels(state).set(value)


def exposition() -> web.Response:
    """The registry in Prometheus' text format."""
    response = web.Response(body=generate_latest(REGISTRY))
    response.headers["Content-Type"] = CONTENT_TYPE_PLAIN_0_0_4  # what Prometheus 2 and 3 both read
    return response


async def page(queue: Any) -> web.Response:
    """`GET /metrics` of `repodoc serve`: the queue's depth read now, then everything."""
    await observe_queue(queue)
    return exposition()


async def serve_worker_metrics(host: str, port: int) -> web.AppRunner:
    """A `repodoc worker`'s own `GET /metrics` on host:port (Prometheus scrapes each worker); cleanup() stops it."""

    async def metrics(request: web.Request) -> web.Response:
        return exposition()

    app = web.Application()
    app.router.add_get("/metrics", metrics)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    log.info("metrics: http://%s:%d/metrics", host, port)
    return runner
