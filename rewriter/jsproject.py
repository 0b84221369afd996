"""The project facts of JavaScript/TypeScript files (codemods/javascript/_project.py) and of Python modules
(what their tests patch, codemods/python/_test_patches.py), read from disk.

Only JSON and the bytes of test files are read: a tsconfig.json (JSON with comments and trailing commas)
and the configurations it `extends`, relative or from a package under node_modules; the nearest
package.json; the tests among the files of the run. Nothing of the repository runs.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from codemods.javascript._project import JsProject, TsOptions
from codemods.python import _test_patches
from codemods.python._test_patches import NO_TESTS, PyTests

_SUFFIXES = (".js", ".mjs", ".cjs", ".jsx", ".ts", ".mts", ".cts", ".tsx")
_MAX_CONFIG_BYTES = 1_000_000
_MAX_TEST_BYTES = 1_000_000
_MAX_EXTENDS = 16
_TEST_FOLDERS = frozenset({"test", "tests", "__tests__", "spec", "__mocks__"})
_MOCK_CALL = re.compile(rb"""\b(?:jest|vi)\s*\.\s*(?:mock|doMock|unstable_mockModule)\s*\(\s*['"`]([^'"`]+)['"`]""")
_JSON_NOISE = re.compile(r'"(?:[^"\\]|\\.)*"|//[^\n]*|/\*.*?\*/|,(\s*[}\]])', re.DOTALL)


class Projects:
    """Facts per folder, read once per run; equal facts are one object (the stat index keys by identity)."""

    def __init__(self, root: Path, files: list[Path]) -> None:
        self.root = root
        self.files = files
        self._configs: dict[Path, Path | None] = {}
        self._packages: dict[Path, Path | None] = {}
        self._options: dict[Path, TsOptions | None] = {}
        self._mocks: dict[Path | None, frozenset[str]] | None = None
        self._manifests: dict[Path, dict] = {}
        self._interned: dict[JsProject, JsProject] = {}
        self._py_tests: PyTests | None = None

    def project_for(self, path: Path) -> JsProject | PyTests | None:
        if path.suffix == ".py":
            return self._python_tests()
        if not path.name.endswith(_SUFFIXES) or path.name.endswith((".d.ts", ".d.mts", ".d.cts")):
            return None
        folder = path.parent
        config = self._nearest(folder, "tsconfig.json", self._configs)
        package = self._nearest(folder, "package.json", self._packages)
        found = JsProject(
            tsconfig=self._tsoptions(config) if config is not None else None,
            package_type=_word(self._manifest(package).get("type")) if package is not None else None,
            mocked=self._mocked_for(package.parent if package is not None else None),
        )
        return self._interned.setdefault(found, found)

    def _python_tests(self) -> PyTests:
        """What the run's Python tests patch: one set for every module of the run (a module's tests may live
        anywhere, and import it under any package path)."""
        if self._py_tests is None:
            patched: list[tuple[str, str]] = []
            for path in self.files:
                name = path.name
                if not name.endswith(".py") or not (
                    name.startswith("test_") or name.endswith("_test.py") or name == "conftest.py" or _is_test(path, self.root)
                ):
                    continue
                try:
                    with open(path, "rb") as handle:
                        data = handle.read(_MAX_TEST_BYTES)
                except OSError:
                    continue
                shown = path.relative_to(self.root).as_posix() if self.root in path.parents else path.as_posix()
                patched += _test_patches.scan(shown, data)
            self._py_tests = PyTests(tuple(patched)) if patched else NO_TESTS
        return self._py_tests

    def _nearest(self, folder: Path, name: str, memo: dict[Path, Path | None]) -> Path | None:
        walked = []
        found = None
        current = folder
        while True:
            if current in memo:
                found = memo[current]
                break
            walked.append(current)
            candidate = current / name
            if candidate.is_file():
                found = candidate
                break
            if current == self.root or current.parent == current or self.root not in current.parents:
                break
            current = current.parent
        for place in walked:
            memo[place] = found
        return found

    def _manifest(self, package: Path) -> dict:
        if package not in self._manifests:
            self._manifests[package] = read_jsonc(package) or {}
        return self._manifests[package]

    def _tsoptions(self, config: Path) -> TsOptions | None:
        if config not in self._options:
            self._options[config] = tsoptions(config)
        return self._options[config]

    def _mocked_for(self, package_folder: Path | None) -> frozenset[str]:
        if self._mocks is None:
            self._mocks = self._scan_tests()
        mocked = set(self._mocks.get(package_folder, ()))
        if package_folder is not None and "aws-sdk-mock" in _dependencies(self._manifest(package_folder / "package.json")):
            mocked.add("aws-sdk")
        return frozenset(mocked)

    def _scan_tests(self) -> dict[Path | None, frozenset[str]]:
        """Per package folder, the SDK modules its test files mock."""
        found: dict[Path | None, set[str]] = {}
        for path in self.files:
            if not path.name.endswith(_SUFFIXES) or not _is_test(path, self.root):
                continue
            package = self._nearest(path.parent, "package.json", self._packages)
            where = package.parent if package is not None else None
            mocked = found.setdefault(where, set())
            relative = path.relative_to(self.root).parts if self.root in path.parents else path.parts
            if "__mocks__" in relative[:-1]:  # a manual mock of a node module: `__mocks__/aws-sdk.js`
                module = "/".join(relative[relative.index("__mocks__") + 1 :])
                mocked.add(re.sub(r"\.[cm]?[jt]sx?$", "", module))
            try:
                with open(path, "rb") as handle:
                    data = handle.read(_MAX_TEST_BYTES)
            except OSError:
                continue
            if b"aws-sdk-mock" in data:
                mocked.add("aws-sdk")
            mocked.update(m.decode("utf-8", "replace") for m in _MOCK_CALL.findall(data))
        return {
            where: frozenset(m for m in modules if m == "aws-sdk" or m.startswith(("aws-sdk/", "@aws-sdk/")))
            for where, modules in found.items()
        }


def _is_test(path: Path, root: Path) -> bool:
    name = path.name
    if ".test." in name or ".spec." in name:
        return True
    parts = path.relative_to(root).parts[:-1] if root in path.parents else path.parts[:-1]
    return any(part in _TEST_FOLDERS for part in parts)


def read_jsonc(path: Path) -> dict | None:
    """A tsconfig-style file: JSON with comments and trailing commas; None when it does not read."""
    try:
        if path.stat().st_size > _MAX_CONFIG_BYTES:
            return None
        raw = path.read_text(encoding="utf-8-sig", errors="replace")
    except OSError:
        return None
    cleaned = _JSON_NOISE.sub(lambda m: m.group(1) or (m.group(0) if m.group(0).startswith('"') else ""), raw)
    try:
        value = json.loads(cleaned)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def compiler_options(config: Path) -> dict | None:
    """The compilerOptions of ``config`` after its `extends` chain (later ones win, the file itself last);
    None when the file itself does not read."""
    return _options(config, 0)


def _options(config: Path, depth: int) -> dict | None:
    value = read_jsonc(config)
    if value is None:
        return None
    merged: dict = {}
    bases = value.get("extends")
    if depth < _MAX_EXTENDS:
        for base in [bases] if isinstance(bases, str) else bases if isinstance(bases, list) else []:
            target = _extended(config.parent, base) if isinstance(base, str) else None
            inherited = _options(target, depth + 1) if target is not None else None
            merged.update(inherited or {})
    own = value.get("compilerOptions")
    if isinstance(own, dict):
        merged.update(own)
    return merged


def _extended(folder: Path, name: str) -> Path | None:
    """Where an `extends` entry points, as tsc finds it: a path, or a package under node_modules above."""
    if name.startswith((".", "/")) or os.path.isabs(name):
        target = folder / name
        for candidate in (target, target.with_name(target.name + ".json")):
            if candidate.is_file():
                return candidate
        return None
    for base in (folder, *folder.parents):
        target = base / "node_modules" / name
        if target.is_file():
            return target
        if target.with_name(target.name + ".json").is_file():
            return target.with_name(target.name + ".json")
        if target.is_dir():
            manifest = read_jsonc(target / "package.json") or {}
            pointed = manifest.get("tsconfig")
            if isinstance(pointed, str) and (target / pointed).is_file():
                return target / pointed
            if (target / "tsconfig.json").is_file():
                return target / "tsconfig.json"
    return None


def tsoptions(config: Path) -> TsOptions | None:
    options = compiler_options(config)
    if options is None:
        return None
    lowered = {str(key).lower(): value for key, value in options.items()}

    def word(key: str) -> str | None:
        value = lowered.get(key)
        return value.lower() if isinstance(value, str) else None

    def flag(key: str) -> bool | None:
        value = lowered.get(key)
        return value if isinstance(value, bool) else None

    return TsOptions(
        module=word("module"),
        module_resolution=word("moduleresolution"),
        target=word("target"),
        es_module_interop=flag("esmoduleinterop"),
        allow_synthetic_default_imports=flag("allowsyntheticdefaultimports"),
        erasable_syntax_only=flag("erasablesyntaxonly"),
    )


def _word(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _dependencies(manifest: dict) -> set[str]:
    names: set[str] = set()
    for key in ("dependencies", "devDependencies", "optionalDependencies", "peerDependencies"):
        section = manifest.get(key)
        if isinstance(section, dict):
            names.update(section)
    return names
