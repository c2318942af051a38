"""Plain HTTP GET on the websocket port: the customer page and a health check.

The page is static (HTML, vanilla JS, CSS shipped in ``static/``); strict
headers keep it from being framed or from loading anything foreign.
"""

from __future__ import annotations

import http
from functools import cache
from importlib import resources

from websockets.datastructures import Headers
from websockets.http11 import Request, Response

STATIC_FILES = {
    "/": ("customer.html", "text/html; charset=utf-8"),
    "/index.html": ("customer.html", "text/html; charset=utf-8"),
    "/customer.js": ("customer.js", "text/javascript; charset=utf-8"),
    "/customer.css": ("customer.css", "text/css; charset=utf-8"),
}

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self' ws: wss:; "
    "img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


@cache
def static_bytes(name: str) -> bytes:
    return resources.files("chat_widget.server").joinpath("static", name).read_bytes()


def _response(status: http.HTTPStatus, body: bytes, content_type: str) -> Response:
    headers = Headers(
        [
            ("Content-Type", content_type),
            ("Content-Length", str(len(body))),
            ("Cache-Control", "no-store"),
            ("X-Content-Type-Options", "nosniff"),
            ("Referrer-Policy", "no-referrer"),
            ("X-Frame-Options", "DENY"),
            ("Content-Security-Policy", CSP),
        ]
    )
    return Response(status.value, status.phrase, headers, body)


def handle_http(request: Request) -> Response | None:
    """Answer a plain GET; ``None`` lets a websocket upgrade through."""
    if "websocket" in request.headers.get("Upgrade", "").lower():
        return None
    path = request.path.split("?", 1)[0]
    if path == "/healthz":
        return _response(http.HTTPStatus.OK, b"ok\n", "text/plain; charset=utf-8")
    found = STATIC_FILES.get(path)
    if found is None:
        return _response(http.HTTPStatus.NOT_FOUND, b"not found\n", "text/plain; charset=utf-8")
    name, content_type = found
    return _response(http.HTTPStatus.OK, static_bytes(name), content_type)
