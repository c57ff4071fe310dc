"""What a `repodoc generate` run did: counts for the closing summary and the exit code."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


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
        self.stale += other.stale

    @property
    def exit_code(self) -> int:
        return 1 if (self.failures or self.conflicts or self.stale) else 0


def summary_lines(report: Report) -> list[str]:
    """The closing summary a person reads."""
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
    return lines
