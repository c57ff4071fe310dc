"""The queues' settings and their defaults (no imports: `webhooks/settings.py` reads them at start-up)."""

from __future__ import annotations

import os


def default_concurrency() -> int:
    """Keys worked on at once when REPODOC_CONCURRENCY is not set: jobs mostly wait on GitHub (rendering
    runs in a pool of processes, one per core), so four per core, at least 4 and at most 32."""
    return max(4, min(32, 4 * (os.cpu_count() or 1)))


CONCURRENCY = default_concurrency()
LEASE_SECONDS = 90  # Redis mode: a worker's hold on a job and its key lapses this long after it dies
QUEUE_BOUND = 10_000  # jobs pending past which a delivery is answered 503
GRACE_SECONDS = 30  # on SIGTERM: how long running jobs may take to finish before they are handed back
