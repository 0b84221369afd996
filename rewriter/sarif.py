"""A report as SARIF 2.1.0, the format GitHub code scanning (and most review tools) read.

Changes are warnings (the code would be rewritten), notes are notes. Locations are relative to the
repository root under ``%SRCROOT%``, which code scanning resolves to the checkout. Files that were
skipped or failed are tool execution notifications, not results: they are about the run, not the code.
"""
from __future__ import annotations

import hashlib
import json
from collections import Counter
from urllib.parse import quote

from rewriter import __version__, findings, suppress
from rewriter.engine import Status
from rewriter.report import Report

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SRCROOT = "%SRCROOT%"
LEVELS = {findings.CHANGE: "warning", findings.NOTE: "note"}


def as_sarif(report: Report, verbose: bool = False) -> str:
    rules = [f for f in findings.FINDINGS if f.kind in LEVELS]
    index = {f.code: i for i, f in enumerate(rules)}
    results = []
    for r in report.results:
        if r.status is not Status.CHANGED and not verbose:
            continue
        seen: Counter = Counter()
        for located in report.findings(r):
            code = located.finding.code
            if code == suppress.UNUSED_CODE and not verbose:
                continue  # as in the text output: a stale comment shows with -v
            key = f"{code}\0{r.path}\0{located.text}"
            seen[key] += 1
            results.append({
                "ruleId": code,
                "ruleIndex": index[code],
                "level": LEVELS[located.kind],
                "message": {"text": located.item.message},
                "locations": [_location(r.path, located.item.line, located.column)],
                # Stable across moves of the line: what the line says, not where it is.
                "partialFingerprints": {
                    "lambdaRewriterFinding/v1": hashlib.sha256(f"{key}\0{seen[key]}".encode()).hexdigest()[:32]
                },
            })
    notifications = [
        {"level": "warning", "message": {"text": f"skipped: {r.reason}"}, "locations": [_location(r.path, 1, 1)]}
        for r in report.results
        if r.status is Status.SKIPPED
    ]
    notifications += [{"level": "error", "message": {"text": f"{path}: {reason}"}} for path, reason in _failures(report)]
    run = {
        "tool": {
            "driver": {
                "name": "lambda-rewriter",
                "version": __version__,
                **({"informationUri": findings.PROJECT_URL} if findings.PROJECT_URL else {}),
                "rules": [_rule(f) for f in rules],
            }
        },
        "invocations": [{"executionSuccessful": not report.failures, "toolExecutionNotifications": notifications}],
        "columnKind": "utf16CodeUnits",
        "results": results,
    }
    return json.dumps({"$schema": SCHEMA, "version": "2.1.0", "runs": [run]}, indent=2)


def _rule(finding: findings.Finding) -> dict:
    return {
        "id": finding.code,
        "name": finding.code,
        "shortDescription": {"text": finding.title},
        "fullDescription": {"text": f"{finding.codemod if finding.codemod != '*' else 'any codemod'}: {finding.title}"},
        **({"helpUri": findings.HELP_URI} if findings.HELP_URI else {}),
        "help": {"text": f"Example: {finding.example}"},
        "defaultConfiguration": {"level": LEVELS[finding.kind]},
        "properties": {"codemod": finding.codemod, "kind": finding.kind},
    }


def _location(path: str, line: int, column: int) -> dict:
    return {
        "physicalLocation": {
            "artifactLocation": {"uri": quote(path), "uriBaseId": SRCROOT},
            "region": {"startLine": max(line, 1), "startColumn": max(column, 1)},
        }
    }


def _failures(report: Report) -> list[tuple[str, str]]:
    return [(r.path, r.reason) for r in report.results if r.status is Status.ERROR] + report.problems
