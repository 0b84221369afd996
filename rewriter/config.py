"""Settings: ``[tool.lambda-rewriter]`` in the repository's pyproject.toml, then command-line flags."""
from __future__ import annotations

import dataclasses
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

from codemods import all_codemods
from rewriter.engine import DEFAULT_MAX_BYTES


class ConfigError(Exception):
    pass


@dataclasses.dataclass
class Settings:
    codemods: tuple[str, ...] = ()
    exclude: list[str] = dataclasses.field(default_factory=list)
    max_file_bytes: int = DEFAULT_MAX_BYTES
    jobs: int | None = None


_KEYS = {"codemods": list, "exclude": list, "max-file-bytes": int, "jobs": int}


def load(root: Path) -> Settings:
    path = root / "pyproject.toml"
    if not path.is_file():
        return Settings()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: {error}") from None
    tool = data.get("tool", {})
    table = tool.get("lambda-rewriter", {}) if isinstance(tool, dict) else {}
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.lambda-rewriter] must be a table")
    for key, value in table.items():
        where = f"{path}: [tool.lambda-rewriter] {key}"
        if key not in _KEYS:
            raise ConfigError(f"{path}: unknown setting [tool.lambda-rewriter] {key} (known: {', '.join(_KEYS)})")
        if _KEYS[key] is list and not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
            raise ConfigError(f"{where} must be a list of strings")
        if _KEYS[key] is int and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
            raise ConfigError(f"{where} must be a whole number of at least 1")
    unknown = [name for name in table.get("codemods", ()) if name not in all_codemods()]
    if unknown:
        raise ConfigError(f"{path}: [tool.lambda-rewriter] codemods: unknown codemod {', '.join(unknown)}")
    return Settings(
        codemods=tuple(table.get("codemods", ())),
        exclude=[str(p) for p in table.get("exclude", [])],
        max_file_bytes=table.get("max-file-bytes", DEFAULT_MAX_BYTES),
        jobs=table.get("jobs"),
    )
