"""The catalogue reaches the code: every row passes the text prefilter and is decided where it is built."""
from __future__ import annotations

import pytest

import codemod_fixtures as fixtures
from codemods.catalog import CONSTRUCTORS, Reuse
from codemods.python.hoist_clients import HoistClients
from codemods.python.reconnect_guards import ReconnectGuards


def _built_in_handler(qualname: str) -> str:
    return f"import {qualname.split('.')[0]}\n\n\ndef handler(event, context):\n    built = {qualname}()\n    return built\n"


@pytest.mark.parametrize("qualname", sorted(CONSTRUCTORS))
def test_every_row_is_reached_by_hoist_clients(qualname: str) -> None:
    source = _built_in_handler(qualname)
    assert HoistClients().wants(source.encode()), f"no marker lets a file that builds `{qualname}` through"
    _, ctx = fixtures.rewrite(source, "hoist-clients")
    decided = [d.line for d in ctx.changes + ctx.notes]
    assert 5 in decided, (qualname, ctx.changes, ctx.notes)


@pytest.mark.parametrize("qualname", sorted(q for q, c in CONSTRUCTORS.items() if c.reuse is Reuse.GUARD))
def test_every_connection_row_is_reached_by_reconnect_guards(qualname: str) -> None:
    source = _built_in_handler(qualname)
    assert ReconnectGuards().wants(source.encode())
    _, ctx = fixtures.rewrite(source, "reconnect-guards")
    assert 5 in [d.line for d in ctx.changes + ctx.notes], (qualname, ctx.changes, ctx.notes)


@pytest.mark.parametrize("qualname", sorted(q for q, c in CONSTRUCTORS.items() if c.reconnects_by_itself))
def test_every_self_reconnecting_row_is_named_by_reconnect_guards(qualname: str) -> None:
    # In a handler it is hoist-clients' to move; at module level reconnect-guards says why it adds no guard.
    source = f"import {qualname.split('.')[0]}\n\nbuilt = {qualname}()\n\n\ndef handler(event, context):\n    return built\n"
    assert ReconnectGuards().wants(source.encode())
    _, ctx = fixtures.rewrite(source, "reconnect-guards")
    assert [(n.line, "reconnects by itself" in n.message) for n in ctx.notes] == [(3, True)], ctx.notes


def test_a_package_no_row_names_is_not_parsed() -> None:
    assert not HoistClients().wants(b"import json\n\ndef handler(event, context):\n    return json.dumps(event)\n")
