"""The JavaScript check of every rewritten file: V8 in one long-lived Node process, as strict as `node --check`."""
from __future__ import annotations

import multiprocessing
import os
import shutil
import signal
import subprocess
from pathlib import Path

import pytest

from rewriter import node_syntax
from rewriter.languages import LANGUAGES, ParseFailure

NODE = shutil.which("node")
pytestmark = pytest.mark.skipif(NODE is None, reason="node is not installed")

# Valid for tree-sitter (its grammar does not know these rules), refused by V8: what the check is there for.
ONLY_V8_REFUSES = {
    "let twice": (b"let a = 1;\nlet a = 2;\n", False),
    "with in strict code": (b"'use strict';\nwith (Math) { max(1, 2); }\n", False),
    "duplicate parameters, strict": (b"function f(a, a) { 'use strict'; return a; }\n", False),
    "two constructors": (b"class A {\n  constructor() {}\n  constructor() {}\n}\n", False),
    "break outside a loop": (b"function f() {\n  break;\n}\n", False),
    "undeclared private name": (b"class A {\n  m() { return this.#x; }\n}\n", False),
    "await at the top of CommonJS": (b"const x = 1;\nawait x;\n", False),
    "import.meta in CommonJS": (b"console.log(import.meta.url);\n", False),
    "return at the top of a module": (b"import x from 'x';\nreturn x;\n", True),
    "new.target at the top of a module": (b"import x from 'x';\nconsole.log(new.target, x);\n", True),
    "legacy octal in a module": (b"import x from 'x';\nexport const y = 010 + x;\n", True),
    "export of an undeclared name": (b"import x from 'x';\nexport { missing };\n", True),
    "the same export twice": (b"export const a = 1;\nexport { a };\n", True),
    "HTML comment in a module": (b"export const a = 1;\n<!-- old\n", True),
}

# Valid for `node --check` although some rule elsewhere would refuse them.
BOTH_ACCEPT = {
    "return at the top of CommonJS": (b"if (!module) return;\nmodule.exports = 1;\n", False),
    "new.target in the CommonJS wrapper": (b"module.exports = new.target;\n", False),
    "a #! line": (b"#!/usr/bin/env node\nconsole.log(1);\n", False),
    "a #! line in a module": (b"#!/usr/bin/env node\nexport const a = 1;\n", True),
    "a byte order mark": ("\ufeffexports.a = 1;\n".encode(), False),
    "HTML comment in CommonJS": (b"<!-- old\nexports.a = 1;\n", False),
    "top-level await in a module": (b"export const a = await Promise.resolve(1);\n", True),
    "with in sloppy CommonJS": (b"with (Math) { exports.m = max(1, 2); }\n", False),
    "not UTF-8 in a string": (b"exports.a = '\xff\xfe';\n", False),
    "empty": (b"", False),
}


def _node_check_accepts(data: bytes, module: bool, tmp_path: Path) -> bool:
    copy = tmp_path / ("check.mjs" if module else "check.cjs")
    copy.write_bytes(data)
    return subprocess.run([NODE, "--check", str(copy)], capture_output=True).returncode == 0


@pytest.mark.parametrize("case", [*ONLY_V8_REFUSES, *BOTH_ACCEPT])
def test_the_checker_gives_node_checks_verdict(case: str, tmp_path: Path) -> None:
    data, module = ONLY_V8_REFUSES.get(case) or BOTH_ACCEPT[case]
    expected = case in BOTH_ACCEPT
    assert _node_check_accepts(data, module, tmp_path) is expected  # the cases say what node --check says
    # The long-lived process's own answer, not the `node --check` a refusal is confirmed with.
    assert node_syntax._current(NODE).compiles(data, module) is expected
    # And as ESM and CommonJS are each other's opposite on some of these, the other kind agrees with node too.
    assert node_syntax._current(NODE).compiles(data, not module) is _node_check_accepts(data, not module, tmp_path)


@pytest.mark.parametrize("case", list(ONLY_V8_REFUSES))
def test_a_result_only_v8_refuses_is_refused_with_its_line(case: str) -> None:
    data, module = ONLY_V8_REFUSES[case]
    LANGUAGES["javascript"].parse(data)  # tree-sitter takes it
    with pytest.raises(ParseFailure, match=r"^line (\d+|\?): SyntaxError: "):
        LANGUAGES["javascript"].check(data, "src/app.mjs" if module else "src/app.js")


def test_the_message_is_node_checks() -> None:
    with pytest.raises(ParseFailure) as refused:
        LANGUAGES["javascript"].check(b"let a = 1;\nlet a = 2;\n", "a.js")
    assert str(refused.value) == "line 2: SyntaxError: Identifier 'a' has already been declared"


def test_one_process_checks_many_files() -> None:
    first = node_syntax._current(NODE).process.pid
    for index in range(20):
        LANGUAGES["javascript"].check(b"exports.handler = async (event) => %d;\n" % index, f"f{index}.js")
        LANGUAGES["javascript"].check(b"export const handler = async (event) => %d;\n" % index, f"f{index}.mjs")
    assert node_syntax._current(NODE).process.pid == first


def test_nothing_in_the_source_runs(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    where = repr(str(marker)).encode()
    sources = [
        (b"require('fs').writeFileSync(%s, 'cjs');\n" % where, False),
        (b"import { writeFileSync } from 'fs';\nwriteFileSync(%s, 'esm');\n" % where, True),
        (b"import './side-effect.mjs';\nexport default 1;\n", True),
        (b"while (true) {}\n", False),
    ]
    (tmp_path / "side-effect.mjs").write_text(f"import {{ writeFileSync }} from 'fs'; writeFileSync({str(marker)!r}, 'x');\n")
    for data, module in sources:
        assert node_syntax.check(NODE, data, module) is None
    assert not marker.exists()


def test_a_stopped_checker_is_replaced() -> None:
    checker = node_syntax._current(NODE)
    os.kill(checker.process.pid, signal.SIGKILL)
    checker.process.wait()
    # The file in flight goes to `node --check`; the next one to a fresh process.
    assert node_syntax.check(NODE, b"exports.a = 1;\n", False) is None
    assert node_syntax.check(NODE, b"let a;\nlet a;\n", False) == ("2", "SyntaxError: Identifier 'a' has already been declared")
    assert node_syntax._current(NODE).process.pid != checker.process.pid


def _in_child(queue) -> None:
    checker = node_syntax._current(NODE)
    queue.put((checker.process.pid, checker.compiles(b"let a;\nlet a;\n", False), checker.compiles(b"let a;\n", False)))


def test_a_forked_worker_starts_its_own() -> None:
    parent = node_syntax._current(NODE)
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_in_child, args=(queue,))
    child.start()
    pid, refused, accepted = queue.get(timeout=60)
    child.join(60)
    assert (refused, accepted) == (False, True)
    assert pid != parent.process.pid
    assert parent.compiles(b"let a;\n", False) is True  # the parent's pipe was not used by the child
