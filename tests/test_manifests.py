"""slim-dependencies: manifests next to their sources, through the engine; the service-module table's check."""
from __future__ import annotations

import shutil
from pathlib import Path
from xml.etree import ElementTree

import botocore
import pytest

from codemods.manifests import _generate_java_modules as generate
from codemods.manifests._java_modules import BOTOCORE_VERSION, V1_MODULES, V2_MODULES
from codemods.manifests._java_sdk import V1, V2, modules_for
from codemods.manifests._pip import import_names, is_dev_tool, normalise
from rewriter.engine import FileJob, Status, process_file
from rewriter.languages import MANIFEST, language_for

FIXTURES = Path(__file__).parent / "fixtures" / "slim-dependencies"
SAMPLE = Path(__file__).parent.parent / "samples" / "java-orders"
MANIFESTS = ("pom.xml", "build.gradle", "build.gradle.kts", "requirements.txt", "package.json")
CASES = sorted(p for p in FIXTURES.iterdir() if (p / "in").is_dir())


def _manifest(folder: Path) -> str:
    return next(name for name in MANIFESTS if (folder / name).exists())


def _run(root: Path, relative: str, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(root)
    return process_file(FileJob(str(root / relative), relative, str(root)), ("slim-dependencies",))


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_fixture(case: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copytree(case / "in", tmp_path / "app")
    name = _manifest(case / "in")
    original = (case / "in" / name).read_bytes()
    expected_path = case / "out" / name
    expected = expected_path.read_bytes() if expected_path.exists() else original
    result = _run(tmp_path, f"app/{name}", monkeypatch)
    assert result.status in (Status.CHANGED, Status.UNCHANGED), result.reason
    after = result.after if result.status is Status.CHANGED else original
    assert after == expected
    if name == "pom.xml":
        ElementTree.fromstring(after)
    (tmp_path / "app" / name).write_bytes(after)
    again = _run(tmp_path, f"app/{name}", monkeypatch)
    assert again.status is Status.UNCHANGED and not again.changes


def _notes(case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[int, str]:
    shutil.copytree(FIXTURES / case / "in", tmp_path / "app")
    result = _run(tmp_path, f"app/{_manifest(FIXTURES / case / 'in')}", monkeypatch)
    return {note.line: note.message for note in result.notes}


def test_pom_keeps_every_untouched_byte(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copytree(FIXTURES / "maven_v1_bundle" / "in", tmp_path / "app")
    result = _run(tmp_path, "app/pom.xml", monkeypatch)
    before, after = result.before, result.after
    removed = before.split(b"<!-- every service of the SDK, for three clients -->")[0]
    assert after.startswith(removed.split(b"  <dependencies>")[0])
    assert after.endswith(before[before.index(b"    <dependency>\n      <groupId>junit</groupId>"):])
    assert b"<artifactId>aws-java-sdk</artifactId>\n            <version>1.12.780</version>" in after  # plugin's own


def test_versions_that_disagree_are_kept_and_noted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    notes = _notes("maven_v2_bom_other_version", tmp_path, monkeypatch)
    assert "bom imports 2.20.0 but software.amazon.awssdk:bundle was at 2.25.0" in notes[19]


@pytest.mark.parametrize(
    ("case", "line", "words"),
    [
        pytest.param("maven_no_sources", 7, "no Java sources under src/", id="no-sources"),
        pytest.param("maven_unknown_package", 7, "no known module for package(s) notaservice", id="unknown"),
        pytest.param("pip_trim", 14, "black is a test or dev tool: move it to requirements-dev.txt", id="dev-move"),
        pytest.param("pip_trim", 9, "kept certifi", id="support"),
        pytest.param("pip_dev_no_file", 2, "pytest is a test or dev tool: it belongs in a requirements-dev.txt",
                     id="dev-no-file"),
        pytest.param("npm_notes", 7, "jest is a build, test or dev tool", id="npm-dev"),
        pytest.param("npm_notes", 6, "aws-sdk (v2, the whole SDK) is a dependency but no module requires it", id="npm-v2"),
    ],
)
def test_notes(case: str, line: int, words: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    notes = _notes(case, tmp_path, monkeypatch)
    assert words in notes.get(line, ""), notes


def test_manifests_are_found_by_name() -> None:
    for name in MANIFESTS:
        assert language_for(f"a/b/{name}") is MANIFEST
    assert language_for("a/requirements-dev.txt") is None and language_for("a/notes.xml") is None
    assert language_for("a/app.py").name == "python"


def test_the_maven_sample_keeps_only_the_services_its_handlers_use(tmp_path: Path, monkeypatch) -> None:
    shutil.copytree(SAMPLE, tmp_path / "java-orders")
    result = _run(tmp_path, "java-orders/pom.xml", monkeypatch)
    assert result.status is Status.CHANGED, result.reason
    modules = {line.strip().removeprefix(b"<artifactId>").removesuffix(b"</artifactId>").decode()
               for line in result.after.splitlines() if b"<artifactId>aws-java-sdk-" in line}
    assert modules == {"aws-java-sdk-bom", "aws-java-sdk-dynamodb", "aws-java-sdk-s3", "aws-java-sdk-sns",
                       "aws-java-sdk-sqs"}
    assert b"aws-lambda-java-events" in result.after  # the worker reads an SQSEvent
    ElementTree.fromstring(result.after)


# The service-module table: derived from botocore with the v2 code generator's naming rule, checked against the
# module list of AWS's own v1->v2 migration recipe.


def test_the_naming_rule_gives_every_module_aws_names_but_retired_ones() -> None:
    by_rule = {generate.v2_name(service_id) for service_id in generate.botocore_services().values()}
    recipe = set(generate.AWS_RECIPE_MODULES)
    assert len(recipe) == 377
    if botocore.__version__ == BOTOCORE_VERSION:
        assert recipe - by_rule == generate.RETIRED - {"transcribestreaming"}
    else:  # a newer botocore may have retired a few more services; the rule must still hold for the rest
        assert len(recipe & by_rule) >= 340


def test_the_generated_table_is_current() -> None:
    v1, v2 = generate.tables()
    assert v1 == V1_MODULES  # built from AWS's lists only
    assert set(generate.AWS_RECIPE_MODULES) <= set(V2_MODULES)
    if botocore.__version__ == BOTOCORE_VERSION:
        assert v2 == V2_MODULES
    else:  # another botocore adds (or retires) a few services: regenerate to pick them up
        assert len(set(v2) & set(V2_MODULES)) >= 440


@pytest.mark.parametrize(
    ("package", "artifact"),
    [("s3", "aws-java-sdk-s3"), ("dynamodbv2", "aws-java-sdk-dynamodb"), ("logs", "aws-java-sdk-logs"),
     ("simpleemail", "aws-java-sdk-ses"), ("simplesystemsmanagement", "aws-java-sdk-ssm"),
     ("securitytoken", "aws-java-sdk-sts"), ("kinesisfirehose", "aws-java-sdk-kinesis"),
     ("cloudwatchevents", "aws-java-sdk-events"), ("apigateway", "aws-java-sdk-api-gateway"),
     ("elasticmapreduce", "aws-java-sdk-emr"), ("metrics", "aws-java-sdk-cloudwatchmetrics"),
     ("cloudwatch", "aws-java-sdk-cloudwatch"), ("identitymanagement", "aws-java-sdk-iam"),
     ("stepfunctions", "aws-java-sdk-stepfunctions"), ("simpledb", "aws-java-sdk-simpledb")],
)
def test_v1_packages(package: str, artifact: str) -> None:
    assert V1_MODULES[package] == artifact


def test_v1_and_v2_names_map_to_modules() -> None:
    names = frozenset({"com.amazonaws.services.lambda.runtime.Context", "com.amazonaws.services.s3.AmazonS3",
                       "com.amazonaws.auth.AWSCredentials"})
    assert modules_for(V1, names) == ({"aws-java-sdk-s3"}, set())
    assert modules_for(V1, frozenset({"com.amazonaws.regions.Regions"})) == ({"aws-java-sdk-core"}, set())
    v2 = frozenset({"software.amazon.awssdk.services.dynamodb.streams.DynamoDbStreamsClient",
                    "software.amazon.awssdk.services.cloudwatchlogs.CloudWatchLogsClient",
                    "software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient"})
    assert modules_for(V2, v2) == ({"dynamodb", "cloudwatchlogs", "url-connection-client"}, set())


@pytest.mark.parametrize(
    ("dist", "module"),
    [("PyYAML", "yaml"), ("python-dateutil", "dateutil"), ("beautifulsoup4", "bs4"), ("Pillow", "PIL"),
     ("psycopg2-binary", "psycopg2"), ("google-cloud-storage", "google"), ("python-dotenv", "dotenv"),
     ("PyJWT", "jwt"), ("requests", "requests"), ("aws_lambda_powertools", "aws_lambda_powertools")],
)
def test_distribution_to_import_names(dist: str, module: str) -> None:
    assert module in import_names(normalise(dist))


def test_dev_tools() -> None:
    assert all(is_dev_tool(normalise(n)) for n in ("pytest", "pytest-cov", "moto", "boto3-stubs", "Black",
                                                   "mypy-boto3-s3", "types-requests", "flake8-bugbear"))
    assert not any(is_dev_tool(normalise(n)) for n in ("boto3", "requests", "pydantic", "mypy-extensions"))


@pytest.mark.parametrize(
    ("files", "manifest", "expected"),
    [
        pytest.param({"pom.xml": "<project><dependencies><dependency><groupId>org.springframework.boot</groupId>"
                                 "</dependency></dependencies></project>\n"},
                     "pom.xml", {1: "Spring Boot starts an application context"}, id="spring-boot"),
        pytest.param({"build.gradle": "dependencies {\n    implementation 'org.springframework:spring-context:6.1.0'\n}\n"},
                     "build.gradle", {2: "a Spring context is built on every cold start"}, id="spring-context"),
        pytest.param({"requirements.txt": "Django==5.0\n", "app.py": "import django\n"},
                     "requirements.txt", {1: "Django loads its settings"}, id="django"),
        pytest.param({"requirements.txt": "boto3\nflask==3.0\n",
                      "app.py": "from flask import Flask\napp = Flask(__name__)\n@app.route('/')\ndef i(): pass\n"},
                     "requirements.txt", {2: "Flask (with a WSGI adapter) behind a Lambda handler (1 route found)"},
                     id="flask-one-route"),
        pytest.param({"requirements.txt": "fastapi\n",
                      "app.py": "from fastapi import FastAPI\napp = FastAPI()\n@app.get('/a')\ndef a(): pass\n"
                                "@app.post('/b')\ndef b(): pass\n"},
                     "requirements.txt", {}, id="fastapi-api"),
    ],
)
def test_framework_advice(files: dict[str, str], manifest: str, expected: dict[int, str], tmp_path: Path,
                          monkeypatch: pytest.MonkeyPatch) -> None:
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    monkeypatch.chdir(tmp_path)
    result = process_file(FileJob(str(tmp_path / manifest), manifest, str(tmp_path)), ("framework-advice",))
    assert result.status is Status.UNCHANGED and not result.changes
    notes = {note.line: note.message for note in result.notes}
    assert set(notes) == set(expected)
    assert all(expected[line] in notes[line] for line in expected)


def test_gradle_with_crlf_line_endings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copytree(FIXTURES / "gradle_groovy" / "in", tmp_path / "app")
    manifest = tmp_path / "app" / "build.gradle"
    manifest.write_bytes(manifest.read_bytes().replace(b"\n", b"\r\n"))
    result = _run(tmp_path, "app/build.gradle", monkeypatch)
    assert result.status is Status.CHANGED, result.reason
    expected = (FIXTURES / "gradle_groovy" / "out" / "build.gradle").read_bytes().replace(b"\n", b"\r\n")
    assert result.after == expected


def test_requirements_of_something_that_is_no_lambda_function_stay(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "requirements.txt").write_text("django==5.0\ngunicorn==22.0\n")
    (tmp_path / "manage.py").write_text("import django\n\ndef main(argv):\n    return argv\n")
    result = _run(tmp_path, "requirements.txt", monkeypatch)
    assert result.status is Status.UNCHANGED and not result.changes
    assert "not a Lambda function's requirements" in result.notes[0].message
