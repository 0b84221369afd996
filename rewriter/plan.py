"""What to run: the files under some paths, the repository's settings, one job per file."""
from __future__ import annotations

import dataclasses
from pathlib import Path

from rewriter import config
from rewriter.discovery import Discovery, discover
from rewriter.engine import FileJob


@dataclasses.dataclass
class Plan:
    found: Discovery
    settings: config.Settings
    jobs: list[FileJob]

    @property
    def problems(self) -> list[tuple[str, str]]:
        return [(display(path, self.found.root), why) for path, why in self.found.problems]


def plan(paths: list[Path]) -> Plan:
    """Raises config.ConfigError when the repository's settings do not load."""
    paths = paths or [Path(".")]
    found = discover(paths)
    settings = config.load(found.root)
    if settings.exclude:
        found = discover(paths, settings.exclude)
    jobs = [
        FileJob(
            str(path),
            display(path, found.root),
            str(found.root),
            found.entry_points.get(path),
            settings.max_file_bytes,
        )
        for path in found.files
    ]
    return Plan(found, settings, jobs)


def display(path: Path, root: Path) -> str:
    try:
        return path.absolute().relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()
