"""Hoisting must not move failures to import time (issue 15).

Test suites import the handler module first, then set the environment or start moto. A rewritten module must
import wherever the original did, in an environment with no AWS variables and none of the function's settings,
and the project's own tests must pass before and after `lambda-rewriter apply`.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

import codemod_fixtures as fixtures
from rewriter.cli import cli

ROOT = Path(__file__).resolve().parent.parent
PROJECTS = fixtures.FIXTURES / "import-time"
SAMPLES = ROOT / "samples"

_IMPORTER = textwrap.dedent(
    """\
    import importlib.util, json, sys
    raised = []
    for n, path in enumerate(sys.argv[1:]):
        folder = path.rsplit("/", 1)[0]
        sys.path.insert(0, folder)
        spec = importlib.util.spec_from_file_location(f"_imported_{n}", path)
        module = importlib.util.module_from_spec(spec)
        try:
            spec.loader.exec_module(module)
        except BaseException as error:
            raised.append(type(error).__name__)
        else:
            raised.append(None)
        finally:
            sys.path.remove(folder)
    print(json.dumps(raised))
    """
)


def empty_environment(home: Path) -> dict[str, str]:
    """No AWS variable, no setting of the function, no shared AWS files: what a test process has before setUp."""
    return {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(home),
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONPATH": os.pathsep.join(p for p in sys.path if p and "site-packages" in p),
    }


def import_each(paths: list[Path], home: Path) -> list[str | None]:
    """The exception (class name) that importing each file raises, or None, in one fresh interpreter."""
    result = subprocess.run(
        [sys.executable, "-c", _IMPORTER, *map(str, paths)],
        env=empty_environment(home), cwd=home, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


def _pairs() -> list[tuple[Path, Path]]:
    found = []
    for codemod in ("hoist-clients", "reconnect-guards"):
        for case in sorted((fixtures.FIXTURES / codemod).glob("*.in.py")):
            if fixtures.expected_for(case).exists() and not case.name.startswith("eager_"):
                found.append((case, fixtures.expected_for(case)))
    return found


def _copies(pairs: list[tuple[Path, Path]], folder: Path) -> tuple[list[Path], list[Path]]:
    """Each file under a folder of its own, named app.py: a fixture must not see another's modules."""
    before, after = [], []
    for n, (source, rewritten) in enumerate(pairs):
        for side, path, into in (("before", source, before), ("after", rewritten, after)):
            target = folder / side / str(n) / "app.py"
            target.parent.mkdir(parents=True)
            shutil.copyfile(path, target)
            into.append(target)
    return before, after


def test_every_rewritten_fixture_imports_where_the_original_did(tmp_path: Path) -> None:
    pairs = _pairs()
    assert len(pairs) > 20
    before, after = _copies(pairs, tmp_path)
    raised_before, raised_after = import_each(before, tmp_path), import_each(after, tmp_path)
    moved = [
        f"{source.relative_to(fixtures.FIXTURES)}: {was} -> {now}"
        for (source, _), was, now in zip(pairs, raised_before, raised_after)
        if now is not None and now != was
    ]
    assert not moved, moved


def test_the_eager_form_of_a_table_from_the_environment_fails_at_import(tmp_path: Path) -> None:
    """The check above can fail: init = "eager" moves the construction to import, on request."""
    case = fixtures.FIXTURES / "hoist-clients" / "eager_resource_table.in.py"
    before, after = _copies([(case, fixtures.expected_for(case))], tmp_path)
    assert import_each(before + after, tmp_path) == [None, "NoRegionError"]


def test_every_rewritten_sample_imports_where_the_original_did(tmp_path: Path) -> None:
    before, after = tmp_path / "before", tmp_path / "after"
    shutil.copytree(SAMPLES, before)
    shutil.copytree(SAMPLES, after)
    result = CliRunner().invoke(cli, ["apply", "-j", "1", str(after)])
    assert result.exit_code == 0, result.output
    changed = [
        path.relative_to(after)
        for path in sorted(after.rglob("*.py"))
        if path.read_bytes() != (before / path.relative_to(after)).read_bytes()
    ]
    assert len(changed) >= 3, changed
    raised_before = import_each([before / p for p in changed], tmp_path)
    raised_after = import_each([after / p for p in changed], tmp_path)
    moved = {str(p): (was, now) for p, was, now in zip(changed, raised_before, raised_after) if now not in (None, was)}
    assert not moved, moved
    # rds-reports reads its secret at import by design, before and after: the others import cleanly.
    assert raised_after.count(None) >= 3, dict(zip(map(str, changed), raised_after))


# -- projects with their own tests ------------------------------------------------------------------------


def run_suite(project: Path, python: str = sys.executable) -> subprocess.CompletedProcess:
    env = empty_environment(project)
    if python != sys.executable:
        del env["PYTHONPATH"]  # another interpreter brings its own packages (moto 4)
    return subprocess.run(
        [python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "suite.py"],
        cwd=project, env=env, capture_output=True, text=True, timeout=300,
    )


def _apply(project: Path, init: str | None = None) -> None:
    if init is not None:
        (project / "lambda-rewriter.toml").write_text(f'init = "{init}"\n')
    before = (project / "app.py").read_bytes()
    result = CliRunner().invoke(cli, ["apply", "-j", "1", "-c", "hoist-clients", str(project / "app.py")])
    assert result.exit_code == 0, result.output
    assert (project / "app.py").read_bytes() != before, "apply changed nothing: the project tests no hoist"


MOTO_5_PROJECTS = ["unittest-setup-env", "pytest-monkeypatch", "conftest-env", "moto-decorator-after-import"]


@pytest.mark.parametrize("name", MOTO_5_PROJECTS)
def test_a_project_suite_passes_before_and_after_apply(name: str, tmp_path: Path) -> None:
    project = tmp_path / name
    shutil.copytree(PROJECTS / name, project)
    before = run_suite(project)
    assert before.returncode == 0, before.stdout + before.stderr
    _apply(project)
    after = run_suite(project)
    assert after.returncode == 0, (project / "app.py").read_text() + after.stdout + after.stderr
    assert after.stdout.splitlines()[-1].split(" in ")[0] == before.stdout.splitlines()[-1].split(" in ")[0]


@pytest.mark.parametrize("name", ["unittest-setup-env", "moto-decorator-after-import"])
def test_the_eager_form_breaks_the_same_suite(name: str, tmp_path: Path) -> None:
    """What the default form prevents: the eager rewrite fails these suites at collection or first call."""
    project = tmp_path / name
    shutil.copytree(PROJECTS / name, project)
    _apply(project, init="eager")
    result = run_suite(project)
    assert result.returncode != 0
    assert "KeyError" in result.stdout or "NoRegionError" in result.stdout, result.stdout


MOTO_4 = os.environ.get("LAMBDA_REWRITER_MOTO4_PYTHON", "")


@pytest.mark.skipif(not MOTO_4, reason="set LAMBDA_REWRITER_MOTO4_PYTHON to a Python that has moto 4 and pytest")
def test_a_moto_4_decorator_suite_passes_before_and_after_apply(tmp_path: Path) -> None:
    project = tmp_path / "moto4-decorators"
    shutil.copytree(PROJECTS / "moto4-decorators", project)
    before = run_suite(project, MOTO_4)
    assert before.returncode == 0, before.stdout + before.stderr
    _apply(project)
    after = run_suite(project, MOTO_4)
    assert after.returncode == 0, (project / "app.py").read_text() + after.stdout + after.stderr


# -- what the design rests on, checked against the installed boto3 and moto ------------------------------

_BOTO3_FACTS = textwrap.dedent(
    """\
    import functools, os
    import boto3, botocore.exceptions
    from moto import mock_aws
    facts = {}
    try:
        boto3.client("dynamodb")
    except botocore.exceptions.NoRegionError:
        facts["regional client without a region"] = "NoRegionError"
    early = boto3.client("s3", region_name="us-east-1")  # no credentials in the environment yet
    with mock_aws():
        try:
            early.list_buckets()
        except botocore.exceptions.NoCredentialsError:
            facts["client built before mock_aws"] = "NoCredentialsError"

    @functools.lru_cache(maxsize=None)
    def get_s3_client():
        return boto3.client("s3", region_name="us-east-1")

    for n in range(2):
        with mock_aws():
            get_s3_client().create_bucket(Bucket=f"bucket-{n}")
            facts[f"cached client, mock {n}"] = [b["Name"] for b in get_s3_client().list_buckets()["Buckets"]]
    print(__import__("json").dumps(facts))
    """
)


def test_boto3_resolves_region_and_credentials_when_it_builds_a_client(tmp_path: Path) -> None:
    """Why every boto3 client is built on first use by default, and why that form works under moto."""
    result = subprocess.run(
        [sys.executable, "-c", _BOTO3_FACTS], env=empty_environment(tmp_path), cwd=tmp_path,
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "regional client without a region": "NoRegionError",
        "client built before mock_aws": "NoCredentialsError",
        "cached client, mock 0": ["bucket-0"],  # built inside the first mock, reused in the second:
        "cached client, mock 1": ["bucket-1"],  # still intercepted, and each mock starts empty
    }
