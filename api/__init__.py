"""The thin HTTP layer over the matching core: ``create_app(test_config=None)``."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask

#: request bodies larger than this are refused with 413 (region files have their own limit)
MAX_BODY_BYTES = 16 * 2**20
#: region files (GeoJSON, GeoPackage) may be this large; they are streamed to disk, not held in memory
MAX_REGIONS_BYTES = 512 * 2**20


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app: configuration, database, blueprints, error handlers, and (if asked) a worker.

    Configuration (``test_config`` overrides each):

    - ``DATABASE_URL``: ``HARVEST_DATABASE_URL``, else a SQLite file in the data directory
      (``HARVEST_DATA_DIR``, else ``~/.local/share/harvestmatch``).
    - ``AUTO_MIGRATE``: migrate the schema to the newest revision on start, unless
      ``HARVEST_AUTO_MIGRATE=0`` (then run ``harvest db upgrade`` first).
    - ``CYCLE_PARAMS``: the cycle parameters every cycle starts from (those of ``harvest match``), from
      the TOML file ``HARVEST_CONFIG`` when set (top-level keys or a ``[match]`` table, and the safety
      net's ``[safety_net]`` table); a ``POST /cycles`` may override them.
    - ``PLAN_ROUTES``, ``PLAN_ITERATIONS``, ``PLAN_SECONDS``, ``PLAN_WORKERS``, ``PLAN_SPEED_KMH``: how
      workers plan each cycle's routes (:mod:`api.planning`), from the ``[plan]`` table of
      ``HARVEST_CONFIG`` (keys ``routes``, ``iterations``, ``seconds``, ``budget``, ``workers``, ``speed_kmh``).
    - ``AFTER_SALES_CLAIM_WINDOW_DAYS``, ``AFTER_SALES_INSTANT_CREDIT``, ``AFTER_SALES_INSTANT_CAP``,
      ``AFTER_SALES_FORGETTING``, ``AFTER_SALES_MAX_INSTANT_REJECTIONS``: claims and scores
      (:mod:`api.after_sales`), from the ``[after_sales]`` table of ``HARVEST_CONFIG``.
    - ``DFC_GRADE``, ``DFC_SHELF_LIFE_DAYS``, ``DFC_CURRENCY``: what imported DFC offers get that DFC does
      not say (:mod:`api.dfc_settings`), from the ``[dfc]`` table of ``HARVEST_CONFIG``.
    - ``WORKER``: start a cycle worker in a thread beside the app (``harvest serve`` does, unless
      ``--no-worker``); ``WORKER_LEASE_SECONDS``, ``WORKER_POLL_SECONDS`` tune it; ``CYCLE_COMPUTE``
      replaces its computation (:class:`api.worker.Worker`'s ``compute``: the tests' seam).
    - ``CYCLE_DATE_WINDOW_DAYS``: a cycle dated further than this from today needs
      ``"confirm_far_date": true`` (default 7).
    """
    # imported here, not at the top: the `harvest` command imports this package for its subcommands,
    # and `harvest match` must not pay for Flask and SQLAlchemy
    from flask import Flask

    from api import errors
    from api.after_sales import AfterSalesConfig
    from api.db import Database, default_url
    from api.dfc_settings import DfcConfig
    from api.planning import PlanConfig, config_of
    from api.settings import CycleDates, WorkerSettings
    from matcher.io import read_toml

    path = os.environ.get("HARVEST_CONFIG")
    document = read_toml(path) if path else {}  # read once: the cycle's parameters, [plan], [after_sales]
    params, plan = config_of(document, path or "HARVEST_CONFIG")
    after_sales = AfterSalesConfig.from_table(AfterSalesConfig.table(document, path or "HARVEST_CONFIG"), path or "HARVEST_CONFIG")
    dfc_config = DfcConfig.from_table(DfcConfig.table(document, path or "HARVEST_CONFIG"), path or "HARVEST_CONFIG")
    app = Flask(__name__)
    app.config.from_mapping(
        DATABASE_URL=default_url(),
        MAX_CONTENT_LENGTH=MAX_BODY_BYTES,
        MAX_REGIONS_BYTES=MAX_REGIONS_BYTES,
        AUTO_MIGRATE=os.environ.get("HARVEST_AUTO_MIGRATE", "1") != "0",
        CYCLE_PARAMS=params,
        **plan.app_config(),
        **after_sales.app_config(),
        **dfc_config.app_config(),
        CYCLE_DATE_WINDOW_DAYS=CycleDates.window_days,
        WORKER=False,
        WORKER_LEASE_SECONDS=WorkerSettings.lease_seconds,
        WORKER_POLL_SECONDS=WorkerSettings.poll_seconds,
    )
    if test_config:
        app.config.from_mapping(test_config)
    plan = PlanConfig.from_app_config(app.config)  # checked here: a bad setting stops the start, not a cycle
    CycleDates(app.config["CYCLE_DATE_WINDOW_DAYS"])  # likewise
    app.extensions["harvest_plan"] = plan
    app.extensions["harvest_after_sales"] = AfterSalesConfig.from_app_config(app.config)  # likewise
    app.extensions["harvest_dfc"] = DfcConfig.from_app_config(app.config)  # likewise
    db = Database(app.config["DATABASE_URL"])
    if app.config["AUTO_MIGRATE"]:
        from api.migrate import upgrade

        upgrade(db)
    app.extensions["harvest_db"] = db

    from api import claims, cooperatives, crossdocks, cycles, dfc, fleets, health, offers, openapi, orders, plans, products, regions_api, scores, settlement

    for blueprint in (
        health.bp,
        openapi.bp,
        offers.bp,
        orders.bp,
        products.bp,
        regions_api.bp,
        fleets.bp,
        crossdocks.bp,
        cycles.bp,
        plans.bp,
        cooperatives.bp,
        claims.bp,
        scores.bp,
        settlement.bp,
        dfc.bp,
    ):
        app.register_blueprint(blueprint)
    errors.register(app)
    from api.pages import init_app as pages

    pages(app)  # after the API's blueprints: they are exempt from the pages' CSRF check
    if app.config["WORKER"]:
        from api.worker import Worker

        worker = Worker(
            db,
            settings=WorkerSettings(lease_seconds=app.config["WORKER_LEASE_SECONDS"], poll_seconds=app.config["WORKER_POLL_SECONDS"]),
            plan=plan,
            after_sales=app.extensions["harvest_after_sales"],
            compute=app.config.get("CYCLE_COMPUTE"),
        )
        worker.start()
        app.extensions["harvest_worker"] = worker
    return app
