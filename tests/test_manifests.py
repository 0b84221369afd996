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
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "requirements.txt").write_text("django==5.0\ngunicorn==22.0\n")
    (tmp_path / "site" / "manage.py").write_text("import django\n\ndef main(argv):\n    return argv\n")
    result = _run(tmp_path, "site/requirements.txt", monkeypatch)
    assert result.status is Status.UNCHANGED and not result.changes
    assert "not a Lambda function's requirements" in result.notes[0].message


# Issue 15: a requirement leaves only when proven unneeded. Each case below was seen on a real repository.


def _project(tmp_path: Path, files: dict[str, str | bytes]) -> None:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text if isinstance(text, bytes) else text.encode())


def _slim(tmp_path: Path, files: dict[str, str | bytes], manifest: str, monkeypatch: pytest.MonkeyPatch):
    _project(tmp_path, files)
    result = _run(tmp_path, manifest, monkeypatch)
    assert result.status in (Status.CHANGED, Status.UNCHANGED), result.reason
    after = result.after if result.status is Status.CHANGED else (tmp_path / manifest).read_bytes()
    notes = {note.line: note.message for note in result.notes}
    return after, [c.message for c in result.changes], notes


HANDLER_PY = "def handler(event, context):\n    return {}\n"


@pytest.mark.parametrize(
    ("feature", "needed"),
    [
        pytest.param("from aws_lambda_powertools.utilities.validation import validator", "fastjsonschema",
                     id="validation-fastjsonschema"),
        pytest.param("from aws_lambda_powertools import Tracer", "aws-xray-sdk", id="tracer-xray"),
        pytest.param("from aws_lambda_powertools.utilities.parser import event_parser", "pydantic",
                     id="parser-pydantic"),
    ],
)
def test_what_a_powertools_feature_needs_at_run_time_stays(feature: str, needed: str, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    requirements = f"aws-lambda-powertools>=3.0\n{needed}>=1.0\nrequests>=2.32\n"
    after, changes, notes = _slim(tmp_path, {"orders/requirements.txt": requirements,
                                             "orders/app.py": f"{feature}\n\n{HANDLER_PY}"},
                                  "orders/requirements.txt", monkeypatch)
    assert after == f"aws-lambda-powertools>=3.0\n{needed}>=1.0\n".encode()
    assert changes == ["removed requests: no module of the function imports it"]
    assert "needs it at run time (aws-lambda-powertools[" in notes[2], notes


def test_what_an_extra_asks_for_stays(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    after, _, notes = _slim(tmp_path, {"orders/requirements.txt": "aws-lambda-powertools[validation]>=3\n"
                                                                  "fastjsonschema>=2\npandas>=2\n",
                                       "orders/app.py": f"from aws_lambda_powertools import Logger\n{HANDLER_PY}"},
                            "orders/requirements.txt", monkeypatch)
    assert after == b"aws-lambda-powertools[validation]>=3\nfastjsonschema>=2\n"
    assert notes[2] == "kept fastjsonschema: aws-lambda-powertools[validation], which stays, requires it"


@pytest.mark.parametrize(
    "importer",
    [
        pytest.param({"functions/orders/app.py": f"from shared.models import Order\n{HANDLER_PY}"}, id="sibling"),
        pytest.param({"functions/orders/app.py": f"from ..shared import models\n{HANDLER_PY}"}, id="relative"),
        pytest.param({"functions/orders/app.py": f"import models\n{HANDLER_PY}",
                      "template.yaml": "Resources:\n  Orders:\n    Type: AWS::Serverless::Function\n    Properties:\n"
                                       "      CodeUri: functions/orders/\n      Handler: app.handler\n"
                                       "      Runtime: python3.12\n      Layers: [!Ref Shared]\n"
                                       "  Shared:\n    Type: AWS::Serverless::LayerVersion\n    Properties:\n"
                                       "      ContentUri: layers/shared/\n"}, id="template-layer"),
    ],
)
def test_a_local_module_outside_the_folder_keeps_what_it_imports(importer: dict[str, str], tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    model = "import pydantic\n\n\nclass Order(pydantic.BaseModel):\n    id: str\n"
    files = {"functions/orders/requirements.txt": "pydantic>=2\nrequests>=2\n", **importer,
             "functions/shared/__init__.py": "", "functions/shared/models.py": model,
             "layers/shared/python/models.py": model}
    after, changes, _ = _slim(tmp_path, files, "functions/orders/requirements.txt", monkeypatch)
    assert after == b"pydantic>=2\n"
    assert changes == ["removed requests: no module of the function imports it"]


def test_a_shared_lib_module_keeps_what_it_imports(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = {"functions/orders/requirements.txt": "backoff>=2\nrequests>=2\n",
             "functions/orders/app.py": f"from retry import with_retry\n{HANDLER_PY}",
             "lib/retry.py": "import backoff\n\nwith_retry = backoff.on_exception(backoff.expo, Exception)\n"}
    after, changes, _ = _slim(tmp_path, files, "functions/orders/requirements.txt", monkeypatch)
    assert after == b"backoff>=2\n" and changes == ["removed requests: no module of the function imports it"]


@pytest.mark.parametrize(
    ("script", "text"),
    [
        pytest.param("functions/orders/build.sh", "#!/bin/sh\nset -e\ncp -r ../../lib/*.py .\n", id="build.sh"),
        pytest.param("Makefile", "build-Orders:\n\tcp lib/*.py $(ARTIFACTS_DIR)\n", id="makefile"),
        pytest.param("Dockerfile", "FROM public.ecr.aws/lambda/python:3.12\nCOPY lib/ ${LAMBDA_TASK_ROOT}/\n",
                     id="dockerfile"),
        pytest.param("buildspec.yml", "phases:\n  build:\n    commands:\n      - rsync -a lib/ functions/orders/\n",
                     id="buildspec"),
    ],
)
def test_a_build_that_copies_modules_in_keeps_everything(script: str, text: str, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    files = {"functions/orders/requirements.txt": "backoff>=2\nrequests>=2\n",
             "functions/orders/app.py": f"import retry\n{HANDLER_PY}", script: text,
             "lib/helpers/retry.py": "import backoff\n"}  # where the build finds it: no import names that place
    after, changes, notes = _slim(tmp_path, files, "functions/orders/requirements.txt", monkeypatch)
    assert after == files["functions/orders/requirements.txt"].encode() and not changes
    line = text.splitlines().index(next(x for x in text.splitlines() if "cp " in x or "COPY" in x or "rsync" in x)) + 1
    assert f"but {script} line {line} copies files into the package, which may import it" in notes[1], notes


def test_a_dockerfile_that_copies_only_the_function_folder_is_no_doubt(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    files = {"functions/orders/requirements.txt": "backoff>=2\nrequests>=2\n",
             "functions/orders/app.py": f"import backoff\n{HANDLER_PY}",
             "functions/orders/Dockerfile": "FROM public.ecr.aws/lambda/python:3.12\nCOPY requirements.txt ./\n"
                                            "COPY app.py ${LAMBDA_TASK_ROOT}/\n"}
    after, changes, _ = _slim(tmp_path, files, "functions/orders/requirements.txt", monkeypatch)
    assert after == b"backoff>=2\n"


@pytest.mark.parametrize(
    ("source", "doubt"),
    [
        pytest.param("import helpers\n", "`helpers` (functions/orders/extra.py line 1) is neither in the repository",
                     id="unresolved-module"),
        pytest.param("import importlib\nplugin = importlib.import_module(NAME)\n", "imports a module whose name is "
                     "computed", id="computed-import"),
        pytest.param("import sys\nsys.path.insert(0, '/opt/shared')\n", "adds to sys.path", id="sys-path"),
        pytest.param("def broken(:\n", "does not parse", id="syntax-error"),
    ],
)
def test_what_cannot_be_seen_keeps_everything(source: str, doubt: str, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    files = {"functions/orders/requirements.txt": "requests>=2\n",
             "functions/orders/app.py": f"{HANDLER_PY}", "functions/orders/extra.py": source}
    after, changes, notes = _slim(tmp_path, files, "functions/orders/requirements.txt", monkeypatch)
    assert after == b"requests>=2\n" and not changes
    assert notes[1].startswith("kept requests: no module of the function imports it, but ") and doubt in notes[1]


@pytest.mark.parametrize(
    ("manifest", "reason"),
    [
        pytest.param("requirements.txt", "at the repository root", id="root"),
        pytest.param("tests/requirements.txt", "under tests/", id="tests"),
        pytest.param("tests/load/requirements.txt", "under tests/", id="tests-below"),
        pytest.param("ci/requirements.txt", "under ci/", id="ci"),
        pytest.param("docs/requirements.txt", "under docs/", id="docs"),
    ],
)
def test_requirements_of_the_root_tests_ci_and_docs_stay(manifest: str, reason: str, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    folder = manifest.rpartition("/")[0]
    tools = "yq==3.4.3\nlocust>=2.20\npyfakefs>=5\ncoveralls>=3\nrequests>=2\n"
    files = {manifest: tools, f"{folder}/helpers.py".lstrip("/"): HANDLER_PY,
             "functions/orders/app.py": HANDLER_PY}
    after, changes, notes = _slim(tmp_path, files, manifest, monkeypatch)
    assert after == tools.encode() and not changes
    assert list(notes) == [1] and notes[1].startswith("left as it is: ") and reason in notes[1]


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("boto3==1.34.0\nlocust==2.24.1\nrequests==2.32.3\nyq==3.4.3\n", id="freeze"),
        pytest.param("#\n# This file is autogenerated by pip-compile with Python 3.12\n#\nrequests>=2\nyq\n",
                     id="pip-compile"),
        pytest.param("requests==2.32.3 \\\n    --hash=sha256:70761cfe03c773ceb22aa2f671b4757976145175cdfca038c02654d061d6dcc6\n"
                     "yq>=3\n", id="hashes"),
    ],
)
def test_lock_and_freeze_files_are_never_edited(text: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = {"orders/requirements.txt": text, "orders/app.py": HANDLER_PY}
    after, changes, notes = _slim(tmp_path, files, "orders/requirements.txt", monkeypatch)
    assert after == text.encode() and not changes
    assert notes[1].startswith("left as it is: ") and "lock file is regenerated, not edited" in notes[1]


@pytest.mark.parametrize("name", ["requirements.lock", "requirements-lock.txt", "poetry.lock", "uv.lock",
                                  "pdm.lock", "Pipfile.lock", "requirements.txt.lock"])
def test_lock_files_are_no_manifests(name: str) -> None:
    assert language_for(f"svc/{name}") is None


def test_test_and_dev_tools_get_a_note_never_a_deletion(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = {"orders/requirements.txt": "requests>=2\npytest>=8\ncoveralls\npyfakefs\n",
             "orders/requirements-dev.txt": "pytest>=8\n", "orders/app.py": f"import requests\n{HANDLER_PY}"}
    after, changes, notes = _slim(tmp_path, files, "orders/requirements.txt", monkeypatch)
    assert after == files["orders/requirements.txt"].encode() and not changes
    assert notes[2].startswith("pytest is a test or dev tool, already in requirements-dev.txt")
    assert notes[3] == "coveralls is a test or dev tool: move it to requirements-dev.txt"
    assert notes[4] == "pyfakefs is a test or dev tool: move it to requirements-dev.txt"


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(b"requests>=2\npandas>=2", id="last-line"),
        pytest.param(b"requests>=2\n\npandas>=2", id="after-a-blank-line"),
        pytest.param(b"pandas>=2\nrequests>=2", id="first-line"),
        pytest.param(b"requests>=2\r\npandas>=2", id="crlf"),
        pytest.param(b"requests>=2\npandas>=2\n# end", id="comment-last"),
        pytest.param(b"pandas>=2\nrequests>=2   ", id="blanks-after-the-last-kept-line"),
    ],
)
def test_a_file_without_a_final_newline_keeps_it_so(text: bytes, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    files = {"orders/requirements.txt": text, "orders/app.py": f"import requests\n{HANDLER_PY}"}
    after, changes, _ = _slim(tmp_path, files, "orders/requirements.txt", monkeypatch)
    assert changes == ["removed pandas: no module of the function imports it"]
    assert after == text.replace(b"\r\n", b"\n").replace(b"pandas>=2\n", b"").replace(b"\n\npandas>=2", b"") \
        .replace(b"\npandas>=2", b"").replace(b"\n", b"\r\n" if b"\r\n" in text else b"\n")
    assert not after.endswith((b"\n", b"\r"))


@pytest.mark.parametrize(
    "handler",
    [
        "def lambda_handler_user(event, context=None, password=None):\n    return password\n",
        "def handler(event, _):\n    return 1\n",
        "async def handler(evt, ctx):\n    return 1\n",
    ],
    ids=["extra-defaults", "underscore-context", "async"],
)
def test_handlers_of_every_shape_make_a_function_folder(handler: str, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    files = {"orders/requirements.txt": "requests>=2\npandas>=2\n", "orders/app.py": f"import requests\n\n{handler}"}
    after, changes, _ = _slim(tmp_path, files, "orders/requirements.txt", monkeypatch)
    assert after == b"requests>=2\n"


def test_a_template_codeuri_makes_a_function_folder_without_a_handler_def(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    template = ("Resources:\n  Api:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: api/\n"
                "      Handler: main.handler\n      Runtime: python3.12\n")
    files = {"template.yaml": template, "api/requirements.txt": "fastapi>=0.110\nmangum>=0.17\npydantic>=2\npandas>=2\n",
             "api/main.py": "from fastapi import FastAPI\nfrom mangum import Mangum\n\napp = FastAPI()\n"
                            "handler = Mangum(app)\n"}
    after, changes, notes = _slim(tmp_path, files, "api/requirements.txt", monkeypatch)
    assert after == b"fastapi>=0.110\nmangum>=0.17\npydantic>=2\n"
    assert notes[3] == "kept pydantic: fastapi, which stays, requires it"


def test_an_image_function_whose_dockerfile_copies_a_shared_package_keeps_everything(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """As in aws-samples/serverless-patterns lambda-durable-hitl-python-sam: the image copies src/shared/*.py in."""
    template = ("Resources:\n  Approval:\n    Type: AWS::Serverless::Function\n    Properties:\n"
                "      PackageType: Image\n      ImageUri: approval:latest\n    Metadata:\n"
                "      DockerContext: ./src\n      Dockerfile: approval/Dockerfile\n")
    dockerfile = ("FROM public.ecr.aws/lambda/python:3.13\nCOPY approval/requirements.txt ${LAMBDA_TASK_ROOT}/\n"
                  "RUN pip install -r requirements.txt\nCOPY approval/app.py ${LAMBDA_TASK_ROOT}/\n"
                  "COPY shared/*.py ${LAMBDA_TASK_ROOT}/\nCMD [\"app.handler\"]\n")
    files = {"template.yaml": template, "src/approval/Dockerfile": dockerfile,
             "src/approval/requirements.txt": "boto3>=1.34\npydantic>=2\n",
             "src/approval/app.py": f"import boto3\n{HANDLER_PY}", "src/shared/models.py": "import pydantic\n"}
    after, changes, notes = _slim(tmp_path, files, "src/approval/requirements.txt", monkeypatch)
    assert after == files["src/approval/requirements.txt"].encode() and not changes
    assert "src/approval/Dockerfile line 5 copies files into the package" in notes[2], notes
    # the same image copying only its own folder proves pydantic unneeded
    (tmp_path / "src/approval/Dockerfile").write_text(dockerfile.replace("COPY shared/*.py ${LAMBDA_TASK_ROOT}/\n", ""))
    after, changes, _ = _slim(tmp_path, {}, "src/approval/requirements.txt", monkeypatch)
    assert changes == ["removed pydantic: no module of the function imports it"]


def test_a_handler_folder_no_template_names_is_left_when_templates_declare_functions(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    template = ("Resources:\n  Orders:\n    Type: AWS::Serverless::Function\n    Properties:\n"
                "      CodeUri: functions/orders/\n      Handler: app.handler\n      Runtime: python3.12\n")
    files = {"template.yaml": template, "functions/orders/app.py": f"import requests\n{HANDLER_PY}",
             "functions/orders/requirements.txt": "pandas>=2\nrequests>=2\n",
             "functions/local/invoke.py": HANDLER_PY, "functions/local/requirements.txt": "pandas>=2\nrequests>=2\n"}
    after, changes, notes = _slim(tmp_path, files, "functions/local/requirements.txt", monkeypatch)
    assert not changes and notes == {1: "left as it is: template.yaml names no function whose code is in this folder"}
    after, changes, notes = _slim(tmp_path, {}, "functions/orders/requirements.txt", monkeypatch)
    assert after == b"requests>=2\n" and changes == ["removed pandas: no module of the function imports it"]


def test_dependencies_come_from_installed_metadata_when_there(monkeypatch: pytest.MonkeyPatch) -> None:
    from codemods.manifests import _needs

    monkeypatch.setitem(_needs.REQUIRES, "requests", ("not-what-requests-requires",))
    assert {"urllib3", "certifi", "idna"} <= set(_needs.requires("requests"))  # requests is installed here
    assert "not-what-requests-requires" not in _needs.requires("requests")
    assert "pysocks" in _needs.extra_requires("requests", "socks") and "pysocks" not in _needs.requires("requests")


def test_dependencies_come_from_the_table_otherwise() -> None:
    from codemods.manifests import _needs

    assert _needs._installed("aws-lambda-powertools-not-installed-here") is None
    assert _needs.extra_requires("aws-lambda-powertools", "tracer") == ("aws-xray-sdk",)
    reasons = _needs.needed({"fastapi": frozenset()},
                            frozenset({"aws_lambda_powertools.utilities.validation.validator"}))
    assert reasons["fastjsonschema"].startswith("`aws_lambda_powertools.utilities.validation`, which the function")
    assert reasons["pydantic"] == "fastapi, which stays, requires it"
    assert reasons["annotated-types"] == "fastapi, which stays, requires it (through pydantic)"


def test_a_requirement_named_like_a_package_outside_the_folder_stays(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    files = {"functions/orders/requirements.txt": "requests>=2\npandas>=2\n",
             "functions/orders/app.py": f"import requests\n{HANDLER_PY}",
             "requests/__init__.py": "import pandas\n"}  # a copy that may not ship: the requirement stays
    after, changes, _ = _slim(tmp_path, files, "functions/orders/requirements.txt", monkeypatch)
    assert after == b"requests>=2\npandas>=2\n" and not changes
