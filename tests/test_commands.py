"""Slash commands in pull-request comments: what a comment asks (only what GitHub shows as a plain line
of a top-level paragraph), who may run it, and replies that show hostile words literally and ping nobody."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from markdown_it.token import Token

from bot import commands
from bot.commands import AUTHOR_VERBS, VERBS, Command, help_text, parse, refusal, stale_table, status_reply
from bot.engine import md as mdlib

GFM = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])


def asked(body: str) -> list[tuple[str, str]]:
    return [(c.verb, c.typed) for c in parse(body)]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("/docs refresh", [("refresh", "refresh")]),
        ("/docs full\n", [("full", "full")]),
        ("Thanks for the PR!\n\n/docs status\n", [("status", "status")]),
        ("Looks good.\n/docs refresh\nThen merge.", [("refresh", "refresh")]),  # a line inside a paragraph
        ("/docs full\n/docs status", [("full", "full"), ("status", "status")]),
        ("/docs status\n\n/docs full\n", [("status", "status"), ("full", "full")]),  # in the order written
        ("/docs refresh\n/docs status\n/docs refresh", [("refresh", "refresh"), ("status", "status")]),
        ("/docs FULL", [("full", "FULL")]),
        ("/docs Status", [("status", "Status")]),
        ("/docs refresh please, the docs are old", [("refresh", "refresh")]),  # extra words ignored
        ("/docs\tstatus", [("status", "status")]),
        ("/docs   full  ", [("full", "full")]),
        ("   /docs full", [("full", "full")]),  # up to 3 spaces
        ("text\n   /docs full", [("full", "full")]),
        ("/docs", [("help", "")]),
        ("/docs \n", [("help", "")]),
        ("/docs help", [("help", "help")]),
        ("/docs frobnicate", [("help", "frobnicate")]),
        ("/docs frobnicate\n/docs help\n/docs other", [("help", "frobnicate")]),  # help once, first place
        ("/docs refresh.", [("help", "refresh.")]),  # a word is what lies between whitespace
        ("/docs ſtatus", [("help", "ſtatus")]),  # the long s lowercases to itself but casefolds to s: ASCII only
        ("/docs ＦＵＬＬ", [("help", "ＦＵＬＬ")]),
        ("/docs full\r\n/docs status\r\n", [("full", "full"), ("status", "status")]),
        ("/docs full\r/docs status\r", [("full", "full"), ("status", "status")]),
        ("> quoted text\r\n\r\n/docs status\r\n", [("status", "status")]),
        # not commands
        ("", []),
        ("/Docs full", []),
        ("/DOCS full", []),
        ("/docsfoo", []),
        ("/docs/full", []),
        ("/docs\u00a0full", []),  # no-break space is not markdown whitespace
        ("please run /docs full", []),
        ("please run\n\nthe /docs full command", []),
        ("> /docs full", []),
        ("> I ran\n> /docs full\n\nbut nothing happened", []),
        ("> quoted text\n/docs full", []),  # a lazy continuation line: GitHub shows it inside the quote
        (">> /docs full", []),
        ("```\n/docs full\n```", []),
        ("~~~\n/docs full\n~~~", []),
        ("````markdown\n```\n/docs full\n```\n````", []),
        ("~~~~~ text info string\n/docs full\n~~~~~", []),
        ("```\n/docs full", []),  # an unclosed fence runs to the end
        ("Here:\n\n    /docs full\n", []),  # indented code block
        ("text\n    /docs full", []),  # 4 spaces on a continuation line: not at a line's start as markdown says
        ("\t/docs full", []),
        ("`/docs full`", []),
        ("see `\n/docs full\n` above", []),  # a code span across lines
        ("``` inline ``x\n/docs full``", []),
        ("<!-- /docs full -->", []),
        ("<!--\n/docs full\n-->", []),
        ("text <!--\n/docs full\n--> text", []),  # inline HTML comment across lines
        ("<details>\n/docs full\n</details>", []),
        ("<span title='\n/docs full'>x</span>", []),
        ("- /docs full", []),
        ("* /docs status\n* /docs full", []),
        ("1. /docs full", []),
        ("- [ ] /docs full", []),
        ("# /docs full", []),
        ("/docs full\n---", []),  # a setext heading
        ("/docs full | x\n--- | ---", []),  # a table
        ("*see\n/docs full*", []),  # inside emphasis
        ("~~old\n/docs full~~", []),  # inside strikethrough
        ("[link\n/docs full](https://example.com)", []),
        ("\\/docs full", []),  # escaped
        ("&#47;docs full", []),  # renders as /docs but was not typed so
    ],
)
def test_what_a_comment_asks(body: str, expected: list[tuple[str, str]]) -> None:
    assert asked(body) == expected


def test_a_realistic_review_comment() -> None:
    body = (
        "> Could you refresh the docs?\n"
        "> /docs full\n"
        "\n"
        "Sure. The old run was:\n"
        "\n"
        "```console\n"
        "$ /docs recreate\n"
        "/docs recreate\n"
        "```\n"
        "\n"
        "<!-- /docs recreate -->\n"
        "\n"
        "Running it now:\n"
        "/docs refresh\n"
        "/docs status\n"
    )
    assert parse(body) == (Command("refresh", "refresh"), Command("status", "status"))


def test_unknown_names_the_word_only_when_it_is_no_verb() -> None:
    assert Command("help", "frob").unknown == "frob"
    assert Command("help", "").unknown == ""
    assert Command("help", "HELP").unknown == ""
    assert Command("full", "Full").unknown == ""
    assert parse("/docs ſtatus")[0].unknown == "ſtatus"


LONG_COMMENTS = {
    "unknown words": "/docs zzz\n" * 6554,
    "one verb": "/docs full\n" * 5958,
    "code spans across lines": "`\n/docs full\n" * 5000,
    "brackets": "[" * 65_536,
    "emphasis": "*a" * 32_768,
    "nested quotes": "> " * 32_768,
    "angle brackets": "<" * 65_536,
    "backticks": "`" * 65_536,
    "nested lists": "- " * 32_768,
    "one long word": "/docs " + "x" * 65_530,
    "growing words": "\n".join(f"/docs {'x' * i}" for i in range(360)),
    "every marker used": "".join(chr(c) for c in range(0xE000, 0xF900)) + "\n/docs full\n" * 5000,
}


@pytest.mark.parametrize("body", LONG_COMMENTS.values(), ids=LONG_COMMENTS.keys())
def test_long_comments_parse(body: str) -> None:
    found = parse(body[: commands.BODY_MAX])
    assert all(c.verb in VERBS for c in found)


def test_nothing_past_githubs_limit_is_read() -> None:
    assert parse("x" * commands.BODY_MAX + "\n\n/docs full") == ()
    assert parse("x" * (commands.BODY_MAX - 20) + "\n\n/docs full") == (Command("full", "full"),)


def test_a_paragraph_holding_every_private_use_character_still_finds_what_it_can() -> None:
    # no marker is left: the paragraph yields nothing rather than guessing, and other paragraphs still count
    hoard = "".join(chr(c) for c in range(0xE000, 0xF900))
    assert parse(hoard + "\n/docs full\n\n/docs status") == (Command("status", "status"),)


@given(st.text())
@settings(max_examples=300)
def test_parse_never_raises(body: str) -> None:
    found = parse(body)
    assert all(c.verb in VERBS for c in found)
    assert len({c.verb for c in found}) == len(found)


MARKDOWNISH = st.text(alphabet=st.sampled_from(list("/docs fulDOCS`~>*_[]()<!-|#=\n \t\\&;:1.")), max_size=300)


@given(MARKDOWNISH)
@settings(max_examples=500)
def test_parse_never_raises_on_markdown_soup(body: str) -> None:
    found = parse(body)
    assert all(c.verb in VERBS for c in found)
    assert all(c.verb == "help" or c.typed.lower() == c.verb for c in found)


LINE = st.text(st.characters(blacklist_characters="\r\n", blacklist_categories=("Cs",)), max_size=40)
COMMAND_LINE = st.builds(
    lambda pad, verb, case, rest: " " * pad + "/docs " + (verb.upper() if case else verb) + rest,
    st.integers(0, 3),
    st.sampled_from(VERBS),
    st.booleans(),
    st.sampled_from(["", " ", " now please", "\t"]),
)


def _fence(lines: list[str]) -> str:
    return mdlib.fence("\n".join(lines), "python").rstrip("\n")


def _tildes(lines: list[str]) -> str:
    run = max((len(r) for r in "".join(c if c == "~" else " " for c in "\n".join(lines)).split()), default=0)
    ticks = "~" * max(3, run + 1)
    return f"{ticks} any info `string`\n" + "\n".join(lines) + f"\n{ticks}"


WRAPPERS = {
    "backtick fence": _fence,
    "tilde fence": _tildes,
    "quote": lambda lines: "\n".join("> " + line for line in lines),
    "indented": lambda lines: "intro\n\n" + "\n".join("    " + line for line in lines),
    "html comment": lambda lines: "<!--\n" + "\n".join(lines) + "\n-->",
}


@given(
    st.lists(LINE, max_size=8),
    st.data(),
    COMMAND_LINE,
    st.sampled_from(sorted(WRAPPERS)),
)
@settings(max_examples=400)
def test_a_command_is_found_outside_a_quote_or_code_and_never_inside(
    lines: list[str], data: st.DataObject, line: str, wrapper: str
) -> None:
    if wrapper == "html comment":
        lines = [text.replace("-->", "") for text in lines]
    place = data.draw(st.integers(0, len(lines)))
    inside = WRAPPERS[wrapper]([*lines[:place], line, *lines[place:]])
    found = parse(inside)
    assert found == ()
    expected = parse(line)
    assert len(expected) == 1 and expected[0].verb == line.split()[1].lower()
    assert parse(inside + "\n\n" + line + "\n") == expected
    assert parse(line + "\n\n" + inside) == expected


# who may run what


@pytest.mark.parametrize(
    ("permission", "role_name", "role"),
    [
        ("admin", "admin", "admin"),
        ("write", "maintain", "maintain"),
        ("write", "write", "write"),
        ("read", "triage", "triage"),
        ("read", "read", "read"),
        ("none", "", "none"),
        ("write", "docs-editor", "write"),  # a custom role: its base permission decides
        ("read", "auditor", "read"),
        ("", "", "none"),
        ("owner", "superuser", "none"),  # a permission GitHub does not report is no permission
    ],
)
def test_access(permission: str, role_name: str, role: str) -> None:
    assert commands.access(permission, role_name) == role


WRITERS = [("admin", "admin"), ("write", "maintain"), ("write", "write"), ("write", "docs-editor")]
OTHERS = [("read", "triage"), ("read", "read"), ("none", ""), ("read", "auditor"), ("none", "none")]


@pytest.mark.parametrize(("permission", "role_name"), WRITERS)
@pytest.mark.parametrize("verb", VERBS)
@pytest.mark.parametrize("is_author", [True, False])
def test_writers_run_everything(permission: str, role_name: str, verb: str, is_author: bool) -> None:
    assert commands.may_run(verb, permission, role_name, is_author)
    assert refusal(verb, permission, role_name, is_author) == ""


@pytest.mark.parametrize(("permission", "role_name"), OTHERS)
@pytest.mark.parametrize("verb", VERBS)
@pytest.mark.parametrize("is_author", [True, False])
def test_others(permission: str, role_name: str, verb: str, is_author: bool) -> None:
    allowed = verb == "help" or (is_author and verb in AUTHOR_VERBS)
    text = refusal(verb, permission, role_name, is_author)
    assert commands.may_run(verb, permission, role_name, is_author) is allowed
    assert (text == "") is allowed
    if not allowed:
        assert f"`/docs {verb}`" in text
        assert "write" in text  # names the permission needed
        assert ("author" in text) is (is_author or verb in AUTHOR_VERBS)
        assert parse(text) == ()


def test_a_refusal_names_the_role_held() -> None:
    assert "your role here is `triage`" in refusal("full", "read", "triage", False)
    assert "your role here is `none`" in refusal("refresh", "none", "", False)
    hostile = refusal("full", "read", "@org/team <b>`x`</b>" + "y" * 100, False)
    assert _pings(hostile) == []
    assert "y" * 100 not in hostile


def test_an_unknown_verb_needs_write() -> None:
    assert refusal("explode", "read", "read", True) != ""
    assert refusal("explode", "write", "write", False) == ""


@pytest.mark.parametrize(
    ("login", "user_type", "bot"),
    [
        ("repodoc[bot]", "Bot", True),
        ("dependabot[bot]", "Bot", True),
        ("renovate[BOT]", "User", True),
        ("ci-robot", "Bot", True),
        ("octocat", "User", False),
        ("bot", "User", False),
        ("botanist", "Organization", False),
        ("[bot]x", "User", False),
    ],
)
def test_is_bot(login: str, user_type: str, bot: bool) -> None:
    assert commands.is_bot(login, user_type) is bot


# replies


def _walk(tokens: list[Token]) -> list[Token]:
    out: list[Token] = []
    for token in tokens:
        out.append(token)
        out += _walk(token.children or [])
    return out


def _pings(markdown: str) -> list[str]:
    """What a reply renders as text (outside code) or HTML that could mention someone or run as HTML."""
    bad = []
    for token in _walk(GFM.parse(markdown)):
        if token.type in ("html_inline", "html_block") or (token.type == "text" and "@" in token.content):
            bad.append(token.content)
    return bad


def test_help_lists_every_command_on_one_line_each() -> None:
    text = help_text()
    for verb in VERBS:
        assert sum(line.startswith(f"- `/docs {verb}`:") for line in text.splitlines()) == 1
    assert "discarding commits" in text and "upgrade" in text
    assert "is not a repodoc command" not in text
    assert parse(text) == ()  # quoting or pasting the help runs nothing
    assert _pings(text) == []
    assert "@" not in text


@pytest.mark.parametrize(
    "word",
    ["frob", "`", "``x``", "<script>alert(1)</script>", "@someone", "@org/team", "**bold**", "[x](javascript:1)", "|"],
)
def test_help_names_an_unknown_word_literally(word: str) -> None:
    text = help_text(word)
    first = GFM.parseInline(text.splitlines()[0])[0].children or []
    assert first[0].type == "code_inline" and first[0].content == word
    assert _pings(text) == []
    assert parse(text) == ()


def test_help_clips_a_long_word() -> None:
    text = help_text("z" * 10_000)
    assert len(text) < 2_000
    assert "z" * commands.WORD_SHOWN not in text and "…" in text


def test_a_command_typed_with_a_hostile_word_gets_a_harmless_reply() -> None:
    (command,) = parse("/docs <img src=x onerror=alert(1)>@everyone")
    assert command.verb == "help"
    assert _pings(help_text(command.unknown)) == []


def _table_rows(markdown: str) -> list[list[str]]:
    rows: list[list[str]] = []
    tokens = GFM.parse(markdown)
    for i, token in enumerate(tokens):
        if token.type == "tr_open":
            cells = []
            j = i + 1
            while tokens[j].type != "tr_close":
                if tokens[j].type == "inline":
                    children = tokens[j].children or []
                    cells.append("".join(c.content for c in children))
                j += 1
            rows.append(cells)
    return rows


def test_stale_table_rows_and_counts() -> None:
    text = stale_table(["b/x_docs.md", "a/index.md"], ["c/old_kw.md"])
    assert text.splitlines()[0] == "3 stale pages: 2 to write, 1 to delete."
    assert _table_rows(text) == [
        ["page", "change"],
        ["a/index.md", "write"],
        ["b/x_docs.md", "write"],
        ["c/old_kw.md", "delete"],
    ]
    assert stale_table(["a.md"], []).splitlines()[0] == "1 stale page: 1 to write."
    assert stale_table([], []) == "No page is stale.\n"


def test_stale_table_caps_the_rows() -> None:
    written = [f"p/{i:04}.md" for i in range(1234)]
    text = stale_table(written, ["z.md"])
    assert len(_table_rows(text)) == 1 + 50
    assert "… and 1,185 more." in text
    assert text.splitlines()[0] == "1,235 stale pages: 1,234 to write, 1 to delete."
    assert len(_table_rows(stale_table(written, [], limit=3))) == 4
    assert "p/0000.md" not in stale_table(written, [], limit=0)
    assert "… and 1,234 more." in stale_table(written, [], limit=0)
    assert len(_table_rows(stale_table(written[:50], []))) == 51
    assert "more" not in stale_table(written[:50], [])


HOSTILE_PATHS = [
    "a|b.md",
    "`tick`.md",
    "``x``|y",
    "<script>alert(1)</script>.md",
    "@someone/notes.md",
    "[x](http://evil).md",
    "*em*_u_.md",
    "\\back\\slash.md",
    " lead and trail ",
    "#1.md",
]


def test_stale_table_escapes_paths() -> None:
    text = stale_table(HOSTILE_PATHS, ["@org/team.md"])
    rows = _table_rows(text)
    assert rows[0] == ["page", "change"]
    assert sorted(row[0] for row in rows[1:]) == sorted([*HOSTILE_PATHS, "@org/team.md"])  # shown as written
    assert all(len(row) == 2 for row in rows)
    assert _pings(text) == []


def test_stale_table_clips_a_long_path() -> None:
    text = stale_table(["d/" * 2000 + "x.md"], [])
    assert len(text) < 1_000 and "…" in text


def test_status_reply_up_to_date() -> None:
    text = status_reply([], [], "docs", local_command="repodoc generate --since " + "a" * 40)
    assert text == "The docs in `docs` are up to date.\n"


def test_status_reply_stale_with_pull_and_local_command() -> None:
    base = "0123456789abcdef0123456789abcdef01234567"
    text = status_reply(
        ["docs/a.md"],
        [],
        "docs",
        pull_url="https://github.com/o/r/pull/12",
        local_command=f"repodoc generate --since {base}",
    )
    assert text.startswith("The docs in `docs` are stale.\n")
    assert stale_table(["docs/a.md"], []) in text
    assert "](https://github.com/o/r/pull/12)" in text
    assert f"```bash\nrepodoc generate --since {base}\n```" in text
    assert parse(text) == ()
    assert _pings(text) == []


def test_status_reply_caps_through_the_table() -> None:
    text = status_reply([f"p{i}.md" for i in range(500)], [], "docs")
    assert len(_table_rows(text)) == 51 and "… and 450 more." in text


def test_status_reply_escapes_what_it_is_given() -> None:
    text = status_reply(
        ["@a.md"],
        ["<b>.md"],
        "@docs <script>",
        pull_url="https://github.com/o/r/pull/1) [x](javascript:alert(1)",
    )
    assert _pings(text) == []
    links = [t for t in _walk(GFM.parse(text)) if t.type == "link_open"]
    assert len(links) == 1
    href = str(links[0].attrGet("href"))
    assert href.startswith("https://github.com/o/r/pull/1%29%20") and not set(href) & set("() <>")
    text = status_reply(["a.md"], [], "docs", pull_url="javascript:alert(1)")
    assert not [t for t in _walk(GFM.parse(text)) if t.type == "link_open"]
