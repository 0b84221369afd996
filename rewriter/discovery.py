"""Which files to read, and which functions templates name as Lambda handlers."""
from __future__ import annotations

import dataclasses
import errno
import hashlib
import json
import os
import stat
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import yaml

from codemods._base import NO_TRAITS, FunctionTraits
from rewriter.gitignore import GitIgnore
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
# CloudFormation takes templates of up to 1 MB; SAM and Serverless sources are smaller than what they expand to.
MAX_TEMPLATE_BYTES = 2_000_000
MAX_SETTINGS_BYTES = 1_000_000  # a configuration file
# About 10,000 patterns: each costs ~0.3 ms to compile, and every path is matched against all of them.
MAX_GITIGNORE_BYTES = 256_000
SERVERLESS_NAMES = ("serverless.yml", "serverless.yaml")


def read_small(path: Path, limit: int, follow: bool = True) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes, else ValueError saying why (OSError: unreadable).

    Neither blocks nor reads without end: a FIFO is opened without waiting for a writer and then
    refused, as is a device (``/dev/zero``); at most ``limit`` + 1 bytes are read, even from a file
    that grows. ``follow=False`` refuses a symbolic link.
    """
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0) | (0 if follow else getattr(os, "O_NOFOLLOW", 0))
    try:
        fd = os.open(path, flags)
    except OSError as error:
        if not follow and error.errno == errno.ELOOP:
            raise ValueError("a symbolic link: not read") from None
        raise
    with os.fdopen(fd, "rb") as stream:
        info = os.fstat(stream.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise ValueError("not a regular file (a FIFO, a device or a folder): not read")
        data = stream.read(limit + 1) if info.st_size <= limit else b""
    if info.st_size > limit or len(data) > limit:
        raise ValueError(f"larger than {limit} bytes: not read")
    return data


def _inside(path: Path, root: Path) -> bool:
    real = Path(os.path.realpath(root))
    return path == real or real in path.parents


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
    # What templates say about how the functions of a file are deployed; files without a trait are not listed.
    traits: dict[Path, FunctionTraits] = dataclasses.field(default_factory=dict)
    # The templates below the paths (or named): codemods may edit them too; those above a path are only read.
    templates: list[Path] = dataclasses.field(default_factory=list)


class _Ignore:
    """The .gitignore files met on the way down, each applied to the paths below its folder.

    ``extra`` patterns (the configuration's ``exclude``) apply to paths relative to ``base``.
    """

    def __init__(self, extra: Sequence[str], base: Path | None, root: Path) -> None:
        self.specs: list[tuple[Path, GitIgnore]] = []
        self.read: set[Path] = set()
        self.extra = GitIgnore(extra) if extra else None
        self.base, self.root = base or root, root
        self.folders: dict[Path, bool] = {}  # whether a folder is ignored or inside one that is
        self.problems: list[tuple[Path, str]] = []

    def load(self, folder: Path, gitignore: Path | None = None) -> None:
        gitignore = gitignore or folder / ".gitignore"
        if gitignore in self.read:
            return
        self.read.add(gitignore)
        if os.path.islink(gitignore):
            return  # as git: a .gitignore that is a symbolic link is not read
        try:
            data = read_small(gitignore, MAX_GITIGNORE_BYTES, follow=False)
        except OSError:
            return  # none, or unreadable: as git, it ignores nothing
        except ValueError as error:  # a FIFO, a device, or too large: its patterns do not apply, and that is said
            self.problems.append((gitignore, f"{error}; its patterns do not apply"))
            return
        lines = data.removeprefix(b"\xef\xbb\xbf").decode("utf-8", "surrogateescape").splitlines()
        self.specs.append((folder, GitIgnore(lines)))

    def ignored(self, path: Path, is_dir: bool) -> bool:
        return self._decided(path, is_dir) or self._in_ignored(path.parent)

    def _decided(self, path: Path, is_dir: bool) -> bool:
        # As git does: the deepest .gitignore with a matching pattern decides, so `!keep.py` in a
        # nested file re-includes what a parent folder's .gitignore excluded.
        ignored = False
        for folder, spec in self.specs:
            relative = _relative(path, folder)
            if relative is None or relative == ".":
                continue
            decided = spec.decide(relative, is_dir)
            if decided is not None:
                ignored = decided
        if ignored or self.extra is None:
            return ignored
        relative = _relative(path, self.base)
        return relative is not None and relative != "." and bool(self.extra.decide(relative, is_dir))

    def _in_ignored(self, folder: Path) -> bool:
        """As git: nothing below an ignored folder comes back, whatever a `!` pattern says."""
        known = self.folders.get(folder)
        if known is None:
            parents = folder.parents
            if self.root not in parents and self.base not in parents:
                known = False
            else:
                known = self._in_ignored(folder.parent) or self._decided(folder, True)
            self.folders[folder] = known
        return known


def _relative(path: Path, base: Path) -> str | None:
    try:
        return path.relative_to(base).as_posix()
    except ValueError:
        return None


def _matches(spec: GitIgnore, path: Path, base: Path) -> bool:
    relative = _relative(path, base)
    return relative is not None and spec.match_file(relative)


@dataclasses.dataclass(frozen=True)
class Selection:
    """What the configuration says about the files: globs relative to ``base`` (None: the root)."""

    exclude: Sequence[str] = ()
    include: Sequence[str] = ()  # when given, a file found by the walk is read only if one matches
    handlers: Sequence[tuple[str, str]] = ()  # (glob, function): entry points no template names
    base: Path | None = None


def discover(
    paths: list[Path],
    exclude: Sequence[str] | None = None,
    selection: Selection | None = None,
    cache_dir: Path | None = None,
) -> Discovery:
    """With a ``cache_dir`` (the result cache's), a template unchanged since a run read it is not parsed again."""
    # normpath, not resolve: `../repo` must match the handler paths templates give, but a symbolic
    # link stays a link so that the engine can refuse it.
    resolved = [Path(os.path.normpath(p.absolute())) for p in paths] or [Path.cwd()]
    root = find_root(resolved[0])
    if not (root / ".git").exists() and len(resolved) > 1:
        # Not in a repository: paths are shown relative to the folder the PATHs have in common.
        root = Path(os.path.commonpath([p if p.is_dir() else p.parent for p in resolved]))
    selection = selection or Selection()
    ignore = _Ignore([*(exclude or ()), *selection.exclude], selection.base, root)
    include = GitIgnore(selection.include) if selection.include else None
    ignore.load(root, root / ".git" / "info" / "exclude")  # below every .gitignore, as in git
    files: list[Path] = []
    templates: list[Path] = []
    problems: list[tuple[Path, str]] = []
    seen: set[Path] = set()
    above: set[Path] = set()
    for path in resolved:
        had = len(templates)
        _templates_above(path, root, templates)
        above.update(templates[had:])
        if not path.is_dir():
            if path.name in TEMPLATE_NAMES + SERVERLESS_NAMES:
                templates.append(path)
                above.discard(path)
            elif path not in seen:
                seen.add(path)
                files.append(path)
            continue
        for parent in reversed([path, *path.parents]):
            if parent == root or root in parent.parents:
                ignore.load(parent)
        for found in _walk(path, ignore, templates):
            if include is not None and not _matches(include, found, selection.base or root):
                continue
            if found not in seen:
                seen.add(found)
                files.append(found)
    entry_points: dict[Path, set[str]] = {}
    traits: dict[Path, FunctionTraits] = {}
    known = _TemplateCache(cache_dir, root) if cache_dir is not None else None
    for template in dict.fromkeys(templates):
        try:
            for module, function, deployed in _handlers_in(template, root, known):
                entry_points.setdefault(module, set()).add(function)
                if deployed != NO_TRAITS:
                    known_traits = traits.get(module, NO_TRAITS)
                    traits[module] = _traits(known_traits.snap_start or deployed.snap_start,
                                             known_traits.managed_instances or deployed.managed_instances)
        except (OSError, ValueError, yaml.YAMLError) as error:
            problems.append((template, f"cannot read template: {_why(error)}"))
        except RecursionError:
            problems.append((template, "cannot read template: nested too deeply"))
    if known is not None:
        known.save()
    for glob, function in selection.handlers:
        spec = GitIgnore([glob])
        for path in files:
            if _matches(spec, path, selection.base or root):
                entry_points.setdefault(path, set()).add(function)
    entry = {p: frozenset(f) for p, f in entry_points.items()}
    below = [t for t in dict.fromkeys(templates) if t not in above and t not in dict(problems)
             and (include is None or _matches(include, t, selection.base or root))]
    return Discovery(root, files, entry, ignore.problems + problems, traits, below)


def _traits(snap_start: bool, managed_instances: bool) -> FunctionTraits:
    # One object per value: the engine knows a job's settings by the identity of their objects.
    return _TRAITS[snap_start, managed_instances]


_TRAITS = {(s, m): FunctionTraits(s, m) if s or m else NO_TRAITS for s in (False, True) for m in (False, True)}


def _templates_above(path: Path, root: Path, templates: list[Path]) -> None:
    """Templates in the folders from the root down to ``path``: they name handlers below them."""
    top = path if path.is_dir() else path.parent
    for folder in reversed([top, *top.parents]):
        if folder != root and root not in folder.parents:
            continue
        if folder == path:
            break  # the walk finds this folder's own templates
        for name in TEMPLATE_NAMES + SERVERLESS_NAMES:
            candidate = folder / name
            if candidate.is_file() and candidate not in templates:
                templates.append(candidate)


def _why(error: Exception) -> str:
    if isinstance(error, yaml.MarkedYAMLError) and error.problem_mark is not None:
        where = f"line {error.problem_mark.line + 1}"
        during = f" ({error.context})" if error.context else ""
        return f"{where}: {error.problem}{during}"
    return str(error).splitlines()[0] if str(error) else type(error).__name__


def _walk(top: Path, ignore: _Ignore, templates: list[Path]) -> Iterator[Path]:
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
            and not ignore.ignored(here / d, True)
        )
        for name in sorted(names):
            path = here / name
            if ignore.ignored(path, False):
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
    assert isinstance(node, yaml.MappingNode)  # YAML has no fourth kind of node
    return loader.construct_mapping(node, deep=True)


_CloudFormationLoader.add_multi_constructor("!", _any_tag)


def load_template(path: Path) -> dict:
    text = read_small(path, MAX_TEMPLATE_BYTES).decode("utf-8-sig")
    data = json.loads(text) if path.suffix == ".json" else yaml.load(text, Loader=_CloudFormationLoader)
    return data if isinstance(data, dict) else {}


def as_mapping(value: object) -> dict:
    # Templates are written by hand: a section of an unexpected shape names no handler, it does not crash.
    return value if isinstance(value, dict) else {}


def _handlers_in(
    template: Path, root: Path, known: _TemplateCache | None = None
) -> Iterator[tuple[Path, str, FunctionTraits]]:
    declared = known.get(template) if known is not None else None
    if declared is None:
        declared = list(_declared(template, root))
        if known is not None:
            known.put(template, declared)
    for folder, handler, runtime, snap_start, managed in declared:
        # Which file a handler names depends on the files there now: worked out on every run.
        for module, function in module_of(Path(folder), handler, runtime):
            yield module, function, _traits(snap_start, managed)


def _declared(template: Path, root: Path) -> Iterator[tuple[str, str, str, bool, bool]]:
    """(code folder, handler, runtime, SnapStart, Managed Instances) of each function the template declares: what
    its text alone says."""
    if os.path.islink(template) and not _inside(Path(os.path.realpath(template)), root):
        raise ValueError("a symbolic link to outside the repository: not read")
    data = load_template(template)
    base = template.parent
    if template.name in SERVERLESS_NAMES:
        runtime = str(as_mapping(data.get("provider")).get("runtime", "python"))
        # `functions` may also be a list of `${file(...)}` includes, which name nothing here.
        for function in as_mapping(data.get("functions")).values():
            function = as_mapping(function)
            if isinstance(function.get("handler"), str):
                # Serverless Framework: `snapStart: true` (Lambda's SnapStart on published versions) and
                # `capacityProvider: <name>` (Lambda Managed Instances, from `provider.capacityProviders`).
                snap_start = function.get("snapStart") is True
                managed = bool(function.get("capacityProvider"))
                yield str(base), function["handler"], str(function.get("runtime", runtime)), snap_start, managed
        return
    globals_ = as_mapping(as_mapping(data.get("Globals")).get("Function"))
    for resource in as_mapping(data.get("Resources")).values():
        resource = as_mapping(resource)
        if resource.get("Type") not in ("AWS::Serverless::Function", "AWS::Lambda::Function"):
            continue
        properties = {**globals_, **as_mapping(resource.get("Properties"))}
        handler = properties.get("Handler")
        code = properties.get("CodeUri", properties.get("Code", "."))
        if not isinstance(handler, str):
            continue
        folder = base / code if isinstance(code, str) and "://" not in code else base
        snap_start = as_mapping(properties.get("SnapStart")).get("ApplyOn") == "PublishedVersions"
        managed = bool(properties.get("CapacityProviderConfig"))
        yield str(folder), handler, str(properties.get("Runtime", "python")), snap_start, managed


class _TemplateCache:
    """What each template of one repository declares, by path, valid while its stat is the one recorded.

    One JSON file per repository root under ``<cache>/templates-v1/``, keyed as well by the tool's
    fingerprint (a new reading of templates is a miss); damaged or unreadable: empty. A template whose
    mtime or ctime is within two seconds of now is not recorded (it may change again in the same tick).
    """

    RACY_NS = 2_000_000_000

    def __init__(self, cache_dir: Path, root: Path) -> None:
        from rewriter.cache import read_sealed_json, tool_fingerprint

        self.tool = tool_fingerprint()
        self.path = cache_dir / "templates-v1" / hashlib.sha256(str(root).encode()).hexdigest()
        self.entries: dict[str, dict] = {}
        self.dirty = False
        self.now = time.time_ns()
        fields = read_sealed_json(self.path)
        if isinstance(fields, dict) and fields.get("tool") == self.tool and isinstance(fields.get("templates"), dict):
            self.entries = fields["templates"]

    @staticmethod
    def _stat(path: Path) -> list[int] | None:
        try:
            stat = os.stat(path)
        except OSError:
            return None
        return [stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino, stat.st_dev]

    def get(self, template: Path) -> list[tuple[str, str, str, bool, bool]] | None:
        entry = self.entries.get(str(template))
        if not isinstance(entry, dict) or entry.get("stat") != self._stat(template):
            return None
        try:
            return [(str(folder), str(handler), str(runtime), snap is True, managed is True)
                    for folder, handler, runtime, snap, managed in entry["declared"]]
        except (KeyError, TypeError, ValueError):
            return None

    def put(self, template: Path, declared: list[tuple[str, str, str, bool, bool]]) -> None:
        stat = self._stat(template)
        if stat is None or max(stat[1], stat[2]) >= self.now - self.RACY_NS:
            self.dirty = self.entries.pop(str(template), None) is not None or self.dirty
            return
        self.entries[str(template)] = {"stat": stat, "declared": [list(d) for d in declared]}
        self.dirty = True

    def save(self) -> None:
        if not self.dirty:
            return
        from rewriter.cache import write_sealed_json

        write_sealed_json(self.path, {"tool": self.tool, "templates": self.entries})


def module_of(folder: Path, handler: str, runtime: str) -> Iterator[tuple[Path, str]]:
    """``src/handlers/notify.main`` or ``pkg.module.fn`` -> (folder/src/handlers/notify.py, main)."""
    if runtime.startswith("java"):
        # `com.example.App::handleRequest` (the method defaults to handleRequest), built from the
        # Maven/Gradle source folder under CodeUri; `App$Inner` lives in App.java.
        name, _, method = handler.partition("::")
        relative = name.split("$")[0].replace(".", "/") + ".java"
        for source in ("src/main/java", "src", "."):
            path = Path(os.path.normpath((folder / source / relative).absolute()))
            if path.is_file():
                yield path, method or "handleRequest"
                return
        return
    module, _, function = handler.rpartition(".")
    if not module or not function:
        return
    if runtime.startswith("nodejs"):
        # Node resolves `src/app` to one of these; a TypeScript source is built into it (esbuild, tsc).
        candidates = [Path(os.path.normpath((folder / module).absolute())).with_name(Path(module).name + suffix)
                      for suffix in (".js", ".mjs", ".cjs", ".ts", ".mts", ".cts")]
        for path in candidates:
            if path.is_file():
                yield path, function
        return
    if not runtime.startswith("python"):
        return
    directory, _, dotted = module.rpartition("/")
    path = (folder / directory / (dotted.replace(".", "/") + ".py")).absolute()
    yield Path(os.path.normpath(path)), function
