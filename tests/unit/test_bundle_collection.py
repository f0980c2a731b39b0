"""bundle.json `collection` (issue 17 · F): where the applicant collects the licences, optional,
checked at upload and typed."""

from __future__ import annotations

import json

from engine.bundles.metadata import read_metadata
from engine.domain.bundle_metadata import Collection
from tests.conftest import PROCESSES


def _read(raw: dict[str, object]) -> tuple[object, list[str]]:
    meta, problems = read_metadata({"bundle.json": json.dumps(raw).encode()})
    return meta.collection, [p.message for p in problems]


def test_the_restaurant_says_where_to_collect_its_licences() -> None:
    raw = (PROCESSES / "restaurant" / "bundle.json").read_bytes()
    meta, problems = read_metadata({"bundle.json": raw})
    assert problems == []
    assert meta.collection is not None and "统一出件窗口" in meta.collection.place
    assert meta.collection.hours and meta.collection.phone


def test_collection_is_optional_and_checked() -> None:
    assert _read({"key": "x"}) == (None, [])
    assert _read({"key": "x", "collection": {"place": "一号窗口"}}) == (
        Collection("一号窗口", "", ""),
        [],
    )
    _, problems = _read({"key": "x", "collection": {"hours": "9:00"}})
    assert len(problems) == 1 and "collection" in problems[0] and "place" in problems[0]
    _, problems = _read({"key": "x", "collection": {"place": "一号窗口", "floor": 3}})
    assert len(problems) == 1 and "不认识的字段 floor" in problems[0]
