"""The JSON report is encoded one file at a time: the text is still exactly json.dumps(..., indent=2) of it."""
from __future__ import annotations

import json

from codemods import Change, Note
from rewriter.engine import FileResult, Status
from rewriter.report import Report
from rewriter.writeback import WriteBack


def _report(results: list[FileResult], problems=()) -> Report:
    return Report(WriteBack.CHECK, results, list(problems))


def test_the_report_is_json_dumps_with_indent_2(tmp_path) -> None:
    source = tmp_path / "app.py"
    source.write_bytes(b"import boto3\n\ndef handler(event, context):\n    s3 = boto3.client('s3')\n")
    results = [
        FileResult("app.py", "python", Status.CHANGED, [Change("hoist-clients", 4, "hoisted `s3`\nover two lines")],
                   [Note("hoist-clients", 1, 'a "quoted" note \u00e9')], before=source.read_bytes(), after=b"x\n",
                   abspath=str(source)),
        FileResult("lib/b.py", "python", Status.UNCHANGED, notes=[Note("targeted-imports", 1, "not Lambda code")],
                   abspath=str(tmp_path / "missing.py")),
        FileResult("c.js", "javascript", Status.ERROR, reason="does not parse: line 2: missing `}`"),
    ]
    for report, diffs in ((_report(results, [("template.yaml", "cannot read template")]), {"app.py": "--- a\n+++ b\n"}),
                          (_report(results), None), (_report([]), None), (_report([], [("x", "y")]), None)):
        text = report.as_json(diffs)
        parsed = json.loads(text)
        assert text == json.dumps(parsed, indent=2)
        assert [f["path"] for f in parsed["files"]] == [r.path for r in report.results]
    assert json.loads(_report(results).as_json())["files"][0]["changes"][0]["message"] == "hoisted `s3`\nover two lines"
