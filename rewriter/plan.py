"""What to run: the files under some paths, the repository's settings, one job per file."""
from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from codemods._base import NO_TRAITS
from rewriter import config
from rewriter.discovery import Discovery, Selection, discover, find_root
from rewriter.engine import FileJob
from rewriter.gitignore import compiled
from rewriter.jsproject import Projects


@dataclasses.dataclass
class Plan:
    found: Discovery
    settings: config.Settings
    jobs: list[FileJob]
    excluded_all: bool = False  # the walk found files, and the settings' exclude left none of them
    paths: tuple[Path, ...] = ()  # as given

    @property
    def problems(self) -> list[tuple[str, str]]:
        return [(display(path, self.found.root), why) for path, why in self.found.problems]

    def empty_paths(self) -> list[str]:
        """The paths given under which no file is read (a folder of nothing the tool reads, all excluded)."""
        found = [Path(os.path.normpath(f.absolute())) for f in self.found.files]
        empty = []
        for path in self.paths:
            where = Path(os.path.normpath(path.absolute()))
            if not any(f == where or where in f.parents for f in found):
                empty.append(f"{path.as_posix()}: no file here that lambda-rewriter reads")
        return empty

    def unmatched_includes(self) -> list[str]:
        base = self.settings.base or self.found.root
        files = [display(path, base) for path in self.found.files]
        where = f"{self.settings.source.name}: " if self.settings.source else ""
        return [f"{where}include {glob!r} matches no file here" for glob in self.settings.include
                if not any(compiled((glob,)).match_file(f) for f in files)]

    @property
    def warnings(self) -> list[str]:
        """Settings that select nothing, or were capped: a typo in a glob must not turn a CI run silently green."""
        base = self.settings.base or self.found.root
        files = [display(path, base) for path in self.found.files]
        where = f"{self.settings.source.name}: " if self.settings.source else ""
        said = list(self.settings.warnings)
        if self.excluded_all:
            said.append(f"{where}exclude {list(self.settings.exclude)!r} leaves none of the files here")
        for key, globs in (("include", self.settings.include), ("handlers", [g for g, _ in self.settings.handlers])):
            for glob in globs:
                if not any(compiled((glob,)).match_file(f) for f in files):
                    said.append(f"{where}{key} {glob!r} matches no file here")
        return said


def plan(
    paths: list[Path],
    config_file: Path | None = None,
    settings: config.Settings | None = None,
    cache_dir: Path | None = None,
    exclude: tuple[str, ...] | None = None,
    extend_exclude: tuple[str, ...] = (),
) -> Plan:
    """Settings from ``settings``, else ``config_file``, else the file found above the paths.

    ``cache_dir``: the result cache's folder, where discovery keeps what unchanged templates declare.

    Raises config.ConfigError when the settings do not load.
    """
    paths = paths or [Path(".")]
    if settings is None:
        common = _common(paths)
        root = find_root(Path(os.path.normpath(paths[0].absolute())))
        settings = config.load(common, config_file, root if (root / ".git").exists() else common)
    if exclude is not None or extend_exclude:  # the command line's, relative to where the settings' are
        settings = dataclasses.replace(
            settings, exclude=(settings.exclude if exclude is None else tuple(exclude)) + tuple(extend_exclude))
    selection = Selection(settings.exclude, settings.include, settings.handlers, settings.base)
    found = discover(paths, selection=selection, cache_dir=cache_dir)
    excluded_all = not found.files and bool(settings.exclude) and bool(
        discover(paths, selection=dataclasses.replace(selection, exclude=())).files)
    root_text = str(found.root)  # one string for every job
    prefix = root_text.rstrip(os.sep) + os.sep
    projects = Projects(found.root, found.files)
    jobs = [
        FileJob(
            str(path),
            _below(str(path), prefix) or display(path, found.root),
            root_text,
            found.entry_points.get(path),
            settings.max_file_bytes,
            settings.options,
            projects.project_for(path),
            found.traits.get(path, NO_TRAITS),
        )
        for path in [*found.files, *found.templates]
    ]
    return Plan(found, settings, jobs, excluded_all, tuple(paths))


def _common(paths: list[Path]) -> Path:
    folders = [p if p.is_dir() else p.parent for p in (Path(os.path.normpath(p.absolute())) for p in paths)]
    return Path(os.path.commonpath(folders))


def _below(path: str, prefix: str) -> str | None:
    """``display`` of an absolute path below the root, without pathlib: thousands of files per run."""
    if path.startswith(prefix) and len(path) > len(prefix):
        return path[len(prefix):].replace(os.sep, "/")
    return None


def display(path: Path, root: Path) -> str:
    try:
        return path.absolute().relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()
