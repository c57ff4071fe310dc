"""`GET /`: the operator's page. One HTML document, CSS inline, no script: the installations and their
repositories with each documented target's docs state (bot/census.py: the last sweep joined with the queue's
recent outcomes), the queue (pending, running, retrying), the jobs it finished and the last deliveries.

HTTP Basic, any user name, the password REPODOC_ADMIN_TOKEN (compared in constant time); 404 when no token is
set. Everything shown is read from memory (no GitHub request per view); every text from GitHub or a sender
is escaped, and no setting is ever shown.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
import html
import re
import time
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from aiohttp import web

from bot.census import CURRENT, FAILING, PULL, STALE, UNKNOWN, Census, Docs, Row, docs_states
from bot.jobs import Finished, JobQueue, Waiting

from .deliveries import DELIVERIES, Delivery

REALM = 'Basic realm="repodoc"'
RECENT = 100  # finished jobs asked of the queue
SHOWN_DELIVERIES = 100
SHOWN_REPOSITORIES = 2000
SHOWN_WAITING = 200
QUEUE_SECONDS = 3.0  # to wait for the queue's answers before showing the page without them
REFRESH = 30  # seconds between reloads (a meta refresh: no script)
HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
# control characters, and the invisible ones that reorder or hide text: a hostile name cannot disguise itself
HIDDEN = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")
SHA = re.compile("[0-9a-f]{40}|[0-9a-f]{64}")
CLASSES = {CURRENT: "current", PULL: "pull", STALE: "stale", FAILING: "failing", UNKNOWN: "unknown"}


@dataclass
class Operator:
    """What the page needs besides the queue: the token (None: no page), GitHub's web address for links,
    and the census the sweeps fill."""

    token: str | None
    web: str
    census: Census = field(default_factory=Census)


OPERATOR = web.AppKey("operator", Operator)


def web_url(api_url: str) -> str:
    """GitHub's web address for an API address: api.github.com → github.com, GHES `…/api/v3` → its host."""
    api = api_url.rstrip("/")
    if api == "https://api.github.com":
        return "https://github.com"
    return api.removesuffix("/api/v3")


def authorized(header: str | None, token: str) -> bool:
    """Whether an Authorization header is HTTP Basic with the token as password (any user name)."""
    scheme, _, value = (header or "").partition(" ")
    if scheme.lower() != "basic":
        return False
    try:
        decoded = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        return False
    _, colon, password = decoded.partition(b":")
    return bool(colon) & hmac.compare_digest(password, token.encode())


async def view(request: web.Request, queue: JobQueue) -> web.Response:
    """The page, for a request that carries the token."""
    operator = request.app[OPERATOR]
    if not operator.token:
        raise web.HTTPNotFound()
    if not authorized(request.headers.get("Authorization"), operator.token):
        return web.Response(
            status=401,
            text="401: the operator's page needs the admin token (any user name; the token as password)\n",
            headers={**HEADERS, "WWW-Authenticate": REALM},
        )
    (finished, recent_problem), (waiting, snapshot_problem) = await asyncio.gather(
        _ask(queue, "recent", RECENT), _ask(queue, "snapshot")
    )
    deliveries = request.app[DELIVERIES]
    page = Page(
        operator.web,
        operator.census,
        list(deliveries),
        finished,
        waiting,
        recent_problem or snapshot_problem,
        time.time(),
    )
    return web.Response(text=page.render(), content_type="text/html", charset="utf-8", headers=HEADERS)


async def _ask(queue: JobQueue, method: str, *args: Any) -> tuple[list[Any], str]:
    """The queue's answer to recent() or snapshot(), or nothing and why (the page shows the rest)."""
    try:
        return list(await asyncio.wait_for(getattr(queue, method)(*args), QUEUE_SECONDS)), ""
    except Exception as exc:  # noqa: BLE001 - a queue that does not answer must not hide the rest of the page
        return [], f"the queue did not answer ({type(exc).__name__})"


def _e(value: object) -> str:
    """Text for HTML: hidden characters made visible, then escaped (attributes included)."""
    return html.escape(HIDDEN.sub("\N{REPLACEMENT CHARACTER}", str(value)), quote=True)


def _when(at: float, now: float) -> str:
    """A time as a person reads it: how long ago, the exact UTC time on hover."""
    if not at:
        return ""
    exact = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(at))
    ago = max(now - at, 0)
    if ago < 90:
        rel = f"{ago:.0f} s ago"
    elif ago < 5400:
        rel = f"{ago / 60:.0f} min ago"
    elif ago < 172800:
        rel = f"{ago / 3600:.0f} h ago"
    else:
        rel = f"{ago / 86400:.0f} days ago"
    iso = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(at))
    return f'<time datetime="{iso}" title="{exact}">{rel}</time>'


def _took(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.1f} s"


def _count(n: int, one: str, many: str = "") -> str:
    return f"{n} {one if n == 1 else many or one + 's'}"


def _badge(state: str) -> str:
    return f'<span class="state {CLASSES.get(state, "unknown")}">{_e(state)}</span>'


def _table(caption: str, labels: Sequence[str], rows: Iterable[tuple[str, Sequence[str]]], empty: str) -> str:
    """A table (rows: a class and the cells' HTML); on a phone each row becomes a card labelled per cell."""
    body = [
        f'<tr class="{cls}">'
        + "".join(f'<td data-label="{_e(lab)}"><div>{cell}</div></td>' for lab, cell in zip(labels, cells, strict=True))
        for cls, cells in rows
    ]
    if not body:
        return f'<p class="empty">{_e(empty)}</p>'
    head = "".join(f'<th scope="col">{_e(label)}</th>' for label in labels)
    return (
        f'<div class="scroll"><table><caption>{_e(caption)}</caption><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )


@dataclass(frozen=True)
class Page:
    """Everything one view shows, read beforehand; render() is pure."""

    web: str
    census: Census
    deliveries: list[Delivery]
    finished: list[Finished]
    waiting: list[Waiting]
    queue_problem: str
    now: float

    def _repo_url(self, owner: str, name: str, *rest: str) -> str:
        parts = [quote(owner, safe=""), quote(name, safe=""), *rest]
        return _e(f"{self.web}/" + "/".join(parts))

    def _details(self, row: Row, docs: Docs) -> str:
        """Links to the pull request and the check runs where known, and the reason."""
        out = []
        if docs.pull:
            url = docs.pull_url if docs.pull_url.startswith(("https://", "http://")) else ""
            href = _e(url) if url else self._repo_url(row.owner, row.name, "pull", str(docs.pull))
            out.append(f'<a href="{href}">PR #{docs.pull}</a>')
        if docs.state == FAILING:
            if docs.target.startswith("#") and docs.target[1:].isdigit():
                href = self._repo_url(row.owner, row.name, "pull", docs.target[1:], "checks")
                out.append(f'<a href="{href}">check runs</a>')
            elif SHA.fullmatch(docs.head):
                href = self._repo_url(row.owner, row.name, "commit", docs.head, "checks")
                out.append(f'<a href="{href}">check run</a>')
            elif docs.target:
                href = self._repo_url(row.owner, row.name, "commits", quote(docs.target, safe=""))
                out.append(f'<a href="{href}">commits and their checks</a>')
        if docs.reason:
            out.append(f'<span class="reason">{_e(docs.reason)}</span>')
        return " ".join(out)

    def _repositories(self, rows: list[Row]) -> str:
        if not rows:
            sweep = (
                "No sweep has run yet and no job has finished."
                if self.census.started is None
                else "The sweep found no repository."
            )
            return f'<p class="empty">{_e(sweep)}</p>'
        by_installation: dict[int, list[Row]] = {}
        for row in rows[:SHOWN_REPOSITORIES]:
            by_installation.setdefault(row.installation, []).append(row)
        for installation in self.census.installations:
            by_installation.setdefault(installation, [])
        out = []
        for installation, found in sorted(by_installation.items()):
            account = self.census.installations.get(installation, "")
            title = f"Installation {installation}" + (f" · {account}" if account else "")
            cells: list[tuple[str, Sequence[str]]] = []
            for row in found:
                name = f'<a href="{self._repo_url(row.owner, row.name)}">{_e(row.owner)}/<b>{_e(row.name)}</b></a>'
                targets = row.docs or (Docs("", UNKNOWN, reason=row.note),)
                for docs in targets:
                    target = docs.target or "(default branch)"
                    label = _e(target) + (" <small>default</small>" if docs.target == row.default_branch else "")
                    cells.append(
                        (
                            f"repo {CLASSES.get(docs.state, 'unknown')}",
                            [
                                name,
                                label,
                                _badge(docs.state),
                                self._details(row, docs),
                                _when(docs.at, self.now) + (f" <small>{_e(docs.source)}</small>" if docs.at else ""),
                            ],
                        )
                    )
            out.append(f'<h3 id="installation-{installation}">{_e(title)}</h3>')
            out.append(
                _table(
                    f"Repositories of installation {installation}",
                    ["Repository", "Branch or PR", "Docs", "Details", "As of"],
                    cells,
                    "No repository found yet.",
                )
            )
        if len(rows) > SHOWN_REPOSITORIES:
            out.append(f'<p class="empty">{len(rows) - SHOWN_REPOSITORIES} more repositories not shown.</p>')
        return "".join(out)

    def _queue(self) -> str:
        order = {"running": 0, "retrying": 1, "pending": 2}
        held = sorted(self.waiting, key=lambda w: (order.get(w.state, 3), w.since))
        counts = {state: sum(1 for w in self.waiting if w.state == state) for state in order}
        summary = ", ".join(f"{n} {state}" for state, n in counts.items())
        rows = [
            (
                f"waiting-{w.state if w.state in order else 'other'}",
                [
                    f'<span class="job {_e(w.state)}">{_e(w.state)}</span>',
                    f"<code>{_e(w.key)}</code>",
                    _e(w.kind),
                    f"<code>{_e(w.delivery)}</code>",
                    _when(w.since, self.now),
                    str(int(w.tries)),
                ],
            )
            for w in held[:SHOWN_WAITING]
        ]
        out = [f'<p class="summary">{_e(summary)}.</p>']
        if self.queue_problem:
            out.append(f'<p class="problem">{_e(self.queue_problem)}.</p>')
        out.append(
            _table("Jobs waiting or running", ["State", "Key", "Kind", "Delivery", "Since", "Tries"], rows, "Empty.")
        )
        if len(held) > SHOWN_WAITING:
            out.append(f'<p class="empty">{len(held) - SHOWN_WAITING} more not shown.</p>')
        return "".join(out)

    def _jobs(self) -> str:
        rows = [
            (
                f"finished {'failed' if j.action == 'failed' else 'ok'}",
                [
                    _when(j.started + j.seconds, self.now),
                    f"<code>{_e(j.key)}</code>",
                    _e(j.kind),
                    f'<span class="outcome {"failing" if j.action == "failed" else ""}">{_e(j.action)}</span>'
                    + (f" {self._pull_link(j)}" if j.pull else ""),
                    f'<span class="reason">{_e(j.reason)}</span>',
                    _took(j.seconds),
                    f"<code>{_e(j.delivery)}</code>",
                ],
            )
            for j in self.finished
        ]
        labels = ["Finished", "Key", "Kind", "Outcome", "Reason", "Took", "Delivery"]
        return _table("Jobs finished, newest first", labels, rows, "No job has finished yet.")

    def _pull_link(self, job: Finished) -> str:
        return f'<a href="{self._repo_url(job.owner, job.repo, "pull", str(int(job.pull)))}">PR #{int(job.pull)}</a>'

    def _deliveries(self) -> str:
        rows = [
            (
                f"delivery {_e(d.outcome)}",
                [
                    _when(d.at, self.now),
                    f"<code>{_e(d.delivery)}</code>",
                    _e(d.event),
                    _e(d.action),
                    f'<span class="answer {_e(d.outcome)}">{_e(d.outcome)}</span> <small>{d.status}</small>',
                    _e(d.message),
                    _took(d.seconds),
                ],
            )
            for d in reversed(self.deliveries[-SHOWN_DELIVERIES:])
        ]
        labels = ["Received", "Delivery (X-GitHub-Delivery)", "Event", "Action", "Outcome", "Answer", "Took"]
        return _table("Deliveries, newest first", labels, rows, "No delivery since the server started.")

    def render(self) -> str:
        rows = docs_states(self.census, self.finished)
        states = {state: 0 for state in (FAILING, STALE, PULL, CURRENT, UNKNOWN)}
        for row in rows:
            states[row.state] += 1
        installations = {row.installation for row in rows} | set(self.census.installations)
        sweep = (
            "no sweep yet"
            if self.census.started is None
            else (
                f"last complete sweep {_when(self.census.ended, self.now)}"
                if self.census.ended
                else f"sweep started {_when(self.census.started, self.now)}"
            )
        )
        counts = ", ".join(f"{n} {_e(state)}" for state, n in states.items() if n)
        summary = (
            f"{_count(len(installations), 'installation')}, {_count(len(rows), 'repository', 'repositories')}"
            f"{f' ({counts})' if counts else ''}; {sweep}."
        )
        return (
            '<!doctype html><html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<meta http-equiv="refresh" content="{REFRESH}">'
            f"<title>repodoc: {states[FAILING]} failing</title><style>{STYLE}</style></head><body>"
            f'<header><h1>repodoc</h1><p class="summary">{summary}</p>'
            f"<p><small>Shown {_when(self.now, self.now)}; reloads every {REFRESH} s.</small></p></header>"
            f'<main><section id="repositories"><h2>Repositories and their docs</h2>{self._repositories(rows)}</section>'
            f'<section id="queue"><h2>Queue</h2>{self._queue()}</section>'
            f'<section id="jobs"><h2>Recent jobs</h2>{self._jobs()}</section>'
            f'<section id="deliveries"><h2>Recent deliveries</h2>{self._deliveries()}</section></main>'
            "</body></html>\n"
        )


STYLE = """
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0 auto;max-width:80rem;padding:1rem;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;
color:#1f2328;background:#fff}
h1{margin:0 0 .25rem;font-size:1.5rem}h2{margin:1.75rem 0 .5rem;font-size:1.2rem}h3{margin:1rem 0 .4rem;font-size:1rem}
a{color:#0969da}code{font:13px/1.3 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
.scroll{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;width:100%}
caption{position:absolute;left:-9999px}
th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid #d0d7de;vertical-align:top;overflow-wrap:anywhere}
th{background:#f6f8fa;font-weight:600;white-space:nowrap}
.state,.answer,.job{display:inline-block;padding:0 .5rem;border-radius:1rem;font-weight:600;white-space:nowrap}
.state.current,.answer.queued{background:#dafbe1;color:#116329}
.state.pull,.job.running{background:#ddf4ff;color:#0550ae}
.state.stale,.job.retrying,.answer.duplicate{background:#fff8c5;color:#7d4e00}
.state.failing,.answer.refused,.answer.error,.answer.unavailable,.outcome.failing{background:#ffebe9;color:#a40e26}
.outcome.failing{padding:0 .4rem;border-radius:1rem;font-weight:600}
.state.unknown,.answer.ignored,.job.pending{background:#eaeef2;color:#424a53}
.reason{color:#57606a}.empty,.summary{color:#57606a}.problem{color:#a40e26}
small{color:#57606a}
@media (max-width:40rem){
 body{padding:.6rem}
 table,thead,tbody,tr,th,td{display:block}
 thead{position:absolute;left:-9999px}
 tr{border:1px solid #d0d7de;border-radius:.5rem;margin:0 0 .6rem;padding:.3rem .5rem}
 td{border:0;padding:.15rem 0;display:grid;grid-template-columns:6.5rem minmax(0,1fr);gap:.5rem}
 td::before{content:attr(data-label);font-weight:600;color:#57606a;overflow-wrap:anywhere}
 td:has(> div:empty){display:none}
}
""".strip().replace("\n", "")


def setup(app: web.Application, token: str | None, api_url: str, queue: web.AppKey[JobQueue]) -> None:
    """The page's route and state on app: the deliveries' deque, the census, and GET /."""
    from .deliveries import KEPT

    app[DELIVERIES] = deque(maxlen=KEPT)
    app[OPERATOR] = Operator(token or None, web_url(api_url))

    async def page(request: web.Request) -> web.Response:
        return await view(request, request.app[queue])

    app.router.add_get("/", page)
