"""The cyclic collector is paused while a batch of files renders (bot/collector.py), and only then."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

from bot import collector
from bot.engine import parse_config, render_file
from bot.github.sync import render_batch
from bot.local import _analyse_chunk


def _python_files(count: int) -> list[tuple[str, bytes]]:
    """Files large enough that rendering them allocates far more than one collection's threshold."""
    body = "".join(
        f"def f{n}(a, b=1, *c, d: int = 2, **e) -> None:\n    return [a(x) for x in c]\n" for n in range(200)
    )
    return [(f"pkg/m{n}.py", body.encode()) for n in range(count)]


@pytest.fixture
def collections() -> list[int]:
    """The generations of the collections started while the test runs."""
    started: list[int] = []

    def note(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started.append(info["generation"])

    gc.callbacks.append(note)
    yield started
    gc.callbacks.remove(note)


def test_a_local_chunk_renders_without_collections_and_resumes_them(tmp_path: Path, collections: list[int]) -> None:
    for path, data in _python_files(8):
        (tmp_path / path).parent.mkdir(exist_ok=True)
        (tmp_path / path).write_bytes(data)
    assert gc.isenabled()
    batch, _ = _analyse_chunk(str(tmp_path), [p for p, _ in _python_files(8)], parse_config(b"")[0], None)
    assert [error for _, _, error in batch] == [""] * 8
    assert all(result is not None and result.summary.documented for _, result, _ in batch)
    # tens of thousands of allocations, and at most the one pass that resuming the collector starts
    assert len(collections) <= 1
    assert gc.isenabled()
    garbage = [object()]
    garbage.append(garbage)  # a cycle: only the collector frees it
    del garbage
    kept = [[] for _ in range(3 * max(gc.get_threshold()[0], 1))]  # live containers: past the threshold
    assert collections and kept  # it runs again


def test_the_apps_render_batch_pauses_the_collector_too(collections: list[int]) -> None:
    config = parse_config(b"")[0]
    for path, data in _python_files(4):  # the same work unpaused: the collector runs again and again
        render_file(path, data, config)
    unpaused = len(collections)
    assert unpaused > 20
    collections.clear()
    results = render_batch(_python_files(4), config)
    assert all(not isinstance(r, str) and r.summary.documented for r in results)
    assert len(collections) <= 1
    assert gc.isenabled()


def test_paused_restores_the_collector_as_it_found_it() -> None:
    with pytest.raises(RuntimeError), collector.paused():
        assert not gc.isenabled()
        raise RuntimeError
    assert gc.isenabled()
    gc.disable()
    try:
        with collector.paused(), collector.paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # left as the caller had it
    finally:
        gc.enable()
