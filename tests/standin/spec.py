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
    """The parsed OpenAPI document of api.github.com."""
    return json.loads(_need(SPEC_FILE).read_text())


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
