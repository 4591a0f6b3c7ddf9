"""The service's commands: ``harvest serve``, ``worker``, ``keys``, ``db``."""

from __future__ import annotations

import argparse
import sys

from api.db import ROLES


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Add the service's subcommands to the ``harvest`` command."""
    k = sub.add_parser("keys", help="manage API keys of the HTTP service")
    ksub = k.add_subparsers(dest="keys_command", required=True)
    kc = ksub.add_parser("create", help="create a key and print it (only its hash is stored)")
    kc.add_argument("--role", required=True, choices=ROLES)
    kc.add_argument("--cooperative", help="the cooperative a cooperative key is bound to")
    kc.add_argument("--label", help="a note to recognise the key by")
    kc.set_defaults(run=_run_keys_create)

    b = sub.add_parser("db", help="the service's database")
    bsub = b.add_subparsers(dest="db_command", required=True)
    bu = bsub.add_parser("upgrade", help="migrate the database (HARVEST_DATABASE_URL, else the SQLite default) to the newest schema")
    bu.set_defaults(run=_run_db_upgrade)

    s = sub.add_parser("serve", help="run the HTTP service with a production WSGI server (waitress)")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8080)
    s.add_argument("--threads", type=int, default=8)
    s.set_defaults(run=_run_serve)


def _run_keys_create(args: argparse.Namespace) -> int:
    from api import create_app
    from api.db import create_key

    app = create_app()
    try:
        key = create_key(app.extensions["harvest_db"], args.role, cooperative_id=args.cooperative, label=args.label)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(key)
    return 0


def _run_db_upgrade(args: argparse.Namespace) -> int:
    from api import create_app
    from api.migrate import upgrade

    app = create_app({"AUTO_MIGRATE": False})
    db = app.extensions["harvest_db"]
    upgrade(db)
    print(f"database at the newest schema: {db.engine.url.render_as_string(hide_password=True)}")
    return 0


def _run_serve(args: argparse.Namespace) -> int:
    import waitress

    from api import create_app

    waitress.serve(create_app(), host=args.host, port=args.port, threads=args.threads)
    return 0
