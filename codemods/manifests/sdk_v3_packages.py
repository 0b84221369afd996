"""sdk-v3 for package.json: `aws-sdk` leaves `dependencies` once every source next to it moves to v3, and the v3
packages those sources then import come in, at one version. The lock file is not edited (a note says so): the
package manager writes it, with the integrity hashes this tool cannot check."""
from __future__ import annotations

import json
import posixpath
import re
from pathlib import Path

from codemods._base import Codemod, FileContext
from codemods.javascript import _aws_sdk_js_codemod, _local_code
from codemods.javascript.sdk_v3 import V2_IMPORT, SdkV3
from codemods.manifests import _scan
from codemods._text import Edit, apply, line_end, line_number, line_start, newline
from rewriter.languages import ManifestTree

# A version every @aws-sdk package the translation writes was released at (client-*, lib-dynamodb, lib-storage,
# s3-request-presigner, credential-providers): one caret range for all, so that npm resolves one set.
V3_RANGE = "^3.1169.0"
_SUFFIXES = (".js", ".mjs", ".cjs", ".ts", ".mts", ".cts", ".tsx")
_V3_PACKAGE = re.compile(r"^@aws-sdk/[a-z0-9-]+")
LOCKS = ("package-lock.json", "npm-shrinkwrap.json", "yarn.lock", "pnpm-lock.yaml")


class SdkV3Packages(Codemod[ManifestTree]):
    NAME = "sdk-v3"
    DESCRIPTION = SdkV3.DESCRIPTION
    LANGUAGES = ("manifest",)
    MARKERS = (b'"aws-sdk"', b'"aws-sdk-mock"')

    def transform(self, tree: ManifestTree, ctx: FileContext) -> ManifestTree:
        if posixpath.basename(ctx.path) != "package.json":
            return tree
        try:
            manifest = json.loads(tree.data)
        except ValueError:
            return tree
        if not isinstance(manifest, dict):
            return tree
        tree = _mock_package(tree, manifest, ctx)
        dependencies = manifest.get("dependencies")
        if not isinstance(dependencies, dict) or "aws-sdk" not in dependencies:
            return tree
        located = _scan.locate(ctx.path, ctx.location)
        at = tree.data.find(b'"aws-sdk"', tree.data.find(b'"dependencies"'))
        line = line_number(tree.data, at)
        if located is None:
            ctx.note(line, "aws-sdk stays: the sources next to this package.json were not found")
            return tree
        packages = _v3_packages(located.parent, _scan.repository_root(located, ctx.path), ctx, line)
        if packages is None:
            return tree
        data = _replace(tree.data, at, sorted(p for p in packages if p not in dependencies))
        if data is None:
            ctx.note(line, "aws-sdk stays: its entry is not on a line of its own in `dependencies`")
            return tree
        added = ", ".join(sorted(packages)) or "nothing (no module imports a v3 package)"
        ctx.change(line, f"dependencies: aws-sdk replaced by {added} ({V3_RANGE})")
        locks = [name for name in LOCKS if (located.parent / name).is_file()]
        if locks:
            ctx.note(line, f"{locks[0]} not edited: run the package manager (`npm install`) to update it")
        return tree.replaced(data)


MOCK, CLIENT_MOCK, CLIENT_MOCK_RANGE = "aws-sdk-mock", "aws-sdk-client-mock", "^4.1.0"


def _mock_package(tree, manifest: dict, ctx: FileContext):
    """aws-sdk-mock becomes aws-sdk-client-mock in `devDependencies` once every test that imports it moves."""
    section = next((name for name in ("devDependencies", "dependencies")
                    if isinstance(manifest.get(name), dict) and MOCK in manifest[name]), None)
    located = _scan.locate(ctx.path, ctx.location)
    if section is None or located is None:
        return tree
    data = tree.data
    at = data.find(json.dumps(MOCK).encode(), data.find(json.dumps(section).encode()))
    line = line_number(data, at)
    from codemods._lambda_code import decide
    from rewriter.languages import language_for

    root = _scan.repository_root(located, ctx.path)
    for path in _scan.source_files(located.parent, _SUFFIXES, tests=True):
        source = path.read_bytes()
        if MOCK.encode() not in source:
            continue
        display = path.relative_to(root).as_posix()
        language = language_for(path.name)
        if language is None:
            continue
        decided = decide(display, source, None, language.name)
        after = source
        if decided.test:
            probe = FileContext(display, codemod="sdk-v3", location=str(path), lambda_code=decided)
            try:
                after = language.render(SdkV3().transform(language.parse(source), probe))
            except Exception:  # a test that does not parse stays as it is
                pass
        if re.search(rb"""['"]aws-sdk-mock['"]""", after):
            ctx.note(line, f"{MOCK} stays: {path.relative_to(located.parent).as_posix()} still uses it (see its notes)")
            return tree
    has_client_mock = CLIENT_MOCK in manifest.get(section, {})
    replaced = _replace(data, at, [] if has_client_mock else [CLIENT_MOCK], CLIENT_MOCK_RANGE)
    if replaced is None:
        ctx.note(line, f"{MOCK} stays: its entry is not on a line of its own in `{section}`")
        return tree
    ctx.change(line, f"{section}: {MOCK} replaced by {CLIENT_MOCK} ({CLIENT_MOCK_RANGE}): the tests mock the v3 clients")
    return tree.replaced(replaced)


def _v3_packages(folder: Path, root: Path, ctx: FileContext, line: int) -> set[str] | None:
    """The @aws-sdk packages the sources import after sdk-v3, or None when one of them stays on v2."""
    files = {path: path.read_bytes() for path in _scan.source_files(folder, _SUFFIXES)}
    v2 = {path: data for path, data in files.items() if V2_IMPORT.search(data)}
    try:
        _aws_sdk_js_codemod.translate_many(
            [(data.decode("utf-8").replace("\r\n", "\n"), path.suffix) for path, data in v2.items()]
        )
    except UnicodeDecodeError:
        pass  # that file says why below
    except _aws_sdk_js_codemod.Unavailable as missing:
        ctx.note(line, f"aws-sdk stays: {missing}")
        return None
    packages: set[str] = set()
    for path, data in files.items():
        if path in v2:
            # As the run leaves it: a module that is not Lambda code (a library of scripts) is not rewritten, and
            # still needs aws-sdk.
            data = _local_code.after_sdk_v3(path, root, data, None)
            if V2_IMPORT.search(data):
                ctx.note(line, f"aws-sdk stays: {path.relative_to(folder).as_posix()} keeps the v2 SDK (see its notes)")
                return None
        for specifier in _scan.JS_MODULE.findall(data):
            found = _V3_PACKAGE.match(specifier.decode("utf-8", "replace"))
            if found:
                packages.add(found.group(0))
    return packages


def _replace(data: bytes, at: int, packages: list[str], version: str = V3_RANGE) -> bytes | None:
    start, end = line_start(data, at), line_end(data, at)
    entry = data[start:end]
    if entry.strip().count(b'"') != 4:
        return None
    indent = entry[: len(entry) - len(entry.lstrip())]
    comma = entry.rstrip().endswith(b",")
    nl = newline(data)
    lines = [indent + json.dumps(name).encode() + b": " + json.dumps(version).encode() for name in packages]
    if not lines:
        if not comma:  # the last entry went: the one before it loses its comma
            before = data.rfind(b",", 0, start)
            if before < 0 or data[before + 1 : start].strip():
                return None
            return apply(data, [Edit(before, before + 1, b""), Edit(start, end, b"")])
        return apply(data, [Edit(start, end, b"")])
    text = (b"," + nl).join(lines) + (b"," if comma else b"") + nl
    return apply(data, [Edit(start, end, text)])
