"""slim-dependencies for Maven: the whole AWS SDK becomes its BOM plus the service modules the sources name.

The pom is edited as text (found with patterns, checked with an XML parser afterwards by the engine), never
re-serialised: comments, attribute quoting, blank lines and indentation outside the edited elements stay.
"""
from __future__ import annotations

import dataclasses
import re

from codemods._base import FileContext
from codemods.manifests._java_sdk import LAMBDA_EVENTS, Sdk, bundle_of, modules_for, uses_lambda_events
from codemods.manifests._scan import Sources
from codemods._text import Edit, apply, indent_at, line_number, line_start, newline, whole_lines

_COMMENT = re.compile(rb"<!--.*?-->", re.S)
_DEPENDENCY = re.compile(rb"<dependency>(.*?)</dependency>", re.S)
_EXCLUSIONS = re.compile(rb"<exclusions>.*?</exclusions>", re.S)
_IGNORED_SECTIONS = (b"build", b"profiles", b"reporting", b"pluginRepositories")


@dataclasses.dataclass(frozen=True)
class Dependency:
    start: int
    end: int
    group: str
    artifact: str
    version: str | None
    scope: str | None
    exclusions: bool
    managed: bool  # inside <dependencyManagement>

    def field_start(self, data: bytes) -> int:
        """Where the first child element starts: its indentation is the file's own."""
        match = re.compile(rb"<\w").search(data, self.start + len(b"<dependency>"), self.end)
        return match.start() if match else self.start


def _spans(data: bytes, tag: bytes, comments: list[tuple[int, int]]) -> list[tuple[int, int]]:
    spans = []
    for match in re.finditer(rb"<" + tag + rb">(.*?)</" + tag + rb">", data, re.S):
        if not _inside(match.start(), comments):
            spans.append((match.start(), match.end()))
    return spans


def _inside(pos: int, spans: list[tuple[int, int]]) -> bool:
    return any(start <= pos < end for start, end in spans)


def _field(inner: bytes, name: bytes) -> str | None:
    match = re.search(rb"<" + name + rb">\s*(.*?)\s*</" + name + rb">", inner, re.S)
    return match.group(1).decode("utf-8", "replace") if match else None


def dependencies(data: bytes) -> list[Dependency]:
    comments = [m.span() for m in _COMMENT.finditer(data)]
    managed = _spans(data, b"dependencyManagement", comments)
    ignored = [span for tag in _IGNORED_SECTIONS for span in _spans(data, tag, comments)]
    found = []
    for match in _DEPENDENCY.finditer(data):
        if _inside(match.start(), comments) or _inside(match.start(), ignored):
            continue
        inner = _COMMENT.sub(b"", match.group(1))
        plain = _EXCLUSIONS.sub(b"", inner)
        found.append(Dependency(match.start(), match.end(), _field(plain, b"groupId") or "",
                                _field(plain, b"artifactId") or "", _field(plain, b"version"),
                                _field(plain, b"scope"), plain != inner, _inside(match.start(), managed)))
    return found


def _dependency_xml(group: str, artifact: str, indent: bytes, unit: bytes, nl: bytes, *, version: str | None = None,
                    scope: str | None = None, type_: str | None = None) -> bytes:
    fields = [(b"groupId", group), (b"artifactId", artifact), (b"version", version), (b"type", type_),
              (b"scope", scope)]
    lines = [indent + b"<dependency>"]
    lines += [indent + unit + b"<%s>%s</%s>" % (tag, value.encode(), tag) for tag, value in fields if value]
    lines.append(indent + b"</dependency>")
    return nl.join(lines) + nl


def _unit(data: bytes, dependency: Dependency) -> bytes:
    outer = indent_at(data, dependency.start)
    inner = indent_at(data, dependency.field_start(data))
    return inner[len(outer):] if inner.startswith(outer) and len(inner) > len(outer) else b"    "


def rewrite(data: bytes, sources: Sources, ctx: FileContext) -> bytes:
    if b"<dependency>" not in data:
        return data
    deps = dependencies(data)
    direct = [d for d in deps if not d.managed]
    nl = newline(data)
    edits: list[Edit] = []
    for dependency in direct:
        sdk = bundle_of(dependency.group, dependency.artifact)
        if sdk is not None:
            edits += _replace_bundle(data, deps, dependency, sdk, sources, ctx, nl)
    events = [d for d in direct if (d.group, d.artifact) == LAMBDA_EVENTS[:2]]
    for dependency in events:
        if sources.files == 0 or uses_lambda_events(sources.names):
            continue
        whole = f"{dependency.group}:{dependency.artifact}"
        line = line_number(data, dependency.start)
        if uses_lambda_events(sources.test_names):
            # `mvn package` compiles the tests: what they import must stay, if only for them
            if dependency.scope in (None, "compile", "runtime"):
                edits.append(_scope_edit(data, dependency, "test", nl))
                ctx.change(line, f"moved {whole} to test scope: only the sources under src/test use "
                                 f"{LAMBDA_EVENTS[2]}")
            continue
        start, end = whole_lines(data, dependency.start, dependency.end)
        edits.append(Edit(start, end, b""))
        ctx.change(line, f"removed {whole}: no source under src/ uses {LAMBDA_EVENTS[2]}")
    return apply(data, edits) if edits else data


def _scope_edit(data: bytes, dependency: Dependency, scope: str, nl: bytes) -> Edit:
    """Set ``dependency``'s <scope>: its own element rewritten, or one added as its last child."""
    inner = data[dependency.start:dependency.end]
    match = re.search(rb"<scope>\s*[^<]*?\s*</scope>", _COMMENT.sub(lambda m: b" " * len(m.group()), inner))
    if match is not None:
        return Edit(dependency.start + match.start(), dependency.start + match.end(),
                    b"<scope>%s</scope>" % scope.encode())
    closing = dependency.end - len(b"</dependency>")
    start = line_start(data, closing)
    if data[start:closing].strip():  # `</dependency>` shares its line: add the scope in front of it
        return Edit(closing, closing, b"<scope>%s</scope>" % scope.encode())
    field = indent_at(data, dependency.field_start(data))
    return Edit(start, start, field + b"<scope>%s</scope>" % scope.encode() + nl)


def _replace_bundle(data: bytes, deps: list[Dependency], bundle: Dependency, sdk: Sdk, sources: Sources,
                    ctx: FileContext, nl: bytes) -> list[Edit]:
    line = line_number(data, bundle.start)
    whole = f"{bundle.group}:{bundle.artifact}"
    if sources.files == 0:
        ctx.note(line, f"left {whole}: no Java sources under src/ to tell which service modules the code uses")
        return []
    if bundle.exclusions:
        ctx.note(line, f"left {whole}: it has <exclusions>, which the service modules may need too; split by hand")
        return []
    modules, unknown = modules_for(sdk, sources.names)
    tested, unknown_in_tests = modules_for(sdk, sources.test_names)
    unknown |= unknown_in_tests
    if unknown:
        ctx.note(line, f"left {whole}: no known module for package(s) {', '.join(sorted(unknown))}")
        return []
    if bundle.scope == "test":
        modules, tested = modules | tested, set()
    declared = {d.artifact for d in deps if not d.managed and d.group == sdk.group}
    missing = sorted(modules - declared)
    # Modules only the tests name go to test scope: `mvn package` compiles the tests, the jar does not need them.
    missing_in_tests = sorted(tested - modules - declared)
    bom = next((d for d in deps if d.managed and d.group == sdk.group and d.artifact == sdk.bom), None)
    start, end = whole_lines(data, bundle.start, bundle.end)
    if not modules and not missing_in_tests:
        if tested:
            ctx.change(line, f"removed {whole}: the modules the tests use are declared already")
        else:
            ctx.change(line, f"removed {whole}: no source under src/ uses the AWS SDK")
        return [Edit(start, end, b"")]
    pin = None
    edits: list[Edit] = []
    if bom is None:
        if bundle.version is None:
            ctx.note(line, f"left {whole}: its version comes from elsewhere (a parent pom?), so the BOM's cannot be set")
            return []
        edits.append(_add_bom(data, deps, bundle, sdk, nl))
    elif bundle.version is not None and bom.version != bundle.version:
        pin = bundle.version
        ctx.note(line, f"{sdk.bom} imports {bom.version} but {whole} was at {bundle.version}: the modules keep "
                       f"{bundle.version}; align the two, then drop the module versions")
    indent, unit = indent_at(data, bundle.start), _unit(data, bundle)
    scope = bundle.scope if bundle.scope not in (None, "compile") else None
    text = b"".join(_dependency_xml(sdk.group, m, indent, unit, nl, version=pin, scope=scope) for m in missing)
    text += b"".join(_dependency_xml(sdk.group, m, indent, unit, nl, version=pin, scope="test")
                     for m in missing_in_tests)
    if start == bundle.start:  # the bundle shares its line with other text: keep the line's shape
        text = text.strip()
    edits.append(Edit(start, end, text))
    kept = f"; already declared: {', '.join(sorted(modules & declared))}" if modules & declared else ""
    tests = f"; for the tests only (test scope): {', '.join(missing_in_tests)}" if missing_in_tests else ""
    ctx.change(line, f"replaced {whole} with {sdk.bom} and {len(missing)} service module(s): "
                     f"{', '.join(missing) or 'none'}{kept}{tests}")
    return edits


def _add_bom(data: bytes, deps: list[Dependency], bundle: Dependency, sdk: Sdk, nl: bytes) -> Edit:
    unit = _unit(data, bundle)
    managed = [d for d in deps if d.managed]

    def bom_text(indent: bytes) -> bytes:
        return _dependency_xml(sdk.group, sdk.bom, indent, unit, nl, version=bundle.version, type_="pom",
                               scope="import")

    if managed:
        first = managed[0]
        start = line_start(data, first.start)
        return Edit(start, start, bom_text(indent_at(data, first.start)))
    comments = [m.span() for m in _COMMENT.finditer(data)]
    management = next((m for m in re.finditer(rb"<dependencyManagement>\s*<dependencies>", data)
                       if not _inside(m.start(), comments)), None)
    if management is not None:  # an empty one
        at = management.end()
        indent = indent_at(data, management.start()) + unit + unit
        return Edit(at, at, nl + bom_text(indent).rstrip(b"\r\n"))
    opening = data.rfind(b"<dependencies>", 0, bundle.start)
    indent = indent_at(data, opening)
    block = [indent + b"<dependencyManagement>" + nl, indent + unit + b"<dependencies>" + nl,
             bom_text(indent + unit + unit), indent + unit + b"</dependencies>" + nl,
             indent + b"</dependencyManagement>" + nl]
    start = line_start(data, opening)
    return Edit(start, start, b"".join(block))
