"""slim-dependencies for Gradle (Groovy and Kotlin DSL): the whole AWS SDK becomes `platform(BOM)` plus the
service modules the sources name. One declaration per line, in the string notation; anything else gets a note."""
from __future__ import annotations

import re

from codemods._base import FileContext
from codemods.manifests._java_sdk import LAMBDA_EVENTS, bundle_of, modules_for, uses_lambda_events
from codemods.manifests._scan import Sources
from codemods._text import Edit, apply, line_number, newline

_DECLARATION = re.compile(
    rb"^(?P<indent>[ \t]*)(?P<conf>[A-Za-z]\w*)(?P<open>[ \t]*\(?[ \t]*)(?P<q>['\"])"
    rb"(?P<group>[^:'\"\s]+):(?P<artifact>[^:'\"\s]+)(?::(?P<version>[^'\"\s]+))?(?P=q)"
    rb"(?P<close>[ \t]*\)?)(?P<rest>[ \t]*(?://[^\r\n]*)?)\r?$",
    re.M,
)
_PLATFORM = re.compile(rb"platform\s*\(\s*['\"](?P<group>[^:'\"]+):(?P<artifact>[^:'\"]+)(?::(?P<version>[^'\"]+))?['\"]")
TEST_CONF = "testImplementation"
# Configurations whose dependencies go into the function's package (the others compile against, or test).
SHIPPED_CONFS = frozenset({"implementation", "api", "compile", "runtimeOnly", "runtime"})
_MAP_NOTATION = re.compile(rb"group\s*[:=]\s*['\"](com\.amazonaws|software\.amazon\.awssdk)['\"]")


def rewrite(data: bytes, sources: Sources, ctx: FileContext) -> bytes:
    nl = newline(data)
    edits: list[Edit] = []
    declarations = list(_DECLARATION.finditer(data))
    platforms = {(m["group"].decode(), m["artifact"].decode()): m for m in _PLATFORM.finditer(data)}
    for match in _MAP_NOTATION.finditer(data):
        ctx.note(line_number(data, match.start()), "left a map-notation AWS SDK dependency: use 'group:name:version'")
    for match in declarations:
        group, artifact = match["group"].decode(), match["artifact"].decode()
        line = line_number(data, match.start())
        sdk = bundle_of(group, artifact)
        end = data.find(b"\n", match.end())
        end = len(data) if end < 0 else end + 1
        if sdk is not None:
            whole = f"{group}:{artifact}"
            if sources.files == 0:
                ctx.note(line, f"left {whole}: no Java sources under src/ to tell which service modules the code uses")
                continue
            modules, unknown = modules_for(sdk, sources.names)
            tested, unknown_in_tests = modules_for(sdk, sources.test_names)
            unknown |= unknown_in_tests
            if unknown:
                ctx.note(line, f"left {whole}: no known module for package(s) {', '.join(sorted(unknown))}")
                continue
            if match["conf"].decode().startswith("test"):
                modules, tested = modules | tested, set()
            declared = {m["artifact"].decode() for m in declarations if m["group"].decode() == group}
            missing = sorted(modules - declared)
            # Modules only the tests name: testImplementation, since the build compiles the tests too.
            missing_in_tests = sorted(tested - modules - declared)
            if not modules and not missing_in_tests:
                edits.append(Edit(match.start(), end, b""))
                ctx.change(line, f"removed {whole}: no source under src/ uses the AWS SDK")
                continue
            version = match["version"].decode() if match["version"] else None
            platform = platforms.get((group, sdk.bom))
            pin = None
            lines = []
            if platform is None:
                if version is None:
                    ctx.note(line, f"left {whole}: it has no version here, so the BOM's cannot be set")
                    continue
                # testImplementation extends implementation: one platform serves both, unless only tests use it
                lines.append(_declare(match, f"{group}:{sdk.bom}:{version}", platform=True,
                                      conf=None if modules else TEST_CONF))
            elif version is not None and platform["version"] and platform["version"].decode() != version:
                pin = version
                ctx.note(line, f"the {sdk.bom} platform is at {platform['version'].decode()} but {whole} was at "
                               f"{version}: the modules keep {version}; align the two")
            suffix = f":{pin}" if pin else ""
            lines += [_declare(match, f"{group}:{m}{suffix}") for m in missing]
            lines += [_declare(match, f"{group}:{m}{suffix}", conf=TEST_CONF) for m in missing_in_tests]
            edits.append(Edit(match.start(), end, nl.join(lines) + (nl if data[end - 1:end] == b"\n" else b"")))
            tests = f"; for the tests only ({TEST_CONF}): {', '.join(missing_in_tests)}" if missing_in_tests else ""
            ctx.change(line, f"replaced {whole} with platform({sdk.bom}) and {len(missing)} service module(s): "
                             f"{', '.join(missing) or 'none'}{tests}")
        elif (group, artifact) == LAMBDA_EVENTS[:2] and sources.files and not uses_lambda_events(sources.names):
            conf = match["conf"].decode()
            if not uses_lambda_events(sources.test_names):
                edits.append(Edit(match.start(), end, b""))
                ctx.change(line, f"removed {group}:{artifact}: no source under src/ uses {LAMBDA_EVENTS[2]}")
            elif conf in SHIPPED_CONFS:
                # the build compiles the tests: what they import stays, for them only
                edits.append(Edit(match.start("conf"), match.end("conf"), TEST_CONF.encode()))
                ctx.change(line, f"moved {group}:{artifact} to {TEST_CONF}: only the sources under src/test use "
                                 f"{LAMBDA_EVENTS[2]}")
    return apply(data, edits) if edits else data


def _declare(match: re.Match, coordinates: str, platform: bool = False, conf: str | None = None) -> bytes:
    q = match["q"]
    value = q + coordinates.encode() + q
    if platform:
        value = b"platform(" + value + b")"
    name = conf.encode() if conf else match["conf"]
    kotlin = b"(" in match["open"]
    if kotlin:
        return match["indent"] + name + b"(" + value + b")"
    return match["indent"] + name + b" " + value
