"""Property: whatever a pull request from a branch of the repository goes through (pushes to its branch,
pushes to main and merges of main's docs pull request, slash commands by an admin or by its author, merges of
its companion pull request into its branch, closing and reopening), once the App has settled:

- at most one companion pull request (head `repodoc/pr-<N>`, base the pull request's branch) is open, and
  none while the pull request is closed;
- merging the open companion into the branch (a scratch merge, as GitHub's merge button makes it; no ref
  moves) gives a commit whose docs are what `repodoc generate` writes for it;
- while the pull request is open, the latest `repodoc` check run on its head is `success` exactly when the
  head's docs already are what `repodoc generate` writes for it, else `neutral`;
- every request the App made and every answer it got conformed to GitHub's OpenAPI description.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, currently_in_test_context, event, given, settings
from hypothesis import strategies as st

from tests.appworld import FULL, World
from tests.standin.gitstore import ZEROS, GitError
from tests.test_app_property import app_on_loopback
from tests.test_pull_requests import branch_docs, documented, runs

BRANCH = "feature"
AUTHOR, ADMIN = "octocat", "admin-person"
PATHS = ["pkg/core.py", "pkg/util/helpers.py", "pkg/feature.py", "pkg/util/extra.py", "pkg/sub/deep.py", "tools.py"]
CONTENTS = [
    "def helper(x):\n    return x * 3\n",
    '"""Greetings."""\n\n\nclass Greeter:\n    """Says hello."""\n\n    def greet(self, name):\n'
    '        return f"hello {name}"\n',
    "import subprocess\n\n\ndef run(cmd):\n    return subprocess.run(cmd, shell=True, check=False)\n",
    "from .core import run\n\nVERSION = (1, 2, 0)\n",
    '"""Settings, read from the environment."""\nimport os\n\nDEBUG = os.environ.get("DEBUG") == "1"\n',
    "def parse(text: str) -> list[str]:\n    return [w for w in text.split() if w]\n",
]

edits = st.lists(
    st.tuples(st.sampled_from(["write", "write", "delete"]), st.sampled_from(PATHS), st.sampled_from(CONTENTS)),
    min_size=1,
    max_size=3,
)
push_feature = st.tuples(st.just("feature"), edits)
push_main = st.tuples(st.just("main"), edits, st.booleans())  # the boolean: merge main's docs pull request
user = st.sampled_from([AUTHOR, ADMIN])
verb = st.sampled_from(["refresh", "full", "status", "recreate", "help"])
afterwards = st.one_of(
    push_feature,
    push_main,
    st.tuples(st.just("command"), verb, user),
    st.just(("merge companion",)),
    st.just(("close or reopen",)),
)
# a few pushes, the pull request opened (once), then anything
histories = st.tuples(
    st.lists(st.one_of(push_feature, push_main), max_size=2),
    edits,
    st.lists(afterwards, min_size=1, max_size=5),
)

Step = tuple[Any, ...]


def seen(what: str) -> None:
    """Count what an example reached (`--hypothesis-show-statistics`); nothing outside a Hypothesis test."""
    if currently_in_test_context():
        event(what)


class Scenario:
    """One repository with the App installed, and what the test knows of its pull request."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.number = 0  # the pull request, once opened
        self.counter = 0
        self.generated: dict[str, dict[str, bytes]] = {}  # by tree id: generate depends on the tree alone

    # -- acting as people and GitHub do ------------------------------------------------------------------
    def edit(self, changes: list[tuple[str, str, str]]) -> None:
        """Apply the edits to the local clone's checked-out branch; something always changes."""
        local = self.world.local
        for kind, path, text in changes:
            tracked = path in set(local.git("ls-files", "-z").split("\0"))
            if kind == "write":
                local.write(path, text)
            elif tracked:
                local.remove(path)
        self.counter += 1
        local.git("add", "-A")
        if not local.git("status", "--porcelain").strip():
            local.write("pkg/counter.py", f'"""How often this changed."""\n\nCOUNT = {self.counter}\n')

    def pull(self) -> dict[str, Any]:
        pull = self.world.standin.pull(FULL, self.number)
        assert pull is not None
        return pull

    async def deliver(self, event: str, payload: dict[str, Any], settle: bool = True) -> None:
        response = await self.world.deliver(event, payload)
        assert response.status in (200, 202), (event, response.status, await response.text())
        if settle:
            await self.world.settle()

    async def push_feature(self, changes: list[tuple[str, str, str]]) -> None:
        """A person's push to the pull request's branch (made from main when new, else from the branch as the
        stand-in has it, companion merges included): GitHub sends `push`, and `synchronize` to an open pull request."""
        world, local = self.world, self.world.local
        before = self.pull()["head_sha"] if self.number else ""
        if world.store.resolve(f"refs/heads/{BRANCH}") is None:
            local.git("checkout", "-q", "-B", BRANCH, "main")
        else:
            local.git("fetch", "-q", str(world.store.path), f"+refs/heads/{BRANCH}:refs/heads/{BRANCH}")
            local.git("checkout", "-q", BRANCH)
        try:
            self.edit(changes)
            local.commit(f"feature {self.counter}")
            old = world.store.resolve(f"refs/heads/{BRANCH}") or ZEROS
            new = local.git("rev-parse", "HEAD").strip()
            local.git("push", "-q", "--force", str(world.store.path), f"HEAD:refs/heads/{BRANCH}")
            pushed = world.push_payload(old, new)
        finally:
            local.git("checkout", "-q", "main")
        pushed["ref"] = f"refs/heads/{BRANCH}"
        await self.deliver("push", pushed, settle=False)  # GitHub sends both at once
        if self.number and self.pull()["state"] == "open":
            await self.deliver("pull_request", world.pull_payload(self.number, "synchronize", before=before), False)
        await world.settle()

    async def push_main(self, changes: list[tuple[str, str, str]], merge: bool) -> None:
        """A push to main (delivered); then, maybe, main's docs pull request merged (and that push delivered)."""
        world = self.world
        self.edit(changes)
        world.local.commit(f"main {self.counter}")
        await self.deliver("push", world.push_payload(world.pushed, world.push()))
        world.pushed = world.local.git("rev-parse", "HEAD").strip()
        docs = [p for p in world.standin.open_pulls(FULL) if p["head"] == "repodoc/main"]
        if merge and docs:
            before = world.pushed
            world.merge_pull(docs[0]["number"])  # the local clone follows main
            world.pushed = world.local.git("rev-parse", "HEAD").strip()
            await self.deliver("push", world.push_payload(before, world.pushed))
            await self.deliver("pull_request", world.pull_payload(docs[0]["number"], "closed"))

    async def open(self, changes: list[tuple[str, str, str]]) -> None:
        if self.world.store.resolve(f"refs/heads/{BRANCH}") is None:
            await self.push_feature(changes)
        pull = self.world.standin.open_user_pull(FULL, BRANCH, "main", user=AUTHOR)
        self.number = int(pull["number"])
        await self.deliver("pull_request", self.world.pull_payload(self.number, "opened"))

    async def command(self, verb: str, user: str) -> None:
        comment = self.world.standin.add_comment(FULL, self.number, f"/docs {verb}", user=user)
        await self.deliver("issue_comment", self.world.comment_payload(comment, self.number))

    async def merge_companion(self) -> None:
        """The companion merged into the branch (GitHub's merge button): GitHub sends `push` for the branch,
        `closed` for the companion and `synchronize` for the pull request's new head."""
        found = self.companions()
        if not found:
            return
        world = self.world
        before = self.pull()["head_sha"]
        old = world.store.resolve(f"refs/heads/{BRANCH}") or ZEROS
        merge = world.standin.merge_pull(FULL, found[0]["number"])
        world.local.git("fetch", "-q", str(world.store.path), f"+refs/heads/{BRANCH}:refs/heads/{BRANCH}")
        pushed = world.push_payload(old, merge)
        pushed["ref"] = f"refs/heads/{BRANCH}"
        await self.deliver("push", pushed, settle=False)  # GitHub sends these three at once
        await self.deliver("pull_request", world.pull_payload(found[0]["number"], "closed"), settle=False)
        if self.pull()["state"] == "open":
            await self.deliver("pull_request", world.pull_payload(self.number, "synchronize", before=before), False)
        await world.settle()

    async def close_or_reopen(self) -> None:
        pull = self.pull()
        if pull["state"] == "open":
            self.world.standin.close_pull(FULL, self.number)
            await self.deliver("pull_request", self.world.pull_payload(self.number, "closed"))
        else:  # as the Reopen button does: its head follows its branch again
            pull.update(state="open", closed_at=None)
            self.world.standin._touch(pull)
            await self.deliver("pull_request", self.world.pull_payload(self.number, "reopened"))

    async def step(self, step: Step) -> None:
        kind = step[0]
        if kind == "feature":
            await self.push_feature(step[1])
        elif kind == "main":
            await self.push_main(step[1], step[2])
        elif kind == "command":
            await self.command(step[1], step[2])
        elif kind == "merge companion":
            await self.merge_companion()
        elif kind == "close or reopen":
            await self.close_or_reopen()
        else:
            raise AssertionError(step)

    # -- the property ------------------------------------------------------------------------------------
    def companions(self) -> list[dict[str, Any]]:
        return [p for p in self.world.standin.open_pulls(FULL) if p["head"] == f"repodoc/pr-{self.number}"]

    def generate(self, sha: str) -> dict[str, bytes]:
        tree = self.world.store.tree_of(sha)
        if tree not in self.generated:
            self.generated[tree] = self.world.generated_tree(sha)
        return self.generated[tree]

    def check(self, where: str) -> None:
        world = self.world
        assert world.standin.errors == [], "\n\n".join(world.standin.errors)
        if not self.number:
            return
        found = self.companions()
        assert len(found) <= 1, f"{where}: {len(found)} companions open"
        pull = self.pull()
        if pull["state"] != "open":
            seen("the pull request closed")
            assert not found, f"{where}: a companion is open for a closed pull request"
            return
        if found:
            docs = found[0]
            assert docs["base"] == BRANCH, f"{where}: the companion is into {docs['base']}"
            head = world.store.resolve(f"refs/heads/{BRANCH}")
            assert head is not None
            try:
                out = world.store.git("merge-tree", "--write-tree", head, docs["head_sha"]).decode()
            except GitError as exc:
                raise AssertionError(f"{where}: the companion does not merge cleanly: {exc}") from exc
            merged = world.store.commit(out.split()[0], [head, docs["head_sha"]], "scratch merge")  # no ref moves
            assert branch_docs(world, merged) == self.generate(merged), f"{where}: the companion merges to wrong docs"
            seen("a companion open")
        head = pull["head_sha"]
        current = branch_docs(world, head) == self.generate(head)
        made = runs(world, head)
        assert made, f"{where}: no check run on the head {head}"
        latest = made[-1]
        assert latest["status"] == "completed", f"{where}: the check run is {latest['status']}"
        wanted = "success" if current else "neutral"
        assert latest["conclusion"] == wanted, f"{where}: check {latest['conclusion']}, docs current: {current}"
        seen(f"check {wanted}")


async def scenario(tmp: Path, history: tuple[list[Step], list[tuple[str, str, str]], list[Step]]) -> None:
    async with app_on_loopback(tmp) as world:
        world.standin.permissions[(FULL, ADMIN)] = "admin"
        await documented(world)
        run = Scenario(world)
        before, opening, after = history
        for n, step in enumerate(before):
            await run.step(step)
            run.check(f"step {n} {step[0]}")
        await run.open(opening)
        run.check("opened")
        for n, step in enumerate(after):
            await run.step(step)
            run.check(f"step {len(before) + 1 + n} {step}")


@settings(
    max_examples=int(os.environ.get("REPODOC_PULL_EXAMPLES", "8")),
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(histories)
def test_companions_and_check_runs_follow_the_pull_request(history):
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(scenario(Path(tmp), history))
