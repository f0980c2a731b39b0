"""The docs name real files: every path a document quotes (`engine/services/cases.py`,
`web/templates/clerk/`, `tests/e2e/test_pages_*.py`) exists in the checkout, so a module renamed
or moved cannot leave the architecture map and the guides pointing at nothing."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = sorted([*ROOT.glob("docs/**/*.md"), ROOT / "README.md"])
# a path of ours inside `code`: starts at one of the project's folders
PATH = re.compile(
    r"(?<![\w/.])((?:engine|web|tests|bench|processes|forms|scripts)/[\w/.\-*]*[\w/*])"
)


def quoted_paths(text: str) -> set[str]:
    found: set[str] = set()
    for code in re.findall(r"`([^`\n]+)`", text):
        for path in PATH.findall(code):
            found.add(path.split("::")[0])  # a test id names its file
    return found


def exists(path: str) -> bool:
    if "*" in path:  # a pattern names the files it matches
        return any(ROOT.glob(path))
    return (ROOT / path).exists()


def test_the_pattern_finds_paths_and_skips_other_code() -> None:
    text = "see `engine/services/cases.py` and `web/templates/public/guide*.html`, not `a/b.py`"
    assert quoted_paths(text) == {"engine/services/cases.py", "web/templates/public/guide*.html"}
    assert quoted_paths("`tests/unit/test_x.py::test_y`") == {"tests/unit/test_x.py"}
    assert not exists("engine/services/no_such_module.py")


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_path_a_document_quotes_exists(document: Path) -> None:
    missing = sorted(p for p in quoted_paths(document.read_text()) if not exists(p))
    assert not missing, f"{document.relative_to(ROOT)} names files that do not exist: {missing}"
