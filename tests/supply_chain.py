"""`make audit`: pip-audit over every package of the project's venv, offline-tolerant.

A known vulnerability fails the audit (exit 1). When the advisory service cannot be reached, or answers
for none of the packages (a registry mirror without PyPI's JSON API says "not found" for each), the audit
warns that nothing was checked and exits 0: a machine without network must not fail on it, and must not
take it for a clean audit either.

    python tests/supply_chain.py PIP_AUDIT [SITE_PACKAGES]
"""
from __future__ import annotations

import json
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

_OFFLINE = (
    "ConnectionError",
    "ProxyError",
    "Max retries exceeded",
    "Failed to establish a new connection",
    "Name or service not known",
    "Temporary failure in name resolution",
    "Network is unreachable",
    "timed out",
    "SSLError",
)


def verdict(report: dict | None, returncode: int, stderr: str) -> tuple[int, list[str]]:
    """The exit status and what to print, from pip-audit's JSON report (None when it wrote none)."""
    if report is None:
        last = next((line for line in reversed(stderr.splitlines()) if line.strip()), "")
        if any(word in stderr for word in _OFFLINE):
            return 0, [f"WARNING: the advisory service cannot be reached; dependencies NOT audited ({last[:200]})"]
        return returncode or 1, [f"pip-audit failed: {last}"]
    deps = report.get("dependencies", [])
    vulnerable = [d for d in deps if d.get("vulns")]
    skipped = [d for d in deps if d.get("skip_reason") and "editable" not in d["skip_reason"]]
    audited = [d for d in deps if not d.get("skip_reason")]
    lines = [
        f"VULNERABLE: {d['name']} {d['version']}: {v['id']} (fixed in {', '.join(v.get('fix_versions') or []) or 'no release yet'})"
        for d in vulnerable
        for v in d["vulns"]
    ]
    if vulnerable:
        return 1, [*lines, f"{len(vulnerable)} of {len(audited)} audited packages have known vulnerabilities"]
    if not audited:
        return 0, [(f"WARNING: the advisory service answered for none of the {len(skipped)} packages (offline, or a "
                    "registry mirror without PyPI's JSON API); dependencies NOT audited")]
    if skipped:
        names = ", ".join(sorted(d["name"] for d in skipped))
        lines.append(f"WARNING: {len(skipped)} packages could not be audited: {names}")
    lines.append(f"no known vulnerabilities in {len(audited)} packages")
    return 0, lines


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    pip_audit = args[0]
    site = args[1] if len(args) > 1 else sysconfig.get_path("purelib")
    with tempfile.TemporaryDirectory() as folder:
        output = Path(folder) / "report.json"
        done = subprocess.run(
            [pip_audit, "--progress-spinner", "off", "--skip-editable", "--path", site, "--format", "json",
             "--output", str(output)],
            capture_output=True,
            text=True,
            check=False,
        )
        report = json.loads(output.read_text()) if output.is_file() else None
    status, lines = verdict(report, done.returncode, done.stderr)
    for line in lines:
        print(line)
    return status


if __name__ == "__main__":
    raise SystemExit(main())
