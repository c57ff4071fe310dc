"""GitHub's published OpenAPI description (npm `@octokit/openapi`): validation and examples."""

from __future__ import annotations

import copy
import functools
import json
import re
from pathlib import Path
from typing import Any

from openapi_core import Config, OpenAPI
from openapi_core.datatypes import RequestParameters
from werkzeug.datastructures import Headers, ImmutableMultiDict

ROOT = Path(__file__).resolve().parents[2] / "node_modules" / "@octokit"
SPEC_FILE = ROOT / "openapi" / "generated" / "api.github.com.json"
EXAMPLES_FILE = ROOT / "webhooks-examples" / "api.github.com" / "index.json"
# path parameters holding '/' that the OpenAPI path matcher cannot take as they are
_SLASHED = re.compile(r"^(/repos/[^/]+/[^/]+/git/(?:ref|refs|matching-refs)/)(.+)$")


def _need(path: Path) -> Path:
    if not path.exists():
        raise RuntimeError(f"{path} is missing: run `npm ci` at the repository root (the README's test command does)")
    return path


@functools.cache
def spec() -> dict[str, Any]:
    """The parsed OpenAPI document of api.github.com, its nullable enums allowing null (GitHub sends null
    where the description says `nullable` beside an enum without it, e.g. a queued check run's conclusion;
    OpenAPI 3.0.3 wants null listed, and openapi-core holds to that)."""
    document = json.loads(_need(SPEC_FILE).read_text())
    _null_in_nullable_enums(document)
    return document


def _null_in_nullable_enums(node: Any) -> None:
    if isinstance(node, dict):
        if node.get("nullable") is True and isinstance(node.get("enum"), list) and None not in node["enum"]:
            node["enum"].append(None)
        for value in node.values():
            _null_in_nullable_enums(value)
    elif isinstance(node, list):
        for value in node:
            _null_in_nullable_enums(value)


@functools.cache
def openapi() -> OpenAPI:
    """openapi-core over the document (the document itself is not re-validated: 20 s)."""
    return OpenAPI.from_dict(spec(), config=Config(spec_validator_cls=None))


def example(name: str) -> Any:
    """A deep copy of a named example of the document's components."""
    return copy.deepcopy(spec()["components"]["examples"][name]["value"])


@functools.cache
def _webhook_examples() -> dict[str, list[dict[str, Any]]]:
    return {e["name"]: e["examples"] for e in json.loads(_need(EXAMPLES_FILE).read_text())}


def webhook_example(event: str, pick: Any) -> dict[str, Any]:
    """A deep copy of the first published example of event for which pick(example) is true."""
    return copy.deepcopy(next(e for e in _webhook_examples()[event] if pick(e)))


class Request:
    """What openapi-core reads of a request."""

    def __init__(
        self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: bytes, content_type: str
    ) -> None:
        match = _SLASHED.match(path)
        self.path = match.group(1) + match.group(2).replace("/", "%2F") if match else path
        self.host_url = "https://api.github.com"
        self.method = method.lower()
        self.body = body or None
        self.content_type = content_type or "application/json"
        self.parameters = RequestParameters(
            query=ImmutableMultiDict(query), header=Headers(headers), cookie=ImmutableMultiDict()
        )


class Response:
    """What openapi-core reads of a response."""

    def __init__(self, status: int, body: bytes, content_type: str, headers: dict[str, str]) -> None:
        self.status_code = status
        self.data = body
        self.content_type = content_type
        self.headers = Headers(headers)


def check_request(request: Request) -> str:
    """'' when GitHub's description allows the request, else why not."""
    try:
        openapi().validate_request(request)  # type: ignore[arg-type]
    except Exception as exc:  # noqa: BLE001 - every validation failure is reported
        return _explain(exc)
    return ""


def check_request_body(request: Request) -> tuple[str, str | None]:
    """As check_request, and when the request's body is what the description refuses, GitHub's words for it
    (the text after "Invalid request." in its 422: `"x" wasn't supplied.`, `Only 65535 characters are
    allowed; 70000 were supplied.`, …); None when the problem is not the body."""
    try:
        openapi().validate_request(request)  # type: ignore[arg-type]
    except Exception as exc:  # noqa: BLE001 - every validation failure is reported
        return _explain(exc), _github_words(exc)
    return "", None


def _github_words(exc: BaseException) -> str | None:
    chain: list[BaseException] = []
    cause: BaseException | None = exc
    while cause is not None:
        chain.append(cause)
        cause = cause.__cause__
    if not any("Body" in type(c).__name__ for c in chain):
        return None
    for link in chain:
        for sub in getattr(link, "schema_errors", []):
            where = "/".join(str(p) for p in getattr(sub, "absolute_path", []))
            kind, limit, value = getattr(sub, "validator", ""), getattr(sub, "validator_value", None), sub.instance
            if kind in ("anyOf", "oneOf"):  # e.g. a completed check run: the branch wanting a conclusion
                needed = [c for c in getattr(sub, "context", []) if c.validator == "required"]
                if needed:
                    missing = next((name for name in needed[-1].validator_value if name not in value), "?")
                    return f'"{missing}" wasn\'t supplied.'
            if kind == "maxLength":
                return f"Only {limit} characters are allowed; {len(value)} were supplied."
            if kind == "required":
                missing = next((name for name in limit if name not in value), "?")
                return f'"{missing}" wasn\'t supplied.'
            if kind == "enum":
                return f"For 'properties/{where}', {json.dumps(value)} is not a member of {json.dumps(limit)}."
            if kind == "type":
                return f"For 'properties/{where}', {json.dumps(value)} is not a {limit}."
            return f"For 'properties/{where}', {getattr(sub, 'message', sub)}"
    return "The request body is not valid JSON for this endpoint."


def check_response(request: Request, response: Response) -> str:
    """'' when GitHub's description allows the response, else why not."""
    try:
        openapi().validate_response(request, response)  # type: ignore[arg-type]
    except Exception as exc:  # noqa: BLE001
        return _explain(exc)
    return ""


def _explain(exc: BaseException) -> str:
    parts = [f"{type(exc).__name__}: {str(exc)[:300]}"]
    cause = exc.__cause__
    while cause is not None:
        parts.append(f"{type(cause).__name__}: {str(cause)[:300]}")
        for sub in getattr(cause, "schema_errors", [])[:5]:
            where = "/".join(str(p) for p in getattr(sub, "absolute_path", []))
            parts.append(f"  - at {where or '.'}: {getattr(sub, 'message', sub)}"[:400])
        cause = cause.__cause__
    return "\n".join(parts)
