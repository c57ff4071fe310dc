"""TEMPORARY, until branch `queue` gives the queues `recent()` and `snapshot()` (delete this file and the
hook in webhooks/page.py `setup` when merging it). A thin recorder on the in-process queue, from outside
it: what the page reads, in the protocol's shapes, so the operator's page and its test run today."""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass
from typing import Any

from .jobs import Forget, InProcessQueue, Job, deferral, describe, transient


@dataclass(frozen=True)
class Finished:
    delivery: str
    kind: str
    key: str
    installation_id: int
    owner: str
    repo: str
    action: str
    reason: str
    started: float
    seconds: float
    pull: int = 0


@dataclass(frozen=True)
class Waiting:
    key: str
    kind: str
    delivery: str
    state: str  # pending, running, retrying
    since: float
    tries: int = 0


def attach(queue: Any) -> None:
    """Give an InProcessQueue without them `recent()` and `snapshot()`, recorded around its run and enqueue."""
    if not isinstance(queue, InProcessQueue) or hasattr(queue, "recent"):
        return
    finished: deque[Finished] = deque(maxlen=1000)
    held: dict[str, Waiting] = {}
    run, enqueue = queue._run, queue.enqueue

    def wait(job: Job, state: str, tries: int) -> None:
        held[job.delivery] = Waiting(job.key, job.kind, job.delivery, state, time.time(), tries)

    def done(job: Job, action: str, reason: str, started: float, pull: int = 0) -> None:
        seconds = time.time() - started
        item = Finished(
            job.delivery,
            job.kind,
            job.key,
            job.installation_id,
            job.owner,
            job.repo,
            action,
            reason,
            started,
            seconds,
            pull,
        )
        finished.appendleft(item)

    async def recording_enqueue(job: Job) -> bool:
        took = await enqueue(job)
        if took and not isinstance(job, Forget):
            wait(job, "pending", 0)
        return took

    async def recording_run(job: Job) -> Any:
        tries = (held[job.delivery].tries if job.delivery in held else 0) + 1
        wait(job, "running", tries)
        started = time.time()
        try:
            outcome = await run(job)
        except Exception as exc:
            again = deferral(exc) is not None or (transient(exc) and tries < queue.retries.tries)
            if again:
                wait(job, "retrying", tries)
            else:
                held.pop(job.delivery, None)
            done(job, "retrying" if again else "failed", describe(exc), started)
            raise
        held.pop(job.delivery, None)
        done(job, outcome.action, outcome.reason, started, outcome.pull)
        return outcome

    async def recent(limit: int = 100) -> list[Finished]:
        return list(finished)[:limit]

    async def snapshot() -> list[Waiting]:
        return list(held.values())

    for name, value in (
        ("_run", recording_run),
        ("enqueue", recording_enqueue),
        ("recent", recent),
        ("snapshot", snapshot),
    ):
        setattr(queue, name, value)
