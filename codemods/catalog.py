"""What builds clients, sessions and connections, and how each may be reused: data, not code.

Keys are qualified names as the code imports them (``boto3.client``), so the tables work for any
import style: ``import boto3 as aws; aws.client(...)`` and ``from boto3 import client`` both resolve
to ``boto3.client``.
"""
from __future__ import annotations

import dataclasses
import enum


class Reuse(enum.Enum):
    HOIST = "hoist"  # safe to build once per execution environment
    GUARD = "guard"  # a DB connection: reusable only behind a liveness check (reconnect-guards)
    NEVER = "never"  # must stay per invocation


@dataclasses.dataclass(frozen=True)
class Constructor:
    qualname: str
    produces: str  # the kind of object built; METHOD_FACTORIES is keyed by it
    reuse: Reuse = Reuse.HOIST
    # Keyword arguments that may vary per invocation and still be served from a module-level cache
    # keyed by them: a client per region is fine, a client per set of credentials is not (they expire).
    cache_keys: frozenset[str] = frozenset()
    # Where the service name is, for naming the module-level variable: position or keyword.
    service_arg: tuple[int, str] | None = None
    why: str = ""
    # How a live one checks itself: drivers that reconnect by themselves need no guard.
    reconnects_by_itself: bool = False


_AWS_KEYS = frozenset({"region_name", "endpoint_url"})

CONSTRUCTORS: dict[str, Constructor] = {
    c.qualname: c
    for c in [
        Constructor("boto3.client", "boto3.client", cache_keys=_AWS_KEYS, service_arg=(0, "service_name")),
        Constructor("boto3.resource", "boto3.resource", cache_keys=_AWS_KEYS, service_arg=(0, "service_name")),
        Constructor("boto3.Session", "boto3.session", cache_keys=frozenset({"region_name"})),
        Constructor("boto3.session.Session", "boto3.session", cache_keys=frozenset({"region_name"})),
        Constructor("botocore.session.get_session", "botocore.session"),
        Constructor("botocore.session.Session", "botocore.session"),
        Constructor("requests.Session", "http.session"),
        Constructor("requests.session", "http.session"),
        Constructor("requests.sessions.Session", "http.session"),
        Constructor("httpx.Client", "http.session"),
        Constructor(
            "httpx.AsyncClient",
            "http.async",
            reuse=Reuse.NEVER,
            why="an httpx.AsyncClient is bound to the event loop, and each invocation may run a new loop",
        ),
        Constructor("urllib3.PoolManager", "http.pool"),
        Constructor("urllib3.poolmanager.PoolManager", "http.pool"),
        Constructor("redis.Redis", "redis", reconnects_by_itself=True),
        Constructor("redis.StrictRedis", "redis", reconnects_by_itself=True),
        Constructor("redis.from_url", "redis", reconnects_by_itself=True),
        Constructor("redis.Redis.from_url", "redis", reconnects_by_itself=True),
        Constructor("redis.client.Redis", "redis", reconnects_by_itself=True),
        Constructor("pymongo.MongoClient", "mongo", reconnects_by_itself=True),
        Constructor("pymongo.mongo_client.MongoClient", "mongo", reconnects_by_itself=True),
        *(
            Constructor(
                name,
                "dbapi",
                reuse=Reuse.GUARD,
                why="a reused database connection needs a reconnect guard (codemod reconnect-guards)",
            )
            for name in (
                "pymysql.connect",
                "pymysql.Connect",
                "pymysql.connections.Connection",
                "MySQLdb.connect",
                "MySQLdb.Connect",
                "psycopg2.connect",
                "psycopg.connect",
                "psycopg.Connection.connect",
                "mysql.connector.connect",
                "sqlalchemy.create_engine",
            )
        ),
    ]
}

# Methods of a built object that build another object: kind -> method -> what it produces.
METHOD_FACTORIES: dict[str, dict[str, Constructor]] = {
    "boto3.session": {
        "client": Constructor("Session.client", "boto3.client", cache_keys=_AWS_KEYS, service_arg=(0, "service_name")),
        "resource": Constructor(
            "Session.resource", "boto3.resource", cache_keys=_AWS_KEYS, service_arg=(0, "service_name")
        ),
    },
    "botocore.session": {
        "create_client": Constructor(
            "Session.create_client", "boto3.client", cache_keys=_AWS_KEYS, service_arg=(0, "service_name")
        ),
    },
}

# boto3 resources name their sub-resource factories in CapWords (``Table``, ``Bucket``, ``Queue``) and
# their actions in snake_case (``create_table``): a CapWords method builds an object and calls no API.
SUBRESOURCE_OF = "boto3.resource"

# Calls that are pure functions of their arguments: a construction may read their results.
PURE_CALLS = frozenset(
    {
        "os.environ.get",
        "os.getenv",
        "botocore.config.Config",
        "botocore.client.Config",
        "boto3.session.Config",
        "urllib3.Retry",
        "urllib3.util.Retry",
        "urllib3.util.retry.Retry",
        "urllib3.Timeout",
        "requests.adapters.HTTPAdapter",
        "httpx.Timeout",
        "httpx.Limits",
        "int",
        "str",
        "float",
        "bool",
        "dict",
        "tuple",
        "frozenset",
        "len",
    }
)

# Methods of constant values that are pure: ``os.environ["STAGE"].lower()``, ``"{}-t".format(stage)``.
PURE_METHODS = frozenset({"format", "lower", "upper", "strip", "rstrip", "lstrip", "split", "join", "replace"})

# Names that may be read as they are: module-level constants every Python has.
CONSTANT_NAMES = frozenset({"True", "False", "None", "__name__", "__file__"})

# Statements that change a built object for good. Run per invocation on a reused object, they
# accumulate; hoisted with the object (when their arguments are constant), they run once.
MUTATING_ATTRIBUTES = frozenset({"register", "register_first", "register_last", "mount", "update"})
MUTABLE_STATE = frozenset({"headers", "cookies", "auth", "proxies", "params", "verify", "cert", "events"})

# Calls whose results are credentials issued per invocation.
CREDENTIAL_CALLS = frozenset({"assume_role", "assume_role_with_web_identity", "get_session_token", "get_federation_token"})

# Names for the module-level variable when the local name cannot be reused.
VARIABLE_SUFFIX = {
    "boto3.client": "client",
    "boto3.resource": "resource",
    "boto3.session": "session",
    "botocore.session": "botocore_session",
    "http.session": "http",
    "http.pool": "http_pool",
    "redis": "redis",
    "mongo": "mongo",
}
