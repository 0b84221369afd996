"""Which files to read, and which functions templates name as Lambda handlers."""
from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pathspec
import yaml

from rewriter.languages import language_for

# Vendored, generated and build folders: never the function's own code.
SKIPPED_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        "node_modules",
        ".venv",
        "venv",
        "site-packages",
        "__pycache__",
        ".aws-sam",
        "cdk.out",
        ".serverless",
        "build",
        "dist",
        ".tox",
        ".nox",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
    }
)

TEMPLATE_NAMES = ("template.yaml", "template.yml", "template.json")
SERVERLESS_NAMES = ("serverless.yml", "serverless.yaml")


def find_root(path: Path) -> Path:
    """The repository holding ``path`` (found by its .git, without running git), else ``path`` itself."""
    start = path if path.is_dir() else path.parent
    for candidate in (start, *start.parents):
        if (candidate / ".git").exists():
            return candidate
    return start


@dataclasses.dataclass
class Discovery:
    root: Path
    files: list[Path]
    entry_points: dict[Path, frozenset[str]]
    problems: list[tuple[Path, str]]


class _Ignore:
    """The .gitignore files met on the way down, each applied to the paths below its folder."""

    def __init__(self, extra: list[str]) -> None:
        self.specs: list[tuple[Path, pathspec.PathSpec]] = []
        self.extra = pathspec.PathSpec.from_lines("gitwildmatch", extra) if extra else None

    def load(self, folder: Path) -> None:
        gitignore = folder / ".gitignore"
        if gitignore.is_file() and not gitignore.is_symlink():
            try:
                lines = gitignore.read_text(encoding="utf-8", errors="replace").splitlines()
            except OSError:
                return
            self.specs.append((folder, pathspec.PathSpec.from_lines("gitwildmatch", lines)))

    def ignored(self, path: Path, root: Path, is_dir: bool) -> bool:
        for folder, spec in self.specs:
            try:
                relative = path.relative_to(folder).as_posix()
            except ValueError:
                continue
            if spec.match_file(relative + ("/" if is_dir else "")):
                return True
        if self.extra is not None:
            relative = path.relative_to(root).as_posix()
            return self.extra.match_file(relative + ("/" if is_dir else ""))
        return False


def discover(paths: list[Path], exclude: list[str] | None = None) -> Discovery:
    resolved = [p.absolute() for p in paths] or [Path.cwd()]
    root = find_root(resolved[0])
    ignore = _Ignore(exclude or [])
    files: list[Path] = []
    templates: list[Path] = []
    problems: list[tuple[Path, str]] = []
    seen: set[Path] = set()
    for path in resolved:
        if path.is_file() or path.is_symlink():
            if path.name in TEMPLATE_NAMES + SERVERLESS_NAMES:
                templates.append(path)
            elif path not in seen:
                seen.add(path)
                files.append(path)
            continue
        for parent in reversed([path, *path.parents]):
            if parent == root or root in parent.parents:
                ignore.load(parent)
        for found in _walk(path, root, ignore, templates):
            if found not in seen:
                seen.add(found)
                files.append(found)
    entry_points: dict[Path, set[str]] = {}
    for template in templates:
        try:
            for module, function in _handlers_in(template):
                entry_points.setdefault(module, set()).add(function)
        except (OSError, ValueError, yaml.YAMLError) as error:
            problems.append((template, f"cannot read template: {str(error).splitlines()[0]}"))
    return Discovery(root, files, {p: frozenset(f) for p, f in entry_points.items()}, problems)


def _walk(top: Path, root: Path, ignore: _Ignore, templates: list[Path]) -> Iterator[Path]:
    for folder, dirs, names in os.walk(top):
        here = Path(folder)
        if here != top:
            ignore.load(here)
        dirs[:] = sorted(
            d
            for d in dirs
            if d not in SKIPPED_DIRS
            and not d.endswith(".egg-info")
            and not (here / d).is_symlink()
            and not ignore.ignored(here / d, root, True)
        )
        for name in sorted(names):
            path = here / name
            if ignore.ignored(path, root, False):
                continue
            if name in TEMPLATE_NAMES + SERVERLESS_NAMES:
                templates.append(path)
            elif language_for(name) is not None:
                yield path


class _CloudFormationLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short-form tags (``!Ref``, ``!GetAtt``, ``!Sub``...) read as plain values."""


def _any_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> object:
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_mapping(node, deep=True)


_CloudFormationLoader.add_multi_constructor("!", _any_tag)


def _load(path: Path) -> dict:
    text = path.read_text(encoding="utf-8-sig")
    data = json.loads(text) if path.suffix == ".json" else yaml.load(text, Loader=_CloudFormationLoader)
    return data if isinstance(data, dict) else {}


def _handlers_in(template: Path) -> Iterator[tuple[Path, str]]:
    data = _load(template)
    base = template.parent
    if template.name in SERVERLESS_NAMES:
        runtime = str((data.get("provider") or {}).get("runtime", "python"))
        for function in (data.get("functions") or {}).values():
            if isinstance(function, dict) and isinstance(function.get("handler"), str):
                runtime_here = str(function.get("runtime", runtime))
                yield from _module_of(base, function["handler"], runtime_here)
        return
    globals_ = ((data.get("Globals") or {}).get("Function") or {}) if isinstance(data.get("Globals"), dict) else {}
    for resource in (data.get("Resources") or {}).values():
        if not isinstance(resource, dict):
            continue
        if resource.get("Type") not in ("AWS::Serverless::Function", "AWS::Lambda::Function"):
            continue
        properties = {**globals_, **(resource.get("Properties") or {})}
        handler = properties.get("Handler")
        code = properties.get("CodeUri", properties.get("Code", "."))
        if not isinstance(handler, str):
            continue
        folder = base / code if isinstance(code, str) and "://" not in code else base
        yield from _module_of(folder, handler, str(properties.get("Runtime", "python")))


def _module_of(folder: Path, handler: str, runtime: str) -> Iterator[tuple[Path, str]]:
    """``src/handlers/notify.main`` or ``pkg.module.fn`` -> (folder/src/handlers/notify.py, main)."""
    if not runtime.startswith("python"):
        return
    module, _, function = handler.rpartition(".")
    if not module or not function:
        return
    directory, _, dotted = module.rpartition("/")
    path = (folder / directory / (dotted.replace(".", "/") + ".py")).absolute()
    yield Path(os.path.normpath(path)), function
