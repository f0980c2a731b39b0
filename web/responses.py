"""Responses that carry uploaded bytes, and the security headers every response gets.

A bundle's BPMN file is the uploader's text: an XHTML `<script>` inside its documentation would
run on our origin if a browser rendered it as XML. So stored files are served as plain text, as
an attachment, with `nosniff` and a sandboxing CSP: a browser opening the link downloads it; the
diagram viewer, which fetches it, reads it as text.
"""

from __future__ import annotations

from urllib.parse import quote

from flask import Response, request

# Pages load nothing from another host and run no inline script: every asset is the app's own.
PAGE_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        # bpmn-js positions its shapes with style attributes
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'self'",
    ]
)
# Everything else (JSON, CSV, PDF, scripts, styles): nothing to run, nothing to load, not framed.
OTHER_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
# Uploaded bytes: a unique opaque origin with no script, even if a browser were made to render it.
STORED_POLICY = "sandbox; " + OTHER_POLICY
# Our own certificate PDFs: Chromium shows a PDF through a plugin that `object-src 'none'` would
# block; the PDF carries no script (reportlab writes none).
PDF_POLICY = "frame-ancestors 'self'"


def content_disposition(kind: str, filename: str) -> str:
    """An RFC 6266 Content-Disposition: an ASCII fallback name and the UTF-8 name
    (`filename*`), so quotes, line breaks and non-ASCII characters cannot break the header."""
    fallback = "".join(
        c if c.isascii() and c.isprintable() and c not in '"\\;' else "_" for c in filename
    )
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def stored_file(text: str, filename: str, cache: str) -> Response:
    """Uploaded text served so a browser never runs it."""
    response = Response(text, mimetype="text/plain")
    response.headers["Content-Disposition"] = content_disposition("attachment", filename)
    response.headers["Content-Security-Policy"] = STORED_POLICY
    response.headers["Cache-Control"] = cache
    return response


def security_headers(response: Response) -> Response:
    """On every response, pages, API, files and errors alike."""
    headers = response.headers
    policy = {"text/html": PAGE_POLICY, "application/pdf": PDF_POLICY}
    headers.setdefault("Content-Security-Policy", policy.get(response.mimetype, OTHER_POLICY))
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("X-Frame-Options", "SAMEORIGIN")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    return response
