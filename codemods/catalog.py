"""What builds clients, sessions and connections, and how each may be reused: data, not code.

Keys are qualified names as the code imports them (``boto3.client``), so the tables work for any
import style: ``import boto3 as aws; aws.client(...)`` and ``from boto3 import client`` both resolve
to ``boto3.client``.
"""
from __future__ import annotations

import dataclasses
import enum
import functools

from codemods._base import NO_OPTIONS, Options


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
    # The keyword each leading positional argument stands for (`boto3.client("s3", "eu-west-1")`): a cache key
    # passed by position is keyed as it is by keyword.
    positional: tuple[str, ...] = ()
    why: str = ""
    # How a live one checks itself: drivers that reconnect by themselves need no guard.
    reconnects_by_itself: bool = False
    # Why building it at import time can fail or go wrong where building it in the handler did not
    # ("": nothing, given arguments that are safe at import): it then goes behind a factory called on first use.
    at_import: str = ""
    # Keyword arguments whose mere presence makes building it fail in an environment without the function's
    # settings or network (a named profile that only the deployed function's environment has; sniffing a cluster).
    fails_without_setup: frozenset[str] = frozenset()


_AWS_KEYS = frozenset({"region_name", "endpoint_url"})
# boto3's Session.client/resource and botocore's create_client take these first, in this order.
_AWS_POSITIONAL = ("service_name", "region_name", "api_version", "use_ssl", "verify", "endpoint_url")
# boto3.Session(aws_access_key_id, aws_secret_access_key, aws_session_token, region_name, ...).
_SESSION_POSITIONAL = ("aws_access_key_id", "aws_secret_access_key", "aws_session_token", "region_name")

# Measured with botocore 1.44 (tests/test_import_time.py proves it against the installed one): building a client
# resolves the region (NoRegionError without one) and the credentials, and keeps what it found. Built when a test
# imports the handler, before it sets the environment or starts moto, the client has no credentials, and moto's
# fake ones, set when mock_aws() starts, never reach it (NoCredentialsError at the first call).
_BOTO3_AT_IMPORT = "boto3 resolves the region and the credentials when it builds a client"

_CLUSTER_AT_IMPORT = "redis-py's `RedisCluster` connects to the cluster and reads its slots when it is built"
_BOUND_TO_LOOP = "an {} is bound to the event loop it was built in, and each invocation may run a new loop"

CONSTRUCTORS: dict[str, Constructor] = {
    c.qualname: c
    for c in [
        Constructor(
            "boto3.client", "boto3.client", cache_keys=_AWS_KEYS, service_arg=(0, "service_name"), at_import=_BOTO3_AT_IMPORT,
            positional=_AWS_POSITIONAL,
        ),
        Constructor(
            "boto3.resource", "boto3.resource", cache_keys=_AWS_KEYS, service_arg=(0, "service_name"),
            at_import=_BOTO3_AT_IMPORT, positional=_AWS_POSITIONAL,
        ),
        Constructor(
            "boto3.Session", "boto3.session", cache_keys=frozenset({"region_name"}),
            fails_without_setup=frozenset({"profile_name"}), positional=_SESSION_POSITIONAL,
        ),
        Constructor(
            "boto3.session.Session", "boto3.session", cache_keys=frozenset({"region_name"}),
            fails_without_setup=frozenset({"profile_name"}), positional=_SESSION_POSITIONAL,
        ),
        Constructor("botocore.session.get_session", "botocore.session"),
        Constructor("botocore.session.Session", "botocore.session", fails_without_setup=frozenset({"profile"})),
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
        *(
            # redis-py 8: building one connects to a startup node and reads the cluster's slots (NodesManager),
            # so at import it fails where the cluster cannot be reached yet; a command that meets a dropped
            # connection reinitialises the nodes and retries.
            Constructor(name, "redis", reconnects_by_itself=True, at_import=_CLUSTER_AT_IMPORT)
            for name in (
                "redis.RedisCluster", "redis.RedisCluster.from_url", "redis.cluster.RedisCluster",
                "redis.cluster.RedisCluster.from_url",
            )
        ),
        Constructor("pymongo.MongoClient", "mongo", reconnects_by_itself=True),
        Constructor("pymongo.mongo_client.MongoClient", "mongo", reconnects_by_itself=True),
        # opensearch-py and elasticsearch-py connect on the first request, through a pool of HTTP connections
        # that replaces dead ones; only `sniff_on_start` talks to the cluster while it is built.
        *(
            Constructor(name, produces, fails_without_setup=frozenset({"sniff_on_start"}))
            for name, produces in (
                ("opensearchpy.OpenSearch", "opensearch"),
                ("opensearchpy.client.OpenSearch", "opensearch"),
                ("elasticsearch.Elasticsearch", "elasticsearch"),
                ("elasticsearch.client.Elasticsearch", "elasticsearch"),
            )
        ),
        *(
            Constructor(name, "search.async", reuse=Reuse.NEVER, why=_BOUND_TO_LOOP.format(name.rpartition(".")[2]))
            for name in ("opensearchpy.AsyncOpenSearch", "elasticsearch.AsyncElasticsearch")
        ),
        *(
            Constructor(name, "http.async", reuse=Reuse.NEVER, why=_BOUND_TO_LOOP.format("aiohttp.ClientSession"))
            for name in ("aiohttp.ClientSession", "aiohttp.client.ClientSession")
        ),
        # Neptune's guidance for Lambda: one connection per execution environment, with reconnect-and-retry code
        # around each query, because the Python driver does not reconnect a WebSocket the server closed (Neptune
        # closes idle ones after about 20 minutes). Hoisted alone, it would fail every invocation after that.
        Constructor(
            "gremlin_python.driver.driver_remote_connection.DriverRemoteConnection",
            "gremlin",
            reuse=Reuse.NEVER,
            why="gremlinpython does not reconnect a WebSocket the server closed (Neptune closes idle ones after "
            "about 20 minutes); a reused connection needs reconnect-and-retry code around each query",
        ),
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


def _packages(qualnames) -> frozenset[bytes]:
    return frozenset(name.split(".")[0].encode() for name in qualnames)


# Text markers, derived from the rows so that a new row is never skipped by the prefilter: a file that names
# no package a row comes from builds nothing the rows list (METHOD_FACTORIES build from what these rows built).
HOIST_MARKERS = _packages(CONSTRUCTORS)
GUARD_MARKERS = _packages(q for q, c in CONSTRUCTORS.items() if c.reuse is Reuse.GUARD or c.reconnects_by_itself)

# Methods of a built object that build another object: kind -> method -> what it produces.
METHOD_FACTORIES: dict[str, dict[str, Constructor]] = {
    "boto3.session": {
        "client": Constructor(
            "Session.client", "boto3.client", cache_keys=_AWS_KEYS, service_arg=(0, "service_name"),
            at_import=_BOTO3_AT_IMPORT, positional=_AWS_POSITIONAL,
        ),
        "resource": Constructor(
            "Session.resource", "boto3.resource", cache_keys=_AWS_KEYS, service_arg=(0, "service_name"),
            at_import=_BOTO3_AT_IMPORT, positional=_AWS_POSITIONAL,
        ),
    },
    "botocore.session": {
        "create_client": Constructor(
            "Session.create_client", "boto3.client", cache_keys=_AWS_KEYS, service_arg=(0, "service_name"),
            at_import=_BOTO3_AT_IMPORT, positional=_AWS_POSITIONAL,
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

# Kinds of object whose state other code can change or end: handed to a call, or aliased, a shared one would
# carry what one invocation did to it (headers, auth, a closed pool) into the next.
SHARED_STATE_KINDS = frozenset({"http.session", "http.pool"})
# Calls that end the life of what they are given (``with contextlib.closing(client):``).
CLOSING_CALLS = frozenset({"contextlib.closing", "contextlib.aclosing"})

# Reads of the environment: qualified name -> the position of the default (``os.environ["X"]`` has none).
ENV_READS = {"os.environ.get": 1, "os.getenv": 1}
# Calls that change the environment or what boto3 builds clients from. At module level they run at import,
# before any client hoisted below them; in a function, they change values per invocation.
ENV_WRITES = frozenset(
    {
        "os.environ.setdefault", "os.environ.update", "os.environ.pop", "os.environ.clear", "os.environ.popitem",
        "os.putenv", "os.unsetenv", "dotenv.load_dotenv",
    }
)
SETUP_CALLS = ENV_WRITES | {"boto3.setup_default_session"}
# Where boto3 finds a region when a client is built without ``region_name``.
REGION_VARIABLES = frozenset({"AWS_REGION", "AWS_DEFAULT_REGION"})

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
    "opensearch": "opensearch",
    "elasticsearch": "elasticsearch",
}


# -- reconnect guards ------------------------------------------------------------------------------
# How a reused database connection proves it is alive at the start of an invocation. A flag the
# client keeps (psycopg2's ``closed``, psycopg's ``broken``) only changes after a query has failed
# on the dead socket, so each check below talks to the server; tests/test_reconnect_guards.py
# proves each one marked ``proved`` against a real server whose side of the connection was killed
# (mysqlclient builds from source, so CI does not install it; the test runs where it is installed).


class WithExit(enum.Enum):
    CLOSES = "closes"  # ``with connect() as c:`` closes c at the end, and does nothing else
    TRANSACTION = "transaction"  # it commits (or rolls back) and leaves the connection open
    UNSURE = "unsure"  # it does more than one thing (commits and closes): left with a note


@dataclasses.dataclass(frozen=True)
class Liveness:
    module: str  # the driver's module: the exception below is looked up in it
    # Statements run on the reused connection ``{conn}`` at the start of each invocation; one of
    # them fails with ``error`` when the connection is dead. Each ends with no transaction open, as
    # a new connection would start: an earlier invocation may have left one (MySQL's REPEATABLE
    # READ would also keep showing it the old snapshot).
    check: tuple[str, ...]
    error: str  # attribute of ``module``: the base class of the driver's errors
    with_exit: WithExit
    proved: bool  # the check is exercised against a real server by the test suite


_DBAPI_SELECT_1 = (
    "{conn}.rollback()",
    'with {conn}.cursor() as cursor:\n    cursor.execute("SELECT 1")',
    "{conn}.rollback()",
)

LIVENESS: dict[str, Liveness] = {
    # ping() sends COM_PING; rollback() always reaches the server too.
    "pymysql": Liveness("pymysql", ("{conn}.ping()", "{conn}.rollback()"), "Error", WithExit.CLOSES, proved=True),
    "MySQLdb": Liveness("MySQLdb", ("{conn}.ping()", "{conn}.rollback()"), "Error", WithExit.CLOSES, proved=False),
    "mysql.connector": Liveness(
        "mysql.connector", ("{conn}.ping()", "{conn}.rollback()"), "Error", WithExit.CLOSES, proved=True
    ),
    # rollback() is a no-op on the client when no transaction is open: only the query reaches the server.
    "psycopg2": Liveness("psycopg2", _DBAPI_SELECT_1, "Error", WithExit.TRANSACTION, proved=True),
    "psycopg": Liveness(
        "psycopg", ("{conn}.rollback()", '{conn}.execute("SELECT 1")', "{conn}.rollback()"), "Error",
        WithExit.UNSURE, proved=True,
    ),
}

# Which driver each guarded constructor belongs to.
DRIVER_OF = {
    "pymysql.connect": "pymysql",
    "pymysql.Connect": "pymysql",
    "pymysql.connections.Connection": "pymysql",
    "MySQLdb.connect": "MySQLdb",
    "MySQLdb.Connect": "MySQLdb",
    "psycopg2.connect": "psycopg2",
    "psycopg.connect": "psycopg",
    "psycopg.Connection.connect": "psycopg",
    "mysql.connector.connect": "mysql.connector",
}

# What a handler can change on a connection for the rest of its life: a shared connection would carry one
# invocation's database, session settings or user into the next (another tenant's rows).
CONNECTION_STATE_METHODS = frozenset(
    {
        "select_db", "change_user", "set_session", "set_isolation_level", "set_client_encoding", "autocommit",
        "set_character_set", "set_charset", "cmd_init_db", "cmd_change_user",
    }
)
CONNECTION_STATE_ATTRIBUTES = frozenset(
    {"autocommit", "isolation_level", "readonly", "read_only", "deferrable", "database", "db", "search_path"}
)

# Engines are pools: they check a connection out per use, and this option makes them test it first
# and replace it when it is dead. The engine itself connects lazily, so it may live at module scope.
ENGINE_CONSTRUCTORS = frozenset({"sqlalchemy.create_engine"})
ENGINE_PRE_PING = "pool_pre_ping"

# Methods that end a connection's life; at the end of a handler they go when the connection is reused.
CLOSE_METHODS = {"dbapi": frozenset({"close"}), "engine": frozenset({"dispose"})}

RECONNECTS_BY_ITSELF_NOTE = {
    "redis": "redis-py reconnects by itself when the server dropped the connection: no guard needed",
    "mongo": "pymongo monitors its servers and reconnects by itself: no guard needed",
}


# -- what a repository's configuration adds ([tool.lambda-rewriter] clients and reconnect) ---------


@functools.cache
def constructors(options: Options = NO_OPTIONS) -> dict[str, Constructor]:
    """CONSTRUCTORS with the in-house ones the configuration names."""
    if not options.clients and not options.reconnect:
        return CONSTRUCTORS
    added = {
        spec.qualname: Constructor(
            spec.qualname, spec.qualname, cache_keys=frozenset(spec.cache_keys), service_arg=spec.service_arg,
            # Configured as built like boto3.client: what it resolves when built is unknown, so it is built on first use.
            at_import=f"`{spec.qualname}` builds a client like `boto3.client`, which resolves the region and the credentials",
        )
        for spec in options.clients
    }
    for spec in options.reconnect:  # hoist-clients leaves these to reconnect-guards, as it does the drivers
        added[spec.qualname] = dataclasses.replace(CONSTRUCTORS["psycopg2.connect"], qualname=spec.qualname)
    return {**CONSTRUCTORS, **added}


@functools.cache
def drivers(options: Options = NO_OPTIONS) -> dict[str, Liveness]:
    """Guarded constructor -> its liveness recipe: DRIVER_OF's, and the configured in-house ones."""
    found = {qualname: LIVENESS[driver] for qualname, driver in DRIVER_OF.items()}
    for spec in options.reconnect:
        like = LIVENESS[spec.like]
        module, error = spec.error.rpartition(".")[::2] if spec.error else (like.module, like.error)
        found[spec.qualname] = Liveness(
            module,
            spec.check or like.check,
            error,
            WithExit(spec.with_exit) if spec.with_exit else like.with_exit,
            proved=False,  # the suite proves the drivers' recipes, not a wrapper's
        )
    return found


# -- targeted imports ------------------------------------------------------------------------------
# Every module a Lambda module imports is paid for at each cold start (`python -X importtime` shows
# how much). Keys are top-level packages; an import of any of their modules counts.


@dataclasses.dataclass(frozen=True)
class HeavyImport:
    package: str
    what: str  # for the change message
    # Packages its own import brings in anyway: moving it alone saves nothing while these stay.
    pulls_in: tuple[str, ...] = ()


HEAVY_IMPORTS: dict[str, HeavyImport] = {
    h.package: h
    for h in [
        HeavyImport("boto3", "the AWS SDK", ("botocore", "s3transfer", "jmespath")),
        HeavyImport("botocore", "the AWS SDK core", ("jmespath", "urllib3")),
        HeavyImport("s3transfer", "the AWS SDK's transfer manager", ("botocore",)),
        HeavyImport("aioboto3", "the async AWS SDK", ("aiobotocore", "boto3", "botocore")),
        HeavyImport("aiobotocore", "the async AWS SDK core", ("botocore", "aiohttp")),
        HeavyImport("aws_xray_sdk", "the AWS X-Ray SDK", ("botocore", "wrapt")),
        HeavyImport("awswrangler", "AWS SDK for pandas", ("boto3", "botocore", "pandas", "numpy", "pyarrow")),
        HeavyImport("aws_lambda_powertools", "Powertools for AWS Lambda"),
        HeavyImport("pandas", "pandas", ("numpy",)),
        HeavyImport("numpy", "NumPy"),
        HeavyImport("scipy", "SciPy", ("numpy",)),
        HeavyImport("sklearn", "scikit-learn", ("numpy", "scipy")),
        HeavyImport("matplotlib", "matplotlib", ("numpy",)),
        HeavyImport("seaborn", "seaborn", ("matplotlib", "numpy", "pandas")),
        HeavyImport("pyarrow", "PyArrow", ("numpy",)),
        HeavyImport("polars", "Polars"),
        HeavyImport("requests", "requests", ("urllib3",)),
        HeavyImport("httpx", "httpx"),
    ]
}

# Imports that may do something the code relies on just by being imported: left with a note even
# when no name they bind is used. Keys are dotted module prefixes.
SIDE_EFFECT_IMPORTS: dict[str, str] = {
    "matplotlib.pyplot": "selects and sets up a plotting backend",
    "mpl_toolkits.mplot3d": "registers the `3d` projection with matplotlib",
    "seaborn": "registers its colormaps with matplotlib",
    "ddtrace.auto": "instruments every library Datadog supports",
    "swifter": "adds the `.swifter` accessor to pandas objects",
    "janitor": "adds its methods to pandas DataFrames",
    "pint_pandas": "registers its unit dtype with pandas",
    "aws_xray_sdk.ext": "may patch a library for X-Ray",
}


def _names(text: str) -> frozenset[str]:
    return frozenset(text.split())


# The public names ``from <module> import *`` binds, as boto3 1.44 and aws-xray-sdk 2.15 have them:
# a star import of one of these becomes the explicit names the module reads.
STAR_EXPORTS: dict[str, frozenset[str]] = {
    "boto3": _names(
        "DEFAULT_SESSION NullHandler Session client compat docs exceptions logging resource resources session "
        "set_stream_logger setup_default_session utils "
    ),
    "boto3.dynamodb.conditions": _names(
        "ATTR_NAME_REGEX And Attr AttributeBase AttributeExists AttributeNotExists AttributeType BeginsWith "
        "Between BuiltConditionExpression ComparisonCondition ConditionAttributeBase ConditionBase "
        "ConditionExpressionBuilder Contains DynamoDBNeedsConditionError DynamoDBNeedsKeyConditionError "
        "DynamoDBOperationNotSupportedError Equals GreaterThan GreaterThanEquals In Key LessThan "
        "LessThanEquals Not NotEquals Or Size namedtuple re "
    ),
    "botocore.exceptions": _names(
        "AliasConflictParameterError ApiVersionNotFoundError AwsChunkedWrapperError BaseEndpointResolverError "
        "BotoCoreError CapacityNotAvailableError ChecksumError ClientError ConfigNotFound ConfigParseError "
        "ConnectTimeoutError ConnectionClosedError ConnectionError CredentialRetrievalError DataNotFoundError "
        "EndpointConnectionError EndpointProviderError EndpointResolutionError EndpointVariantError "
        "EventStreamError FlexibleChecksumError HTTPClientError ImminentRemovalWarning IncompleteReadError "
        "InfiniteLoopConfigError InvalidChecksumConfigError InvalidConfigError InvalidDNSNameError "
        "InvalidDefaultsMode InvalidEndpointConfigurationError InvalidEndpointDiscoveryConfigurationError "
        "InvalidExpressionError InvalidHostLabelError InvalidIMDSEndpointError InvalidIMDSEndpointModeError "
        "InvalidMaxRetryAttemptsError InvalidProxiesConfigError InvalidRegionError "
        "InvalidRetryConfigurationError InvalidRetryModeError InvalidS3AddressingStyleError "
        "InvalidS3UsEast1RegionalEndpointConfigError InvalidSTSRegionalEndpointsConfigError "
        "LoginAuthorizationCodeError LoginError LoginInsufficientPermissions LoginRefreshRequired "
        "LoginTokenLoadError MD5UnavailableError MetadataRetrievalError MissingDependencyException "
        "MissingParametersError MissingServiceIdError NoAuthTokenError NoCredentialsError NoRegionError "
        "OperationNotPageableError PaginationError ParamValidationError PartialCredentialsError "
        "ProfileNotFound ProxyConnectionError RangeError ReadTimeoutError RefreshWithMFAUnsupportedError "
        "ResponseStreamingError SSLError SSOError SSOTokenLoadError ServiceNotInRegionError "
        "StubAssertionError StubResponseError TokenRetrievalError UnStubbedResponseError "
        "UnauthorizedSSOTokenError UndefinedModelAttributeError UnknownClientMethodError "
        "UnknownCredentialError UnknownEndpointError UnknownEndpointResolutionBuiltInName "
        "UnknownFIPSEndpointError UnknownKeyError UnknownParameterError UnknownRegionError "
        "UnknownServiceError UnknownServiceStyle UnknownSignatureVersionError UnknownTokenProviderError "
        "UnseekableStreamError UnsupportedOutpostResourceError UnsupportedS3AccesspointConfigurationError "
        "UnsupportedS3ArnError UnsupportedS3ConfigurationError UnsupportedS3ControlArnError "
        "UnsupportedS3ControlConfigurationError UnsupportedServiceProtocolsError "
        "UnsupportedSignatureVersionError UnsupportedTLSVersionWarning ValidationError WaiterConfigError "
        "WaiterError requests urllib3 "
    ),
    "botocore.config": _names(
        "Config DEFAULT_TIMEOUT InvalidMaxRetryAttemptsError InvalidRetryConfigurationError "
        "InvalidRetryModeError InvalidS3AddressingStyleError MAX_POOL_CONNECTIONS OrderedDict copy "
    ),
    "aws_xray_sdk.core": _names("AWSXRayRecorder patch patch_all xray_recorder"),
}

# The X-Ray SDK's ``patch_all()`` imports and patches every library of this list that is installed
# (``aws_xray_sdk.core.patcher.NO_DOUBLE_PATCH``); ``patch_all(double_patch=True)`` adds ``httplib``.
# Imported package -> the name ``patch()`` takes for it.
XRAY_PATCH_NAMES: dict[str, str] = {
    "boto3": "botocore",
    "botocore": "botocore",
    "aioboto3": "aiobotocore",
    "aiobotocore": "aiobotocore",
    "pynamodb": "pynamodb",
    "requests": "requests",
    "sqlite3": "sqlite3",
    "mysql": "mysql",
    "pymongo": "pymongo",
    "pymysql": "pymysql",
    "psycopg2": "psycopg2",
    "psycopg": "psycopg",
    "pg8000": "pg8000",
    "sqlalchemy": "sqlalchemy_core",
    "httpx": "httpx",
}

# Third-party packages that X-Ray does not patch and that reach no patched library themselves, so a
# module importing them still has a list ``patch()`` can be given. Any other package outside the
# standard library (the function's own modules too) may use a patched library unseen.
XRAY_NEUTRAL_IMPORTS = frozenset(
    {
        "aws_xray_sdk",
        "numpy",
        "pydantic",
        "dateutil",
        "pytz",
        "simplejson",
        "orjson",
        "ujson",
        "jsonschema",
        "yaml",
        "attr",
        "attrs",
        "typing_extensions",
        "redis",
        "MySQLdb",
    }
)


# -- JavaScript and TypeScript: clients and connections besides the AWS SDK's ------------------------
# Keyed by the module and the path below what it exports (`["MongoClient"]` for `new MongoClient()` from
# `mongodb`, `[]` for the module itself: `new Redis()` from `ioredis`). AWS SDK clients are recognised by
# codemods/javascript/_services.py, generated from the SDK.


@dataclasses.dataclass(frozen=True)
class JsConstructor:
    module: str
    path: tuple[str, ...]
    new: bool  # built with `new` (else called)
    reuse: Reuse = Reuse.HOIST
    why: str = ""  # for NEVER: why it stays
    # It keeps a socket open between invocations. A callback handler's invocation ends only when the event
    # loop is empty (`callbackWaitsForEmptyEventLoop`, true by default), so such a client hoists only into
    # async handlers (their invocation ends when the promise settles) or where the handler sets it to false.
    holds_socket: bool = False
    # Methods a reused one must not meet again in the handler: `connect()` on a connected ioredis client rejects.
    once: frozenset[str] = frozenset()
    # It opens a connection as it is built: it goes behind the first-use cache, so importing the module (a test,
    # a SnapStart snapshot) opens nothing.
    connects_when_built: bool = False


_DB_WHY = (
    "a database connection is only reused safely with a liveness check and "
    "`context.callbackWaitsForEmptyEventLoop = false`; left for review"
)
_PG_POOL_WHY = (
    "a reused `pg` Pool must listen to `error`: an idle client the server dropped while the environment was "
    "frozen emits it, and unheard it ends the process; left for review"
)
_NODE_REDIS_WHY = (
    "a node-redis client is connected once (`connect()` again throws) and a reused one must listen to `error`, "
    "or the first dropped connection ends the process; left for review"
)

JS_CONSTRUCTORS: tuple[JsConstructor, ...] = (
    *(
        JsConstructor(module, (factory,), new=False, reuse=Reuse.NEVER, why=_DB_WHY)
        for module in ("mysql", "mysql2", "mysql2/promise")
        for factory in ("createConnection", "createPool", "createPoolCluster")
    ),
    JsConstructor("pg", ("Client",), new=True, reuse=Reuse.NEVER, why=_DB_WHY),
    JsConstructor("pg", ("Pool",), new=True, reuse=Reuse.NEVER, why=_PG_POOL_WHY),
    *(
        JsConstructor(module, (factory,), new=False, reuse=Reuse.NEVER, why=_NODE_REDIS_WHY)
        for module in ("redis", "@redis/client")
        for factory in ("createClient", "createCluster")
    ),
    # ioredis connects when built and reconnects by itself; an error nobody listens to is logged, not thrown.
    *(
        JsConstructor("ioredis", path, new=True, holds_socket=True, once=frozenset({"connect"}), connects_when_built=True)
        for path in ((), ("Redis",), ("default",), ("Cluster",), ("Redis", "Cluster"))
    ),
    # The MongoDB driver connects on first use (`connect()` on a connected client returns it) and monitors
    # and reconnects its servers by itself; its Lambda guide builds the client outside the handler.
    JsConstructor("mongodb", ("MongoClient",), new=True, holds_socket=True),
    JsConstructor(
        "mongodb", ("MongoClient", "connect"), new=False, reuse=Reuse.NEVER,
        why="`MongoClient.connect(...)` opens a connection per call; a `new MongoClient(...)` at module scope "
        "connects on first use and is reused",
    ),
    # An HTTP client: Node's agent unrefs idle keep-alive sockets, so they hold no invocation open.
    JsConstructor("@opensearch-project/opensearch", ("Client",), new=True),
)

# The modules of JS_CONSTRUCTORS, as text markers.
JS_MARKERS = frozenset(row.module.encode() for row in JS_CONSTRUCTORS)
