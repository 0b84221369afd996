"""hoist-clients (Python): notes and one-line edge cases (the fixture pairs run in test_fixtures.py)."""
from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

import codemod_fixtures as fixtures
from codemods import FileContext
from codemods._base import Options

FIXTURES = Path(__file__).parent / "fixtures" / "hoist-clients"
CASES = sorted(FIXTURES.glob("*.in.py"))


def rewrite(source: str | bytes, entry_points: frozenset[str] | None = None) -> tuple[bytes, FileContext]:
    return fixtures.rewrite(source, "hoist-clients", entry_points)


expected_for = fixtures.expected_for


@pytest.mark.parametrize(
    "case, line, words",
    [
        pytest.param("region_from_event", 5, "per `region_name` through the cached factory `ec2_client_for`", id="cache"),
        pytest.param("region_positional", 5, "per `region_name` through the cached factory `ec2_client_for`",
                     id="cache-positional"),
        pytest.param("subresource_from_event", 5, "argument 1 comes from `event`", id="subresource"),
        pytest.param("left_sts_credentials", 8, "credentials obtained per invocation (`sts.assume_role()`)", id="sts"),
        pytest.param("left_with_block", 5, "opens a `with` block", id="with"),
        pytest.param("left_closed", 5, "is closed by `sns.close()`", id="closed"),
        pytest.param("left_lazy_global", 9, "already reused", id="lazy-global"),
        pytest.param("left_in_try", 7, "inside `try`", id="try"),
        pytest.param("eager_left_in_try", 7, "inside `try`; at module scope its errors", id="try-eager"),
        pytest.param("client_in_try", 10, "through the cached factory `get_s3_client`", id="try-lazy"),
        pytest.param("left_register_per_event", 5, "changes `s3` on every invocation (its input comes from `event`)", id="register"),
        pytest.param("left_database", 7, "needs a reconnect guard", id="database"),
        pytest.param("left_not_lambda", 1, "not Lambda code", id="not-lambda"),
        pytest.param("left_method_and_nested", 6, "left in class `Store`", id="method"),
        pytest.param("left_method_and_nested", 11, "nested function `inner`", id="nested"),
        pytest.param("left_reassigned", 5, "assigned more than once", id="reassigned"),
        pytest.param("left_async_client", 12, "bound to the event loop", id="async"),
        pytest.param("left_event_loop_and_gremlin", 16, "aiohttp.ClientSession is bound to the event loop", id="aiohttp"),
        pytest.param("left_event_loop_and_gremlin", 17, "does not reconnect a WebSocket the server closed", id="gremlin"),
        pytest.param("search_and_cluster_clients", 15, "`RedisCluster` connects to the cluster and reads its slots",
                     id="redis-cluster"),
        pytest.param("search_and_cluster_clients", 16, "`sniff_on_start` needs what only the function's environment",
                     id="sniff-on-start"),
        pytest.param("left_time_and_random", 8, "`endpoint_url` calls `uuid.uuid4()`", id="random"),
        pytest.param("left_time_and_random", 10, "`config` calls `make_config()`", id="call"),
        pytest.param("left_mutable_dependency", 7, "`retries` holds a mutable value", id="mutable"),
        pytest.param("loop_and_branch", 10, "`sns` is assigned more than once", id="branches"),
        pytest.param("basic_client", 7, "once, on first use, through the cached factory `get_s3_client`", id="lazy"),
        pytest.param("basic_client", 7, "boto3 resolves the region and the credentials", id="lazy-why"),
        pytest.param("resource_table", 7, "one per `table_name` (not at import: `os.environ[\"TABLE_NAME\"]` fails",
                     id="lazy-env"),
        pytest.param("eager_basic_client", 7, 'hoisted `s3 = boto3.client("s3")`', id="eager"),
        pytest.param("left_changed_by_handler", 17, "reads `CONFIG`, whose contents `lambda_handler` changes", id="dict"),
        pytest.param("left_changed_by_handler", 18, "reads `Settings`, whose contents", id="class-attribute"),
        pytest.param("left_changed_by_handler", 19, "reads `os.environ[\"QUEUE\"]`, which `lambda_handler` sets",
                     id="environ-set"),
        pytest.param("left_match_capture", 12, "reads `TABLE`, which is not set once at the top", id="match"),
        pytest.param("left_escapes", 12, "`http` is handed to `authorize(...)`", id="passed"),
        pytest.param("left_escapes", 14, "handed to another name (`headers = api.headers`)", id="alias"),
        pytest.param("left_escapes", 17, "closed by `contextlib.closing(sqs)`", id="closing"),
    ],
)
def test_decision_is_recorded(case: str, line: int, words: str) -> None:
    fixtures.check_decision(FIXTURES / f"{case}.in.py", "hoist-clients", line, words)


@pytest.mark.parametrize(
    "source",
    [
        pytest.param("import boto3\ns3 = boto3.client('s3')\ndef handler(event, context):\n    return s3\n", id="already-module-level"),
        pytest.param("import boto3\ndef handler(event, context):\n    return boto3.client(event['svc'])\n", id="service-from-event"),
        # Positional arguments count as the keyword they stand for: the third is `api_version`, no cache key.
        pytest.param("import boto3\ndef handler(event, context):\n    return [boto3.client('s3', 'eu-west-1', x) for x in event]\n", id="comprehension-positional"),
        pytest.param("import boto3\ndef handler(event, context, s=boto3):\n    return s\n", id="no-construction"),
        pytest.param("def handler(event, context):\n    return requests.Session()\n", id="name-not-imported"),
        pytest.param("import boto3\nasync def handler(event, context):\n    return boto3.client(**event)\n", id="star-star-args"),
        pytest.param("import boto3\ndef handler(event, context):\n    del boto3\n    return boto3.client('s3')\n", id="deleted-import"),
    ],
)
def test_noop(source: str) -> None:
    result, _ = rewrite(source)
    assert result.decode() == source


def test_template_entry_point_makes_a_lambda_module() -> None:
    source = textwrap.dedent(
        """\
        import boto3


        def process(message):
            sqs = boto3.client("sqs")
            return sqs
        """
    )
    unchanged, ctx = rewrite(source)
    assert unchanged.decode() == source
    changed, ctx = rewrite(source, entry_points=frozenset({"process"}))
    assert b'return boto3.client("sqs")\n\n\ndef process(message):\n    sqs = get_sqs_client()\n' in changed
    missing, ctx = rewrite(source, entry_points=frozenset({"gone"}))
    assert any("`gone`" in n.message for n in ctx.notes)


def test_async_handler_hoists_sync_clients() -> None:
    source = "import boto3\n\n\nasync def handler(event, context):\n    s3 = boto3.client('s3')\n    return s3\n"
    result, _ = fixtures.rewrite(source, "hoist-clients", options=Options(init="eager"))
    assert result.decode() == "import boto3\n\ns3 = boto3.client('s3')\n\n\nasync def handler(event, context):\n    return s3\n"
    result, _ = rewrite(source)
    assert "async def handler(event, context):\n    s3 = get_s3_client()\n" in result.decode()


@pytest.mark.parametrize(
    "case", sorted((fixtures.FIXTURES / "reconnect-guards").glob("*.out.py")), ids=lambda p: p.name
)
def test_a_reconnect_guard_is_not_noted_as_a_connection_left_behind(case: Path) -> None:
    """The guard's own connect() is the reused connection: hoist-clients has nothing to say about it."""
    _, ctx = rewrite(case.read_bytes())
    assert not [n for n in ctx.notes if "reconnect guard" in n.message], ctx.notes


def test_a_name_bound_only_under_main_is_read_per_invocation() -> None:
    """``ENDPOINT`` exists only when the file runs as a script: the read stays in the handler."""
    result, _ = rewrite((FIXTURES / "main_only_name.in.py").read_text())
    assert "s3_client_for(endpoint_url=ENDPOINT)" in result.decode()
    source = "import boto3\nimport requests\ndef handler(event, context):\n    return requests.Session(ENDPOINT)\n"
    main = 'if __name__ == "__main__":\n    ENDPOINT = 1\n'
    _, ctx = rewrite(source + main)
    assert any('only under `if __name__ == "__main__":`' in n.message for n in ctx.notes), ctx.notes


def test_eager_statements_go_below_the_module_setup() -> None:
    """``os.environ.setdefault`` and ``boto3.setup_default_session`` run at import: what is hoisted reads them."""
    result = (FIXTURES / "setup_after_imports.out.py").read_text()
    assert result.index("http = requests.Session()") > result.index("boto3.setup_default_session(")


def test_a_function_that_sets_the_region_keeps_region_less_clients_in_place() -> None:
    source = (
        "import os\nimport boto3\n\n\ndef handler(event, context):\n"
        "    os.environ['AWS_DEFAULT_REGION'] = event['region']\n    return boto3.client('sqs')\n"
    )
    result, ctx = rewrite(source)
    assert result.decode() == source
    assert any("finds its region in the environment, which `handler` changes" in n.message for n in ctx.notes)


@pytest.mark.parametrize("init", ["eager", "lazy"])
def test_init_setting_forces_one_form(init: str) -> None:
    source = "import requests\n\n\ndef handler(event, context):\n    http = requests.Session()\n    return http\n"
    result, _ = fixtures.rewrite(source, "hoist-clients", options=Options(init=init))
    if init == "eager":
        assert result.decode().startswith("import requests\n\nhttp = requests.Session()\n")
    else:
        assert "def get_http():\n    return requests.Session()\n" in result.decode()
        assert "    http = get_http()\n" in result.decode()
