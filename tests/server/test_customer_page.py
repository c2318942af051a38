"""The customer page is served over plain HTTP GET on the websocket port."""

from __future__ import annotations

import asyncio
import urllib.error
import urllib.request

import pytest

from chat_widget.server import ChatServer


def get(url: str) -> tuple[int, dict[str, str], str]:
    with urllib.request.urlopen(url, timeout=5) as resp:
        return resp.status, dict(resp.headers), resp.read().decode()


async def test_page_and_assets(server: ChatServer) -> None:
    status, headers, body = await asyncio.to_thread(get, server.http_url)
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert 'data-testid="customer-page"' in body and "/customer.js" in body
    _, js_headers, js = await asyncio.to_thread(get, server.http_url + "customer.js")
    assert js_headers["Content-Type"].startswith("text/javascript")
    assert "innerHTML" not in js  # text is rendered with textContent only
    assert "textContent" in js and "ResumeChat" in js and "Ping" in js
    with pytest.raises(urllib.error.HTTPError) as info:
        await asyncio.to_thread(get, server.http_url + "nope")
    assert info.value.code == 404
