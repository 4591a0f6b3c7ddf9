"""The service's commands: ``harvest serve``, ``worker``, ``keys``, ``db``.

Each opens the database of ``HARVEST_DATABASE_URL`` (else the SQLite file in the data directory) and
reads the cycle parameters and the route planning settings (its ``[plan]`` table) from the TOML file
``HARVEST_CONFIG`` when it is set.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import signal
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from api.roles import ROLES
from api.settings import WorkerSettings
from harvestmatch.settings import add_options, from_options

if TYPE_CHECKING:
    from flask import Flask

    from api.db import Database


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Add the service's subcommands to the ``harvest`` command."""
    k = sub.add_parser("keys", help="manage API keys of the HTTP service")
    ksub = k.add_subparsers(dest="keys_command", required=True)
    kc = ksub.add_parser("create", help="create a key and print it (only its hash is stored)")
    kc.add_argument("--role", required=True, choices=ROLES)
    kc.add_argument("--cooperative", help="the cooperative a cooperative key speaks for")
    kc.add_argument("--buyer", help="the buyer a buyer key speaks for (a new key for the same buyer sees the same orders)")
    kc.add_argument("--label", help="a note to recognise the key by")
    kc.set_defaults(run=_run_keys_create)
    kl = ksub.add_parser("list", help="list keys: id, role, owner, label, created, revoked (never the keys themselves)")
    kl.set_defaults(run=_run_keys_list)
    kr = ksub.add_parser("revoke", help="revoke a key by its id (from 'harvest keys list'); it answers 401 from then on")
    kr.add_argument("id", type=int)
    kr.set_defaults(run=_run_keys_revoke)

    b = sub.add_parser("db", help="the service's database")
    bsub = b.add_subparsers(dest="db_command", required=True)
    bu = bsub.add_parser("upgrade", help="migrate the database (HARVEST_DATABASE_URL, else the SQLite default) to the newest schema")
    bu.set_defaults(run=_run_db_upgrade)

    s = sub.add_parser("serve", help="run the HTTP service with a production WSGI server (waitress) and a cycle worker")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8080)
    s.add_argument("--threads", type=int, default=8)
    s.add_argument("--no-worker", dest="worker", action="store_false", help="do not run cycles in this process (run 'harvest worker' elsewhere)")
    s.set_defaults(run=_run_serve)

    w = sub.add_parser("worker", help="run queued cycles from the database until stopped (SIGTERM or Ctrl-C)")
    add_options(w, WorkerSettings)
    w.add_argument("--once", action="store_true", help="run at most one cycle, then exit")
    w.set_defaults(run=_run_worker)


@contextlib.contextmanager
def _service(**config: Any) -> Iterator[Flask]:
    """The configured service without a worker: its database (migrated unless told not to) and settings,
    the database's connections closed afterwards."""
    from api import create_app

    app = create_app(config or None)
    try:
        yield app
    finally:
        app.extensions["harvest_db"].engine.dispose()


@contextlib.contextmanager
def _database(**config: Any) -> Iterator[Database]:
    """The configured database (migrated unless told not to), its connections closed afterwards."""
    with _service(**config) as app:
        yield app.extensions["harvest_db"]


def _run_keys_create(args: argparse.Namespace) -> int:
    from api.db import create_key

    try:
        with _database() as db:
            key = create_key(db, args.role, cooperative_id=args.cooperative, buyer_id=args.buyer, label=args.label)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(key)
    return 0


def _run_keys_list(args: argparse.Namespace) -> int:
    from api.db import list_keys
    from api.requests import iso

    rows = [("id", "role", "owner", "label", "created", "revoked")]
    with _database() as db:
        keys = list_keys(db)
    for k in keys:
        rows.append((str(k.id), k.role, k.owner or "-", k.label or "-", iso(k.created_at), iso(k.revoked_at) if k.revoked_at else "-"))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip())
    return 0


def _run_keys_revoke(args: argparse.Namespace) -> int:
    from api.db import revoke_key

    with _database() as db:
        revoked = revoke_key(db, args.id)
    if not revoked:
        print(f"error: no key {args.id}, or it was already revoked", file=sys.stderr)
        return 2
    print(f"key {args.id} revoked")
    return 0


def _run_db_upgrade(args: argparse.Namespace) -> int:
    from api.migrate import upgrade

    with _database(AUTO_MIGRATE=False) as db:
        upgrade(db)
        print(f"database at the newest schema: {db.engine.url.render_as_string(hide_password=True)}")
    return 0


def _run_serve(args: argparse.Namespace) -> int:
    import waitress

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from api import create_app

    app = create_app({"WORKER": args.worker})

    def stop(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt  # waitress stops serving; the worker then finishes the cycle in hand

    signal.signal(signal.SIGTERM, stop)
    try:
        waitress.serve(app, host=args.host, port=args.port, threads=args.threads)  # returns on SIGTERM or Ctrl-C
    finally:
        worker = app.extensions.get("harvest_worker")
        if worker is not None:
            logging.getLogger("harvestmatch").info("stopping: the cycle in hand (if any) is finished first")
            worker.stop(timeout=None)
    return 0


def _run_worker(args: argparse.Namespace) -> int:
    from api.worker import Worker

    settings = from_options(args, WorkerSettings)  # a bad option stops here, before any database is touched
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    with _service() as app:
        worker = Worker(
            app.extensions["harvest_db"],
            settings=settings,
            plan=app.extensions["harvest_plan"],
            after_sales=app.extensions["harvest_after_sales"],
        )
        if args.once:
            worker.run_once()
            return 0
        _serve_until_signalled(worker)
    return 0


def _serve_until_signalled(worker: Any) -> None:

    def stop(signum: int, _frame: object) -> None:
        logging.getLogger("harvestmatch.worker").info("signal %s: stopping after the cycle in hand", signum)
        worker.stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    logging.getLogger("harvestmatch.worker").info("worker %s waiting for cycles", worker.name)
    worker.serve()
