"""A task's instructions (SpiffArena's `instructionsForEndUser`) as safe HTML for the task page.

The text is markdown with Jinja-style placeholders. Nothing in it runs:

- markdown is rendered by markdown-it-py (CommonMark, plus tables and strikethrough) with raw
  HTML off: a `<script>` in the text is shown as text; images are not loaded (shown as their
  alt text); links go only to http(s) and mailto addresses and open in a new tab;
- `{{ name }}` (a case data field: letters, digits, `_`) is replaced by the field's value,
  escaped; a field the case does not hold is left as written, and so is any other template code
  (`{% if %}`, filters `{{ x | upper }}`, `{{ a.b }}`): shown as text, never evaluated.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from markdown_it import MarkdownIt
from markupsafe import Markup, escape

from .forms_render import attachment_label

_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
# a placeholder stands in the markdown as a run of private-use characters markdown never
# touches, replaced by the escaped value once the HTML is made
_OPEN, _CLOSE = "\ue000", "\ue001"
_MARK = re.compile(f"{_OPEN}(\\d+){_CLOSE}")
_SAFE_LINK = re.compile(r"^(https?:|mailto:)", re.IGNORECASE)
MAX_VALUE_SHOWN = 2000


def _renderer() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.enable(["table", "strikethrough"])
    md.disable("image")
    md.validateLink = lambda url: bool(_SAFE_LINK.match(url.strip()))  # type: ignore[method-assign]

    def link_open(renderer: Any, tokens: Any, idx: int, options: Any, env: Any) -> str:
        tokens[idx].attrSet("target", "_blank")
        tokens[idx].attrSet("rel", "noopener noreferrer")
        return str(renderer.renderToken(tokens, idx, options, env))

    md.add_render_rule("link_open", link_open)
    return md


_MD = _renderer()


def _shown(value: Any) -> str:
    """A case data value as text: an attachment by its name, text as it is, others as JSON."""
    label = attachment_label(value)
    if label is not None:
        return label
    if isinstance(value, str):
        text = value
    elif isinstance(value, bool):
        text = "是" if value else "否"
    else:
        text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= MAX_VALUE_SHOWN else text[: MAX_VALUE_SHOWN - 1] + "…"


def render_instructions(text: str | None, data: Mapping[str, Any] | None) -> Markup | None:
    """The instructions as HTML, their placeholders filled from `data`; None without any."""
    if not text or not text.strip():
        return None
    data = data or {}
    values: list[str] = []

    def hold(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in data:
            return match.group(0)
        values.append(_shown(data[name]))
        return f"{_OPEN}{len(values) - 1}{_CLOSE}"

    source = text.replace(_OPEN, "").replace(_CLOSE, "")
    html = _MD.render(_PLACEHOLDER.sub(hold, source))
    filled = _MARK.sub(lambda m: str(escape(values[int(m.group(1))])), html)
    return Markup(filled.replace(_OPEN, "").replace(_CLOSE, ""))  # noqa: S704 - escaped above
