"""The server's settings, read from the environment once at start-up (never at import)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives.serialization import load_pem_private_key
from dotenv import dotenv_values

from bot.queueing import CONCURRENCY, GRACE_SECONDS, LEASE_SECONDS, QUEUE_BOUND

DEFAULT_API = "https://api.github.com"
ENV_FILE = ".env"
RECONCILE_INTERVAL = 21600  # seconds between sweeps when RECONCILE_INTERVAL is not set (6 hours)
ADMIN_TOKEN_CHARS = 16  # the operator's page's token, at least (`openssl rand -hex 32` gives 64)


class SettingsError(ValueError):
    """A missing or malformed setting; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    """Everything `repodoc serve` needs; secrets never appear in repr."""

    app_id: str
    private_key: str = field(repr=False)
    webhook_secret: str = field(repr=False)
    api_url: str = DEFAULT_API
    redis_url: str | None = None
    reconcile_interval: int = 0  # seconds between sweeps (0: none); from_env defaults it to RECONCILE_INTERVAL
    concurrency: int = CONCURRENCY  # keys worked on at once (by the server, or by each worker)
    lease_seconds: int = LEASE_SECONDS  # Redis mode: how soon a dead worker's job runs again elsewhere
    queue_bound: int = QUEUE_BOUND  # jobs pending past which a delivery is answered 503
    grace_seconds: int = GRACE_SECONDS  # on SIGTERM: time given to running jobs before they are handed back
    admin_token: str | None = field(default=None, repr=False)  # the operator's page's password (None: no page)

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ, *, worker: bool = False) -> Settings:
        """Read and check the environment of `repodoc serve` (or, worker=True, of `repodoc worker`,
        which needs REDIS_URL but no webhook secret); raises SettingsError with one line per problem."""
        problems = []
        secret = env.get("GITHUB_WEBHOOK_SECRET", "")
        if not secret and not worker:
            problems.append("GITHUB_WEBHOOK_SECRET is not set: refusing to accept unsigned webhooks")
        redis_url = env.get("REDIS_URL") or None
        if worker and not redis_url:
            problems.append("REDIS_URL is not set: a worker takes its jobs from Redis")
        elif redis_url and not redis_url.startswith(("redis://", "rediss://", "unix://")):
            problems.append("REDIS_URL must be a redis:// or rediss:// URL")
        app_id = env.get("GITHUB_APP_ID", "").strip()
        if not app_id:
            problems.append("GITHUB_APP_ID is not set")
        elif not app_id.isdigit():
            problems.append("GITHUB_APP_ID must be the App's numeric id")
        try:
            key = _private_key(env)
        except SettingsError as exc:
            problems.append(str(exc))
        api = env.get("GITHUB_API_URL", DEFAULT_API).rstrip("/")
        if not api.startswith(("http://", "https://")):
            problems.append("GITHUB_API_URL must be an http(s) URL")
        interval = env.get("RECONCILE_INTERVAL", "").strip() or str(RECONCILE_INTERVAL)
        if not interval.isdigit():
            problems.append("RECONCILE_INTERVAL must be a whole number of seconds (0 turns sweeps off)")
        numbers = {
            name: _number(env, name, default, least, problems)
            for name, default, least in (
                ("REPODOC_CONCURRENCY", CONCURRENCY, 1),
                ("REPODOC_LEASE_SECONDS", LEASE_SECONDS, 2),
                ("REPODOC_QUEUE_BOUND", QUEUE_BOUND, 1),
                ("REPODOC_GRACE_SECONDS", GRACE_SECONDS, 0),
            )
        }
        admin = env.get("REPODOC_ADMIN_TOKEN") or None
        if admin is not None and len(admin) < ADMIN_TOKEN_CHARS:
            problems.append(f"REPODOC_ADMIN_TOKEN must be at least {ADMIN_TOKEN_CHARS} characters (unset: no page)")
        if problems:
            raise SettingsError("\n".join(problems))
        return cls(
            app_id,
            key,
            secret,
            api,
            redis_url,
            int(interval),
            concurrency=numbers["REPODOC_CONCURRENCY"],
            lease_seconds=numbers["REPODOC_LEASE_SECONDS"],
            queue_bound=numbers["REPODOC_QUEUE_BOUND"],
            grace_seconds=numbers["REPODOC_GRACE_SECONDS"],
            admin_token=admin,
        )


def _number(env: Mapping[str, str], name: str, default: int, least: int, problems: list[str]) -> int:
    """A whole-number setting (default when unset); a problem naming it when it is not one, or below least."""
    text = env.get(name, "").strip()
    if not text:
        return default
    if not text.isdigit() or int(text) < least:
        problems.append(f"{name} must be a whole number, at least {least} (it is {text!r})")
        return default
    return int(text)


def _private_key(env: Mapping[str, str]) -> str:
    if env.get("GITHUB_PRIVATE_KEY"):
        key, name = env["GITHUB_PRIVATE_KEY"], "GITHUB_PRIVATE_KEY"
    elif env.get("GITHUB_PRIVATE_KEY_FILE"):
        name = "GITHUB_PRIVATE_KEY_FILE"
        try:
            key = Path(env[name]).read_text()
        except OSError as exc:
            raise SettingsError(f"{name}: cannot read the key file: {exc.strerror}") from None
    else:
        raise SettingsError("GITHUB_PRIVATE_KEY or GITHUB_PRIVATE_KEY_FILE is not set")
    try:
        load_pem_private_key(key.encode(), password=None)
    except (ValueError, TypeError):
        raise SettingsError(f"{name} is not a PEM private key") from None
    return key


def environment(env: Mapping[str, str] = os.environ, dotenv: Path = Path(ENV_FILE)) -> dict[str, str]:
    """The environment, completed by a `.env` file (as `repodoc register` writes it) for the settings it
    lacks: the environment wins."""
    found = dotenv_values(dotenv) if dotenv.is_file() else {}
    return {**{k: v for k, v in found.items() if v is not None}, **env}
