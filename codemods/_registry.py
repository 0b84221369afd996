"""Finds codemods: every module under codemods/<language>/ that does not start with "_"."""
from __future__ import annotations

import importlib
import inspect
import pkgutil
from functools import cache
from typing import Any

from codemods._base import Codemod

LANGUAGE_PACKAGES = ("python", "javascript", "java", "manifests")
# Public modules that hold no codemod: adapters for other runners (LibCST's `python -m libcst.tool
# codemod`), which import heavy machinery (libcst.codemod: 0.2 s) that no run of this tool needs.
NOT_CODEMODS = frozenset({"libcst_commands"})


@cache
def all_codemods() -> dict[str, list[type[Codemod[Any]]]]:
    """Codemod name -> its implementations (one per language), in registry order."""
    found: dict[str, list[type[Codemod[Any]]]] = {}
    for language in LANGUAGE_PACKAGES:
        package = importlib.import_module(f"codemods.{language}")
        for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
            if info.name.startswith("_") or info.name in NOT_CODEMODS:
                continue
            module = importlib.import_module(f"{package.__name__}.{info.name}")
            for value in vars(module).values():
                if (
                    isinstance(value, type)
                    and issubclass(value, Codemod)
                    and value.__module__ == module.__name__
                    and not inspect.isabstract(value)
                    and getattr(value, "NAME", None)
                ):
                    found.setdefault(value.NAME, []).append(value)
    order = {name: i for i, name in enumerate(CODEMOD_ORDER)}
    return dict(sorted(found.items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0])))


# Codemods run in this order within a file: hoisting first, so later codemods see the hoisted result.
# sdk-v3 comes before them all: the others rewrite the v3 code it makes (hoist-clients hoists its clients).
CODEMOD_ORDER = ("sdk-v3", "hoist-clients", "reconnect-guards", "targeted-imports", "lazy-imports", "slim-dependencies")


def select(names: tuple[str, ...] | list[str] = ()) -> list[type[Codemod[Any]]]:
    """The implementations of the named codemods (all but the opt-in ones when none are named), in run order.
    Opt-in is per implementation: targeted-imports runs by default on Python, only when named on JavaScript."""
    registry = all_codemods()
    unknown = [name for name in names if name not in registry]
    if unknown:
        raise KeyError(", ".join(unknown))
    if names:
        chosen = [name for name in registry if name in names]
    else:
        return [impl for impls in registry.values() for impl in impls if not getattr(impl, "OPT_IN", False)]
    return [impl for name in chosen for impl in registry[name]]


def external_tools() -> str:
    """What the results of codemods that run another program depend on (sdk-v3: aws-sdk-js-codemod, where it is
    installed and which version), for the result cache's key: installing the program must not serve old results."""
    from codemods.javascript import _aws_sdk_js_codemod

    return _aws_sdk_js_codemod.fingerprint()
