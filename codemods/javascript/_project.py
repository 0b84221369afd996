"""What a JavaScript/TypeScript file's project says that its own bytes do not: the compiler settings of its
nearest tsconfig.json and the SDK modules its tests mock. Read from disk by rewriter/jsproject.py; the
codemods only ask the questions below, so they stay pure tree -> tree."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from codemods._base import FileContext

# `module` values whose output is CommonJS (`require`), and those whose output follows each file's format.
_COMMONJS = frozenset({"commonjs", "amd", "umd"})
_NODE = frozenset({"node16", "node18", "node20", "nodenext"})


@dataclasses.dataclass(frozen=True)
class TsOptions:
    """The compilerOptions that decide which import forms compile; lower-cased, None when not set."""

    module: str | None = None
    module_resolution: str | None = None
    target: str | None = None
    es_module_interop: bool | None = None
    allow_synthetic_default_imports: bool | None = None
    erasable_syntax_only: bool | None = None  # TS 5.8: `import x = require()` is not erasable

    @property
    def effective_module(self) -> str:
        if self.module:
            return self.module
        # tsc's default: CommonJS for an ES3/ES5 target (its default target), ES2015 otherwise.
        return "commonjs" if self.target in (None, "es3", "es5") else "es2015"


@dataclasses.dataclass(frozen=True)
class JsProject:
    tsconfig: TsOptions | None = None  # None: no tsconfig.json above the file
    package_type: str | None = None  # `type` of the nearest package.json ("module", "commonjs")
    # Modules the tests replace in a way that only reaches clients built inside the tested function:
    # "aws-sdk" for aws-sdk-mock, and every SDK module named in `jest.mock(...)`/`vi.mock(...)`.
    mocked: frozenset[str] = frozenset()

    def mocks(self, module: str) -> bool:
        """Whether the tests mock ``module`` (the v2 SDK as a whole covers its `clients/...` and `global`)."""
        if module in self.mocked:
            return True
        return module.startswith("aws-sdk/") and "aws-sdk" in self.mocked

    def esm_file(self, path: str) -> bool:
        """Whether tsc compiles ``path`` as an ES module (else CommonJS)."""
        if path.endswith((".mts", ".mjs")):
            return True
        if path.endswith((".cts", ".cjs")):
            return False
        module = self.tsconfig.effective_module if self.tsconfig else "commonjs"
        if module in _NODE:
            return self.package_type == "module"
        return module not in _COMMONJS

    def default_import_of_export_equals(self, path: str) -> bool:
        """Whether `import S3 from 'aws-sdk/clients/s3'` (a module that says `export = S3`) compiles."""
        ts = self.tsconfig
        if ts is None:
            return True
        module = ts.effective_module
        if module in _NODE and self.esm_file(path):
            return True  # an ES module's default import of a CommonJS module is its module.exports
        if ts.allow_synthetic_default_imports is not None:
            return ts.allow_synthetic_default_imports
        interop = ts.es_module_interop
        if interop is None:
            interop = module in _NODE or module == "preserve"
        return interop or module == "system" or ts.module_resolution == "bundler"

    def import_require(self, path: str) -> bool:
        """Whether TypeScript's `import S3 = require('...')` compiles in ``path``."""
        if self.tsconfig is None:
            return True
        if self.tsconfig.erasable_syntax_only:
            return False
        module = self.tsconfig.effective_module
        if module == "preserve":
            return True
        return not self.esm_file(path) and (module in _COMMONJS or module in _NODE)


NO_PROJECT = JsProject()


def project_of(ctx: FileContext) -> JsProject:
    """The JavaScript project of the file (NO_PROJECT when it has none: the engine gives Python files another kind)."""
    return ctx.project if isinstance(ctx.project, JsProject) else NO_PROJECT
