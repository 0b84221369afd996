"""slim-dependencies: a function's package carries only what its code uses.

The one codemod that reads files besides its own: a manifest says what ships, only the sources next to it say what
is used. That reading is in _scan.py and, for pip, _shipped.py (bounded, read-only); each manifest kind below is a
pure function of the manifest's bytes and what the scan found.
"""
from __future__ import annotations

import posixpath
from collections.abc import Callable
from pathlib import Path

from codemods._base import Codemod, FileContext
from codemods.manifests import _gradle, _maven, _npm, _pip, _scan
from rewriter.languages import ManifestTree

# manifest name -> (what the sources say: a function of the manifest's path and the repository root, rewrite)
_KINDS: dict[str, tuple[Callable[[Path, Path], object], Callable]] = {
    "pom.xml": (_scan.java_sources, _maven.rewrite),
    "build.gradle": (_scan.java_sources, _gradle.rewrite),
    "build.gradle.kts": (_scan.java_sources, _gradle.rewrite),
    "requirements.txt": (_pip.scan, _pip.rewrite),
    "package.json": (_scan.js_modules, _npm.rewrite),
}


class SlimDependencies(Codemod[ManifestTree]):
    NAME = "slim-dependencies"
    DESCRIPTION = "Ship only what the code uses: the whole AWS SDK becomes its BOM plus modules; unneeded packages leave"
    LANGUAGES = ("manifest",)
    MARKERS = ()

    def wants(self, data: bytes) -> bool:
        return True  # any requirement may be unused: no text marker can tell

    def transform(self, tree: ManifestTree, ctx: FileContext) -> ManifestTree:
        kind = _KINDS.get(posixpath.basename(ctx.path))
        if kind is None:
            return tree
        scan, rewrite = kind
        manifest = _scan.locate(ctx.path, ctx.location)
        if manifest is None:
            ctx.note(1, "left as it is: the sources next to this manifest were not found")
            return tree
        data = rewrite(tree.data, scan(manifest, _scan.repository_root(manifest, ctx.path)), ctx)
        return tree if data == tree.data else tree.replaced(data)
