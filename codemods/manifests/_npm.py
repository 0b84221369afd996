"""slim-dependencies for npm: notes only. A package.json is shared by code this tool does not read (scripts,
bundler configs), so nothing is removed; the reviewer gets the facts."""
from __future__ import annotations

import json

from codemods._base import FileContext
from codemods.manifests._scan import Sources
from codemods._text import line_number

DEV_TOOLS = frozenset({
    "jest", "mocha", "chai", "sinon", "nyc", "eslint", "prettier", "typescript", "ts-node", "ts-jest", "nodemon",
    "aws-sdk-client-mock", "serverless", "serverless-offline", "esbuild", "webpack", "rollup", "vitest",
    "aws-cdk", "@types/node", "@types/aws-lambda", "husky", "lint-staged",
})
DEV_PREFIXES = ("@types/", "eslint-", "@typescript-eslint/", "jest-", "@jest/", "serverless-")


def _used(specifiers: frozenset[str], package: str) -> bool:
    return any(s == package or s.startswith(package + "/") for s in specifiers)


def rewrite(data: bytes, sources: Sources, ctx: FileContext) -> bytes:
    try:
        manifest = json.loads(data)
    except ValueError:
        return data
    dependencies = manifest.get("dependencies") if isinstance(manifest, dict) else None
    if not isinstance(dependencies, dict):
        return data
    for package in dependencies:
        at = data.find(json.dumps(package).encode())
        line = line_number(data, at) if at >= 0 else 1
        if package.startswith(DEV_PREFIXES) or package in DEV_TOOLS:
            ctx.note(line, f"{package} is a build, test or dev tool: it belongs in devDependencies, not in what the "
                           "function ships")
        elif package == "aws-sdk" and sources.files and not _used(sources.names, "aws-sdk"):
            ctx.note(line, "aws-sdk (v2, the whole SDK) is a dependency but no module requires it: it can go")
        elif package == "aws-sdk" and sources.files:
            ctx.note(line, "aws-sdk (v2) ships every service: import per-service clients (aws-sdk/clients/s3) and "
                           "bundle, or move to the v3 @aws-sdk/client-* packages")
    return data
