"""Write bot/engine/stdlib.py: the standard library's top-level module names, the union over the Python
versions repodoc supports, frozen in the package so that a page never depends on the Python that made it.

    python3 tools/stdlib_names.py --source "stdlib-list 0.12.0" 3.12=LIST 3.13=LIST 3.14=LIST > bot/engine/stdlib.py

The running interpreter gives its own version's `sys.stdlib_module_names`; each other version's names
come from a file: CPython's `Python/stdlib_module_names.h` (the list `sys.stdlib_module_names` is built
from) or a list of module names one a line, as the `stdlib-list` package ships them
(`stdlib_list/lists/3.12.txt`; dotted submodules are reduced to their top-level name). stdlib-list adds
`__main__` and the test module `xxsubtype` to what `sys.stdlib_module_names` holds (checked on 3.11);
both are left out.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

NOT_IN_SYS = {"__main__", "xxsubtype"}
_HEADER_NAME = re.compile(r'^"([A-Za-z_][A-Za-z0-9_]*)",$')


def names_in(path: Path) -> set[str]:
    """The top-level module names a header or a one-a-line list holds."""
    text = path.read_text()
    if "_Py_stdlib_module_names" in text:
        return {m.group(1) for line in text.splitlines() if (m := _HEADER_NAME.match(line.strip()))}
    return {line.strip().split(".")[0] for line in text.splitlines() if line.strip()} - NOT_IN_SYS


def _key(version: str) -> tuple[int, ...]:
    return tuple(map(int, version.split(".")))


def render(by_version: dict[str, set[str]], sources: dict[str, str]) -> str:
    """The module bot/engine/stdlib.py."""
    union = sorted(set().union(*by_version.values()))
    versions = sorted(by_version, key=_key)
    lines = [
        '"""The standard library\'s top-level module names: the union of `sys.stdlib_module_names` over Python',
        f"{', '.join(versions)}. Pure data, generated once by tools/stdlib_names.py: the engine never asks the",
        "running interpreter, so a page does not depend on which Python made it.",
        "",
        "Sources:",
        *[f"- {v}: {sources[v]}" for v in versions],
        '"""',
        "",
        f"VERSIONS = ({', '.join(repr(v).replace(chr(39), chr(34)) for v in versions)})",
        "",
        "STDLIB_MODULES = frozenset(",
        "    (",
        *[f'        "{name}",' for name in union],
        "    )",
        ")",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    here = f"{sys.version_info.major}.{sys.version_info.minor}"
    by_version = {here: set(sys.stdlib_module_names)}
    sources = {here: f"`sys.stdlib_module_names` of CPython {sys.version.split()[0]}"}
    origin = "a list of names"
    args = list(argv)
    if args[:1] == ["--source"]:
        origin, args = args[1], args[2:]
    for arg in args:
        version, _, path = arg.partition("=")
        by_version[version] = names_in(Path(path))
        kind = "CPython's Python/stdlib_module_names.h" if path.endswith(".h") else f"{origin}, lists/{Path(path).name}"
        sources[version] = kind
    sys.stdout.write(render(by_version, sources))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
