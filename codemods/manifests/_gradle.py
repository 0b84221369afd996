"""slim-dependencies for Gradle (Groovy and Kotlin DSL): the whole AWS SDK becomes `platform(BOM)` plus the
service modules the sources name. One declaration per line, in the string notation; anything else gets a note."""
from __future__ import annotations

import re

from codemods._base import FileContext
from codemods.manifests._java_sdk import LAMBDA_EVENTS, bundle_of, modules_for, uses_lambda_events
from codemods.manifests._scan import Sources
from codemods.manifests._text import Edit, apply, line_number, newline

_DECLARATION = re.compile(
    rb"^(?P<indent>[ \t]*)(?P<conf>[A-Za-z]\w*)(?P<open>[ \t]*\(?[ \t]*)(?P<q>['\"])"
    rb"(?P<group>[^:'\"\s]+):(?P<artifact>[^:'\"\s]+)(?::(?P<version>[^'\"\s]+))?(?P=q)"
    rb"(?P<close>[ \t]*\)?)(?P<rest>[ \t]*(?://[^\r\n]*)?)\r?$",
    re.M,
)
_PLATFORM = re.compile(rb"platform\s*\(\s*['\"](?P<group>[^:'\"]+):(?P<artifact>[^:'\"]+)(?::(?P<version>[^'\"]+))?['\"]")
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
            if unknown:
                ctx.note(line, f"left {whole}: no known module for package(s) {', '.join(sorted(unknown))}")
                continue
            declared = {m["artifact"].decode() for m in declarations if m["group"].decode() == group}
            missing = sorted(modules - declared)
            if not modules:
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
                lines.append(_declare(match, f"{group}:{sdk.bom}:{version}", platform=True))
            elif version is not None and platform["version"] and platform["version"].decode() != version:
                pin = version
                ctx.note(line, f"the {sdk.bom} platform is at {platform['version'].decode()} but {whole} was at "
                               f"{version}: the modules keep {version}; align the two")
            lines += [_declare(match, f"{group}:{m}" + (f":{pin}" if pin else "")) for m in missing]
            edits.append(Edit(match.start(), end, nl.join(lines) + (nl if data[end - 1:end] == b"\n" else b"")))
            ctx.change(line, f"replaced {whole} with platform({sdk.bom}) and {len(missing)} service module(s): "
                             f"{', '.join(missing) or 'none'}")
        elif (group, artifact) == LAMBDA_EVENTS[:2] and sources.files and not uses_lambda_events(sources.names):
            edits.append(Edit(match.start(), end, b""))
            ctx.change(line, f"removed {group}:{artifact}: no source under src/ uses {LAMBDA_EVENTS[2]}")
    return apply(data, edits) if edits else data


def _declare(match: re.Match, coordinates: str, platform: bool = False) -> bytes:
    q = match["q"]
    value = q + coordinates.encode() + q
    if platform:
        value = b"platform(" + value + b")"
    kotlin = b"(" in match["open"]
    if kotlin:
        return match["indent"] + match["conf"] + b"(" + value + b")"
    return match["indent"] + match["conf"] + b" " + value
