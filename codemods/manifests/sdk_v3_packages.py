"""sdk-v3 for package.json: `aws-sdk` leaves `dependencies` once every source next to it moves to v3, and the v3
packages those sources then import come in, at one version. The lock file is not edited (a note says so): the
package manager writes it, with the integrity hashes this tool cannot check."""
from __future__ import annotations

import json
import posixpath
import re
from pathlib import Path

from codemods._base import Codemod, FileContext
from codemods.javascript import _aws_sdk_js_codemod
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
    MARKERS = (b'"aws-sdk"',)

    def transform(self, tree: ManifestTree, ctx: FileContext) -> ManifestTree:
        if posixpath.basename(ctx.path) != "package.json":
            return tree
        try:
            manifest = json.loads(tree.data)
        except ValueError:
            return tree
        dependencies = manifest.get("dependencies") if isinstance(manifest, dict) else None
        if not isinstance(dependencies, dict) or "aws-sdk" not in dependencies:
            return tree
        located = _scan.locate(ctx.path, ctx.location)
        at = tree.data.find(b'"aws-sdk"', tree.data.find(b'"dependencies"'))
        line = line_number(tree.data, at)
        if located is None:
            ctx.note(line, "aws-sdk stays: the sources next to this package.json were not found")
            return tree
        packages = _v3_packages(located.parent, ctx, line)
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


def _v3_packages(folder: Path, ctx: FileContext, line: int) -> set[str] | None:
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
    from rewriter.languages import language_for  # the parsers; imported late, as the engine does

    packages: set[str] = set()
    for path, data in files.items():
        if path in v2:
            language = language_for(path.name)
            probe = FileContext(path.name, codemod="sdk-v3")
            assert language is not None  # a source that imports v2 is JavaScript or TypeScript
            try:
                data = language.render(SdkV3().transform(language.parse(data), probe))
            except Exception:  # a source that does not parse: it stays as it is, v2 included
                pass
            if V2_IMPORT.search(data):
                ctx.note(line, f"aws-sdk stays: {path.relative_to(folder).as_posix()} keeps the v2 SDK (see its notes)")
                return None
        for specifier in _scan.JS_MODULE.findall(data):
            found = _V3_PACKAGE.match(specifier.decode("utf-8", "replace"))
            if found:
                packages.add(found.group(0))
    return packages


def _replace(data: bytes, at: int, packages: list[str]) -> bytes | None:
    start, end = line_start(data, at), line_end(data, at)
    entry = data[start:end]
    if entry.strip().count(b'"') != 4:
        return None
    indent = entry[: len(entry) - len(entry.lstrip())]
    comma = entry.rstrip().endswith(b",")
    nl = newline(data)
    lines = [indent + json.dumps(name).encode() + b": " + json.dumps(V3_RANGE).encode() for name in packages]
    if not lines:
        if not comma:  # the last entry went: the one before it loses its comma
            before = data.rfind(b",", 0, start)
            if before < 0 or data[before + 1 : start].strip():
                return None
            return apply(data, [Edit(before, before + 1, b""), Edit(start, end, b"")])
        return apply(data, [Edit(start, end, b"")])
    text = (b"," + nl).join(lines) + (b"," if comma else b"") + nl
    return apply(data, [Edit(start, end, text)])
