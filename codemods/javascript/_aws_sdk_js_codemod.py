"""aws-sdk-js-codemod (pinned), run through Node on a source text: the v2-to-v3 translation that sdk-v3 wraps.

The tool is a third-party package the user installs once, never the target repository's code: it gets the text on
stdin (no file of the repository is opened, no tsconfig or plugin of the repository is loaded), runs with a bounded
time and a minimal environment, and its result is checked by the engine like any codemod's.
"""
from __future__ import annotations

import dataclasses
import functools
import json
import os
import shutil
import subprocess
from pathlib import Path

PACKAGE = "aws-sdk-js-codemod"
VERSION = "3.0.2"
ENV = "LAMBDA_REWRITER_NODE_MODULES"
DEFAULT_FOLDER = Path("~/.local/share/lambda-rewriter").expanduser()
INSTALL = f"npm install --prefix {DEFAULT_FOLDER} --ignore-scripts {PACKAGE}@{VERSION}"
TIMEOUT = 60  # seconds per file; the slowest fixture of its suite takes about 2 s here
DRIVER = Path(__file__).with_name("_aws_sdk_js_codemod.cjs")
# What the tool writes into its output where it could not translate (NOT_SUPPORTED_COMMENT in its config), or where a
# `.promise()` call may be left on a v2 API: either way the result is half translated.
UNTRANSLATED = ("not supported in AWS SDK for JavaScript (v3)", "The `.promise()` call might be on an JS SDK v2")


class Unavailable(Exception):
    """The tool cannot run here; the message says why and what to do."""


@dataclasses.dataclass(frozen=True)
class Tool:
    node: str
    package: Path  # node_modules/aws-sdk-js-codemod


def _modules_folder() -> Path:
    named = os.environ.get(ENV)
    return Path(named) if named else DEFAULT_FOLDER / "node_modules"


@functools.cache
def _find(folder: Path) -> Tool | str:
    node = shutil.which("node")
    if node is None:
        return "node is not on PATH"
    package = folder / PACKAGE
    try:
        version = json.loads((package / "package.json").read_text()).get("version")
    except (OSError, ValueError):
        return f"{PACKAGE} {VERSION} is not installed in {folder} (install it: `{INSTALL}`, or set {ENV})"
    if version != VERSION:
        return f"{folder} holds {PACKAGE} {version}, this tool is tested with {VERSION} only (`{INSTALL}`)"
    return Tool(node, package)


def find() -> Tool:
    found = _find(_modules_folder())
    if isinstance(found, str):
        raise Unavailable(found)
    return found


def fingerprint() -> str:
    """What decides the tool's results besides the source: for the result cache's key."""
    found = _find(_modules_folder())
    return found if isinstance(found, str) else f"{found.package}={VERSION}"


_DONE: dict[tuple[str, str], str] = {}  # (suffix, source) -> result, within this process


def translate(source: str, suffix: str) -> str:
    """The tool's v2-to-v3 result for ``source`` of a file ending in ``suffix`` (".js", ".ts"...)."""
    return translate_many([(source, suffix)])[0]


def translate_many(files: list[tuple[str, str]]) -> list[str]:
    """:func:`translate` for many sources in one Node process; results are kept for this process."""
    tool = find()
    wanted = [file for file in dict.fromkeys(files) if file not in _DONE]
    if wanted:
        payload = json.dumps([{"path": f"input{suffix}", "source": source} for source, suffix in wanted])
        env = {"PATH": os.environ.get("PATH", ""), "AWS_SDK_JS_CODEMOD_SUPRESS_WARNING": "1", "NODE_OPTIONS": ""}
        timeout = TIMEOUT + 2 * len(wanted)
        try:
            ran = subprocess.run(
                [tool.node, str(DRIVER), str(tool.package)],
                input=payload.encode(),
                capture_output=True,
                timeout=timeout,
                env=env,
                cwd=tool.package,
                check=False,  # the status is read below
            )
        except subprocess.TimeoutExpired:
            raise Unavailable(f"{PACKAGE} did not finish within {timeout} s") from None
        if ran.returncode != 0:
            raise Unavailable(f"{PACKAGE} failed: {ran.stderr.decode('utf-8', 'replace').strip()[:200]}")
        try:
            results = json.loads(ran.stdout)
        except ValueError:
            raise Unavailable(f"{PACKAGE} gave no result") from None
        if not isinstance(results, list) or len(results) != len(wanted):  # else a file would get another's result
            raise Unavailable(f"{PACKAGE} gave no result for some of the {len(wanted)} files")
        _DONE.update(zip(wanted, results, strict=True))
    return [_DONE[file] for file in files]
