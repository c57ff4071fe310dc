"""What a bootstrap, a pull request's synchronize and each command cost in requests to GitHub, held under
budgets (counts are deterministic; no timing here). `pytest -s tests/test_request_counts.py` prints them."""

from __future__ import annotations

from collections import Counter

from tests.appworld import FULL, World
from tests.test_pull_requests import command, documented, installed_payload, open_feature

BUDGETS = {  # requests (the archive download excluded: GitHub does not count it), as measured: a regression fails
    "bootstrap, 300 files": 15,
    "pull request opened": 20,
    "pull request synchronize": 16,
    "/docs status": 8,
    "/docs refresh": 12,
    "/docs full": 19,
    "/docs recreate": 18,
    "/docs help": 3,
    "refused command": 5,
}


def api(world: World, start: int) -> list[str]:
    return [f"{r.method} {r.path.split('?')[0]}" for r in world.standin.requests[start:] if "/_codeload/" not in r.path]


def shown(name: str, sent: list[str]) -> int:
    kinds = Counter(
        line.split(" ")[0] + " " + (line.split("/repos/octo-org/demo")[-1].split("/") + ["", ""])[1] for line in sent
    )
    print(f"{name}: {len(sent)} requests ({', '.join(f'{k} {n}' for k, n in sorted(kinds.items()))})")
    assert len(sent) <= BUDGETS[name], sent
    return len(sent)


async def test_request_counts(world: World):
    for n in range(300):
        world.local.write(f"pkg{n % 7}/mod_{n}.py", f'"""Module {n}."""\n\ndef f{n}(x):\n    return x + {n}\n')
    world.local.commit("a project")
    world.push()
    start = len(world.standin.requests)
    await world.deliver("installation", installed_payload())
    await world.settle()
    shown("bootstrap, 300 files", api(world, start))
    world.merge_docs_pull()
    world.pushed = world.local.git("rev-parse", "HEAD").strip()

    start = len(world.standin.requests)
    number = await open_feature(world, {"pkg1/mod_1.py": "def f1(x):\n    return x\n"})
    shown("pull request opened", api(world, start))
    head = world.standin.pull(FULL, number)["head_sha"]
    world.push_feature("feature", {"pkg2/mod_2.py": "def f2(x):\n    return x\n"})
    start = len(world.standin.requests)
    await world.deliver("pull_request", world.pull_payload(number, "synchronize", before=head))
    await world.settle()
    shown("pull request synchronize", api(world, start))

    world.standin.permissions[(FULL, "admin-person")] = "admin"
    for verb in ("status", "refresh", "full", "recreate", "help"):
        start = len(world.standin.requests)
        await command(world, number, f"/docs {verb}", user="admin-person")
        shown(f"/docs {verb}", api(world, start))
    world.standin.users["passer-by"] = "User"
    start = len(world.standin.requests)
    await command(world, number, "/docs full", user="passer-by")
    shown("refused command", api(world, start))
    assert not world.standin.errors


async def test_documented_main_costs_the_same_as_before(world: World):
    """The pull request features add at most one look-up to a push on main (a docs pull request a person closed)."""
    await documented(world)
    world.local.write("pkg/util/helpers.py", "def helper(x):\n    return x * 5\n")
    world.local.commit("tweak")
    start = len(world.standin.requests)
    await world.push_and_deliver()
    await world.settle()
    assert len(api(world, start)) <= 14
