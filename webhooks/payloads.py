"""Typed reading of webhook payloads: every shape problem is one `MalformedPayload` (answered 400).

Event readers (`webhooks/push.py`, `webhooks/installation.py`) read their payloads only through
`Fields`, so a payload of the wrong shape can fail in one way alone; any other exception in a
handler is a bug (answered 500 and logged with the delivery id).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

MAX_ID = 2**63 - 1  # GitHub's ids are 64-bit integers
_SHA = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")  # SHA-1 or SHA-256 repositories
_NAME = re.compile(r"[A-Za-z0-9._-]+")  # owner and repository names (GitHub allows no more)


class MalformedPayload(ValueError):
    """A signed payload that lacks what its event has, or holds it in the wrong shape."""


_MISSING: Any = object()


@dataclass(frozen=True)
class Fields:
    """A JSON object of a payload, read key by key; `where` names it in error messages."""

    data: Mapping[str, Any]
    where: str = "payload"

    @classmethod
    def of(cls, data: Any, where: str = "payload") -> Fields:
        """The reader of a JSON object; MalformedPayload for any other JSON value."""
        if not isinstance(data, dict):
            raise MalformedPayload(f"{where} must be an object")
        return cls(data, where)

    def _get(self, key: str, default: Any) -> Any:
        value = self.data.get(key, _MISSING)
        if value is _MISSING or (value is None and default is not _MISSING):
            if default is _MISSING:
                raise MalformedPayload(f"{self.where}.{key} is missing")
            return default
        return value

    def obj(self, key: str) -> Fields:
        """The object under key."""
        return Fields.of(self._get(key, _MISSING), f"{self.where}.{key}")

    def text(self, key: str, default: Any = _MISSING) -> str:
        """The string under key (default when absent or null, if one is given)."""
        value = self._get(key, default)
        if not isinstance(value, str):
            raise MalformedPayload(f"{self.where}.{key} must be a string")
        return value

    def optional_text(self, key: str) -> str | None:
        """The string under key, or None when absent or null."""
        value = self.data.get(key)
        if value is not None and not isinstance(value, str):
            raise MalformedPayload(f"{self.where}.{key} must be a string")
        return value

    def flag(self, key: str, default: bool = False) -> bool:
        """The boolean under key (default when absent or null)."""
        value = self._get(key, default)
        if not isinstance(value, bool):
            raise MalformedPayload(f"{self.where}.{key} must be true or false")
        return value

    def ident(self, key: str) -> int:
        """A positive 64-bit integer id under key (not a float, not a boolean)."""
        value = self._get(key, _MISSING)
        if type(value) is not int or not 0 < value <= MAX_ID:
            raise MalformedPayload(f"{self.where}.{key} must be a positive integer id")
        return value

    def sha(self, key: str, default: Any = _MISSING) -> str:
        """A commit id (40 or 64 lowercase hex digits) under key."""
        value = self.text(key, default)
        if value != default and not _SHA.fullmatch(value):
            raise MalformedPayload(f"{self.where}.{key} must be a commit id")
        return value

    def name(self, key: str) -> str:
        """An owner or repository name under key."""
        return check_name(self.text(key), f"{self.where}.{key}")

    def objects(self, key: str, default: Any = _MISSING) -> list[Fields]:
        """The array of objects under key (default when absent or null, if one is given)."""
        value = self._get(key, default)
        if not isinstance(value, list):
            raise MalformedPayload(f"{self.where}.{key} must be an array")
        return [Fields.of(item, f"{self.where}.{key}[{n}]") for n, item in enumerate(value)]

    def texts(self, key: str, default: Any = _MISSING) -> tuple[str, ...]:
        """The array of strings under key (default when absent or null, if one is given)."""
        value = self._get(key, default)
        if value is default:  # absent or null: the default as given (a tuple is not a JSON array)
            return tuple(value)
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise MalformedPayload(f"{self.where}.{key} must be an array of strings")
        return tuple(value)


def check_name(value: str, where: str) -> str:
    """value when it is a valid owner or repository name (never `.` or `..`), else MalformedPayload."""
    if not _NAME.fullmatch(value) or value in (".", ".."):
        raise MalformedPayload(f"{where} is not a valid name")
    return value


def full_name(value: str, where: str) -> tuple[str, str]:
    """`owner/name` split in two, each checked."""
    owner, slash, name = value.partition("/")
    if not slash:
        raise MalformedPayload(f"{where} must be owner/name")
    return check_name(owner, where), check_name(name, where)
