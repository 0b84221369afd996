"""reconnect-guards (Python): the rewritten handlers against real database servers (pairs: test_fixtures.py).

The behaviour tests run each handler several times in one warm module, as Lambda does, and count the
connections the server accepted. Between two invocations the server kills the handler's connection
(``pg_terminate_backend``, ``KILL``, ``CLIENT KILL``) or restarts: the rewritten handler must carry on
with the same results, and the naive hoist (a module-level connection, no guard) must fail, which
shows that the guard is what makes the difference.
"""
from __future__ import annotations

import dataclasses
import importlib.util
import itertools
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import libcst as cst
import pytest

from codemods import FileContext, select
from codemods.catalog import LIVENESS
from rewriter.engine import FileJob, Status, process_file
from servers import MariaDB, Postgres, Redis, mariadb_server, postgres_server, redis_server  # noqa: F401

FIXTURES = Path(__file__).parent / "fixtures" / "reconnect-guards"
CASES = sorted(FIXTURES.glob("*.in.py"))
NAME = "reconnect-guards"


def rewrite(source: str | bytes) -> tuple[bytes, FileContext]:
    data = source.encode() if isinstance(source, str) else source
    ctx = FileContext("case.py")
    tree = cst.parse_module(data)
    for codemod in select([NAME]):
        ctx.codemod = codemod.NAME
        tree = codemod().transform(tree, ctx)
    return tree.bytes, ctx


@pytest.mark.parametrize("layout", ["as-is", "crlf", "tabs"])
@pytest.mark.parametrize("case", CASES, ids=[c.name.removesuffix(".in.py") for c in CASES])
def test_pipeline_verifies_every_fixture(case: Path, layout: str, tmp_path: Path) -> None:
    """After hoist-clients, through the engine's checks, in any line ending and indentation."""
    data = case.read_bytes()
    data = {"as-is": data, "crlf": data.replace(b"\n", b"\r\n"), "tabs": data.replace(b"    ", b"\t")}[layout]
    path = tmp_path / "app.py"
    path.write_bytes(data)
    result = process_file(FileJob(str(path), "app.py", str(tmp_path)), ("hoist-clients", NAME))
    changed = case.with_name(case.name.replace(".in.py", ".out.py")).exists()
    assert result.status is (Status.CHANGED if changed else Status.UNCHANGED), result.reason


@pytest.mark.parametrize(
    "case, note",
    [
        ("host_from_event", "`host` comes from `event`"),
        ("rotated_secret", "reads `secret`"),
        ("psycopg3_with", "commits and closes the connection"),
        ("redis_module", "redis-py reconnects by itself"),
        ("hand_written_guard", "proved check is `conn.ping(); conn.rollback()`"),
        ("tenant_select_db", "`conn.select_db(event[\"tenant\"])` changes the connection for the rest of its life"),

    ],
)
def test_left_alone_with_a_note(case: str, note: str) -> None:
    _, ctx = rewrite((FIXTURES / f"{case}.in.py").read_bytes())
    assert any(note in n.message and n.codemod == NAME for n in ctx.notes), ctx.notes


@pytest.mark.parametrize(
    "source",
    [
        pytest.param("import pymysql\n\ndef handler(event, context):\n    for host in event['hosts']:\n"
                     "        conn = pymysql.connect(host='db')\n", id="in-a-loop"),
        pytest.param("import pymysql\n\ndef handler(event, context):\n    return pymysql.connect(host='db').open\n",
                     id="not-assigned"),
        pytest.param("import psycopg2\n\ndef handler(event, context):\n    conn = psycopg2.connect('')\n"
                     "    conn = psycopg2.connect('x')\n", id="bound-twice"),
        pytest.param("def handler(event, context):\n    import pymysql\n    conn = pymysql.connect(host='db')\n",
                     id="imported-in-handler"),
        pytest.param("import pymysql\n\ndef handler(event, context):\n    conn = pymysql.connect(init_command='''SET\n"
                     "x=1''')\n", id="multiline-string"),
        pytest.param("import sqlalchemy\n\ne = sqlalchemy.create_engine(**OPTIONS)\n\ndef handler(event, context):\n"
                     "    pass\n", id="engine-star-args"),
        pytest.param("import pymysql\n\nconn = pymysql.connect(host='a')\nconn = pymysql.connect(host='b')\n\n"
                     "def handler(event, context):\n    pass\n", id="module-level-twice"),
        pytest.param("import pymysql\n\nconn = pymysql.connect(host='a')\ncursor = conn.cursor()\n\n"
                     "def handler(event, context):\n    return cursor\n", id="module-level-read-at-import"),
        pytest.param("import pymysql\n\ndef connect():\n    return pymysql.connect(host='db')\n", id="no-handler"),
    ],
)
def test_noop(source: str) -> None:
    result, ctx = rewrite(source)
    assert result == source.encode()
    assert not ctx.changes


def test_close_elsewhere_stays_with_a_note() -> None:
    source = (
        "import pymysql\n\ndef handler(event, context):\n    conn = pymysql.connect(host='db')\n"
        "    if event.get('done'):\n        conn.close()\n    return 1\n"
    )
    result, ctx = rewrite(source)
    assert b"get_conn()" in result and b"        conn.close()\n" in result
    assert any("stays: it closes the reused connection" in n.message for n in ctx.notes)


def test_one_guard_for_two_handlers_with_the_same_connection() -> None:
    handler = "def {name}(event, context):\n    conn = pymysql.connect(host='db')\n    return conn.open\n"
    source = "import pymysql\n\n\n" + handler.format(name="first") + "\n\n" + handler.format(name="second")
    result, _ = rewrite(source)
    assert result.count(b"def get_conn():") == 1
    assert result.count(b"conn = get_conn()") == 2
    compile(result, "case.py", "exec")


def test_every_guarded_driver_has_a_recipe_proved_here_or_says_it_is_not() -> None:
    proved = {driver for driver, recipe in LIVENESS.items() if recipe.proved}
    assert proved == {d.module for d in DRIVERS_PROVED}


# -- behaviour against real servers -------------------------------------------------------------

EVENTS = [{"id": n % 3 + 1} for n in range(10)]
ROWS = {1: 120, 2: 75, 3: 310}

DBAPI_BODY = """\
cursor = conn.cursor()
cursor.execute("SELECT total FROM orders WHERE id = %s", (event["id"],))
row = cursor.fetchone()
cursor.close()
return {"id": event["id"], "total": row[0] if row else None}
"""

ENGINE_BODY = """\
with engine.connect() as connection:
    total = connection.execute(text("SELECT total FROM orders WHERE id = :id"), {"id": event["id"]}).scalar()
return {"id": event["id"], "total": total}
"""

PER_INVOCATION = """\
import os

{imports}


def handler(event, context):
    {name} = {connect}
    try:
{body}
    finally:
        {name}.{close}()
"""

NAIVE_HOIST = """\
import os

{imports}

{name} = {connect}


def handler(event, context):
{body}
"""


@dataclasses.dataclass(frozen=True)
class Driver:
    module: str  # the catalogue's driver, or "sqlalchemy"
    server: str  # "postgres" or "mariadb"
    imports: str
    connect: str
    engine: bool = False

    def source(self, template: str) -> str:
        name, close, body = ("engine", "dispose", ENGINE_BODY) if self.engine else ("conn", "close", DBAPI_BODY)
        depth = 8 if template is PER_INVOCATION else 4
        return template.format(
            imports=self.imports, name=name, connect=self.connect, close=close, body=textwrap.indent(body, " " * depth)
        )


MYSQL_ARGS = (
    'host=os.environ["DB_HOST"], port=int(os.environ["DB_PORT"]), user=os.environ["DB_USER"], '
    'password=os.environ["DB_PASSWORD"], {database}=os.environ["DB_NAME"]'
)
DRIVERS_PROVED = [
    Driver("pymysql", "mariadb", "import pymysql", f"pymysql.connect({MYSQL_ARGS.format(database='database')})"),
    Driver(
        "mysql.connector",
        "mariadb",
        "import mysql.connector",
        f"mysql.connector.connect({MYSQL_ARGS.format(database='database')})",
    ),
    Driver("psycopg2", "postgres", "import psycopg2", 'psycopg2.connect(os.environ["DATABASE_URL"])'),
    Driver("psycopg", "postgres", "import psycopg", 'psycopg.connect(os.environ["DATABASE_URL"])'),
]
# mysqlclient builds from source against libmariadb-dev, so the test extras leave it out; where it is
# installed, its recipe is exercised like the others (the catalogue does not count it as proved).
DRIVERS_UNPROVED = [
    Driver("MySQLdb", "mariadb", "import MySQLdb", f"MySQLdb.connect({MYSQL_ARGS.format(database='database')})"),
]
DRIVERS = [
    *DRIVERS_PROVED,
    *DRIVERS_UNPROVED,
    Driver(
        "sqlalchemy",
        "postgres",
        "from sqlalchemy import create_engine, text",
        'create_engine(os.environ["DATABASE_ENGINE_URL"])',
        engine=True,
    ),
    Driver(
        "sqlalchemy",
        "mariadb",
        "from sqlalchemy import create_engine, text",
        'create_engine(os.environ["DATABASE_ENGINE_URL"])',
        engine=True,
    ),
]


def _ids(driver: Driver) -> str:
    return f"{driver.module}-{driver.server}"


_modules = itertools.count()


def load(source: str | bytes, tmp_path: Path) -> object:
    """A fresh, warm execution environment: the module imported once, its handler called many times."""
    name = f"guarded_handler_{next(_modules)}"
    path = tmp_path / f"{name}.py"
    path.write_bytes(source.encode() if isinstance(source, str) else source)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def pipeline(source: str, tmp_path: Path) -> bytes:
    """What `lambda-rewriter apply -c hoist-clients -c reconnect-guards` writes, verified."""
    path = tmp_path / "app.py"
    path.write_text(source)
    result = process_file(FileJob(str(path), "app.py", str(tmp_path)), ("hoist-clients", NAME))
    assert result.status is Status.CHANGED, (result.status, result.reason, result.notes)
    return result.after


def wait_until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 30
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


class Database:
    """One database on a real server: the handlers' settings, the kill switch and the connection count."""

    def __init__(self, server: Postgres | MariaDB) -> None:
        self.server = server
        self.tag = ""

    def scenario(self, tag: str, monkeypatch: pytest.MonkeyPatch) -> None:
        raise NotImplementedError

    def kill(self) -> None:
        raise NotImplementedError

    def connections(self) -> int:
        raise NotImplementedError

    def set_total(self, order: int, total: int) -> None:
        raise NotImplementedError


class PostgresDatabase(Database):
    def __init__(self, server: Postgres) -> None:
        super().__init__(server)
        import psycopg2

        admin = psycopg2.connect(server.dsn(application_name="admin"))
        admin.autocommit = True
        with admin.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = 'shop'")
            if cursor.fetchone() is None:
                cursor.execute("CREATE DATABASE shop")
        admin.close()
        self.admin = psycopg2.connect(server.dsn(dbname="shop", application_name="admin"))
        self.admin.autocommit = True
        with self.admin.cursor() as cursor:
            cursor.execute("CREATE TABLE IF NOT EXISTS orders (id int PRIMARY KEY, total int)")
            cursor.execute("CREATE TABLE IF NOT EXISTS events (id serial PRIMARY KEY, body text)")
            cursor.execute("TRUNCATE orders")
            for order, total in ROWS.items():
                cursor.execute("INSERT INTO orders VALUES (%s, %s)", (order, total))

    def scenario(self, tag: str, monkeypatch: pytest.MonkeyPatch) -> None:
        self.tag = tag
        s = self.server
        monkeypatch.setenv("DATABASE_URL", s.dsn(dbname="shop", application_name=tag))
        monkeypatch.setenv(
            "DATABASE_ENGINE_URL", f"postgresql+psycopg2://{s.user}@{s.host}:{s.port}/shop?application_name={tag}"
        )

    def _live(self) -> list[int]:
        with self.admin.cursor() as cursor:
            cursor.execute("SELECT pid FROM pg_stat_activity WHERE application_name = %s", (self.tag,))
            return [row[0] for row in cursor.fetchall()]

    def kill(self) -> None:
        pids = self._live()
        assert pids, "no connection to kill"
        with self.admin.cursor() as cursor:
            for pid in pids:
                cursor.execute("SELECT pg_terminate_backend(%s)", (pid,))
        wait_until(lambda: not self._live(), "the server to end the killed connections")

    def connections(self) -> int:
        return self.server.connections(self.tag)

    def set_total(self, order: int, total: int) -> None:
        with self.admin.cursor() as cursor:
            cursor.execute("UPDATE orders SET total = %s WHERE id = %s", (total, order))

    def reconnect_admin(self) -> None:
        import psycopg2

        self.admin = psycopg2.connect(self.server.dsn(dbname="shop", application_name="admin"))
        self.admin.autocommit = True


class MariaDatabase(Database):
    def __init__(self, server: MariaDB) -> None:
        super().__init__(server)
        self.reconnect_admin()
        with self.admin.cursor() as cursor:
            cursor.execute("CREATE DATABASE IF NOT EXISTS shop")
            cursor.execute("CREATE TABLE IF NOT EXISTS shop.orders (id int PRIMARY KEY, total int) ENGINE=InnoDB")
            cursor.execute("DELETE FROM shop.orders")
            for order, total in ROWS.items():
                cursor.execute("INSERT INTO shop.orders VALUES (%s, %s)", (order, total))
        self.base = 0

    def reconnect_admin(self) -> None:
        import pymysql

        self.admin = pymysql.connect(
            host=self.server.host, port=self.server.port, user=self.server.user, password="", autocommit=True
        )

    def scenario(self, tag: str, monkeypatch: pytest.MonkeyPatch) -> None:
        self.tag = tag
        s = self.server
        for key, value in {
            "DB_HOST": s.host, "DB_PORT": str(s.port), "DB_USER": s.user, "DB_PASSWORD": s.password, "DB_NAME": "shop",
            "DATABASE_ENGINE_URL": f"mysql+pymysql://{s.user}:@{s.host}:{s.port}/shop",
        }.items():
            monkeypatch.setenv(key, value)
        self._kill_all()  # connections left by earlier scenarios
        self.base = self._accepted()

    def _accepted(self) -> int:
        with self.admin.cursor() as cursor:
            cursor.execute("SHOW GLOBAL STATUS LIKE 'Connections'")
            return int(cursor.fetchone()[1])

    def _live(self) -> list[int]:
        with self.admin.cursor() as cursor:
            cursor.execute("SELECT ID FROM information_schema.PROCESSLIST WHERE DB = 'shop' AND ID <> CONNECTION_ID()")
            return [row[0] for row in cursor.fetchall()]

    def _kill_all(self) -> None:
        with self.admin.cursor() as cursor:
            for pid in self._live():
                cursor.execute(f"KILL {int(pid)}")
        wait_until(lambda: not self._live(), "the server to end the killed connections")

    def kill(self) -> None:
        assert self._live(), "no connection to kill"
        self._kill_all()

    def connections(self) -> int:
        return self._accepted() - self.base

    def set_total(self, order: int, total: int) -> None:
        with self.admin.cursor() as cursor:
            cursor.execute("UPDATE shop.orders SET total = %s WHERE id = %s", (total, order))


@pytest.fixture(scope="module")
def postgres_db(postgres_server: Postgres) -> PostgresDatabase:
    pytest.importorskip("psycopg2")
    return PostgresDatabase(postgres_server)


@pytest.fixture(scope="module")
def mariadb_db(mariadb_server: MariaDB) -> MariaDatabase:
    pytest.importorskip("pymysql")
    return MariaDatabase(mariadb_server)


@pytest.fixture
def database(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Database:
    driver: Driver = request.param
    pytest.importorskip(driver.module, reason=f"the {driver.module} driver is not installed")
    db = request.getfixturevalue(f"{driver.server}_db")
    db.scenario(f"guards_{next(_modules)}", monkeypatch)
    return db


def invoke(module: object, events: list[dict]) -> list:
    return [module.handler(event, None) for event in events]


EXPECTED = [{"id": e["id"], "total": ROWS[e["id"]]} for e in EVENTS]


@pytest.mark.parametrize("database, driver", [(d, d) for d in DRIVERS], ids=map(_ids, DRIVERS), indirect=["database"])
def test_rewritten_handler_reuses_one_connection_and_survives_a_kill(
    database: Database, driver: Driver, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    original = driver.source(PER_INVOCATION)
    rewritten = pipeline(original, tmp_path)
    assert (b"pool_pre_ping=True" if driver.engine else b"def get_conn():") in rewritten

    before = load(original, tmp_path)
    assert invoke(before, EVENTS) == EXPECTED
    assert database.connections() == len(EVENTS)

    database.scenario(database.tag + "_after", monkeypatch)
    after = load(rewritten, tmp_path)
    assert invoke(after, EVENTS) == EXPECTED
    assert database.connections() == 1, "one connection for every invocation of a warm environment"

    database.kill()
    assert invoke(after, EVENTS) == EXPECTED
    assert database.connections() == 2, "one reconnect after the kill, then reuse again"


@pytest.mark.parametrize("database, driver", [(d, d) for d in DRIVERS], ids=map(_ids, DRIVERS), indirect=["database"])
def test_naive_hoist_fails_after_a_kill_and_its_guarded_rewrite_does_not(
    database: Database, driver: Driver, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    naive_source = driver.source(NAIVE_HOIST)
    naive = load(naive_source, tmp_path)
    assert invoke(naive, EVENTS[:1]) == EXPECTED[:1]
    database.kill()
    with pytest.raises(Exception) as failure:
        invoke(naive, EVENTS[1:2])
    assert type(failure.value).__module__.split(".")[0] in {"pymysql", "MySQLdb", "mysql", "psycopg2", "psycopg", "sqlalchemy"}

    database.scenario(database.tag + "_guarded", monkeypatch)
    guarded = load(pipeline(naive_source, tmp_path), tmp_path)
    assert invoke(guarded, EVENTS[:1]) == EXPECTED[:1]
    database.kill()
    assert invoke(guarded, EVENTS) == EXPECTED
    assert database.connections() == 2


@pytest.mark.parametrize(
    "database, driver",
    [(d, d) for d in DRIVERS_PROVED if d.server == "mariadb"],
    ids=[_ids(d) for d in DRIVERS_PROVED if d.server == "mariadb"],
    indirect=["database"],
)
def test_reused_mysql_connection_sees_new_data(database: Database, driver: Driver, tmp_path: Path) -> None:
    """InnoDB's REPEATABLE READ keeps a reader's snapshot until its transaction ends: the guard ends it."""
    naive = load(driver.source(NAIVE_HOIST), tmp_path)
    guarded = load(pipeline(driver.source(PER_INVOCATION), tmp_path), tmp_path)
    try:
        assert invoke(naive, EVENTS[:1]) == invoke(guarded, EVENTS[:1]) == EXPECTED[:1]
        database.set_total(1, 999)
        assert invoke(guarded, EVENTS[:1]) == [{"id": 1, "total": 999}]
        assert invoke(naive, EVENTS[:1]) == EXPECTED[:1], "the naive hoist still reads its old snapshot"
    finally:
        database.set_total(1, ROWS[1])


PSYCOPG2_WITH = """\
import os

import psycopg2


def handler(event, context):
    with psycopg2.connect(os.environ["DATABASE_URL"]) as conn:
        with conn.cursor() as cursor:
            cursor.execute("INSERT INTO events (body) VALUES (%s) RETURNING id", (event["body"],))
            return cursor.fetchone()[0] > 0
"""


@pytest.mark.parametrize("database", [DRIVERS_PROVED[2]], ids=["psycopg2"], indirect=True)
def test_psycopg2_with_block_still_commits(database: PostgresDatabase, tmp_path: Path) -> None:
    rewritten = pipeline(PSYCOPG2_WITH, tmp_path)
    assert b"with get_conn() as conn:" in rewritten
    handler = load(rewritten, tmp_path)
    bodies = [f"{database.tag}-{n}" for n in range(3)]
    assert invoke(handler, [{"body": body} for body in bodies]) == [True] * 3
    with database.admin.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM events WHERE body LIKE %s", (database.tag + "-%",))
        assert cursor.fetchone()[0] == 3, "seen from another connection: committed"
    assert database.connections() == 1


@pytest.mark.parametrize(
    "database, driver",
    [(DRIVERS_PROVED[0], DRIVERS_PROVED[0]), (DRIVERS_PROVED[2], DRIVERS_PROVED[2])],
    ids=["pymysql-mariadb", "psycopg2-postgres"],
    indirect=["database"],
)
def test_rewritten_handler_survives_a_server_restart(database: Database, driver: Driver, tmp_path: Path) -> None:
    guarded = load(pipeline(driver.source(PER_INVOCATION), tmp_path), tmp_path)
    naive = load(driver.source(NAIVE_HOIST), tmp_path)
    assert invoke(guarded, EVENTS[:1]) == invoke(naive, EVENTS[:1]) == EXPECTED[:1]
    database.server.restart()
    database.reconnect_admin()
    assert invoke(guarded, EVENTS) == EXPECTED
    with pytest.raises(Exception):  # noqa: B017 - whichever error the driver raises on a dead connection
        invoke(naive, EVENTS[:1])


REDIS_HANDLER = """\
import os

import redis

cache = redis.Redis(host=os.environ["REDIS_HOST"], port=int(os.environ["REDIS_PORT"]))


def handler(event, context):
    return cache.incr(event["key"])
"""


def test_redis_needs_no_guard(redis_server: Redis, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    redis = pytest.importorskip("redis")
    result, ctx = rewrite(REDIS_HANDLER)
    assert result == REDIS_HANDLER.encode()
    assert any("reconnects by itself" in note.message for note in ctx.notes)

    monkeypatch.setenv("REDIS_HOST", redis_server.host)
    monkeypatch.setenv("REDIS_PORT", str(redis_server.port))
    admin = redis.Redis(host=redis_server.host, port=redis_server.port)
    key = f"counter-{next(_modules)}"
    base = admin.info("stats")["total_connections_received"]
    module = load(REDIS_HANDLER, tmp_path)
    assert invoke(module, [{"key": key}] * 3) == [1, 2, 3]
    assert admin.info("stats")["total_connections_received"] - base == 1
    assert admin.client_kill_filter(_type="normal", skipme=True) >= 1
    assert invoke(module, [{"key": key}] * 2) == [4, 5]
    assert admin.info("stats")["total_connections_received"] - base == 2


CONFIGURED = '''import os

import psycopg2

conn = psycopg2.connect(os.environ["DATABASE_URL"])
conn.autocommit = True


def handler(event, context):
    with conn.cursor() as cursor:
        cursor.execute("INSERT INTO events (body) VALUES (%s)", (event["body"],))
    return conn.autocommit
'''


def test_a_module_level_connection_keeps_its_configuration_after_a_reconnect(
    postgres_db: PostgresDatabase, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    pytest.importorskip("psycopg2")
    postgres_db.scenario(f"guards_{next(_modules)}", monkeypatch)
    rewritten = pipeline(CONFIGURED, tmp_path)
    assert b"conn.autocommit = True\n    return conn" in rewritten
    after = load(rewritten, tmp_path)
    assert after.handler({"body": "first"}, None) is True
    postgres_db.kill()
    # The new connection is configured as the first one was: autocommit, so the insert is visible to others.
    assert after.handler({"body": "after-kill"}, None) is True
    with postgres_db.admin.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM events WHERE body = 'after-kill'")
        assert cursor.fetchone()[0] == 1
    assert postgres_db.connections() == 2, "the first connection, then one after the kill"
