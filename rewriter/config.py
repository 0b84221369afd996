"""Settings: ``[tool.lambda-rewriter]`` in the repository's pyproject.toml, then command-line flags."""
from __future__ import annotations

import dataclasses
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

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
    table = data.get("tool", {}).get("lambda-rewriter", {})
    for key, value in table.items():
        if key not in _KEYS:
            raise ConfigError(f"{path}: unknown setting [tool.lambda-rewriter] {key} (known: {', '.join(_KEYS)})")
        if not isinstance(value, _KEYS[key]) or isinstance(value, bool):
            raise ConfigError(f"{path}: [tool.lambda-rewriter] {key} must be a {_KEYS[key].__name__}")
    return Settings(
        codemods=tuple(table.get("codemods", ())),
        exclude=[str(p) for p in table.get("exclude", [])],
        max_file_bytes=table.get("max-file-bytes", DEFAULT_MAX_BYTES),
        jobs=table.get("jobs"),
    )
