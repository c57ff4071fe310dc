"""Slash commands in pull-request comments (`/docs refresh`, ...): which a comment asks for, who may run
them, and the replies. Pure: text in, text out, no I/O and no clock, so the webhook handler that acts on
a comment and the tests share one reading of it.

Contract (others script against it, so it is stable):

- A command is a line of a top-level paragraph, as GitHub renders the comment, that starts (after up to
  3 spaces) with `/docs` followed by a space, a tab or the end of the line. `/docs` is lowercase only;
  the word after it is matched case-insensitively (ASCII only, so no look-alike letter makes a verb).
- Not a command: a line in a block quote (a reply quoting an earlier command must not run it again,
  and that includes a line GitHub shows inside the quote by lazy continuation), in a fenced or indented
  code block, in an HTML block or comment, in a table or a heading, in a list item, or one whose start
  lies inside inline code, inline HTML, a link or emphasis that began on an earlier line. List items do
  not count because a list is how people (and repodoc's own help) describe commands, not run them: a
  command is typed alone on its line.
- `/docs` alone, or followed by a word that is not a verb, asks for help (`Command.unknown` is that
  word, for the reply to name). Words after the first are ignored: `/docs refresh please` refreshes.
- Several commands in one comment are each acted on once, in the order written; a verb asked for again
  is acted on at its first place only.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import quote

from markdown_it import MarkdownIt
from markdown_it.token import Token

from .engine import md

VERBS = ("refresh", "full", "status", "recreate", "help")
AUTHOR_VERBS = frozenset({"refresh", "status"})  # what a pull request's author may run on it without write access
OPEN_VERBS = frozenset({"help"})  # anyone may ask: a refusal would say less than the help does
WRITE_ROLES = frozenset({"admin", "maintain", "write"})
ROLES = ("admin", "maintain", "write", "triage", "read")  # GitHub's base roles, as role_name reports them
BODY_MAX = 65_536  # GitHub's limit on a comment's body: nothing past it is read
WORD_SHOWN = 40  # characters of an unknown word or a custom role name a reply shows
PATH_SHOWN = 300  # characters of one page path a table shows: 50 rows stay far below GitHub's 65,535
SHOWN = 50  # rows of a stale table

# GitHub renders comments as GFM: CommonMark with tables and strikethrough (whose `~~` can span lines);
# HTML on, so an HTML block or comment is one and not text.
_MD = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
_COMMAND = re.compile(r" {0,3}/docs(?=[ \t]|$)")
_WORDS = re.compile(r"[ \t]+")
_BREAKS = frozenset({"softbreak", "hardbreak"})
_URL_SAFE = ":/?#[]@!$&'*+,;=%~"  # kept in a linked URL; spaces, parentheses and angle brackets are encoded
_PUA = range(0xE000, 0xF900)  # private use: plain text to every inline rule, and not in real comments


@dataclass(frozen=True)
class Command:
    """One command as a comment asks it."""

    verb: str  # one of VERBS
    typed: str  # the word after /docs as written ('' for a bare /docs), for the reply to quote

    @property
    def unknown(self) -> str:
        """The word typed when it is no verb (the help reply names it), else ''."""
        return "" if self.verb != "help" or _verb(self.typed) == "help" else self.typed


def parse(body: str) -> tuple[Command, ...]:
    """The commands a comment's body asks for, in order, each verb once (see the module's contract).

    The body is read as markdown-it reads it (the first BODY_MAX characters, line endings normalised),
    so whatever GitHub shows as quoted, code or HTML is never a command. Linear in the body's length."""
    text = body[:BODY_MAX].replace("\r\n", "\n").replace("\r", "\n").replace("\0", "\ufffd")
    env: dict[str, object] = {}
    tokens = _MD.parse(text, env)
    seen: dict[str, Command] = {}
    for opening, inline in zip(tokens, tokens[1:], strict=False):
        if opening.type != "paragraph_open" or opening.level != 0 or inline.type != "inline":
            continue
        for line in _command_lines(inline.content, env):
            words = _WORDS.split(line.strip(" \t"), 2)
            typed = words[1] if len(words) > 1 else ""
            verb = _verb(typed) or "help"
            seen.setdefault(verb, Command(verb, typed))
    return tuple(seen.values())


def _verb(word: str) -> str:
    """The verb a word names ('' for none): ASCII letters only, in any case."""
    lowered = word.lower() if word.isascii() else ""
    return lowered if lowered in VERBS else ""


def _command_lines(content: str, env: dict[str, object]) -> list[str]:
    """The lines of one paragraph's source that begin a rendered line with plain `/docs`.

    A line can look like a command in the source yet not be one as rendered: it may continue a code
    span, an HTML tag, a link or emphasis opened on an earlier line, and `\\/docs` or `&#47;docs` render
    as `/docs` without being typed as it. So each candidate's `/` is swapped for a marker (a character the
    paragraph lacks, its line number, a second such character) that every inline rule treats as plain
    text, the paragraph is parsed again once, and a candidate counts only when its marker opens a rendered
    line outside any inline construct."""
    lines = content.split("\n")
    candidates = [i for i, line in enumerate(lines) if _COMMAND.match(line)]
    if not candidates:
        return []
    used = set(content)
    unused = (chr(c) for c in _PUA if chr(c) not in used)
    start, end = next(unused, ""), next(unused, "")
    if not end:  # a paragraph holding every private-use character: no marker left, so no command
        return []
    marked = list(lines)
    for i in candidates:
        marked[i] = lines[i].replace("/", f"{start}{i}{end}", 1)
    found: list[str] = []
    children: list[Token] = []
    for token in _MD.parseInline("\n".join(marked), env):
        children += token.children or []
    for previous, child in zip([None, *children], children, strict=False):
        opens_line = previous is None or previous.type in _BREAKS
        if opens_line and child.type == "text" and child.level == 0 and child.content.startswith(start):
            found.append(lines[int(child.content[1 : child.content.index(end)])])
    return found


def is_bot(login: str, user_type: str) -> bool:
    """Whether a comment's author is a bot (its comments are never read: two bots must not talk forever)."""
    return user_type.lower() == "bot" or login.lower().endswith("[bot]")


def access(permission: str, role_name: str) -> str:
    """The role GitHub's collaborator-permission answer grants: its role_name when that is one of the five
    base roles (`permission` reports maintain as write and triage as read), else its permission (a custom
    role's base), else 'none'."""
    if role_name in ROLES:
        return role_name
    return permission if permission in ("admin", "write", "read") else "none"


def may_run(verb: str, permission: str, role_name: str, is_author: bool) -> bool:
    """Whether someone may run a verb on a pull request: write, maintain or admin run every command;
    the pull request's author runs AUTHOR_VERBS on it; anyone may ask for help."""
    if verb in OPEN_VERBS or access(permission, role_name) in WRITE_ROLES:
        return True
    return is_author and verb in AUTHOR_VERBS


def refusal(verb: str, permission: str, role_name: str, is_author: bool) -> str:
    """The polite reply to a command someone may not run, naming what it needs ('' when they may)."""
    if may_run(verb, permission, role_name, is_author):
        return ""
    role = access(permission, role_name)
    shown = md.code(md.shown(role_name, WORD_SHOWN)) if role_name and role_name not in ROLES else md.code(role)
    command = md.code(f"/docs {verb}")
    needs = "write access to this repository (the write, maintain or admin role)"
    if verb in AUTHOR_VERBS:
        needs = f"the pull request's author or {needs}"
    text = f"Sorry, {command} needs {needs}; your role here is {shown}."
    if is_author:
        text += f" As the pull request's author you may run {_listed(sorted(AUTHOR_VERBS))}."
    return text + " Anyone may ask for `/docs help`.\n"


def _listed(verbs: Sequence[str]) -> str:
    """`/docs a` and `/docs b`."""
    spans = [md.code(f"/docs {verb}") for verb in verbs]
    return spans[0] if len(spans) == 1 else ", ".join(spans[:-1]) + " and " + spans[-1]


_HELP = {
    "refresh": "update the companion docs pull request (on a branch's docs pull request: rebuild it now)",
    "full": "regenerate every page, for example after a repodoc upgrade",
    "status": "reply with the pages that are stale",
    "recreate": "rebuild the docs branch from scratch, discarding commits people added to it",
    "help": "this text",
}


def help_text(unknown: str = "") -> str:
    """The commands, one line each. With unknown (a word that is no verb), it first says so, the word
    shown literally in a code span (cut to WORD_SHOWN characters), so no word renders as HTML or pings."""
    lines = []
    if unknown:
        lines += [f"{md.code(md.shown(unknown, WORD_SHOWN))} is not a repodoc command.", ""]
    lines += ["repodoc answers these commands, each typed alone at the start of a line of a comment:", ""]
    lines += [f"- {md.code(f'/docs {verb}')}: {_HELP[verb]}" for verb in VERBS]
    lines += [
        "",
        f"People with write access may run every command; a pull request's author may run "
        f"{_listed(sorted(AUTHOR_VERBS))} on it.",
    ]
    return "\n".join(lines) + "\n"


def _count(n: int, one: str, many: str) -> str:
    return f"{n:,} {one if n == 1 else many}"


def stale_table(written: Sequence[str], deleted: Sequence[str], limit: int = SHOWN) -> str:
    """Stale pages as a count line and a Markdown table (page | change), sorted by path, at most limit
    rows, then how many more. Shared by the status reply and the check run's summary, so both read alike.
    Each path is a code span (cut to PATH_SHOWN characters): no name renders as markup or mentions anyone."""
    rows = sorted([(path, "write") for path in written] + [(path, "delete") for path in deleted])
    if not rows:
        return "No page is stale.\n"
    parts = [f"{n:,} to {change}" for n, change in ((len(written), "write"), (len(deleted), "delete")) if n]
    counts = f"{_count(len(rows), 'stale page', 'stale pages')}: {', '.join(parts)}."
    shown = rows[: max(0, limit)]
    lines = [counts, ""]
    if shown:
        lines += ["| page | change |", "| --- | --- |"]
        lines += [f"| {md.cell_code(md.shown(path, PATH_SHOWN))} | {change} |" for path, change in shown]
    if len(rows) > len(shown):
        lines += ["", f"… and {len(rows) - len(shown):,} more."]
    return "\n".join(lines) + "\n"


def status_reply(
    written: Sequence[str], deleted: Sequence[str], docs_dir: str, *, pull_url: str = "", local_command: str = ""
) -> str:
    """The reply to `/docs status`: whether the docs folder is in step, the stale pages (stale_table),
    the companion docs pull request when there is one, and, when there is something to do and repodoc
    cannot push it (a fork's pull request), the command that writes the pages locally."""
    folder = md.code(docs_dir)
    stale = bool(written or deleted)
    lines = [f"The docs in {folder} are stale." if stale else f"The docs in {folder} are up to date.", ""]
    if stale:
        lines += [stale_table(written, deleted)]
    if pull_url:
        lines += [f"Companion docs pull request: {_link('the docs pull request', pull_url)}.", ""]
    if stale and local_command:
        lines += ["To bring them up to date yourself, run this in a checkout of the branch and push the result:", ""]
        lines += [md.fence(local_command, "bash")]
    return "\n".join(lines).rstrip("\n") + "\n"


def _link(text: str, url: str) -> str:
    """A link to an http(s) URL (characters that would end a Markdown link percent-encoded); any other
    URL is shown as code, never linked."""
    if not url.startswith(("https://", "http://")):
        return md.code(url)
    return f"[{md.escape(text)}]({quote(url, safe=_URL_SAFE)})"
