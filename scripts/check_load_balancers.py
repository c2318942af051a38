"""Run docs/scale-out.md's load balancer examples, as written, in front of real servers.

    .venv/bin/python scripts/check_load_balancers.py [nginx] [haproxy]

Needs ``nginx`` and ``haproxy`` (Debian: ``apt-get install nginx-light haproxy``)
and ``openssl``; not part of the test suite (those are not test dependencies).
For each balancer the script takes the config block of the section "Behind a
load balancer", replaces only the addresses, the listen port and the
certificate paths (a self-signed one for 127.0.0.1), and checks: the customer
page and /healthz through the balancer; a scripted customer and an agent chat
through it over wss; the serving process is killed with SIGKILL mid-chat and
another process starts on the same database on another port (the third
upstream address is dead all along); both clients come back through the
balancer, resume, and every message is stored and seen exactly once.
Exit status 0: every check held.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import sqlite3
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "scale-out.md"
ORIGIN = "https://chat.example.com"  # the page's origin in the doc: every process allows it
WAIT = 20.0  # wall seconds any step may take
QUESTION: dict[str, Any] = {
    "name": "Quick question",
    "contact": {"name": "Maria Weber", "emails": ["maria@example.com"]},
    "steps": [
        {"say": "Hi, my bill is wrong", "typing": 0.1, "delay": 0},
        {"wait_for_reply": True},
        {"say": "Thanks, that helps", "typing": 0.1, "delay": 0},
        {"wait_for_reply": True},
        {"leave": "Bye"},
    ],
}
EXPECTED = [
    ("Client", "Hi, my bill is wrong"),
    ("Agent", "Let me check that."),
    ("Client", "Thanks, that helps"),
    ("Agent", "You're welcome."),
    ("Client", "Bye"),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def doc_block(language: str) -> str:
    found = re.findall(rf"```{language}\n(.*?)```", DOC.read_text(), flags=re.S)
    if len(found) != 1:
        raise SystemExit(f"expected one ```{language} block in {DOC}, found {len(found)}")
    return str(found[0])


def replace_all(text: str, pairs: dict[str, str]) -> str:
    for old, new in pairs.items():
        if old not in text:
            raise SystemExit(f"the doc's example no longer contains {old!r}")
        text = text.replace(old, new)
    return text


def self_signed(tmp: Path) -> tuple[Path, Path, Path]:
    """A certificate for 127.0.0.1: (cert, key, cert+key for HAProxy)."""
    cert, key, pem = tmp / "cert.pem", tmp / "key.pem", tmp / "both.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"),
            *("-keyout", str(key), "-out", str(cert)),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    pem.write_text(cert.read_text() + key.read_text())
    return cert, key, pem


def nginx(tmp: Path, lb: int, ports: list[int], cert: Path, key: Path) -> list[str]:
    site = replace_all(
        doc_block("nginx"),
        {
            "10.0.0.11:8765": f"127.0.0.1:{ports[0]}",
            "10.0.0.12:8765": f"127.0.0.1:{ports[1]}",
            "10.0.0.13:8765": f"127.0.0.1:{ports[2]}",
            "listen 443 ssl;": f"listen 127.0.0.1:{lb} ssl;",
            "/etc/ssl/certs/chat.example.com.pem": str(cert),
            "/etc/ssl/private/chat.example.com.key": str(key),
        },
    )
    (tmp / "chat-widget.conf").write_text(site)
    temp = " ".join(
        f"{name}_temp_path {tmp / name};"
        for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    main = tmp / "nginx.conf"
    lines = [
        "worker_processes 1;",
        f"error_log {tmp / 'nginx-error.log'} warn;",
        f"pid {tmp / 'nginx.pid'};",
        "events {}",
        f"http {{ access_log off; {temp} include {tmp / 'chat-widget.conf'}; }}",
    ]
    main.write_text("\n".join(lines) + "\n")
    subprocess.run(["nginx", "-t", "-c", str(main)], check=True, capture_output=True, timeout=30)
    return ["nginx", "-c", str(main), "-g", "daemon off;"]


def haproxy(tmp: Path, lb: int, ports: list[int], pem: Path) -> list[str]:
    body = replace_all(
        doc_block("haproxy"),
        {
            "10.0.0.11:8765": f"127.0.0.1:{ports[0]}",
            "10.0.0.12:8765": f"127.0.0.1:{ports[1]}",
            "10.0.0.13:8765": f"127.0.0.1:{ports[2]}",
            "bind :443 ssl crt /etc/haproxy/certs/chat.example.com.pem": (
                f"bind 127.0.0.1:{lb} ssl crt {pem}"
            ),
        },
    )
    cfg = tmp / "haproxy.cfg"
    cfg.write_text("global\n    log stderr format raw local0 warning\n\n" + body)
    subprocess.run(["haproxy", "-c", "-f", str(cfg)], check=True, capture_output=True, timeout=30)
    return ["haproxy", "-f", str(cfg), "-db"]


def serve(db: Path, port: int) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [
            *(sys.executable, "-m", "chat_widget.cli", "serve", "--port", str(port)),
            *("--db", str(db), "--origin", ORIGIN, "--log-level", "WARNING"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()  # "chat-widget: customer page http://127.0.0.1:PORT/ ..."
    if f":{port}/" not in line:
        raise SystemExit(
            f"server did not start: {line} {proc.stderr.read() if proc.stderr else ''}"
        )
    return proc


def get(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=5) as reply:  # our own balancer on 127.0.0.1
        return reply.status, reply.read().decode()


async def until(check: Callable[[], bool], what: str) -> None:
    end = time.monotonic() + WAIT
    while not check():
        if time.monotonic() > end:
            raise SystemExit(f"timed out waiting for: {what}")
        await asyncio.sleep(0.02)


def stored_messages(db: Path, conversation: str) -> list[tuple[str, str]]:
    with sqlite3.connect(db) as con:
        rows = con.execute(
            "SELECT body FROM events WHERE conversation = ? AND type = 'Message' ORDER BY seq",
            (conversation,),
        ).fetchall()
    return [(json.loads(b)["from"]["type"], json.loads(b)["text"]) for (b,) in rows]


async def chat_through(lb: int, db: Path, servers: list[subprocess.Popen[str]], port_b: int) -> str:
    from chat_widget import WebSocketBackend
    from chat_widget.backends.websocket import ReconnectPolicy
    from chat_widget.classroom import Classroom
    from chat_widget.server import SQLiteStore

    base = f"https://127.0.0.1:{lb}/"
    for _ in range(100):  # the balancer may take a moment to find a healthy process
        try:
            if (await asyncio.to_thread(get, base + "healthz"))[0] == 200:
                break
        except OSError:
            pass
        await asyncio.sleep(0.1)
    status, page = await asyncio.to_thread(get, base)
    assert status == 200 and 'data-testid="customer-page"' in page, "the page through the balancer"

    _, token = SQLiteStore(db).add_agent("Alice")
    url = f"wss://127.0.0.1:{lb}/ws"
    policy = ReconnectPolicy(initial=0.05, maximum=0.5)
    backend = WebSocketBackend(url, token=token, reconnect=policy)
    room = Classroom(url, [QUESTION], trainees=1, origin=ORIGIN, class_id="lb")
    maria = room.wire[0]
    try:
        await room.start()
        session = await backend.next_offer(timeout=WAIT)
        session.accept()

        def texts() -> list[str]:
            return [e.text for e in session.transcript if e.kind == "message"]

        await until(lambda: "Hi, my bill is wrong" in texts(), "the customer's first message")
        servers[0].send_signal(signal.SIGKILL)  # the serving process dies mid-chat
        await asyncio.to_thread(servers[0].wait, 10)
        killed = time.monotonic()
        session.send("Let me check that.")  # nobody serves now: it waits in the outbox
        servers.append(await asyncio.to_thread(serve, db, port_b))
        ready = time.monotonic()
        await until(lambda: backend.connects >= 2 and backend.pending == 0, "the agent resumes")
        back = time.monotonic()
        await until(lambda: "Thanks, that helps" in texts(), "the customer resumes and answers")
        session.send("You're welcome.")
        if not await room.finished(timeout=WAIT):
            raise SystemExit("the scripted customer did not finish")
        await until(lambda: "Bye" in texts(), "the customer's goodbye")
        conversation = str(maria.conversation)
        stored = stored_messages(db, conversation)
        assert stored == EXPECTED, stored
        assert [t for _, t in EXPECTED] == texts(), texts()
        seen = [e["seq"] for e in maria.events]
        assert seen == sorted(set(seen)), "the customer saw an event twice"
        assert backend.duplicates == 0 and backend.errors == [], backend.errors
        assert maria.connects >= 2
        return (
            f"new process up {ready - killed:.2f} s after the kill, agent back through the "
            f"balancer {back - ready:.2f} s later; "
            f"customer connects {maria.connects}, agent connects {backend.connects}; "
            f"{len(stored)} messages stored once each"
        )
    finally:
        await room.stop()
        await backend.aclose()


async def check(name: str) -> str:
    with tempfile.TemporaryDirectory(prefix=f"cw-{name}-") as folder:
        tmp = Path(folder)
        cert, key, pem = self_signed(tmp)
        os.environ["SSL_CERT_FILE"] = str(cert)  # the clients trust our self-signed balancer
        ssl.create_default_context()  # fail here if the certificate cannot be read
        lb, ports = free_port(), [free_port() for _ in range(3)]
        argv = nginx(tmp, lb, ports, cert, key) if name == "nginx" else haproxy(tmp, lb, ports, pem)
        db = tmp / "chats.sqlite"
        servers = [await asyncio.to_thread(serve, db, ports[0])]
        balancer = subprocess.Popen(
            argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        try:
            return await chat_through(lb, db, servers, ports[1])
        except BaseException:
            balancer.terminate()
            balancer.wait(10)
            if balancer.stderr is not None:  # the balancer's own account of what went wrong
                print(balancer.stderr.read(), file=sys.stderr)
            if (tmp / "nginx-error.log").exists():
                print((tmp / "nginx-error.log").read_text(), file=sys.stderr)
            raise
        finally:
            if balancer.poll() is None:
                balancer.terminate()
                balancer.wait(10)
            for proc in servers:
                if proc.poll() is None:
                    proc.terminate()
                    proc.wait(10)


def main(names: list[str]) -> int:
    for name in names or ["nginx", "haproxy"]:
        if name not in ("nginx", "haproxy"):
            raise SystemExit(f"unknown balancer {name!r}: nginx or haproxy")
        print(f"{name}: {asyncio.run(check(name))}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
