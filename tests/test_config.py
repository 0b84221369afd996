"""Configuration: finding the file, --config, every key's effect through the CLI, and clear errors."""
from __future__ import annotations

import importlib.util
import itertools
import os
import sys
from pathlib import Path

import pytest
from cli_support import HANDLER, git_init, invoke, invoke_json, run, snapshot, write
from cli_support import real_engine  # noqa: F401  (autouse: the engine as shipped)

from rewriter import config, engine
from rewriter.config import ConfigError, Settings, parse_table
from servers import postgres_server  # noqa: F401

# An in-house wrapper: a factory of AWS clients that no catalogue knows.
IN_HOUSE_CLIENT = (
    "from mycompany import aws\n"
    "\n"
    "\n"
    "def handler(event, context):\n"
    '    s3 = aws.client("s3")\n'
    "    return [b['Name'] for b in s3.list_buckets()['Buckets']]\n"
)
# A nightly job: no template names it and it does not take (event, context).
JOB = (
    "import boto3\n"
    "\n"
    "\n"
    "def run(payload):\n"
    '    s3 = boto3.client("s3")\n'
    "    return s3.list_buckets()\n"
)
# An in-house wrapper around a database driver.
IN_HOUSE_DB = (
    "import os\n"
    "\n"
    "from mycompany import db\n"
    "\n"
    "\n"
    "def handler(event, context):\n"
    '    conn = db.connect(os.environ["DSN"])\n'
    "    with conn.cursor() as cursor:\n"
    '        cursor.execute("SELECT %s", (event["id"],))\n'
    "        row = cursor.fetchone()\n"
    "    conn.close()\n"
    "    return row[0]\n"
)
PYPROJECT = "[project]\nname = 'app'\n\n[tool.lambda-rewriter]\n"


def changed(args: list[str], cwd: Path) -> list[str]:
    result, report = invoke_json(["check", *args], cwd)
    assert result.exit_code in (0, 1), result.output
    return sorted(f["path"] for f in report["files"] if f["status"] == "changed")


def processed(args: list[str], cwd: Path) -> list[str]:
    result, report = invoke_json(["check", *args], cwd)
    assert result.exit_code in (0, 1), result.output
    return sorted(f["path"] for f in report["files"])


# -- finding the file ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, table",
    [pytest.param("pyproject.toml", PYPROJECT, id="pyproject"), pytest.param("lambda-rewriter.toml", "", id="own-file")],
)
def test_the_file_is_found_walking_up_from_the_paths(tmp_path: Path, name: str, table: str) -> None:
    repo = git_init(tmp_path / "repo")
    write(repo, {"svc/a/app.py": HANDLER, "svc/b/app.py": HANDLER, name: table + 'disable = ["hoist-clients"]\n'})
    assert changed([], repo / "svc" / "a") == []
    assert changed(["svc/a", "svc/b"], repo) == []
    assert changed(["app.py"], repo / "svc" / "b") == []
    (repo / name).unlink()
    assert changed(["app.py"], repo / "svc" / "b") == ["svc/b/app.py"]


def test_the_nearest_file_wins_and_a_pyproject_without_the_table_is_passed_by(tmp_path: Path) -> None:
    repo = git_init(tmp_path / "repo")
    write(
        repo,
        {
            "lambda-rewriter.toml": 'disable = ["hoist-clients"]\n',
            "svc/a/app.py": HANDLER,
            "svc/a/pyproject.toml": "[project]\nname = 'a'\n\n[tool.black]\nline-length = 100\n",
            "svc/b/app.py": HANDLER,
            "svc/b/pyproject.toml": PYPROJECT + 'codemods = ["hoist-clients"]\n',
        },
    )
    assert changed(["svc/a"], repo) == []  # the root's file: svc/a's pyproject.toml does not configure us
    assert changed(["svc/b"], repo) == ["svc/b/app.py"]


def test_the_walk_stops_at_the_repository_root(tmp_path: Path) -> None:
    write(tmp_path, {"lambda-rewriter.toml": 'disable = ["hoist-clients"]\n'})
    repo = git_init(tmp_path / "repo")
    write(repo, {"app.py": HANDLER})
    assert changed([], repo) == ["app.py"]
    # Outside a repository, the walk goes on up and finds it.
    (repo / ".git").rename(repo / "not-git")
    assert changed([], repo) == []



def test_outside_a_repository_the_walk_stops_at_the_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`exclude = ["**"]` two folders above a project outside git turned check green: the home ends the search."""
    home = tmp_path / "home"
    write(tmp_path, {"pyproject.toml": PYPROJECT + 'exclude = ["**"]\n'})
    write(home, {"work/project/app.py": HANDLER})
    monkeypatch.setenv("HOME", str(home))
    assert config.searched(home / "work" / "project") == [home / "work" / "project", home / "work", home]
    assert changed([], home / "work" / "project") == ["app.py"]
    write(home, {"lambda-rewriter.toml": 'disable = ["hoist-clients"]\n'})  # the home itself is still read
    assert changed([], home / "work" / "project") == []


def test_the_walk_does_not_look_into_a_folder_others_may_write_to(tmp_path: Path) -> None:
    shared = tmp_path / "shared"  # as /tmp: anyone may plant a pyproject.toml there
    write(shared, {"pyproject.toml": PYPROJECT + 'exclude = ["**"]\n', "mine/app.py": HANDLER})
    shared.chmod(0o1777)
    assert config.searched(shared / "mine") == [shared / "mine"]
    assert changed([], shared / "mine") == ["app.py"]
    write(shared / "mine", {"lambda-rewriter.toml": 'disable = ["hoist-clients"]\n'})
    assert changed([], shared / "mine") == []


def test_verbose_names_the_configuration_file_used(tmp_path: Path) -> None:
    repo = git_init(tmp_path / "repo")
    write(repo, {"svc/app.py": HANDLER})
    assert "config: none" in invoke(["check", "-v"], repo / "svc").stderr
    write(repo, {"pyproject.toml": PYPROJECT + 'disable = ["targeted-imports"]\n'})
    result = invoke(["check", "-v"], repo / "svc")
    assert f"config: {repo / 'pyproject.toml'}" in result.stderr
    assert "config:" not in invoke(["check"], repo / "svc").stderr


def test_an_exclude_that_leaves_no_file_is_a_warning(tmp_path: Path) -> None:
    repo = git_init(tmp_path / "repo")
    write(repo, {"app.py": HANDLER, "pyproject.toml": PYPROJECT + 'exclude = ["**"]\n'})
    result = invoke(["check"], repo)
    assert result.exit_code == 0
    assert "warning: pyproject.toml: exclude ['**'] leaves none of the files here" in result.stderr
    write(repo, {"pyproject.toml": PYPROJECT + 'exclude = ["legacy/"]\n', "legacy/old.py": HANDLER})
    assert "leaves none" not in invoke(["check"], repo).stderr


# -- numbers a repository sets -------------------------------------------------------------------


def test_jobs_from_a_repository_is_capped_at_the_cpus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`jobs = 100000` started a process per file; `-j` is the user's own and is taken as given."""
    monkeypatch.setattr(engine, "default_workers", lambda: 2)
    asked = []
    real_run = engine.run
    monkeypatch.setattr(engine, "run", lambda work, names, workers, *a, **k: asked.append(workers) or
                        real_run(work, names, 1, *a, **k))
    repo = git_init(tmp_path / "repo")
    write(repo, {"app.py": HANDLER, "lambda-rewriter.toml": "jobs = 100000\n"})
    assert config.load(repo).jobs == 2
    result = invoke(["check"], repo)
    assert result.exit_code == 1
    assert "warning: lambda-rewriter.toml: jobs = 100000 is more than the CPUs here (2): 2 is used" in result.stderr
    assert invoke(["check", "-j", "3"], repo).exit_code == 1
    assert asked == [2, 3]
    write(repo, {"lambda-rewriter.toml": "jobs = 2\n"})
    assert "warning" not in invoke(["check"], repo).stderr


def test_max_file_bytes_from_a_repository_has_a_ceiling(tmp_path: Path) -> None:
    repo = git_init(tmp_path / "repo")
    big = HANDLER + "# " + "x" * config.MAX_FILE_BYTES + "\n"
    write(repo, {"big.py": big, "app.py": HANDLER, "pyproject.toml": PYPROJECT + "max-file-bytes = 1_000_000_000_000\n"})
    assert config.load(repo).max_file_bytes == config.MAX_FILE_BYTES
    result, report = invoke_json(["check"], repo)
    assert "max-file-bytes = 1000000000000 is more than the most lambda-rewriter reads (2000000)" in result.stderr
    statuses = {f["path"]: (f["status"], f.get("reason")) for f in report["files"]}
    assert statuses["big.py"] == ("skipped", f"larger than the size limit ({len(big)} > 2000000 bytes)")
    assert statuses["app.py"][0] == "changed"


def test_a_configuration_file_that_is_a_fifo_or_too_large_is_refused(tmp_path: Path) -> None:
    repo = git_init(tmp_path / "repo")
    write(repo, {"app.py": HANDLER, "pyproject.toml": PYPROJECT + "# lambda-rewriter\n" + "#" * 1_000_000 + "\n"})
    result = invoke(["check"], repo)
    assert result.exit_code == 2
    assert "pyproject.toml: larger than 1000000 bytes: not read" in result.stderr
    (repo / "pyproject.toml").unlink()
    os.mkfifo(repo / "lambda-rewriter.toml")
    result = invoke(["check"], repo)
    assert result.exit_code == 2 and "lambda-rewriter.toml: not a readable file" in result.stderr

def test_a_broken_pyproject_that_does_not_configure_us_is_not_read(tmp_path: Path) -> None:
    repo = git_init(tmp_path)
    write(repo, {"app.py": HANDLER, "pyproject.toml": "[project\nname = \n"})
    assert changed([], repo) == ["app.py"]


def test_both_files_in_one_folder_is_refused(tmp_path: Path) -> None:
    repo = git_init(tmp_path)
    write(repo, {"app.py": HANDLER, "pyproject.toml": PYPROJECT + "jobs = 1\n", "lambda-rewriter.toml": "jobs = 1\n"})
    before = snapshot(repo)
    result = invoke(["apply"], repo)
    assert result.exit_code == 2
    assert "both lambda-rewriter.toml and pyproject.toml [tool.lambda-rewriter]" in result.stderr
    assert "keep one" in result.stderr
    assert snapshot(repo) == before


# -- --config -----------------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["diff", "apply", "check"])
def test_config_option_overrides_the_file_found(tmp_path: Path, command: str) -> None:
    repo = git_init(tmp_path / "repo")
    write(repo, {"app.py": HANDLER, "jobs/nightly.py": JOB, "lambda-rewriter.toml": 'disable = ["hoist-clients"]\n'})
    shared = tmp_path / "shared" / "lambda-rewriter.toml"
    # Kept outside the repository, its globs are relative to the repository root.
    write(shared.parent, {shared.name: 'handlers = ["jobs/*.py:run"]\n'})
    before = snapshot(repo)
    result = invoke([command, "--config", str(shared)], repo)
    assert result.exit_code == (1 if command == "check" else 0), result.output
    if command == "apply":
        assert "s3 = boto3.client" not in (repo / "jobs" / "nightly.py").read_text().split("def run")[1]
        assert (repo / "app.py").read_text() != HANDLER
    else:
        assert snapshot(repo) == before
        assert "jobs/nightly.py" in result.stdout and "app.py" in result.stdout


def test_config_option_takes_a_pyproject_and_refuses_one_without_the_table(tmp_path: Path) -> None:
    repo = git_init(tmp_path)
    write(repo, {"app.py": HANDLER, "other/pyproject.toml": PYPROJECT + 'disable = ["hoist-clients"]\n',
                 "third/pyproject.toml": "[tool.black]\n"})
    assert changed(["--config", "other/pyproject.toml"], repo) == []
    result = invoke(["check", "--config", "third/pyproject.toml"], repo)
    assert result.exit_code == 2
    assert "third/pyproject.toml: no [tool.lambda-rewriter] table in it" in result.stderr
    assert invoke(["check", "--config", "missing.toml"], repo).exit_code == 2


def test_a_pyproject_shaped_file_under_another_name_gets_a_hint(tmp_path: Path) -> None:
    repo = git_init(tmp_path)
    write(repo, {"app.py": HANDLER, "ci/lr.toml": PYPROJECT + 'disable = ["hoist-clients"]\n'})
    result = invoke(["check", "--config", "ci/lr.toml"], repo)
    assert result.exit_code == 2
    assert "holds a [tool.lambda-rewriter] table: name the file pyproject.toml" in result.stderr


@pytest.mark.parametrize("kind", ["folder", "dangling-link"])
def test_a_config_name_that_is_not_a_file_is_an_error_not_ignored(tmp_path: Path, kind: str) -> None:
    repo = git_init(tmp_path)
    write(repo, {"app.py": HANDLER})
    if kind == "folder":
        (repo / "lambda-rewriter.toml").mkdir()
    else:
        (repo / "lambda-rewriter.toml").symlink_to("nowhere.toml")
    result = invoke(["check"], repo)
    assert result.exit_code == 2, result.output
    assert "lambda-rewriter.toml: not a readable file" in result.stderr


def _git(repo: Path, *args: str) -> str:
    return run(["git", *args], repo).stdout.decode().strip()


@pytest.fixture
def job_repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    repo = git_init(tmp_path / "repo")
    _git(repo, "config", "user.name", "Owner")
    _git(repo, "config", "user.email", "owner@example.com")
    write(repo, {"jobs/nightly.py": JOB, "ci/jobs.toml": 'handlers = ["jobs/*.py:run"]\n'})
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "base")
    return repo


def test_branch_reads_the_config_option_from_the_base_commit(job_repo: Path, tmp_path: Path) -> None:
    assert invoke(["branch"], job_repo).exit_code == 0  # nothing to change: no handler without the setting
    assert _git(job_repo, "branch", "--list", "lambda-rewriter/*") == ""
    # The working tree's copy is not the one read: the base commit's is. Kept in ci/, away from the
    # files, its globs are relative to the repository root.
    (job_repo / "ci" / "jobs.toml").write_text("jobs = 1\n")
    result = invoke(["branch", "--config", "ci/jobs.toml"], job_repo)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "lambda-rewriter/all"
    shown = _git(job_repo, "show", "lambda-rewriter/all:jobs/nightly.py")
    assert 'return boto3.client("s3")\n\n\ndef run(payload):\n    s3 = get_s3_client()' in shown


def test_branch_takes_a_config_file_from_outside_the_repository(job_repo: Path, tmp_path: Path) -> None:
    outside = tmp_path / "settings.toml"
    outside.write_text('handlers = ["jobs/*.py:run"]\ncodemods = ["hoist-clients"]\n')
    result = invoke(["branch", "--config", str(outside)], job_repo)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "lambda-rewriter/hoist-clients"
    outside.write_text("colour = 1\n")
    result = invoke(["branch", "--config", str(outside), "--branch", "other"], job_repo)
    assert result.exit_code == 2
    assert "unknown setting colour" in result.stderr


# -- what each key does -------------------------------------------------------------------------


def test_clients_hoists_an_in_house_client_constructor(tmp_path: Path) -> None:
    repo = git_init(tmp_path)
    write(repo, {"app.py": IN_HOUSE_CLIENT})
    assert changed([], repo) == []
    write(repo, {"lambda-rewriter.toml": 'clients = ["mycompany.aws.client"]\n'})
    result, report = invoke_json(["check"], repo)
    assert result.exit_code == 1
    [change] = report["files"][0]["changes"]
    assert change["message"].startswith('`handler` builds `aws.client("s3")` once, on first use, through the cached factory')


def test_clients_table_form_gives_cache_keys(tmp_path: Path) -> None:
    repo = git_init(tmp_path)
    source = IN_HOUSE_CLIENT.replace('aws.client("s3")', 'aws.client(service="s3", region=event["region"])')
    write(repo, {"app.py": source})
    write(repo, {"lambda-rewriter.toml": 'clients = [{name = "mycompany.aws.client", service-arg = "service"}]\n'})
    result, report = invoke_json(["check"], repo)
    assert result.exit_code == 0
    assert any("`region` comes from `event`" in n["message"] for n in report["files"][0]["notes"])
    write(repo, {"lambda-rewriter.toml": (
        'clients = [{name = "mycompany.aws.client", cache-keys = ["region"], service-arg = "service"}]\n'
    )})
    assert invoke(["apply"], repo).exit_code == 0
    after = (repo / "app.py").read_text()
    assert "@functools.lru_cache" in after and "def s3_client_for(region):" in after
    assert 's3 = s3_client_for(region=event["region"])' in after


@pytest.mark.parametrize(
    "init, expected",
    [
        pytest.param(None, "    s3 = get_s3_client()\n", id="auto"),
        pytest.param("eager", 's3 = boto3.client("s3")\n\n\ndef handler', id="eager"),
        pytest.param("lazy", "    s3 = get_s3_client()\n", id="lazy"),
    ],
)
def test_init_chooses_where_hoisted_clients_are_built(tmp_path: Path, init: str | None, expected: str) -> None:
    repo = git_init(tmp_path)
    write(repo, {"app.py": HANDLER})
    if init is not None:
        write(repo, {"lambda-rewriter.toml": f'init = "{init}"\n'})
    assert invoke(["apply"], repo).exit_code == 0
    assert expected in (repo / "app.py").read_text()


def test_reconnect_gives_an_in_house_connect_a_guard(tmp_path: Path) -> None:
    repo = git_init(tmp_path)
    write(repo, {"app.py": IN_HOUSE_DB})
    result, report = invoke_json(["check"], repo)
    assert result.exit_code == 0 and report["files"][0]["status"] == "unchanged"
    write(repo, {"pyproject.toml": PYPROJECT + '\n[tool.lambda-rewriter.reconnect."mycompany.db.connect"]\n'
                 'like = "psycopg2"\nerror = "mycompany.db.DatabaseError"\n'})
    assert invoke(["apply"], repo).exit_code == 0
    after = (repo / "app.py").read_text()
    assert "        except db.DatabaseError:\n" in after
    assert '        _conn = db.connect(os.environ["DSN"])\n' in after
    assert "    conn = get_conn()\n" in after and "conn.close()" not in after
    # The guard it wrote is known as one on the next run: nothing more to do, and no note says otherwise.
    result, report = invoke_json(["check", "-c", "reconnect-guards"], repo)
    assert result.exit_code == 0
    assert report["files"][0]["notes"] == []


def test_reconnect_short_form_with_a_check_of_its_own(tmp_path: Path) -> None:
    repo = git_init(tmp_path)
    write(repo, {"app.py": IN_HOUSE_DB})
    write(repo, {"lambda-rewriter.toml": '[reconnect]\n"mycompany.db.connect" = "pymysql"\n'})
    assert invoke(["apply"], repo).exit_code == 0
    after = (repo / "app.py").read_text()
    assert "_conn.ping()" in after and "except pymysql.Error:" in after and "import pymysql\n" in after
    write(repo, {"app.py": IN_HOUSE_DB, "lambda-rewriter.toml": (
        '[reconnect."mycompany.db.connect"]\nlike = "pymysql"\ncheck = ["{conn}.ping(reconnect=False)"]\n'
    )})
    assert invoke(["apply"], repo).exit_code == 0
    assert "            _conn.ping(reconnect=False)\n        except pymysql.Error:" in (repo / "app.py").read_text()


def test_include_and_exclude_are_relative_to_the_files_folder(tmp_path: Path) -> None:
    repo = git_init(tmp_path)
    files = {"svc/src/a.py": HANDLER, "svc/src/old/b.py": HANDLER, "svc/tests/c.py": HANDLER, "other/d.py": HANDLER}
    write(repo, files)
    assert processed([], repo) == sorted(files)
    write(repo, {"svc/lambda-rewriter.toml": 'include = ["src/"]\nexclude = ["old/"]\n'})
    assert processed(["svc"], repo) == ["svc/src/a.py"]
    # An explicit file is read even when excluded; only walks are filtered, as in black.
    assert processed(["svc/src/old/b.py"], repo) == ["svc/src/old/b.py"]


def test_handlers_names_entry_points_no_template_gives(tmp_path: Path) -> None:
    repo = git_init(tmp_path)
    write(repo, {"jobs/nightly.py": JOB, "lib/nightly.py": JOB})
    assert changed([], repo) == []
    write(repo, {"lambda-rewriter.toml": 'handlers = ["jobs/*.py:run"]\n'})
    assert changed([], repo) == ["jobs/nightly.py"]


def test_disable_leaves_codemods_out_and_the_command_line_still_wins(tmp_path: Path) -> None:
    repo = git_init(tmp_path)
    write(repo, {"app.py": HANDLER, "pyproject.toml": PYPROJECT + 'disable = ["hoist-clients"]\n'})
    assert changed([], repo) == []
    assert changed(["-c", "hoist-clients"], repo) == ["app.py"]


def test_max_file_bytes_skips_larger_files(tmp_path: Path) -> None:
    repo = git_init(tmp_path)
    write(repo, {"small.py": HANDLER, "big.py": HANDLER + "# padding\n" * 30})
    write(repo, {"lambda-rewriter.toml": "max-file-bytes = 200\n"})
    result, report = invoke_json(["check"], repo)
    status = {f["path"]: f["status"] for f in report["files"]}
    assert status == {"small.py": "changed", "big.py": "skipped"}


_PIDS: Path | None = None


def _recording_process_file(job, names, *args):
    with open(_PIDS, "a") as out:  # type: ignore[arg-type]
        out.write(f"{os.getpid()}\n")
    return _SHIPPED(job, names, *args)


_SHIPPED = engine.process_file


@pytest.mark.parametrize("jobs, pooled", [pytest.param(1, False, id="one"), pytest.param(2, True, id="two")])
def test_jobs_sets_the_worker_processes_and_options_reach_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jobs: int, pooled: bool
) -> None:
    global _PIDS
    repo = git_init(tmp_path / "repo")
    files = {f"f{i}/app.py": IN_HOUSE_CLIENT for i in range(5)}
    write(repo, {**files, "lambda-rewriter.toml": f'jobs = {jobs}\nclients = ["mycompany.aws.client"]\n'})
    _PIDS = tmp_path / "pids"
    monkeypatch.setattr(engine, "process_file", _recording_process_file)
    monkeypatch.setattr(engine, "default_workers", lambda: 4)  # a machine with CPUs enough for the jobs asked
    assert changed([], repo) == sorted(files)
    pids = set(_PIDS.read_text().split())
    assert (str(os.getpid()) not in pids) == pooled
    assert len(pids) <= jobs


# -- errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "setting, words",
    [
        pytest.param(
            'clients = ["mycompany.a.b", "mycompany.aws.client", "client"]',
            'clients[2] must be a dotted name like "mycompany.aws.client", not \'client\'',
            id="client-not-dotted",
        ),
        pytest.param(
            'clients = ["boto3.client"]',
            "clients[0] names boto3.client, which lambda-rewriter knows already",
            id="client-built-in",
        ),
        pytest.param(
            'clients = [{name = "a.b", cache-key = ["x"]}]',
            "unknown setting {t}clients[0].cache-key (known: name, cache-keys, service-arg)",
            id="client-table-typo",
        ),
        pytest.param('clients = [{cache-keys = ["x"]}]', "clients[0] needs a name", id="client-table-no-name"),
        pytest.param(
            'clients = [{name = "a.b", service-arg = -1}]',
            "clients[0].service-arg must be a position",
            id="client-service-arg",
        ),
        pytest.param(
            'clients = [{name = "a.b", cache-keys = ["region-name"]}]',
            "clients[0].cache-keys must name keyword arguments",
            id="client-cache-key",
        ),
        pytest.param('clients = "mycompany.aws.client"', "clients must be a list", id="clients-not-a-list"),
        pytest.param(
            'handlers = ["src/jobs/*.py"]',
            'handlers[0] must be "GLOB:FUNCTION"',
            id="handler-without-function",
        ),
        pytest.param('include = "src/"', "include must be a list of strings", id="include-not-a-list"),
        pytest.param(
            'disable = ["hoist-everything"]',
            "disable names unknown codemod hoist-everything",
            id="disable-unknown",
        ),
        pytest.param(
            'codemods = ["hoist-clients"]\ndisable = ["hoist-clients"]',
            "disable leaves no codemod to run",
            id="disable-all",
        ),
        pytest.param(
            "max-file-bytes = 1.5",
            "max-file-bytes must be a whole number of at least 1, not 1.5",
            id="size-float",
        ),
        pytest.param("jobs = 0", "jobs must be a whole number of at least 1, not 0", id="jobs-zero"),
        pytest.param('reconnect = ["mycompany.db.connect"]', "reconnect must be a table", id="reconnect-list"),
        pytest.param(
            'reconnect = {"mycompany.db.connect" = "oracle"}',
            'reconnect."mycompany.db.connect".like must be one of pymysql',
            id="reconnect-unknown-driver",
        ),
        pytest.param(
            'reconnect = {"connect" = "pymysql"}',
            "reconnect key 'connect' must be a dotted name",
            id="reconnect-not-dotted",
        ),
        pytest.param(
            'reconnect = {"pymysql.connect" = "pymysql"}',
            'reconnect."pymysql.connect" names pymysql.connect, which lambda-rewriter knows already',
            id="reconnect-built-in",
        ),
        pytest.param(
            'reconnect = {"a.connect" = {like = "pymysql", retries = 3}}',
            'unknown setting {t}reconnect."a.connect".retries (known: like, error, check, with-exit)',
            id="reconnect-typo",
        ),
        pytest.param(
            'reconnect = {"a.connect" = {like = "pymysql", check = ["conn.ping()"]}}',
            'reconnect."a.connect".check[0] must be a Python statement on {conn}',
            id="reconnect-check-without-conn",
        ),
        pytest.param(
            'reconnect = {"a.connect" = {like = "pymysql", check = ["{conn}.ping("]}}',
            'reconnect."a.connect".check[0] must be a Python statement',
            id="reconnect-check-syntax",
        ),
        pytest.param(
            'reconnect = {"a.connect" = {like = "pymysql", with-exit = "commits"}}',
            'reconnect."a.connect".with-exit must be one of closes, transaction, unsure',
            id="reconnect-with-exit",
        ),
        pytest.param(
            'reconnect = {"a.connect" = {like = "pymysql", error = "Error"}}',
            'reconnect."a.connect".error must be a dotted name like "mycompany.db.Error"',
            id="reconnect-error",
        ),
        pytest.param(
            'clients = ["a.connect"]\nreconnect = {"a.connect" = "pymysql"}',
            "reconnect names a.connect, which clients names too",
            id="client-and-reconnect",
        ),
        pytest.param(
            'handlers = ["src/*.py:run", "../*.py:handler"]',
            "handlers[1] must not reach above the folder globs are relative to",
            id="handlers-escape",
        ),
        pytest.param(
            'include = ["services/", "../shared/"]',
            "include[1] must not reach above the folder globs are relative to",
            id="include-escape",
        ),
        pytest.param('exclude = ["!a/../../b"]', "exclude[0] must not reach above", id="exclude-escape"),
        pytest.param(
            'clients = ["a.b", {name = "a.b", cache-keys = ["region"]}]',
            "clients[1] names a.b again: list each constructor once",
            id="client-twice",
        ),
        pytest.param('init = "later"', "init must be one of 'auto', 'eager', 'lazy', not 'later'", id="init-unknown"),
        pytest.param("colour = 1", "unknown setting {t}colour (known: codemods, disable, include", id="unknown-key"),
    ],
)
@pytest.mark.parametrize("kind", ["pyproject.toml", "lambda-rewriter.toml"])
def test_a_bad_setting_is_one_clear_error_naming_the_file_and_key(
    tmp_path: Path, kind: str, setting: str, words: str
) -> None:
    repo = git_init(tmp_path)
    table = "[tool.lambda-rewriter]\n" if kind == "pyproject.toml" else ""
    write(repo, {"app.py": HANDLER, kind: table + setting + "\n"})
    before = snapshot(repo)
    result = invoke(["apply"], repo)
    assert result.exit_code == 2
    prefix = "[tool.lambda-rewriter] " if kind == "pyproject.toml" else ""
    message = words.replace("{t}", prefix) if "{t}" in words else f"{prefix}{words}"
    [error] = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
    assert error.startswith(f"Error: {kind}: ") and message in error, error
    assert snapshot(repo) == before


def test_not_toml_names_the_file(tmp_path: Path) -> None:
    repo = git_init(tmp_path)
    write(repo, {"app.py": HANDLER, "lambda-rewriter.toml": "jobs = [\n"})
    result = invoke(["check"], repo)
    assert result.exit_code == 2
    assert "lambda-rewriter.toml: not valid TOML" in result.stderr


@pytest.mark.parametrize("kind", ["pyproject.toml", "lambda-rewriter.toml"])
def test_a_byte_order_mark_is_read_and_a_file_not_in_utf8_is_named(tmp_path: Path, kind: str) -> None:
    """Windows editors save with a BOM: the settings still apply; Latin-1 text is a clear error, not TOML's."""
    repo = git_init(tmp_path)
    table = "[tool.lambda-rewriter]\n" if kind == "pyproject.toml" else ""
    write(repo, {"app.py": HANDLER, "kept/app.py": HANDLER,
                 kind: b"\xef\xbb\xbf" + (table + 'exclude = ["kept/"]\n').encode()})
    result = invoke(["check"], repo)
    assert result.exit_code == 1, result.output
    assert "app.py:" in result.stdout and "kept/" not in result.stdout
    write(repo, {kind: (table + 'exclude = ["kept/"]  # caf\xe9\n').encode("latin-1")})
    result = invoke(["check"], repo)
    assert result.exit_code == 2
    assert f"{kind}: not UTF-8 text (byte 0xe9" in result.stderr


# -- the API batch manifests use ----------------------------------------------------------------


def test_parse_table_reads_a_manifests_table_and_names_it_in_errors() -> None:
    settings = parse_table(
        {"codemods": ["hoist-clients"], "jobs": 2, "clients": ["mycompany.aws.client"], "handlers": ["a/*.py:run"]},
        "repos.toml",
        "[repos.orders.settings]",
    )
    assert settings.codemods == ("hoist-clients",) and settings.jobs == 2
    assert settings.handlers == (("a/*.py", "run"),)
    assert [c.qualname for c in settings.options.clients] == ["mycompany.aws.client"]
    assert settings.base is None and settings.source is None
    hash(settings.options)  # carried by every FileJob, and part of the result cache's key
    with pytest.raises(ConfigError, match=r"^repos.toml: \[repos.orders.settings\] jobs must be a whole number"):
        parse_table({"jobs": "2"}, "repos.toml", "[repos.orders.settings]")
    assert parse_table({}, "x") == Settings()


def test_selected_codemods_follow_the_command_line_then_codemods_less_disable() -> None:
    settings = parse_table({"codemods": ["hoist-clients", "reconnect-guards"], "disable": ["reconnect-guards"]}, "x")
    assert settings.selected() == ("hoist-clients",)
    assert settings.selected(("reconnect-guards",)) == ("reconnect-guards",)
    everything = parse_table({"disable": ["hoist-clients"]}, "x").selected()
    assert "hoist-clients" not in everything and "reconnect-guards" in everything
    assert parse_table({}, "x").selected() == ()


# -- the configured code behaves ----------------------------------------------------------------

_modules = itertools.count()


def _load(path: Path, wrappers: Path) -> object:
    name = f"configured_handler_{next(_modules)}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(wrappers))
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(wrappers))
    return module


@pytest.fixture
def mycompany(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The in-house package, importable by the handlers; a fresh import for each test."""
    wrappers = tmp_path / "wrappers"
    write(wrappers, {
        "mycompany/__init__.py": "",
        "mycompany/aws.py": "import boto3\n\nBUILT = []\n\n\ndef client(service, **kwargs):\n"
                            "    BUILT.append(service)\n    return boto3.client(service, **kwargs)\n",
        "mycompany/db.py": "import psycopg2\n\nDatabaseError = psycopg2.Error\n\n\ndef connect(dsn):\n"
                           "    return psycopg2.connect(dsn)\n",
    })
    for name in [m for m in sys.modules if m == "mycompany" or m.startswith("mycompany.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.syspath_prepend(str(wrappers))
    return wrappers


def test_an_in_house_client_is_built_once_per_execution_environment(
    tmp_path: Path, mycompany: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from moto import mock_aws

    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(key, value)
    repo = git_init(tmp_path / "repo")
    write(repo, {"before.py": IN_HOUSE_CLIENT, "after.py": IN_HOUSE_CLIENT,
                 "lambda-rewriter.toml": 'clients = ["mycompany.aws.client"]\n'})
    assert invoke(["apply", "after.py"], repo).exit_code == 0
    import mycompany.aws as aws

    with mock_aws():
        import boto3

        boto3.client("s3").create_bucket(Bucket="orders")
        for name in ("before", "after"):
            aws.BUILT.clear()
            handler = _load(repo / f"{name}.py", mycompany).handler
            assert [handler({}, None) for _ in range(3)] == [["orders"]] * 3
            assert aws.BUILT == (["s3"] * 3 if name == "before" else ["s3"])


def test_an_in_house_connection_reconnects_after_the_server_dropped_it(
    tmp_path: Path, mycompany: Path, monkeypatch: pytest.MonkeyPatch, postgres_server
) -> None:
    import psycopg2

    repo = git_init(tmp_path / "repo")
    write(repo, {"app.py": IN_HOUSE_DB, "lambda-rewriter.toml": (
        '[reconnect."mycompany.db.connect"]\nlike = "psycopg2"\nerror = "mycompany.db.DatabaseError"\n'
    )})
    assert invoke(["apply"], repo).exit_code == 0
    tag = f"config_{os.getpid()}_{next(_modules)}"
    monkeypatch.setenv("DSN", postgres_server.dsn(application_name=tag))
    handler = _load(repo / "app.py", mycompany).handler
    assert [handler({"id": i}, None) for i in range(3)] == [0, 1, 2]
    assert postgres_server.connections(tag) == 1
    admin = psycopg2.connect(postgres_server.dsn(application_name="admin"))
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s", (tag,))
        assert cursor.fetchone() == (True,)
    admin.close()
    assert handler({"id": 7}, None) == 7
    assert postgres_server.connections(tag) == 2


def test_settings_for_a_folder_load_through_the_public_api(tmp_path: Path) -> None:
    repo = git_init(tmp_path)
    write(repo, {"svc/lambda-rewriter.toml": "jobs = 1\n"})  # at most the CPUs there are (see the capping tests)
    settings = config.load(repo / "svc")
    assert settings.jobs == 1 and settings.base == repo / "svc"
    assert settings.source == repo / "svc" / "lambda-rewriter.toml"
    assert config.load(repo) == Settings()


def test_the_readme_example_is_a_valid_configuration() -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    example = readme.split("## Configuration", 1)[1].split("```toml\n", 1)[1].split("```", 1)[0]
    table = config.tomllib.loads(example)["tool"]["lambda-rewriter"]
    settings = parse_table(table, "README.md", "[tool.lambda-rewriter]")
    assert {c.qualname for c in settings.options.clients} == {"mycompany.aws.client", "mycompany.aws.regional_client"}
    assert {r.qualname: r.like for r in settings.options.reconnect} == {
        "mycompany.db.mysql": "pymysql", "mycompany.db.connect": "psycopg2"
    }


def test_an_include_or_handlers_glob_that_matches_nothing_is_a_warning(tmp_path: Path) -> None:
    """For diff and apply; for check, an include that matches nothing is a usage error (issue 21: a typo must not
    turn CI green, and a warning in a CI log turns nothing red)."""
    repo = git_init(tmp_path)
    write(repo, {"src/app.py": HANDLER, "lambda-rewriter.toml": 'include = ["src/", "scr/"]\nhandlers = ["jobs/*.py:run"]\n'})
    result = invoke(["diff"], repo)
    assert result.exit_code == 0, result.output  # src/ still works: a warning, not an error
    assert "warning: lambda-rewriter.toml: include 'scr/' matches no file here" in result.stderr
    assert "warning: lambda-rewriter.toml: handlers 'jobs/*.py' matches no file here" in result.stderr
    assert "'src/'" not in result.stderr
    assert "warning" not in invoke(["diff", "--quiet"], repo).stderr
    check = invoke(["check"], repo)
    assert check.exit_code == 2 and "include 'scr/' matches no file here" in check.stderr
