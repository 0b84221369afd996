"""The engine's one scan for every codemod's markers gives what each codemod's own `wants` gives."""
from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from codemods import Codemod, select
from rewriter import engine

ALL = list(select(("sdk-v3", "hoist-clients", "reconnect-guards", "targeted-imports", "lazy-imports",
                    "slim-dependencies", "framework-advice")))
LANGUAGES = sorted({language for impl in ALL for language in impl.LANGUAGES})
PIECES = sorted({piece for impl in ALL for marker in impl.MARKERS
                 for piece in (marker, marker[:3], marker[1:], marker[:-1], marker[len(marker) // 2:])})


def _wanting(names: tuple[str, ...], language: str, data: bytes) -> list[int]:
    impls = engine._implementations(names, language)
    found = engine._markers(names, language).found(data)
    return [i for i, impl in enumerate(impls) if impl.wants is not Codemod.wants or i in found]


def _expected(names: tuple[str, ...], language: str, data: bytes) -> list[int]:
    impls = engine._implementations(names, language)
    return [i for i, impl in enumerate(impls) if impl.wants is not Codemod.wants or impl().wants(data)]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(PIECES), st.binary(max_size=6)), max_size=12), st.sampled_from(LANGUAGES),
       st.booleans())
def test_the_combined_scan_finds_what_each_codemod_wants(parts: list[bytes], language: str, all_of_them: bool) -> None:
    data = b"".join(parts)
    names = () if not all_of_them else tuple(dict.fromkeys(impl.NAME for impl in ALL))
    assert _wanting(names, language, data) == _expected(names, language, data)


def test_every_marker_alone_and_real_files() -> None:
    names = tuple(dict.fromkeys(impl.NAME for impl in ALL))
    sources = [Path(engine.__file__).read_bytes(), *(p.read_bytes() for p in Path("samples").rglob("*.py"))]
    for language in LANGUAGES:
        for data in [*(marker for impl in ALL for marker in impl.MARKERS), b"", *sources]:
            assert _wanting(names, language, data) == _expected(names, language, data)


def test_overlapping_markers_are_each_found() -> None:
    scan = engine._Markers([(b"aws-sdk",), (b"@aws-sdk/",), (b"sdk/cl",), (b"boto3", b"aioboto3"), (b"botocore",)])
    assert scan.found(b"import '@aws-sdk/client-s3'") == {0, 1, 2}
    assert scan.found(b"import aioboto3") == {3}
    assert scan.found(b"import aiobotocore") == {4}
    assert scan.found(b"bot o3 aws sdk") == frozenset()
