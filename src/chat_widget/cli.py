"""``chat-widget``: run the live chat server and manage agent tokens.

    chat-widget serve [--host 127.0.0.1] [--port 8765] [--db chats.sqlite] [--origin URL ...]
                      [--store postgresql://USER@HOST:PORT/DB]  # instead of --db (issue 18)
                      [--bus redis://HOST:PORT/DB]  # with --store: several processes, one service
                      [--responses FILE]   # standard responses for agents (issue 16)
                      [--idle-alert S --idle-close S]  # customer idle timers (issue 16)
    chat-widget agents add NAME [--supervisor] [--nickname NICK] [--capacity N]
                      [--db chats.sqlite]  # prints the token once
    chat-widget agents list [--db chats.sqlite]
    chat-widget agents skills ID SKILL ... [--db chats.sqlite]   # queue routing (issue 6)
    chat-widget queues add ID NAME [--skill SKILL] [--db chats.sqlite]
    chat-widget externals add ID NAME PHONE [--organisation ORG] [--db chats.sqlite]
    chat-widget migrate --store postgresql://USER@HOST:PORT/DB  # schema up to date
    chat-widget class report CLASS [--db chats.sqlite | --store URL] [--html report.html]
    chat-widget class run SCENARIO... --trainees N [--url ws://127.0.0.1:8765/ws] [--class-id ID]
                      # --url ws://a/ws,ws://b/ws: several processes of one service

Every admin command takes ``--store postgresql://...`` instead of ``--db FILE``.
Tokens live in the database (table ``agents``, SHA-256 hashed): ``agents add``
prints a token once; give it to the agent, who passes it to
``WebSocketBackend(url, token=...)``.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Callable, Sequence
from typing import Any

from .formats.responses import ResponseLibraryError
from .server.config import ServerConfig
from .server.store import (
    DuplicateAgentError,
    ExternalRecord,
    NotRouter,
    QueueRecord,
    StoreInUse,
)
from .server.store_factory import admin_store, store_errors


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="chat-widget", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the live chat server")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8765)
    serve.add_argument("--db", default="chats.sqlite")
    _add_store(serve)
    serve.add_argument(
        "--bus",
        default=None,
        metavar="redis://HOST:PORT/DB",
        help="Redis for several server processes on one --store (issue 18): one routes, "
        "the others relay their connections to it",
    )
    serve.add_argument(
        "--origin",
        action="append",
        default=[],
        help="allowed Origin of the customer page (repeatable; default: this server's own)",
    )
    serve.add_argument(
        "--trusted-proxy",
        action="append",
        default=[],
        metavar="IP",
        help="a load balancer's address (repeatable): its X-Forwarded-For names the client, "
        "so per-address limits apply per customer, not to the whole site",
    )
    serve.add_argument(
        "--synchronous",
        default="FULL",
        choices=["FULL", "EXTRA", "NORMAL"],
        help="SQLite durability (FULL: acknowledged events survive power loss)",
    )
    serve.add_argument("--offer-timeout", type=float, default=20.0)
    serve.add_argument("--rate", type=float, default=20.0, help="frames per second per connection")
    serve.add_argument("--rate-burst", type=float, default=40.0)
    serve.add_argument(
        "--chat-rate",
        type=float,
        default=20.0,
        help="frames per second per chat (all its connections)",
    )
    serve.add_argument("--chat-rate-burst", type=float, default=40.0)
    serve.add_argument(
        "--address-chats", type=float, default=5.0, help="new chats per minute per client address"
    )
    serve.add_argument("--address-chat-burst", type=float, default=10.0)
    serve.add_argument(
        "--announce-monitoring",
        action="store_true",
        help="agents see that a supervisor monitors them silently (issue 14)",
    )
    serve.add_argument(
        "--agent-capacity",
        type=int,
        default=3,
        metavar="N",
        help="chats an agent holds at once unless `agents add --capacity` says otherwise",
    )
    serve.add_argument(
        "--responses",
        metavar="FILE",
        help="standard response library (YAML or JSON) agents get when they log in",
    )
    serve.add_argument(
        "--idle-alert",
        type=float,
        default=None,
        metavar="S",
        help="alert a customer silent for S seconds while the agent waits (issue 16)",
    )
    serve.add_argument(
        "--idle-close",
        type=float,
        default=None,
        metavar="S",
        help="close the chat S seconds after the idle alert (issue 16)",
    )
    serve.add_argument(
        "--auth-failures",
        type=int,
        default=5,
        metavar="N",
        help="failed logins from one address within a minute before it waits 30 s",
    )
    serve.add_argument(
        "--beat-timeout",
        type=float,
        default=3.0,
        metavar="S",
        help="with --bus: a process not heard from for S seconds loses its connections "
        "(it beats every S/3 seconds)",
    )
    serve.add_argument("--log-level", default="INFO")

    agents = sub.add_parser("agents", help="manage agent tokens")
    agents_sub = agents.add_subparsers(dest="agents_command", required=True)
    add = agents_sub.add_parser("add", help="create an agent and print its token")
    add.add_argument("name")
    add.add_argument("--db", default="chats.sqlite")
    _add_store(add)
    add.add_argument("--skill", action="append", default=[], help="skill for queue routing")
    add.add_argument("--nickname", help="the name customers see (default: NAME)")
    add.add_argument(
        "--capacity", type=int, help="chats at a time (default: the server's agent capacity)"
    )
    add.add_argument(
        "--supervisor",
        action="store_true",
        help="a supervisor: monitors, coaches and barges in on the team's chats (its "
        "skills, if any, choose the team); never offered chats",
    )
    lst = agents_sub.add_parser("list", help="list agents (tokens are never shown again)")
    lst.add_argument("--db", default="chats.sqlite")
    _add_store(lst)
    sk = agents_sub.add_parser("skills", help="set an agent's skills (queue transfers)")
    sk.add_argument("id")
    sk.add_argument("skills", nargs="*")
    sk.add_argument("--db", default="chats.sqlite")
    _add_store(sk)

    queues = sub.add_parser("queues", help="queues for transfers (F5)")
    queues_sub = queues.add_subparsers(dest="queues_command", required=True)
    qadd = queues_sub.add_parser("add", help="add or replace a queue")
    qadd.add_argument("id")
    qadd.add_argument("name")
    qadd.add_argument("--skill", default="", help="agents with this skill get it (default: any)")
    qadd.add_argument("--db", default="chats.sqlite")
    _add_store(qadd)

    externals = sub.add_parser("externals", help="external contacts (voice consultation, F7)")
    externals_sub = externals.add_subparsers(dest="externals_command", required=True)
    xadd = externals_sub.add_parser("add", help="add or replace an external contact")
    xadd.add_argument("id")
    xadd.add_argument("name")
    xadd.add_argument("phone")
    xadd.add_argument("--organisation", default="")
    xadd.add_argument("--db", default="chats.sqlite")
    _add_store(xadd)

    mig = sub.add_parser("migrate", help="bring a PostgreSQL store's schema up to date")
    mig.add_argument("--store", required=True, metavar="postgresql://USER@HOST:PORT/DB")

    classes = sub.add_parser("class", help="classroom runs: scripted customers, reports")
    class_sub = classes.add_subparsers(dest="class_command", required=True)
    _add_class_run(class_sub)
    _add_class_report(class_sub)
    return parser


def _add_store(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--store",
        default=None,
        metavar="postgresql://USER@HOST:PORT/DB",
        help="a PostgreSQL database instead of the SQLite file --db (issue 18)",
    )


def _migrate(url: str) -> int:
    """``chat-widget migrate``: apply the missing schema steps, say which."""
    from .server.pg_schema import LATEST
    from .server.store_factory import postgres_store

    applied = postgres_store(url).migrate()
    done = ", ".join(map(str, applied)) if applied else "none (up to date)"
    print(f"schema version {LATEST}; steps applied now: {done}", file=sys.stderr)
    return 0


def _add_class_report(class_sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    report = class_sub.add_parser("report", help="per-trainee report of a class run")
    report.add_argument("class_id", metavar="CLASS")
    report.add_argument("--db", default="chats.sqlite", help="the server database (read-only)")
    _add_store(report)
    report.add_argument("--html", default=None, help="also write the report as one HTML file")
    report.add_argument("--yellow-after", type=float, default=None, help="seconds (default 30)")
    report.add_argument("--red-after", type=float, default=None, help="seconds (default 60)")


def _class_report(args: argparse.Namespace) -> int:
    """Print the trainee table of a class run; write the HTML report if asked."""
    from .analysis.classroom import class_report
    from .model.reply_timer import Thresholds

    limits = None
    if args.yellow_after is not None or args.red_after is not None:
        default = Thresholds()
        limits = Thresholds(
            args.yellow_after if args.yellow_after is not None else default.yellow_after,
            args.red_after if args.red_after is not None else default.red_after,
        )
    try:
        report = class_report(args.store or args.db, args.class_id, thresholds=limits)
    except (LookupError, FileNotFoundError, ValueError) as exc:
        print(f"chat-widget: {exc.args[0] if exc.args else exc}", file=sys.stderr)
        return 1
    print(report.text())
    if args.html:
        print(f"wrote {report.to_html(args.html)}", file=sys.stderr)
    return 0


def _add_class_run(class_sub: Any) -> None:
    run = class_sub.add_parser(
        "run", help="scripted customers from scenario files chat with a class of trainees"
    )
    run.add_argument("scenarios", nargs="+", metavar="SCENARIO", help="built-in name or file")
    run.add_argument("--trainees", type=int, default=1, help="customers (cycling the scenarios)")
    run.add_argument(
        "--url",
        default="ws://127.0.0.1:8765/ws",
        help="the server's websocket; several processes of one service: comma-separated "
        "(each reconnect moves to the next)",
    )
    run.add_argument("--origin", default=None, help="Origin to send (default: the server's)")
    run.add_argument("--class-id", default=None, help="stored with every chat of the class")
    run.add_argument("--yellow", type=float, default=30.0, help="seconds until when_yellow")
    run.add_argument("--red", type=float, default=60.0, help="seconds until when_red")
    run.add_argument("--timeout", type=float, default=3600.0, help="stop the class after this")


async def _class_run(args: argparse.Namespace) -> int:
    """Run a class until every customer is through (or the timeout, or Ctrl-C), then stop."""
    from .classroom import Classroom
    from .model.reply_timer import Thresholds

    room = Classroom(
        [u.strip() for u in args.url.split(",") if u.strip()],
        args.scenarios,
        trainees=args.trainees,
        thresholds=Thresholds(args.yellow, args.red),
        origin=args.origin,
        class_id=args.class_id,
    )
    await _reachable(room.urls, args.origin)
    where = ", ".join(room.urls)
    print(f"class {room.class_id}: {len(room.wire)} customers on {where}", flush=True)
    await room.start()
    try:
        done = await room.finished(timeout=args.timeout)
    finally:
        await room.stop()
    for c in room.customers:
        print(f"{c.name}\t{c.scenario}\t{c.status}\t{c.conversation or '-'}")
    timing = room.timing()
    print(
        f"class {room.class_id}: {'through' if done else 'stopped'}; "
        f"{timing['actions']:.0f} scripted actions, lateness p50 {timing['p50_ms']:.1f} ms, "
        f"p99 {timing['p99_ms']:.1f} ms",
        flush=True,
    )
    return 0


async def _reachable(urls: Sequence[str], origin: str | None) -> None:
    """Fail now, not per customer: a server is there and takes our Origin (raises the
    first failure if none is). With several, the others are only reported: a process
    of the service may be restarting, and the customers move on to the next."""
    from websockets.asyncio.client import connect
    from websockets.exceptions import InvalidHandshake
    from websockets.typing import Origin

    from .classroom.wire_customer import origin_for

    failed: list[tuple[str, Exception]] = []
    for url in urls:
        try:
            async with connect(url, origin=Origin(origin or origin_for(url)), open_timeout=10):
                pass
        except (OSError, TimeoutError, InvalidHandshake) as exc:
            failed.append((url, exc))
    if len(failed) == len(urls):
        raise failed[0][1]
    for url, error in failed:
        print(f"chat-widget: {url} does not answer ({error}); using the others", file=sys.stderr)


def event_loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop where it is installed (Linux, macOS): the server's sockets and timers
    cost a fraction of the standard loop's; None: asyncio's own loop."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "serve":
        from .server.app import run_server

        logging.basicConfig(
            level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
        )
        if args.bus is not None and args.store is None:
            print(
                "chat-widget: --bus needs --store postgresql://... : a SQLite file (--db) "
                "is served by one process only",
                file=sys.stderr,
            )
            return 2
        try:
            config = ServerConfig(
                host=args.host,
                port=args.port,
                db=args.db,
                store=args.store,
                bus=args.bus,
                origins=tuple(args.origin),
                trusted_proxies=tuple(args.trusted_proxy),
                synchronous=args.synchronous,
                offer_timeout=args.offer_timeout,
                rate_per_second=args.rate,
                rate_burst=args.rate_burst,
                chat_rate_per_second=args.chat_rate,
                chat_rate_burst=args.chat_rate_burst,
                address_chats_per_minute=args.address_chats,
                address_chat_burst=args.address_chat_burst,
                announce_monitoring=args.announce_monitoring,
                responses=args.responses,
                agent_capacity=args.agent_capacity,
                idle_alert_after=args.idle_alert,
                idle_close_after=args.idle_close,
                auth_failure_limit=args.auth_failures,
                beat_timeout=args.beat_timeout,
                beat_interval=args.beat_timeout / 3,
            )
        except ValueError as exc:  # settings that do not fit together
            print(f"chat-widget: {exc}", file=sys.stderr)
            return 2
        refused: tuple[type[BaseException], ...] = (
            ResponseLibraryError,
            StoreInUse,
            NotRouter,
            *store_errors(),
        )
        if args.store and not args.store.startswith(("postgresql://", "postgres://")):
            print(
                f"chat-widget: --store takes a postgresql:// URL, got {args.store!r}",
                file=sys.stderr,
            )
            return 2
        try:
            with asyncio.Runner(loop_factory=event_loop_factory()) as runner:
                runner.run(run_server(config))
        except refused as exc:
            # a bad --responses file, another server on this database, a store that
            # cannot be reached: say so, do not start
            print(f"chat-widget: {exc}", file=sys.stderr)
            return 1
        return 0
    if args.command == "class" and args.class_command == "report":
        return _class_report(args)
    if args.command == "class" and args.class_command == "run":
        from websockets.exceptions import InvalidHandshake

        try:
            with asyncio.Runner(loop_factory=event_loop_factory()) as runner:
                return runner.run(_class_run(args))
        except (ValueError, OSError, InvalidHandshake) as exc:  # bad scenario, no server
            print(f"chat-widget: {exc}", file=sys.stderr)
            return 1
    failed: tuple[type[BaseException], ...] = (ValueError, RuntimeError, *store_errors())
    try:
        if args.command == "migrate":
            return _migrate(args.store)
        return _admin(args)
    except failed as exc:  # a bad URL, no driver, ...
        print(f"chat-widget: {exc}", file=sys.stderr)
        return 1


def _admin(args: argparse.Namespace) -> int:
    """``agents``, ``queues`` and ``externals``: short writes to ``--db`` or ``--store``."""
    store = admin_store(args.db, args.store)
    where = "the PostgreSQL store" if args.store else args.db
    if args.command == "queues":
        store.add_queue(QueueRecord(args.id, args.name, args.skill))
        return 0
    if args.command == "externals":
        store.add_external(ExternalRecord(args.id, args.name, args.phone, args.organisation))
        return 0
    if args.agents_command == "skills":
        store.set_skills(args.id, tuple(args.skills))
        return 0
    if args.agents_command == "add":
        try:
            record, token = store.add_agent(
                args.name, args.supervisor, nickname=args.nickname, capacity=args.capacity
            )
        except (DuplicateAgentError, ValueError) as exc:
            print(f"chat-widget: {exc}", file=sys.stderr)
            return 1
        if args.skill:
            store.set_skills(record.id, tuple(args.skill))
        print(token)
        print(
            f"{record.role} {record.id!r} ({record.name}) added to {where}; "
            "the token is shown only now",
            file=sys.stderr,
        )
        return 0

    async def listed() -> list[Any]:
        try:
            return list(await store.list_agents())
        finally:
            await store.close()

    for agent in asyncio.run(listed()):
        print(f"{agent.id}\t{agent.name}\t{agent.role}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
