"""The defects a review found in the pull request features, each held by a test: retries half-way, people's
commits, forks' re-runs and hostile text in replies."""

from __future__ import annotations

from tests.appworld import FULL, World
from tests.standin.server import Fault
from tests.test_pull_requests import command, companion, documented, open_feature, reactions, replies, runs


class _Hook(list):
    """A list whose append runs a callback (to inject a fault right after a given effect)."""

    def __init__(self, items, on_append):
        super().__init__(items)
        self.on_append = on_append

    def append(self, item):
        super().append(item)
        self.on_append(item)


# 1: a command job retried after a transient failure half-way posts its reply twice
async def test_command_retried_after_the_final_reaction_failed_replies_once(world: World):
    await documented(world)
    number = await open_feature(world, {"pkg/new.py": "X = 1\n"})
    armed = {"done": False}

    def on_reaction(reaction):
        if reaction["content"] == "eyes" and not armed["done"]:
            armed["done"] = True  # the next reaction POST (rocket) meets a 502: the job is retried
            world.standin.faults.append(Fault("POST", f"/repos/{FULL}/issues/comments/", 502, times=1))

    world.standin.reactions = _Hook(world.standin.reactions, on_reaction)
    before = len(replies(world, number))
    _, comment = await command(world, number, "/docs status")
    assert reactions(world, comment) == ["eyes", "rocket"]
    assert len(replies(world, number)) == before + 1, replies(world, number)[before:]


# 2: a check run left in_progress when the job is retried after a failure between start and finish
async def test_no_check_run_stays_in_progress_after_a_retried_pull_check(world: World):
    await documented(world)
    armed = {"done": False}

    def on_log(entry):
        if entry.get("status") == "in_progress" and not armed["done"]:
            armed["done"] = True  # every PATCH of this try fails (the client tries 4 times): the job is retried
            world.standin.faults.append(Fault("PATCH", f"/repos/{FULL}/check-runs/", 502, times=4))

    world.standin.check_run_log = _Hook(world.standin.check_run_log, on_log)
    number = await open_feature(world, {"pkg/new.py": "X = 1\n"})
    head = world.standin.pull(FULL, number)["head_sha"]
    assert armed["done"]
    statuses = [r["status"] for r in runs(world, head)]
    assert "in_progress" not in statuses, statuses


# 3: the Re-run button on a fork pull request's check does nothing (GitHub sends pull_requests [] and
# head_branch null for a fork's suite)
async def test_rerun_button_on_a_fork_pull_request(world: World):
    await documented(world)
    sha = world.fork_commit({"pkg/forked.py": "def f():\n    return 1\n"})
    pull = world.standin.open_user_pull(FULL, "patch-1", "main", fork="stranger/demo", sha=sha, user="stranger")
    await world.deliver("pull_request", world.pull_payload(pull["number"], "opened"))
    await world.settle()
    first = runs(world, sha)[-1]
    payload = world.check_run_payload(first["id"])
    assert payload["check_run"]["pull_requests"] == [] and payload["check_run"]["check_suite"]["head_branch"] is None
    response = await world.deliver("check_run", payload)
    await world.settle()
    assert response.status == 202 and len(runs(world, sha)) == 2


# 4: a fork's author makes the App post a comment that mentions anyone, through its own config's error text
async def test_a_fork_config_error_in_a_reply_mentions_nobody(world: World):
    await documented(world)
    config = 'languages:\n  "x @octo-org/everyone": true\n'
    sha = world.fork_commit({"pkg/forked.py": "X = 1\n", ".github/repodoc.yml": config})
    pull = world.standin.open_user_pull(FULL, "patch-1", "main", fork="stranger/demo", sha=sha, user="stranger")
    number = pull["number"]
    await world.deliver("pull_request", world.pull_payload(number, "opened"))
    await world.settle()
    _, comment = await command(world, number, "/docs status", user="stranger")  # the author: allowed
    reply = replies(world, number)[-1]
    assert "@octo-org/everyone" in reply  # said, so the author can fix it, but only inside code: no mention
    from markdown_it import MarkdownIt

    tokens = MarkdownIt("commonmark").parse(reply)
    inline = [t.content for t in tokens if t.type == "inline"]
    assert not any("@" in text for text in inline), inline
    assert any("@octo-org/everyone" in t.content for t in tokens if t.type == "fence")


# 5: a person's commit on repodoc/pr-N is force-overwritten once the App closed the companion (docs current)
async def test_a_persons_commit_survives_when_the_companion_was_closed(world: World):
    await documented(world)
    original = "def helper(x):\n    return x * 2\n"
    number = await open_feature(world, {"pkg/util/helpers.py": "def helper(x):\n    return x * 3\n"})
    docs = companion(world, number)
    assert docs is not None
    branch = f"repodoc/pr-{number}"
    mine = world.store.commit(world.store.tree_of(docs["head_sha"]), [docs["head_sha"]], "a person's fix")
    world.store.set_ref(f"refs/heads/{branch}", mine)
    # the author reverts: the branch's docs are current, the App closes the companion and keeps the branch
    head = world.standin.pull(FULL, number)["head_sha"]
    world.push_feature("feature", {"pkg/util/helpers.py": original})
    await world.deliver("pull_request", world.pull_payload(number, "synchronize", before=head))
    await world.settle()
    assert companion(world, number) is None and world.store.resolve(f"refs/heads/{branch}") == mine
    # the author changes it again: the App must not rebuild a branch holding a person's commit
    head = world.standin.pull(FULL, number)["head_sha"]
    world.push_feature("feature", {"pkg/util/helpers.py": "def helper(x):\n    return x * 4\n"})
    await world.deliver("pull_request", world.pull_payload(number, "synchronize", before=head))
    await world.settle()
    assert world.store.resolve(f"refs/heads/{branch}") == mine


async def test_closed_by_person_not_reopened(world: World):
    await documented(world)
    world.local.write("pkg/util/helpers.py", "def helper(x):\n    return x * 9\n")
    world.local.commit("tweak")
    before = world.pushed
    await world.push_and_deliver()
    await world.settle()
    [pull] = world.standin.open_pulls(FULL)
    world.standin.close_pull(FULL, pull["number"])
    await world.deliver("push", world.push_payload(before, world.pushed))  # as the sweep or a redelivery asks
    await world.settle()
    assert world.standin.open_pulls(FULL) == []
    # and a companion closed by a person is not reopened by /docs refresh for the same state
    number = await open_feature(world, {"pkg/new.py": "X = 1\n"})
    docs = companion(world, number)
    world.standin.close_pull(FULL, docs["number"])
    world.standin.permissions[(FULL, "admin-person")] = "admin"
    _, comment = await command(world, number, "/docs refresh", user="admin-person")
    assert companion(world, number) is None


async def test_two_quick_pushes_one_check_run_per_head(world: World):
    await documented(world)
    number = await open_feature(world, {"pkg/new.py": "X = 1\n"})
    h0 = world.standin.pull(FULL, number)["head_sha"]
    world.push_feature("feature", {"pkg/new.py": "X = 2\n"})
    h1 = world.standin.pull(FULL, number)["head_sha"]
    world.push_feature("feature", {"pkg/new.py": "X = 3\n"})
    h2 = world.standin.pull(FULL, number)["head_sha"]
    first = world.pull_payload(number, "synchronize", before=h0)
    first["pull_request"]["head"]["sha"] = h1  # each event names the head it was sent for, as GitHub's do
    await world.deliver("pull_request", first)
    await world.deliver("pull_request", world.pull_payload(number, "synchronize", before=h1))
    await world.settle()
    assert len(runs(world, h2)) == 1, [(r["status"], r["conclusion"]) for r in runs(world, h2)]
    assert runs(world, h1) == []  # superseded before it started: the newer event's job checks the newer head
