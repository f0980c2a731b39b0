"""Hints that turn a refusal into something a designer can act on: the `&&` XML cannot hold,
`=` written for `==`, a form path with a typo."""

from __future__ import annotations

import difflib
import io
import tokenize
from collections.abc import Iterable

from engine.bpmn.xml import XmlProblem


def xml_hint(data: bytes, err: XmlProblem) -> str:
    """What to write instead, when an XML error comes from a condition's `&` or `<`."""
    if err.line is None:
        return ""
    lines = data.split(b"\n")
    if not 0 < err.line <= len(lines):
        return ""
    line = lines[err.line - 1]
    if "EntityRef" in err.message and b"&&" in line:
        return (
            "; 条件中的 && 在 XML 里不能直接写: 请改用 and (如 `a == 1 and b == 2`), "
            "或写作 &amp;&amp;"
        )
    if "EntityRef" in err.message and b"&" in line:
        return "; XML 里的 & 须写作 &amp;"
    if "StartTag" in err.message and b"<" in line.split(b">", 1)[-1]:
        return "; 条件中的 < 在 XML 里须写作 &lt; (<= 写作 &lt;=)"
    return ""


def condition_hint(text: str) -> str:
    """`=` (assignment) where a comparison `==` was meant."""
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return ""
    if any(t.type == tokenize.OP and t.string == "=" for t in tokens):
        return "; 比较是否相等请写 `==` (一个 `=` 是赋值, 条件中不能使用)"
    return ""


def nearest_path(key: str, known: Iterable[str]) -> str | None:
    """The existing file a misspelled form path most likely means."""
    candidates = {}
    for path in known:
        candidates[path] = path
        if path.startswith("forms/"):
            candidates.setdefault(path.removeprefix("forms/"), path)
    close = difflib.get_close_matches(key, sorted(candidates), n=1, cutoff=0.6)
    return close[0] if close else None
