"""Settings: ``[tool.lambda-rewriter]`` in pyproject.toml or a lambda-rewriter.toml, then command-line flags.

The file is found as black finds its own: from the folder the paths have in common, up to the first
folder holding ``lambda-rewriter.toml`` or a ``pyproject.toml`` with a ``[tool.lambda-rewriter]``
table, stopping at the repository root (a folder with ``.git``), else at the user's home, else at
the filesystem root, and never looking into a folder that other users may write to (``/tmp``). One
folder holding both is refused: nobody should have to remember which one wins.

A repository's configuration is not trusted with the machine: ``jobs`` is capped at the CPUs there
are and ``max-file-bytes`` at ``MAX_FILE_BYTES``, each with a warning (``-j`` is the user's own and
is taken as given).
"""
from __future__ import annotations

import dataclasses
import difflib
import os
import re
import sys
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

from codemods import all_codemods, select
from codemods._base import NO_OPTIONS, ClientSpec, Options, ReconnectSpec
from codemods.catalog import CONSTRUCTORS, LIVENESS, WithExit
from rewriter import engine
from rewriter.discovery import MAX_SETTINGS_BYTES, read_small
from rewriter.engine import DEFAULT_MAX_BYTES

CONFIG_NAME = "lambda-rewriter.toml"
PYPROJECT = "pyproject.toml"
TABLE = "[tool.lambda-rewriter]"
# LibCST needs about 700 bytes of memory and 70 ms of CPU per byte of a large file (a 4.9 MB file: 3.3 GB, 5.5 min).
MAX_FILE_BYTES = 2_000_000


class ConfigError(Exception):
    pass


@dataclasses.dataclass(frozen=True)
class Settings:
    codemods: tuple[str, ...] = ()
    disable: tuple[str, ...] = ()
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    handlers: tuple[tuple[str, str], ...] = ()  # (gitignore-style glob, entry point)
    options: Options = NO_OPTIONS
    max_file_bytes: int = DEFAULT_MAX_BYTES
    jobs: int | None = None
    # For `branch` only, and only from a --config file outside the repository (rewriter.git says why).
    test_command: str | None = None
    source: Path | None = None  # the file these came from
    base: Path | None = None  # the folder the globs are relative to; None: the repository root
    warnings: tuple[str, ...] = ()  # values the file set that were capped

    def selected(self, named: tuple[str, ...] = ()) -> tuple[str, ...]:
        """The codemods to run: those named on the command line, else the configured ones less ``disable``.

        ``()`` means every codemod that is not opt-in, as for ``engine.run``.
        """
        if named:
            return tuple(named)
        if not self.disable:
            return self.codemods
        chosen = self.codemods or tuple(dict.fromkeys(impl.NAME for impl in select(())))
        return tuple(name for name in chosen if name not in self.disable)


_KEYS = (
    "codemods", "disable", "include", "exclude", "handlers", "clients", "reconnect", "init", "max-file-bytes", "jobs",
    "test-command", "runtime",
)
# sdk-v3: the supported Node.js runtimes a template's functions may move to.
RUNTIME_CHOICES = ("nodejs22.x", "nodejs24.x")
# hoist-clients: module scope per construction where that cannot fail at import ("auto"), always, or never.
INIT_CHOICES = ("auto", "eager", "lazy")
_DOTTED = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+\Z")
_FUNCTION = re.compile(r"[A-Za-z_$][\w$]*\Z")
_CLIENT_KEYS = ("name", "cache-keys", "service-arg")
_RECONNECT_KEYS = ("like", "error", "check", "with-exit")


def find(paths: list[Path]) -> Path | None:
    """The configuration file that governs ``paths``, or None."""
    folders = [p if p.is_dir() else p.parent for p in (Path(os.path.normpath(p.absolute())) for p in paths)]
    start = Path(os.path.commonpath(folders)) if folders else Path.cwd()
    for folder in searched(start):
        own, pyproject = folder / CONFIG_NAME, folder / PYPROJECT
        has_own = own.is_file()
        if not has_own and (own.is_symlink() or own.exists()):
            raise ConfigError(f"{shown(own)}: not a readable file (a folder, or a link to nothing); remove or fix it")
        has_table = pyproject.is_file() and _table_of(pyproject) is not None
        if has_own and has_table:
            raise ConfigError(
                f"{shown(folder)}: both {CONFIG_NAME} and {PYPROJECT} {TABLE} configure lambda-rewriter; keep one"
            )
        if has_own or has_table:
            return own if has_own else pyproject
    return None


def searched(start: Path) -> list[Path]:
    """The folders ``find`` looks in, nearest first: up to the repository root, else the home, else ``/``.

    A folder others may write to (``/tmp``) ends the search before it: a file planted there by
    another user (``exclude = ["**"]``) would turn a check green.
    """
    try:
        home: Path | None = Path.home()
    except RuntimeError:  # no HOME and no password entry
        home = None
    folders = []
    for folder in (start, *start.parents):
        try:
            if folder.stat().st_mode & 0o002:
                break
        except OSError:
            break
        folders.append(folder)
        if (folder / ".git").exists() or folder == home:
            break
    return folders


def load(start: Path, config_file: Path | None = None, root: Path | None = None) -> Settings:
    """The settings for the files under ``start``: from ``config_file`` when given, else the one found.

    Globs are relative to the file's folder when it holds ``start`` (a file found always does), else
    (a ``--config`` file kept elsewhere: in ``ci/``, outside the repository) to ``root``.
    """
    path = config_file if config_file is not None else find([start])
    if path is None:
        return Settings()
    path = Path(os.path.normpath(path.absolute()))
    start = Path(os.path.normpath(start.absolute()))
    holds = path.parent == start or path.parent in start.parents
    return read(path, path.parent if holds else (root or start))


def read(path: Path, base: Path | None = None) -> Settings:
    """One configuration file: a pyproject.toml's ``[tool.lambda-rewriter]``, or any other file's top level."""
    name = shown(path)
    if path.name == PYPROJECT:
        table = _table_of(path)
        if table is None:
            raise ConfigError(f"{name}: no {TABLE} table in it")
        settings = parse_table(table, name, TABLE)
    else:
        settings = parse_table(_toml(path), name)
    return dataclasses.replace(settings, source=path, base=base)


def parse_table(table: dict, source: str, table_name: str = "") -> Settings:
    """Settings from a parsed table; errors name ``source`` (a file) and the key, under ``table_name``."""
    return _Reader(source, f"{table_name} " if table_name else "").settings(table)


def _toml(path: Path) -> dict:
    try:
        # A byte order mark (Windows editors) is allowed.
        return tomllib.loads(read_small(path, MAX_SETTINGS_BYTES).decode("utf-8-sig"))
    except UnicodeDecodeError as error:
        raise ConfigError(f"{shown(path)}: not UTF-8 text (byte {error.object[error.start]:#04x} at offset "
                          f"{error.start}): save it as UTF-8") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{shown(path)}: not valid TOML: {error}") from None
    except RecursionError:
        raise ConfigError(f"{shown(path)}: not valid TOML: arrays or tables nested too deeply") from None
    except OSError as error:
        raise ConfigError(f"{shown(path)}: cannot read: {error.strerror or error}") from None
    except ValueError as error:  # not a regular file, or larger than a configuration has reason to be
        raise ConfigError(f"{shown(path)}: {error}") from None


def _table_of(pyproject: Path) -> dict | None:
    try:
        text = read_small(pyproject, MAX_SETTINGS_BYTES)
    except OSError:
        return None
    except ValueError as error:
        raise ConfigError(f"{shown(pyproject)}: {error}") from None
    if b"lambda-rewriter" not in text:
        return None  # not ours: a pyproject.toml we need not parse, even a broken one
    tool = _toml(pyproject).get("tool", {})
    table = tool.get("lambda-rewriter") if isinstance(tool, dict) else None
    if table is not None and not isinstance(table, dict):
        raise ConfigError(f"{shown(pyproject)}: {TABLE} must be a table")
    return table


def shown(path: Path) -> str:
    """A path as the user would type it: relative to where they stand when it is below."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


class _Reader:
    def __init__(self, source: str, prefix: str) -> None:
        self.source, self.prefix = source, prefix
        self.warnings: list[str] = []

    def fail(self, key: str, what: str) -> ConfigError:
        return ConfigError(f"{self.source}: {self.prefix}{key} {what}")

    def unknown(self, key: str, known: tuple[str, ...]) -> ConfigError:
        return ConfigError(f"{self.source}: unknown setting {self.prefix}{key} (known: {', '.join(known)})")

    def settings(self, table: dict) -> Settings:
        if not self.prefix and isinstance(table.get("tool"), dict) and "lambda-rewriter" in table["tool"]:
            raise ConfigError(f"{self.source}: holds a [tool.lambda-rewriter] table: name the file pyproject.toml, "
                              "or put the settings at the top level")
        for key in table:
            if key not in _KEYS:
                raise self.unknown(key, _KEYS)
        codemods = self.codemod_names("codemods", table.get("codemods", []))
        disable = self.codemod_names("disable", table.get("disable", []))
        clients = self.clients(table.get("clients", []))
        reconnect = self.reconnect(table.get("reconnect", {}))
        both = {c.qualname for c in clients} & {r.qualname for r in reconnect}
        if both:
            raise self.fail("reconnect", f"names {min(both)}, which clients names too: it is one or the other")
        settings = Settings(
            codemods=codemods,
            disable=disable,
            include=self.globs("include", table.get("include", [])),
            exclude=self.globs("exclude", table.get("exclude", [])),
            handlers=self.handlers(table.get("handlers", [])),
            options=Options(clients, reconnect, self.choice("init", table.get("init", "auto"), INIT_CHOICES),
                            self.choice("runtime", table["runtime"], RUNTIME_CHOICES) if "runtime" in table else None),
            max_file_bytes=self.capped("max-file-bytes", table.get("max-file-bytes", DEFAULT_MAX_BYTES),
                                       MAX_FILE_BYTES, "the most lambda-rewriter reads"),
            jobs=self.capped("jobs", table["jobs"], engine.default_workers(), "the CPUs here") if "jobs" in table
            else None,
            test_command=self.command("test-command", table["test-command"]) if "test-command" in table else None,
            warnings=tuple(self.warnings),  # last: the values above add to them
        )
        if disable and not settings.selected():
            raise self.fail("disable", "leaves no codemod to run")
        return settings

    def choice(self, key: str, value: Any, choices: tuple[str, ...]) -> str:
        if value not in choices:
            raise self.fail(key, f"must be one of {', '.join(map(repr, choices))}, not {value!r}")
        return value

    def strings(self, key: str, value: Any) -> tuple[str, ...]:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(key, "must be a list of strings")
        return tuple(value)

    def globs(self, key: str, value: Any) -> tuple[str, ...]:
        patterns = self.strings(key, value)
        for i, pattern in enumerate(patterns):
            self.below(f"{key}[{i}]", pattern)
        return patterns

    def below(self, key: str, pattern: str) -> None:
        """Globs match paths below the configuration's folder: one reaching above it would match nothing."""
        if ".." in pattern.lstrip("!").split("/"):
            raise self.fail(key, f"must not reach above the folder globs are relative to (no \"..\"), not {pattern!r}")

    def command(self, key: str, value: Any) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, f"must be a shell command (a non-empty string), not {value!r}")
        return value

    def capped(self, key: str, value: Any, most: int, what: str) -> int:
        """A number the file sets, which may not ask the machine for more than ``most``."""
        number = self.whole(key, value)
        if number > most:
            self.warnings.append(f"{self.source}: {self.prefix}{key} = {number} is more than {what} ({most}): "
                                 f"{most} is used")
        return min(number, most)

    def whole(self, key: str, value: Any) -> int:
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise self.fail(key, f"must be a whole number of at least 1, not {value!r}")
        return value

    def codemod_names(self, key: str, value: Any) -> tuple[str, ...]:
        names = self.strings(key, value)
        known = all_codemods()
        unknown = [name for name in names if name not in known]
        if unknown:
            close = difflib.get_close_matches(unknown[0], list(known), n=1, cutoff=0.6)
            hint = f"did you mean {close[0]}?" if close else f"known: {', '.join(known)}"
            raise self.fail(key, f"names unknown codemod {', '.join(unknown)} ({hint})")
        return names

    def dotted(self, key: str, value: Any, example: str) -> str:
        if not isinstance(value, str) or not _DOTTED.match(value):
            raise self.fail(key, f'must be a dotted name like "{example}", not {value!r}')
        return value

    def handlers(self, value: Any) -> tuple[tuple[str, str], ...]:
        found = []
        for i, entry in enumerate(self.strings("handlers", value)):
            glob, _, function = entry.rpartition(":")
            if not glob or not _FUNCTION.match(function):
                raise self.fail(f"handlers[{i}]", f'must be "GLOB:FUNCTION" like "src/jobs/*.py:run", not {entry!r}')
            self.below(f"handlers[{i}]", glob)
            found.append((glob, function))
        return tuple(found)

    def clients(self, value: Any) -> tuple[ClientSpec, ...]:
        if not isinstance(value, list):
            raise self.fail("clients", 'must be a list of dotted names or tables like {name = "mycompany.aws.client"}')
        specs = []
        for i, entry in enumerate(value):
            key = f"clients[{i}]"
            if isinstance(entry, dict):
                specs.append(self.client_table(key, entry))
            else:
                specs.append(ClientSpec(self.dotted(key, entry, "mycompany.aws.client")))
            if specs[-1].qualname in CONSTRUCTORS:
                raise self.fail(key, f"names {specs[-1].qualname}, which lambda-rewriter knows already")
            if specs[-1].qualname in [spec.qualname for spec in specs[:-1]]:
                raise self.fail(key, f"names {specs[-1].qualname} again: list each constructor once")
        return tuple(specs)

    def client_table(self, key: str, entry: dict) -> ClientSpec:
        for name in entry:
            if name not in _CLIENT_KEYS:
                raise self.unknown(f"{key}.{name}", _CLIENT_KEYS)
        if "name" not in entry:
            raise self.fail(key, 'needs a name, like {name = "mycompany.aws.client"}')
        qualname = self.dotted(f"{key}.name", entry["name"], "mycompany.aws.client")
        keys = self.strings(f"{key}.cache-keys", entry.get("cache-keys", []))
        bad = [k for k in keys if not k.isidentifier()]
        if bad:
            raise self.fail(f"{key}.cache-keys", f"must name keyword arguments, not {bad[0]!r}")
        service: tuple[int, str] | None = (0, "")
        if "service-arg" in entry:
            arg = entry["service-arg"]
            if isinstance(arg, int) and not isinstance(arg, bool) and arg >= 0:
                service = (arg, "")
            elif isinstance(arg, str) and arg.isidentifier():
                service = (-1, arg)
            else:
                raise self.fail(f"{key}.service-arg", f"must be a position (0, 1...) or a keyword name, not {arg!r}")
        return ClientSpec(qualname, tuple(sorted(keys)), service)

    def reconnect(self, value: Any) -> tuple[ReconnectSpec, ...]:
        if not isinstance(value, dict):
            raise self.fail("reconnect", 'must be a table like {"mycompany.db.connect" = "psycopg2"}')
        drivers = tuple(LIVENESS)
        specs = []
        for qualname, entry in value.items():
            key = f'reconnect."{qualname}"'
            self.dotted(f"reconnect key {qualname!r}", qualname, "mycompany.db.connect")
            if qualname in CONSTRUCTORS:
                raise self.fail(key, f"names {qualname}, which lambda-rewriter knows already")
            if isinstance(entry, str):
                entry = {"like": entry}
            if not isinstance(entry, dict):
                raise self.fail(key, f'must be a driver name like "psycopg2" or a table with like = ..., not {entry!r}')
            for name in entry:
                if name not in _RECONNECT_KEYS:
                    raise self.unknown(f"{key}.{name}", _RECONNECT_KEYS)
            like = entry.get("like")
            if like not in LIVENESS:
                raise self.fail(f"{key}.like", f"must be one of {', '.join(drivers)}, not {like!r}")
            error = self.dotted(f"{key}.error", entry["error"], "mycompany.db.Error") if "error" in entry else None
            check = self.checks(f"{key}.check", entry.get("check", []))
            with_exit = entry.get("with-exit")
            exits = tuple(w.value for w in WithExit)
            if with_exit is not None and with_exit not in exits:
                raise self.fail(f"{key}.with-exit", f"must be one of {', '.join(exits)}, not {with_exit!r}")
            specs.append(ReconnectSpec(qualname, like, error, check, with_exit))
        return tuple(specs)

    def checks(self, key: str, value: Any) -> tuple[str, ...]:
        statements = self.strings(key, value)
        for i, statement in enumerate(statements):
            try:
                code = statement.format(conn="conn")
                compile(code, "<check>", "exec", dont_inherit=True)
            except (KeyError, IndexError, ValueError, SyntaxError):
                code = ""
            if not code or "{conn}" not in statement:
                raise self.fail(
                    f"{key}[{i}]", f'must be a Python statement on {{conn}}, like "{{conn}}.ping()", not {statement!r}'
                )
        return statements
