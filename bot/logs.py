"""Logging of `repodoc serve` and `repodoc worker`: one JSON object a line when stderr is not a terminal
(a log collector's input), readable text on a terminal; secrets redacted either way.

Every logger goes through the one handler `configure` puts on the root logger: repodoc's own, aiohttp's
(the access log is `AccessLogger`: one line a request, with the delivery's id, event and outcome), arq's,
asyncio's, and Python's warnings and uncaught exceptions. Fields passed as `extra=` (delivery, event, key,
kind, outcome, duration_ms, requests, ...) become keys of the JSON object.
"""

from __future__ import annotations

import datetime
import json
import logging
import re
import sys
import threading
import types
from collections.abc import Iterable
from typing import IO, Any

from aiohttp.abc import AbstractAccessLogger
from aiohttp.web import BaseRequest, StreamResponse

from . import metrics

TEXT_FORMAT = "%(asctime)s %(name)s %(levelname)s %(message)s"
REDACTED = "[redacted]"
# What any log line might carry that must not be there, whatever its value: a PEM private key, an
# Authorization header's credentials (HTTP `Authorization: token x`, a dict's `'Authorization': 'Bearer x'`),
# GitHub's tokens (ghs_ installation, ghp_/github_pat_ personal, gho_/ghu_/ghr_ OAuth), a JWT, a URL's password.
PATTERNS = (
    (re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)", re.DOTALL), REDACTED),
    (
        re.compile(r"(?i)(\bauthorization[\"']?\s*[:=]\s*[\"']?)(?:(?:bearer|token|basic)\s+)?[^\s\"',;}]+"),
        r"\1" + REDACTED,
    ),
    (re.compile(r"\b(?:gh[psour]_[A-Za-z0-9_]{16,}|github_pat_[A-Za-z0-9_]{20,})"), REDACTED),
    (re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"), REDACTED),
    (re.compile(r"(\b[a-z][a-z0-9+.-]*://[^/\s:@]*:)[^@/\s]+(@)"), r"\1" + REDACTED + r"\2"),
)
# LogRecord's own attributes: the rest of a record's __dict__ came from `extra=`
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "taskName"}


class Redactor:
    """Replaces known secret values (the webhook secret, the private key, the Redis password, ...) and
    anything shaped like a credential (PATTERNS) by `[redacted]`."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self.secrets: list[str] = []
        for secret in secrets:
            self.add(secret)

    def add(self, secret: str) -> None:
        """Never log this value (nor its lines, for a multi-line one such as a PEM key, nor its JSON form)."""
        forms = {secret.strip(), json.dumps(secret)[1:-1]}
        forms |= {line.strip() for line in secret.splitlines() if len(line.strip()) >= 8}
        for form in forms:
            if len(form) >= 4 and form not in self.secrets:
                self.secrets.append(form)
        self.secrets.sort(key=len, reverse=True)  # the whole value before its parts

    def __call__(self, text: str) -> str:
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        for pattern, replacement in PATTERNS:
            text = pattern.sub(replacement, text)
        return text


class RedactingFilter(logging.Filter):
    """Formats a record's message, exception and string fields once, redacted: whatever formatter follows
    sees no secret."""

    def __init__(self, redact: Redactor) -> None:
        super().__init__()
        self.redact = redact

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a bad format string still logs what it has
            message = f"{record.msg!r} {record.args!r}"
        record.msg, record.args = self.redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        for name, value in list(vars(record).items()):
            if name not in _STANDARD and isinstance(value, str):
                setattr(record, name, self.redact(value))
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC, ISO 8601), level, logger, message, the `extra=` fields, and the
    exception's traceback as one string."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.datetime.fromtimestamp(record.created, datetime.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "pid": record.process,
        }
        for name, value in vars(record).items():
            if name not in _STANDARD and name not in line:
                line[name] = value
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["exception"] = record.exc_text
        if record.stack_info:
            line["stack"] = record.stack_info
        return json.dumps(line, default=str, ensure_ascii=False)


def configure(secrets: Iterable[str] = (), stream: IO[str] | None = None, level: int = logging.INFO) -> Redactor:
    """Send every logger's lines to stream (stderr) through the redaction filter: JSON lines unless the
    stream is a terminal. Returns the redactor (more secrets can be added to it)."""
    stream = stream or sys.stderr
    redact = Redactor(s for s in secrets if s)
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter(redact))
    handler.setFormatter(logging.Formatter(TEXT_FORMAT) if _terminal(stream) else JsonFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for name in ("arq", "aiohttp", "asyncio", "py.warnings"):  # the libraries' loggers: through the root's handler
        library = logging.getLogger(name)
        library.propagate = True
        for old in list(library.handlers):
            library.removeHandler(old)
    logging.captureWarnings(True)
    sys.excepthook = _uncaught
    threading.excepthook = lambda args: _uncaught(args.exc_type, args.exc_value, args.exc_traceback)  # type: ignore[arg-type]
    return redact


def _terminal(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _uncaught(kind: type[BaseException], value: BaseException, tb: types.TracebackType | None) -> None:
    logging.getLogger("repodoc").critical("uncaught %s", kind.__name__, exc_info=(kind, value, tb))


class AccessLogger(AbstractAccessLogger):
    """aiohttp's access log as fields: one line a request (`repodoc serve`'s `access_log_class`); a webhook's
    line carries its delivery id, event and outcome (the event only once its signature is checked)."""

    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        fields: dict[str, Any] = {
            "method": request.method,
            "path": request.path,
            "status": response.status,
            "duration_ms": round(time * 1000, 2),
            "remote": request.remote,
        }
        delivery = request.headers.get("X-GitHub-Delivery")
        if delivery is not None:
            fields["delivery"] = delivery[:100]
        event = request.get(metrics.EVENT)
        if event is not None:
            fields["event"] = event
        outcome = response.get(metrics.OUTCOME)
        if outcome is not None:
            fields["outcome"] = outcome
        about = "".join(f" {name} {fields[name]}" for name in ("delivery", "event", "outcome") if name in fields)
        self.logger.info(
            "%s %s %d%s in %.1f ms",
            request.method,
            request.path,
            response.status,
            about,
            time * 1000,
            extra=fields,
        )

    @property
    def enabled(self) -> bool:
        return self.logger.isEnabledFor(logging.INFO)
