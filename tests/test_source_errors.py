"""A file that did not compile before the rewrite is named as not parsing, at its line: never as the tool's bug."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from rewriter.engine import FileJob, Status, process_file

needs_node = pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")

CASES = [
    # What the parser itself refuses.
    pytest.param("app.py", 'import boto3\ndef handler(event, context):\n    s3 = boto3.client("s3"\n    return s3\n', 3,
                 id="python-syntax"),
    pytest.param("app.js", "const AWS = require('aws-sdk');\nexports.handler = async (event) => {\n  new AWS.S3(;\n};\n", 3,
                 id="javascript-syntax"),
    pytest.param("app.ts", "import { S3Client } from '@aws-sdk/client-s3';\nexport const handler = async () => {\n"
                 "  const s3 = new S3Client({} as);\n};\n", 3, id="typescript-syntax"),
    pytest.param("App.java", "public class App implements RequestHandler<Object, Object> {\n"
                 "  public Object handleRequest(Object in, Context c) {\n    return S3Client.create(;\n  }\n}\n", 3,
                 id="java-syntax"),
    # What the parser reads but the compiler refuses: the rewrite is checked by the compiler, the file was not.
    pytest.param("app.py", 'import boto3\n\ndef helper():\n    x = 1\n    global x\n\ndef handler(event, context):\n'
                 '    s3 = boto3.client("s3")\n    return s3\n', 5, id="python-compile"),
    pytest.param("app.js", "const AWS = require('aws-sdk');\nlet a = 1;\nlet a = 2;\nexports.handler = async (event) => {\n"
                 "  const s3 = new AWS.S3();\n  return s3;\n};\n", 3, id="javascript-node-check", marks=needs_node),
]


@pytest.mark.parametrize("name, source, line", CASES)
def test_a_file_that_did_not_compile_is_named_at_its_line(name: str, source: str, line: int, tmp_path: Path) -> None:
    path = tmp_path / name
    path.write_text(source)
    result = process_file(FileJob(str(path), name, str(tmp_path)), ("hoist-clients",))
    assert result.status is Status.ERROR
    assert result.reason.startswith(f"does not parse: line {line}:"), result.reason
    assert "verification failed" not in result.reason
