"""Which AWS SDK for Java artifacts a set of written names needs, and which artifacts are the whole SDK."""
from __future__ import annotations

import dataclasses

from codemods.manifests._java_modules import V1_MODULES, V2_MODULES

V1_GROUP = "com.amazonaws"
V2_GROUP = "software.amazon.awssdk"


@dataclasses.dataclass(frozen=True)
class Sdk:
    group: str
    bundles: frozenset[str]  # artifacts that carry every service
    bom: str
    core: str  # what code that names no service but the SDK's own classes needs


V1 = Sdk(V1_GROUP, frozenset({"aws-java-sdk", "aws-java-sdk-bundle"}), "aws-java-sdk-bom", "aws-java-sdk-core")
V2 = Sdk(V2_GROUP, frozenset({"bundle", "aws-sdk-java"}), "bom", "aws-core")

# v1 packages below com.amazonaws.services that other artifacts ship: they are never in aws-java-sdk.
V1_NOT_IN_SDK = ("lambda.runtime", "kinesis.clientlibrary", "kinesis.producer", "kinesis.leases",
                 "kinesis.metrics", "kinesis.multilang", "dynamodbv2.streamsadapter")
# v2 packages outside software.amazon.awssdk.services -> their module (the SDK's own layout).
V2_LIBRARIES = {
    "enhanced.dynamodb": "dynamodb-enhanced",
    "transfer.s3": "s3-transfer-manager",
    "http.apache": "apache-client",
    "http.urlconnection": "url-connection-client",
    "http.nio.netty": "netty-nio-client",
    "http.crt": "aws-crt-client",
}
V2_CORE = ("core", "awscore", "auth", "regions", "utils", "http", "identity", "profiles")
# The runtime library of Lambda's Java events, dropped when no source names its package.
LAMBDA_EVENTS = ("com.amazonaws", "aws-lambda-java-events", "com.amazonaws.services.lambda.runtime.events")


def v1_modules(names: frozenset[str]) -> tuple[set[str], set[str]]:
    """(artifacts, packages with no known artifact) for the v1 names written in the sources."""
    found, unknown, core = set(), set(), False
    for name in names:
        if not name.startswith("com.amazonaws."):
            continue
        rest = name.removeprefix("com.amazonaws.")
        if not rest.startswith("services."):
            core = True
            continue
        rest = rest.removeprefix("services.")
        if any(rest == p or rest.startswith(p + ".") for p in V1_NOT_IN_SDK):
            continue
        package = rest.split(".")[0]
        if package in V1_MODULES:
            found.add(V1_MODULES[package])
        else:
            unknown.add(package)
    if core and not found:
        found.add(V1.core)
    return found, unknown


def v2_modules(names: frozenset[str]) -> tuple[set[str], set[str]]:
    found, unknown, core = set(), set(), False
    for name in names:
        if not name.startswith("software.amazon.awssdk."):
            continue
        rest = name.removeprefix("software.amazon.awssdk.")
        library = next((m for p, m in V2_LIBRARIES.items() if rest == p or rest.startswith(p + ".")), None)
        if library:
            found.add(library)
        elif rest.startswith("services."):
            package = rest.removeprefix("services.").split(".")[0]
            if package in V2_MODULES:
                found.add(V2_MODULES[package])
            else:
                unknown.add(package)
        elif rest.split(".")[0] in V2_CORE:
            core = True
    if core and not found:
        found.add(V2.core)
    return found, unknown


def modules_for(sdk: Sdk, names: frozenset[str]) -> tuple[set[str], set[str]]:
    return v1_modules(names) if sdk is V1 else v2_modules(names)


def bundle_of(group: str, artifact: str) -> Sdk | None:
    for sdk in (V1, V2):
        if group == sdk.group and artifact in sdk.bundles:
            return sdk
    return None


def uses_lambda_events(names: frozenset[str]) -> bool:
    return any(n == LAMBDA_EVENTS[2] or n.startswith(LAMBDA_EVENTS[2] + ".") for n in names)
