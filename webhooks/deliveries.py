"""The last deliveries, as the operator's page shows them: kept in a bounded deque on the app, recorded
by a wrapper around the webhook handler (the handler itself only says which event it verified)."""

from __future__ import annotations

import json
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

KEPT = 200  # deliveries remembered
TEXT = 200  # characters kept of anything a sender chose (delivery id, event, action, message)
VERIFIED = "repodoc.verified"  # request key: the action of a delivery whose signature matched


@dataclass(frozen=True)
class Delivery:
    """One delivery and its answer. Every text but `outcome` came from the sender: show it escaped."""

    delivery: str  # X-GitHub-Delivery
    event: str  # X-GitHub-Event
    action: str  # the payload's action ('' when none, or the signature did not match)
    status: int  # the HTTP answer
    outcome: str  # queued, ignored, duplicate, refused, unavailable, error
    message: str
    at: float  # when it arrived (seconds since the epoch)
    seconds: float  # time to the answer


def outcome_of(status: int, message: str) -> str:
    """A word for the answer: what a person looks for in the list."""
    if status == 202:
        return "queued"
    if status == 200:
        return "duplicate" if message.startswith("duplicate") else "ignored"
    if status == 503:
        return "unavailable"
    if status >= 500:
        return "error"
    return "refused"


def _text(value: object) -> str:
    text = value if isinstance(value, str) else ""
    return text if len(text) <= TEXT else text[: TEXT - 1] + "…"


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
DELIVERIES: web.AppKey[deque[Delivery]] = web.AppKey("deliveries")  # newest last


def recorded(handler: Handler) -> Handler:
    """handler, each of its answers recorded in app[DELIVERIES] (a deque of at most KEPT, made by create_app)."""

    async def record(request: web.Request) -> web.StreamResponse:
        clock = time.monotonic()
        at = time.time()
        status, message = 500, "internal error"
        try:
            response = await handler(request)
            status = response.status
            if isinstance(response, web.Response) and response.body is not None:
                try:
                    message = str(json.loads(bytes(response.body))["status"])  # type: ignore[arg-type]
                except (ValueError, KeyError, TypeError):
                    message = response.reason or ""
            return response
        finally:
            headers = request.headers
            request.app[DELIVERIES].append(
                Delivery(
                    _text(headers.get("X-GitHub-Delivery")),
                    _text(headers.get("X-GitHub-Event")),
                    _text(request.get(VERIFIED)),
                    status,
                    outcome_of(status, message),
                    _text(message),
                    at,
                    time.monotonic() - clock,
                )
            )

    return record
