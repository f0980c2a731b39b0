"""Upload checks, one rule a module: each has a NAME, its messages and `check(upload)` yielding
problems (errors refuse the upload, warnings are reported with it). The compiler runs `RULES`;
a new check is a new module here and its test (tests/unit/test_rule_<name>.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from ..problems import Problem
from . import (
    certificate_cancel,
    condition_fields,
    elements,
    item_conditions,
    soundness,
    untyped_tasks,
)
from .upload import Upload

Rule = Callable[[Upload], Iterator[Problem]]


def _soundness(upload: Upload) -> Iterator[Problem]:
    for path, tree in upload.documents.items():
        yield from soundness.check(tree.getroot(), path)


RULES: dict[str, Rule] = {
    soundness.NAME: _soundness,
    condition_fields.NAME: condition_fields.check,
    untyped_tasks.NAME: untyped_tasks.check,
    elements.NAME: elements.check,
    item_conditions.NAME: item_conditions.check,
    certificate_cancel.NAME: certificate_cancel.check,
}


def run(upload: Upload) -> list[Problem]:
    """Every problem the rules find, in rule order."""
    return [problem for rule in RULES.values() for problem in rule(upload)]


__all__ = ["RULES", "Upload", "run"]
