"""What arrives over HTTP, bounded before a view sees it: ids in paths, JSON, the body's size.

- `<int:...>` in every route (API, pages, public) matches only what a 64-bit id column can hold:
  a larger number is a route that does not exist (404), never an overflow in the database driver.
- JSON goes through `engine.untrusted_json` (no `NaN`/`Infinity`, no lone surrogates or NUL, at
  most 64 levels deep, integers within 64 bits), whether a view reads it with `json_body()` or
  Flask's `request.get_json()`.
- A body over `MAX_CONTENT_LENGTH` is a 413 on every route, whether the request says its length
  or sends its body in chunks without one.
- A NUL character in the address or a form field is refused (PostgreSQL's text cannot hold it).
"""

from __future__ import annotations

import io
from typing import Any

from flask import Flask, abort, current_app, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import NotFound
from werkzeug.routing import IntegerConverter, Map, ValidationError

from engine import untrusted_json
from engine.errors import Invalid

MAX_ID = untrusted_json.MAX_INTEGER
NUL = "\x00"
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
# Bundle version numbers are 32-bit columns (PostgreSQL refuses a larger parameter outright).
MAX_VERSION = 2**31 - 1
VERSION = f"int(max={MAX_VERSION})"  # the converter of a version in a route: `<{VERSION}:version>`


class Int64Converter(IntegerConverter):
    """Flask's `int` converter, at most 2^63 - 1 unless a route asks for less."""

    def __init__(
        self,
        map: Map,
        fixed_digits: int = 0,
        min: int | None = None,
        max: int | None = None,
        signed: bool = False,
    ) -> None:
        super().__init__(map, fixed_digits, min, MAX_ID if max is None else max, signed)

    def to_python(self, value: str) -> Any:
        # Digits out of range name nothing: 404 at once. (Werkzeug's ValidationError would let
        # the next rule try, and a rule for the same path with another method would make it 405.)
        try:
            return super().to_python(value)
        except ValidationError:
            raise NotFound() from None


class StrictJSONProvider(DefaultJSONProvider):
    """Flask's JSON, reading only what `engine.untrusted_json` accepts (`request.get_json()`
    answers 400 for anything else; the API's `json_body()` says more, with a 422)."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return untrusted_json.loads(s)


def parse_id(text: str | None, high: int = MAX_ID) -> int | None:
    """An id typed into a form or a query string: ASCII digits, 1 to `high` (2^63 - 1 unless
    said); else None."""
    text = (text or "").strip()
    if not text or not text.isascii() or not text.isdigit() or len(text.lstrip("0")) > 19:
        return None
    value = int(text)
    return value if 1 <= value <= high else None


def bound_body() -> None:
    """Refuse (413) a body larger than MAX_CONTENT_LENGTH before anything reads it.

    With a Content-Length the header says it. A chunked body (no Content-Length; the server sets
    `wsgi.input_terminated`) is read here, at most one byte past the limit, and handed on as a
    buffer: Werkzeug's own bound on such a stream stops reading at the limit without saying so."""
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    if limit is None:
        return
    length = request.content_length
    if length is not None:
        if length > limit:
            abort(413)
        return
    environ = request.environ
    if "wsgi.input_terminated" not in environ or not request.headers.get("Transfer-Encoding"):
        return  # no body: without a length, only a chunked one can follow (and a server says so)
    data = environ["wsgi.input"].read(limit + 1)
    if len(data) > limit:
        abort(413)
    environ["wsgi.input"] = io.BytesIO(data)
    environ["CONTENT_LENGTH"] = str(len(data))
    environ.pop("HTTP_TRANSFER_ENCODING", None)
    for cached in ("content_length", "stream"):  # Werkzeug caches both on first use
        request.__dict__.pop(cached, None)


def refuse_nul() -> None:
    """Refuse a NUL character (U+0000) anywhere in the address or the form fields: PostgreSQL's
    text holds none, so it would fail in the database (a 500) instead of here. In the path it
    names nothing (404); in the query string or a form field it is a 422 naming the field."""
    if NUL in request.path:
        abort(404)
    fields = [*request.args.items(multi=True)]
    if request.mimetype in FORM_TYPES:
        fields += request.form.items(multi=True)
        fields += [(name, f.filename or "") for name, f in request.files.items(multi=True)]
    for key, item in fields:
        name, value = key or "", item or ""  # a malformed multipart part may have no name
        if NUL in name or NUL in value:
            shown = name.replace(NUL, "\\u0000")
            raise Invalid(
                "请求含有 NUL 字符",
                [{"field": shown, "message": "不接受 NUL 字符 (\\u0000)", "element": None}],
            )


def init_app(app: Flask) -> None:
    """Install the bounds; call before any blueprint is registered (its routes use the
    converter) and before any other `before_request` (nothing may read the body first)."""
    app.url_map.converters["int"] = Int64Converter
    app.json = StrictJSONProvider(app)
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.before_request(bound_body)
    app.before_request(refuse_nul)
