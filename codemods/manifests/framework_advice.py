"""framework-advice: notes (never edits) on heavy frameworks in functions that start cold.

A Spring Boot context or a full web framework is built on every cold start; for a Lambda handler that is often
most of the start-up time. The reviewer gets the fact and the usual ways out; nothing is rewritten.
"""
from __future__ import annotations

import posixpath
import re

from codemods._base import Codemod, FileContext
from codemods.manifests import _scan
from codemods._text import line_number
from rewriter.languages import ManifestTree

# (pattern in the manifest, advice)
JAVA_FRAMEWORKS = (
    (rb"spring-boot-starter[\w-]*|org\.springframework\.boot",
     "Spring Boot starts an application context on every cold start: for a Lambda handler prefer plain "
     "constructors or a compile-time DI (Dagger) or Guice, or turn on SnapStart to snapshot the started context"),
    (rb"spring-context|spring-cloud-function-adapter-aws",
     "a Spring context is built on every cold start: consider Dagger or Guice, or SnapStart"),
)
PYTHON_FRAMEWORKS = {
    "django": "Django loads its settings, apps and ORM on every cold start",
    "flask": "Flask (with a WSGI adapter) behind a Lambda handler",
    "fastapi": "FastAPI (with an ASGI adapter such as Mangum) behind a Lambda handler",
}
_REQUIREMENT = re.compile(rb"^\s*(django|flask|fastapi)\b", re.I | re.M)


class FrameworkAdvice(Codemod[ManifestTree]):
    NAME = "framework-advice"
    DESCRIPTION = "Note heavy frameworks (Spring Boot, Django, a web framework for one route) in cold-started functions"
    LANGUAGES = ("manifest",)
    MARKERS = (b"springframework", b"spring-", b"django", b"Django", b"flask", b"Flask", b"fastapi", b"FastAPI")

    def transform(self, tree: ManifestTree, ctx: FileContext) -> ManifestTree:
        name = posixpath.basename(ctx.path)
        data = tree.data
        if name in ("pom.xml", "build.gradle", "build.gradle.kts"):
            for pattern, advice in JAVA_FRAMEWORKS:
                match = re.search(pattern, data)
                if match:
                    ctx.note(line_number(data, match.start()), advice)
                    break
        elif name == "requirements.txt":
            for match in _REQUIREMENT.finditer(data):
                framework = match.group(1).decode().lower()
                message = PYTHON_FRAMEWORKS[framework]
                manifest = _scan.locate(ctx.path, ctx.location)
                routes = None if manifest is None else _scan.python_routes(manifest)
                if framework != "django" and routes is not None and routes > 1:
                    continue  # a real API of several routes: the framework earns its start-up time
                where = "" if routes is None else f" ({routes} route{'s' if routes != 1 else ''} found)"
                ctx.note(line_number(data, match.start()),
                         f"{message}{where}: for a single-purpose function a plain handler (or AWS Lambda Powertools' "
                         "event handler) starts faster")
        return tree

