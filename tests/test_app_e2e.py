"""End to end through real HTTP: signed webhook → `repodoc serve` app → GitHub stand-in.

After every sync the docs branch's docs/ must equal, byte for byte, what `repodoc generate`
writes for the pushed commit.
"""

from __future__ import annotations

import json

from tests.appworld import FULL, World

SOURCES = {
    "README.md": "# Demo\n\nA demo project.\n",
    "pkg/__init__.py": '"""The demo package."""\nfrom .core import run\n',
    "pkg/core.py": "import subprocess\n\ndef run():\n    return subprocess.run('ls', shell=True)\n",
    "pkg/util/helpers.py": "def helper(x):\n    return x * 2\n",
    "src/main.c": '#include "lib.h"\nint main(void) { return 0; }\n',
}


def seed(world: World) -> None:
    for path, text in SOURCES.items():
        world.local.write(path, text)
    world.local.commit("initial")


async def test_first_push_opens_one_pull_request_with_the_generated_tree(world: World):
    seed(world)
    response = await world.push_and_deliver()
    assert response.status == 202
    await world.settle()
    pulls = world.standin.open_pulls(FULL)
    assert [(p["head"], p["base"]) for p in pulls] == [("repodoc/main", "main")]
    assert world.docs_branch_tree() == world.generated_tree(world.pushed)
    commit_posts = [json.loads(r.body) for r in world.standin.requests if r.path.endswith("/git/commits")]
    assert commit_posts and all("author" not in c and "committer" not in c for c in commit_posts)
    assert commit_posts[0]["parents"] == [world.pushed]
