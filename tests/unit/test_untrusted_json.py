"""engine.untrusted_json: JSON from outside refused when it holds what broke things further on
(NaN, Infinity, lone surrogates, deep nesting, integers beyond 64 bits), with the place named."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine import untrusted_json
from engine.untrusted_json import MAX_DEPTH, MAX_INTEGER, JsonRefused, loads
from tests.fixtures.hypothesis_settings import fixed


@pytest.mark.parametrize(
    ("text", "where", "said"),
    [
        ('{"a": NaN}', "a", "NaN"),
        ('{"a": [1, Infinity]}', "a.1", "Infinity"),
        ('{"a": {"b": -Infinity}}', "a.b", "-Infinity"),
        ('{"a": 1e400}', "a", "有限"),
        ('[{"x": -1e999}]', "0.x", "有限"),
        ('{"name": "\\ud800"}', "name", "代理项"),
        ('{"name": "ok \\udfff"}', "name", "代理项"),
        ('{"\\ud83d": 1}', "\\ud83d", "代理项"),
        ('{"n": "a\\u0000b"}', "n", "NUL"),
        ('{"a\\u0000": 1}', "a\\u0000", "NUL"),
        ('{"n": 9223372036854775808}', "n", "整数超出范围"),
        ('{"n": -9223372036854775809}', "n", "整数超出范围"),
        ("NaN", "", "NaN"),
    ],
)
def test_out_of_bounds_values_are_refused_where_they_are(text: str, where: str, said: str) -> None:
    with pytest.raises(JsonRefused) as refused:
        loads(text)
    assert refused.value.where == where
    assert said in refused.value.message


def test_nesting_is_bounded() -> None:
    assert loads("[" * MAX_DEPTH + "]" * MAX_DEPTH) is not None
    with pytest.raises(JsonRefused) as over:
        loads("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1))
    assert over.value.where == ".".join(["0"] * MAX_DEPTH)
    for depth in (1_000, 3_000, 100_000):  # past the interpreter's recursion limit
        with pytest.raises(JsonRefused, match="嵌套层数过多"):
            loads('{"a": ' + "[" * depth + "]" * depth + "}")


def test_what_json_allows_goes_through() -> None:
    text = '{"a": [1, 2.5, -0.0, 1e308, "张三😀", true, null, {}], "b": 9223372036854775807}'
    assert loads(text) == json.loads(text)
    assert loads(text.encode()) == json.loads(text)
    assert loads('"\\ud83d\\ude00"') == "😀"  # a surrogate pair is a character


def test_not_json_is_the_decoders_error() -> None:
    for text in ('{"a": ', "{'a': 1}", ""):
        with pytest.raises(json.JSONDecodeError):
            loads(text)
    with pytest.raises(UnicodeDecodeError):
        loads(b'{"a": "\xff"}')
    with pytest.raises(JsonRefused, match="整数超出范围"):
        loads("1" * 5000)  # more digits than Python converts


def test_long_keys_are_cut_in_the_place_named() -> None:
    with pytest.raises(JsonRefused) as refused:
        loads(json.dumps({"k" * 500: float("nan")}))  # json.dumps writes NaN
    assert len(refused.value.where) < 50 and refused.value.where.endswith("…")


text = st.text(st.characters(codec="utf-8", exclude_characters="\x00"))  # UTF-8: no surrogates
finite = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-MAX_INTEGER - 1, max_value=MAX_INTEGER),
    st.floats(allow_nan=False, allow_infinity=False),
    text,
)
documents = st.recursive(
    finite,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(
            st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=8),
            inner,
            max_size=4,
        ),
    ),
    max_leaves=20,
)


@fixed(300)
@given(documents)
def test_every_bounded_document_round_trips(document: Any) -> None:
    """Whatever json.dumps writes of finite values, without surrogates or NUL, comes back
    equal."""
    assert loads(json.dumps(document)) == document
    assert loads(json.dumps(document, ensure_ascii=False).encode("utf-8")) == document


@fixed(300)
@given(documents, st.sampled_from(["NaN", "Infinity", "-Infinity", '"\\udc80"', '"\\u0000"']))
def test_a_bad_value_anywhere_is_found(document: Any, bad: str) -> None:
    """The same documents with one value replaced by a refused one: always refused, never
    anything else (a RecursionError, a UnicodeEncodeError...)."""
    text = json.dumps([document, "PLACEHOLDER"]).replace('"PLACEHOLDER"', bad)
    with pytest.raises(JsonRefused) as refused:
        loads(text)
    assert refused.value.where == "1"


def test_check_walks_parsed_values_too() -> None:
    with pytest.raises(JsonRefused):
        untrusted_json.check({"a": [float("inf")]})
    untrusted_json.check({"a": [1.5, "x"]})
