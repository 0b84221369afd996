"""What a requirement brings with it, and what a feature the function uses needs at run time.

A requirement nothing imports may still be needed: another requirement depends on it (pip would install it anyway,
and the pin decides the version), an extra asks for it (`aws-lambda-powertools[validation]` -> fastjsonschema), or
a module the code imports loads it without declaring it (Powertools' validation needs fastjsonschema, its tracer
aws-xray-sdk, its parser pydantic). Dependencies and extras come from the metadata of the distribution installed
where this tool runs, when it is (read as data: nothing is imported), else from the tables below.
"""
from __future__ import annotations

import functools
import importlib.metadata
import re
from collections.abc import Iterable

# (module or name the code imports, distribution, extra): what using that feature needs beyond the base install.
RUNTIME_NEEDS: tuple[tuple[str, str, str], ...] = (
    ("aws_lambda_powertools.utilities.validation", "aws-lambda-powertools", "validation"),
    ("aws_lambda_powertools.utilities.parser", "aws-lambda-powertools", "parser"),
    ("aws_lambda_powertools.event_handler.openapi", "aws-lambda-powertools", "parser"),
    ("aws_lambda_powertools.Tracer", "aws-lambda-powertools", "tracer"),
    ("aws_lambda_powertools.tracing", "aws-lambda-powertools", "tracer"),
    ("aws_lambda_powertools.utilities.data_masking", "aws-lambda-powertools", "datamasking"),
    ("aws_lambda_powertools.utilities.idempotency.persistence.redis", "aws-lambda-powertools", "redis"),
    ("aws_lambda_powertools.utilities.idempotency.RedisCachePersistenceLayer", "aws-lambda-powertools", "redis"),
    ("aws_lambda_powertools.metrics.provider.datadog", "aws-lambda-powertools", "datadog"),
    ("pydantic.EmailStr", "pydantic", "email"),
    ("pydantic.networks.EmailStr", "pydantic", "email"),
    ("passlib.hash.bcrypt", "passlib", "bcrypt"),
)
# Extras, for distributions not installed here: distribution -> extra -> what it adds.
EXTRAS: dict[str, dict[str, tuple[str, ...]]] = {
    "aws-lambda-powertools": {
        "parser": ("pydantic",), "validation": ("fastjsonschema",), "tracer": ("aws-xray-sdk",),
        "datamasking": ("aws-encryption-sdk", "jsonpath-ng"), "redis": ("redis",), "valkey": ("valkey-glide",),
        "datadog": ("datadog-lambda",), "aws-sdk": ("boto3",), "kafka-consumer-avro": ("avro",),
        "kafka-consumer-protobuf": ("protobuf",),
        "all": ("pydantic", "pydantic-settings", "aws-xray-sdk", "fastjsonschema", "aws-encryption-sdk", "jsonpath-ng"),
    },
    "pydantic": {"email": ("email-validator",), "timezone": ("tzdata",)},
    "requests": {"socks": ("pysocks",), "use-chardet-on-py3": ("chardet",)},
    "pyjwt": {"crypto": ("cryptography",)},
    "python-jose": {"cryptography": ("cryptography",), "pycryptodome": ("pycryptodome",)},
    "passlib": {"bcrypt": ("bcrypt",), "argon2": ("argon2-cffi",)},
    "sqlalchemy": {
        "asyncio": ("greenlet",), "postgresql": ("psycopg2",), "postgresql-psycopg2binary": ("psycopg2-binary",),
        "postgresql-psycopg": ("psycopg",), "postgresql-asyncpg": ("asyncpg", "greenlet"), "mysql": ("mysqlclient",),
        "pymysql": ("pymysql",), "aiomysql": ("aiomysql", "greenlet"),
    },
    "httpx": {"http2": ("h2",), "socks": ("socksio",)},
    "smart-open": {"s3": ("boto3",)},
    "celery": {"redis": ("redis",), "sqs": ("boto3", "pycurl")},
    "uvicorn": {"standard": ("httptools", "uvloop", "websockets", "watchfiles", "python-dotenv", "pyyaml")},
}
# Base dependencies, for distributions not installed here (the common ones of Lambda functions).
REQUIRES: dict[str, tuple[str, ...]] = {
    "aws-lambda-powertools": ("jmespath", "typing-extensions"),
    "aws-xray-sdk": ("wrapt", "botocore"),
    "aws-encryption-sdk": ("boto3", "cryptography", "attrs", "wrapt"),
    "aws-embedded-metrics": ("aiohttp",),
    "aiohttp": ("aiohappyeyeballs", "aiosignal", "attrs", "frozenlist", "multidict", "propcache", "yarl"),
    "boto3": ("botocore", "jmespath", "s3transfer"),
    "botocore": ("jmespath", "python-dateutil", "urllib3"),
    "requests": ("charset-normalizer", "idna", "urllib3", "certifi"),
    "requests-aws4auth": ("requests",),
    "aws-requests-auth": ("requests",),
    "opensearch-py": ("requests", "urllib3", "python-dateutil", "certifi", "events"),
    "elasticsearch": ("elastic-transport",),
    "fastapi": ("starlette", "pydantic", "typing-extensions"),
    "starlette": ("anyio",),
    "pydantic": ("pydantic-core", "annotated-types", "typing-extensions", "typing-inspection"),
    "pydantic-settings": ("pydantic", "python-dotenv", "typing-inspection"),
    "flask": ("werkzeug", "jinja2", "itsdangerous", "click", "blinker"),
    "jinja2": ("markupsafe",),
    "mangum": ("typing-extensions",),
    "pandas": ("numpy", "python-dateutil", "pytz", "tzdata"),
    "sqlalchemy": ("greenlet", "typing-extensions"),
    "pynamodb": ("botocore",),
    "jsonschema": ("attrs", "jsonschema-specifications", "referencing", "rpds-py"),
    "httpx": ("anyio", "certifi", "httpcore", "idna"),
    "openai": ("anyio", "distro", "httpx", "jiter", "pydantic", "sniffio", "tqdm", "typing-extensions"),
    "stripe": ("requests", "typing-extensions"),
    "python-jose": ("ecdsa", "rsa", "pyasn1"),
    "sentry-sdk": ("urllib3", "certifi"),
    "datadog-lambda": ("datadog", "ddtrace", "ujson", "urllib3", "wrapt"),
    "twilio": ("requests", "pyjwt", "aiohttp", "aiohttp-retry"),
    "backoff": (),
}
_NAME = re.compile(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
_EXTRA = re.compile(r"""\bextra\s*==\s*['"]([^'"]+)['"]""")


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@functools.cache
def _installed(dist: str) -> tuple[tuple[str, frozenset[str]], ...] | None:
    """(dependency, the extras that ask for it; empty: the base install) from installed metadata, or None."""
    try:
        requires = importlib.metadata.requires(dist)
    except (importlib.metadata.PackageNotFoundError, ValueError):
        return None
    found = []
    for line in requires or ():
        match = _NAME.match(line)
        if match:
            marker = line.partition(";")[2]
            found.append((normalise(match.group(1)), frozenset(normalise(e) for e in _EXTRA.findall(marker))))
    return tuple(found)


def requires(dist: str, extras: Iterable[str] = ()) -> tuple[str, ...]:
    """What installing ``dist[extras]`` installs besides it (one level: the caller walks further)."""
    wanted = {normalise(e) for e in extras}
    installed = _installed(dist)
    if installed is not None:
        # other markers (python_version, platform) are not weighed: a dependency of some platform is kept
        return tuple(name for name, asked_by in installed if not asked_by or asked_by & wanted)
    table = EXTRAS.get(dist, {})
    return REQUIRES.get(dist, ()) + tuple(name for extra in sorted(wanted) for name in table.get(extra, ()))


def extra_requires(dist: str, extra: str) -> tuple[str, ...]:
    """What ``dist[extra]`` adds to the base install of ``dist``."""
    base = set(requires(dist))
    return tuple(name for name in requires(dist, (extra,)) if name not in base)


def needed(kept: dict[str, frozenset[str]], dotted: frozenset[str]) -> dict[str, str]:
    """Distribution -> why it is needed, for what the ``kept`` requirements (name -> extras) install, and what the
    modules the code imports (``dotted``) need at run time; each followed to what it installs in turn."""
    reasons: dict[str, str] = {}
    queue: list[tuple[str, tuple[str, ...], str]] = []
    for prefix, dist, extra in RUNTIME_NEEDS:
        if any(name == prefix or name.startswith(prefix + ".") for name in dotted):
            for need in extra_requires(dist, extra):
                if need not in reasons:
                    reasons[need] = f"`{prefix}`, which the function imports, needs it at run time ({dist}[{extra}])"
                    queue.append((need, (), need))
    for dist, wanted in kept.items():
        label = f"{dist}[{','.join(sorted(wanted))}]" if wanted else dist
        queue.append((dist, tuple(sorted(wanted)), label))
    seen: set[tuple[str, tuple[str, ...]]] = set()
    while queue:
        dist, extras, label = queue.pop(0)
        if (dist, extras) in seen:
            continue
        seen.add((dist, extras))
        for need in requires(dist, extras):
            if need not in reasons and need not in kept:
                through = "" if label.split("[")[0] == dist else f" (through {dist})"
                reasons[need] = f"{label}, which stays, requires it{through}"
            queue.append((need, (), label))
    return reasons
