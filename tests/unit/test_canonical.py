"""Canonical JSON is the text hashes are taken over: its bytes must never change."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from webapp.audit import canonical

_REFERENCE = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)

_LEAVES = (st.none() | st.booleans() | st.integers(min_value=-2**70, max_value=2**70)
           | st.text())
_DOCUMENTS = st.recursive(
    _LEAVES, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner,
                                                                         max_size=5),
    max_leaves=30)


@settings(max_examples=1000, deadline=None)
@given(_DOCUMENTS)
def test_dumps_writes_exactly_the_standard_librarys_sorted_compact_text(document):
    # orjson does the work; whatever it refuses (integers beyond 64 bits, lone
    # surrogates) must still come out as the standard library would write it.
    assert canonical.dumps(document) == _REFERENCE.encode(document)


def test_the_awkward_cases_by_name():
    cases = [{"b": 1, "a": [True, None]}, "ü€𝄞", "\x00\x1f\x7f\u2028", 2**64, -2**63 - 1,
             {"\ud800": 1}, {"z": {"y": {"x": []}}}, "tab\tquote\"back\\slash"]
    for value in cases:
        assert canonical.dumps(value) == _REFERENCE.encode(value)


def test_non_text_keys_fall_back_rather_than_fail():
    keyed_by_number = {2: "b", 1: "a"}
    assert canonical.dumps(keyed_by_number) == _REFERENCE.encode(keyed_by_number)
    assert canonical.dumps(keyed_by_number) == '{"1":"a","2":"b"}'


_ANY_LEAVES = _LEAVES | st.floats(allow_nan=True, allow_infinity=True)
_ANY_DOCUMENTS = st.recursive(
    _ANY_LEAVES, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner,
                                                                             max_size=5),
    max_leaves=30)


def _same(a, b) -> bool:
    """Equal, with the same types all the way down (1 == 1.0 == True otherwise), and
    NaN equal to NaN."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(map(_same, a, b))
    if isinstance(a, float) and a != a:
        return b != b
    return a == b


@settings(max_examples=1000, deadline=None)
@given(_ANY_DOCUMENTS)
def test_loads_reads_every_text_as_the_standard_library_does(document):
    # orjson reads it when it can; a big integer it would make a float, a NaN or a lone
    # surrogate it refuses must still read exactly as json.loads reads them.
    for text in {canonical.dumps(document), json.dumps(document)}:
        assert _same(canonical.loads(text), json.loads(text))


def test_loads_awkward_texts_by_name():
    for text in ('{"a":-9223372036854775809}', '[18446744073709551616,1.5]', '{"a":NaN}',
                 '"\\ud800"', '{"a":1,"a":2}', '{"a":{"b":[1e400]}}', '"\\ud83d\\ude00"'):
        assert _same(canonical.loads(text), json.loads(text)), text


def test_loads_keeps_big_integers_whole():
    assert canonical.loads(str(2**70)) == 2**70
    assert canonical.loads(None) is None


def test_version_vectors_read_the_same_as_with_the_standard_library() -> None:
    from webapp.audit.canonical import loads_vector

    for text in ('{}', '{"01A":1,"01B":9223372036854775807}', '{"01A":18446744073709551616}'):
        assert loads_vector(text) == json.loads(text)
        assert all(type(v) is int for v in loads_vector(text).values())
