"""What a hoisted construction saves per warm invocation: an estimate from costs measured once, not a promise.

The figures are the medians of benchmarks/payoff_worker.py on the shared development machine (2 cores, AMD
EPYC, Python 3.11.7, boto3 1.44.8; 27 November 2026; see benchmarks/README.md, "One construction"): CPU time
of one construction in a warm process, no network. On Lambda they scale with the memory size (CPU share).
"""
from __future__ import annotations

import dataclasses
import re

# Cited from what a user has: the README (pip ships it as the package description), not benchmarks/ (a clone only).
MEASURED = "measured on the development machine, 27 November 2026 (the README, \"Why\")"


@dataclasses.dataclass(frozen=True)
class Cost:
    pattern: re.Pattern[str]
    ms: float
    what: str


def _cost(pattern: str, ms: float, what: str) -> Cost:
    return Cost(re.compile(pattern), ms, what)


# First match wins: the specific before the general. hoist-clients moves only constructors its catalogue
# knows, so a bare ``client(`` in what it moved is ``from boto3 import client``.
_BOTO3 = r"(?:\bboto3\.|(?<![\w.]))"
COSTS = (
    _cost(r"\brequests\.Session\(", 0.011, "requests.Session()"),
    _cost(_BOTO3 + r"(?:session\.)?Session\(", 106.58, "boto3.Session() (a new session loads the service models again)"),
    _cost(_BOTO3 + r"resource\(", 3.95, "boto3.resource(...)"),
    _cost(_BOTO3 + r"client\(\s*['\"]s3['\"]", 4.51, "boto3.client('s3')"),
    _cost(_BOTO3 + r"client\(\s*['\"]dynamodb['\"]", 3.07, "boto3.client('dynamodb')"),
    _cost(_BOTO3 + r"client\(\s*['\"]sqs['\"]", 2.02, "boto3.client('sqs')"),
    # Other services: the middle of the three measured.
    _cost(_BOTO3 + r"client\(|\.client\(\s*['\"]", 3.07, "boto3.client(...)"),
)

# hoist-clients' change messages: what moved (code in backticks) and from which function.
_HOISTED = re.compile(r"^hoisted `(?P<code>.+)` from `(?P<function>[^`]+)` (?:to module scope|with it)")
_CACHED = re.compile(r"^`(?P<function>[^`]+)` now reuses one `(?P<code>[^`]+)\(\.\.\.\)` per ")
_FIRST_USE = re.compile(r"^`(?P<function>[^`]+)` builds `(?P<code>.+)` once, on first use, through ")


def cost_of(code: str) -> Cost | None:
    return next((cost for cost in COSTS if cost.pattern.search(code)), None)


def savings(messages: list[str]) -> dict[str, float]:
    """Function name -> estimated ms saved per warm invocation, from one file's hoist-clients changes."""
    saved: dict[str, float] = {}
    for message in messages:
        match = _HOISTED.match(message) or _CACHED.match(message) or _FIRST_USE.match(message)
        if match is None:
            continue
        code = match["code"] + ("(" if match.re is _CACHED else "")
        cost = cost_of(code)
        if cost is not None:
            saved[match["function"]] = saved.get(match["function"], 0.0) + cost.ms
    return saved


def describe(ms: float) -> str:
    amount = f"{ms:.0f}" if ms >= 1 else f"{ms:.2f}"
    return f"client construction: ~{amount} ms per warm invocation saved (estimate)"


def lines(results) -> list[str]:
    """``path: `function`: client construction: ~N ms ...`` for each changed file's functions, largest first."""
    out = []
    for result in results:
        messages = [c.message for c in result.changes if c.codemod == "hoist-clients"]
        for function, ms in sorted(savings(messages).items(), key=lambda item: (-item[1], item[0])):
            out.append(f"{result.path}: `{function}`: {describe(ms)}")
    if out:
        out.append(f"(estimates: CPU time per construction {MEASURED}; actual savings depend on the function's memory size)")
    return out
