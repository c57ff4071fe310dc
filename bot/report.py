"""What a `repodoc generate` run did: counts for the closing summary and the exit code."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field

_PLAIN = re.compile(r"[ -~]*")
_UNPRINTABLE = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}  # controls, formats, surrogates, unassigned, separators


@dataclass
class Report:
    """What a run did, for the closing summary and the exit code."""

    documented: int = 0
    not_documented: dict[str, str] = field(default_factory=dict)  # path -> reason
    written: int = 0
    deleted: int = 0
    unchanged: int = 0
    conflicts: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    mode: str = "full"
    seconds: float = 0.0

    def merge(self, other: Report) -> None:
        """Add the page counts of a worker's report."""
        self.written += other.written
        self.unchanged += other.unchanged
        self.conflicts += other.conflicts
        self.failures += other.failures
        self.stale += other.stale

    @property
    def exit_code(self) -> int:
        return 1 if (self.failures or self.conflicts or self.stale) else 0


def printable(text: str) -> str:
    """text with every control, format or undecodable character escaped, so none reaches a terminal."""
    return text if _PLAIN.fullmatch(text) else "".join(map(_printable_char, text))


def _printable_char(char: str) -> str:
    if unicodedata.category(char) not in _UNPRINTABLE:
        return char
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # an undecodable byte of a file name (surrogateescape)
        return f"\\x{code - 0xDC00:02x}"
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def summary_lines(report: Report) -> list[str]:
    """The closing summary a person reads, every line printable."""
    lines = [f"repodoc: {report.mode} run: {report.documented} files documented"]
    kinds = Counter(reason.split(" (")[0] for reason in report.not_documented.values())
    for kind, n in sorted(kinds.items()):
        lines.append(f"  not documented: {n} ({kind})")
        lines += [
            f"    {path}: {reason}"
            for path, reason in sorted(report.not_documented.items())
            if reason.split(" (")[0] == kind
        ]
    if report.mode != "check":
        lines.append(f"  pages written: {report.written}, deleted: {report.deleted}, unchanged: {report.unchanged}")
    for conflict in report.conflicts:
        lines.append(f"  conflict: {conflict}")
    for failure in report.failures:
        lines.append(f"  failed: {failure}")
    if report.mode == "check":
        lines.append("  docs are up to date" if not report.stale else f"  stale or missing: {len(report.stale)}")
        lines += [f"    {rel}" for rel in report.stale]
    lines.append(f"  time: {report.seconds:.2f} s")
    return [printable(line) for line in lines]
