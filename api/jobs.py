"""Cycles as durable jobs in the database: queue, claim, lease, heartbeat, take over, finish or fail.

The states, and who moves a cycle between them::

    queued --claim--> running --commit--> done
                         |  \\--error--> failed (reason for everyone, detail for operators)
                         \\--lease expired--> running again under a new worker (attempt + 1),
                                              or failed once ``max_attempts`` workers were lost

A running cycle's ``stage`` says what its worker is doing: ``matching`` (from the claim: the snapshot
and the solve), ``planning`` (the routes), ``writing`` (the commit); it is NULL once the cycle ends.

The database holds every invariant: ``cycles.active`` is unique (one queued or running cycle at a
time: cycles share offers, so they never run side by side), ``(date, current)`` is unique (one current
result per date). A claim locks the row it takes (``FOR UPDATE SKIP LOCKED`` on PostgreSQL; on SQLite
the immediate transaction holds the database's write lock). Every write a worker makes is fenced by
``(id, attempt, lease_owner)``: a worker that lost its lease, however slow, can no longer commit.
Times are UTC from the workers' clocks; keep the hosts of one deployment in sync (NTP).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Any, Literal

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.db import Database
from api.errors import ApiError
from api.models import Cycle
from api.settings import WorkerSettings
from harvestmatch.errors import HarvestError
from matcher.params import MatchParams

log = logging.getLogger("harvestmatch.worker")

#: what a running cycle is doing: snapshot and solve, route planning, committing the results
Stage = Literal["matching", "planning", "writing"]

#: a running cycle whose worker has not renewed its lease for this long is taken over
LEASE_SECONDS = WorkerSettings.lease_seconds
#: workers lost on one cycle before it is marked failed instead of taken over again
MAX_ATTEMPTS = WorkerSettings.max_attempts


class LeaseLost(HarvestError):
    """This worker no longer holds the cycle (its lease expired and another took it, or it ended)."""


@dataclass(frozen=True)
class Lease:
    """A cycle held by one worker, under one attempt number."""

    cycle_id: int
    attempt: int
    owner: str
    date: dt.date
    rerun: bool
    params: MatchParams

    def fence(self) -> tuple[Any, ...]:
        """The condition every write of this worker carries."""
        return (Cycle.id == self.cycle_id, Cycle.attempt == self.attempt, Cycle.lease_owner == self.owner, Cycle.status == "running")


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def enqueue(db: Database, date: dt.date, *, rerun: bool, params: MatchParams, answered: Callable[[Session, Cycle], None] | None = None) -> int:
    """Queue a cycle for ``date``; its id. ``answered(session, cycle)`` runs in the same transaction (to
    store the answer of an idempotent request with the cycle, or neither).

    Raises
    ------
    ApiError
        409 when another cycle is queued or running, or when the date has a current result and
        ``rerun`` is false.
    """
    try:
        with db.write() as session:
            if not rerun:
                _refuse_if_done(session, date)
            cycle = Cycle(date=date, status="queued", rerun=rerun, params=json.dumps(asdict(params)), active=1, attempt=0)
            session.add(cycle)
            session.flush()
            if answered is not None:
                answered(session, cycle)
            return cycle.id
    except IntegrityError:
        # the unique ``active`` slot is taken: exactly one of several concurrent requests gets it
        with db.session() as session:
            busy = session.scalars(select(Cycle).where(Cycle.active == 1)).first()
        what = f"cycle {busy.id} for {busy.date} is {busy.status}" if busy else "another cycle was queued at the same moment"
        raise ApiError(409, "Conflict", f"{what}; one cycle runs at a time, wait for it") from None


def claim(db: Database, owner: str, *, lease_seconds: float = LEASE_SECONDS, max_attempts: int = MAX_ATTEMPTS) -> Lease | None:
    """Take the queued cycle, or a running one whose worker stopped renewing its lease; None if none.

    A cycle whose lease expired after ``max_attempts`` workers is marked failed instead: something in
    it (its size, a bug) keeps killing workers, and an operator should look.
    """
    t = now()
    with db.session() as session:  # an idle poll reads; only a claim takes the write lock
        waiting = session.scalars(select(Cycle.id).where(Cycle.active == 1)).first()
    if waiting is None:
        return None
    with db.write() as session:
        cycle = session.scalars(select(Cycle).where(Cycle.active == 1).with_for_update(skip_locked=True)).first()
        if cycle is None or (cycle.status == "running" and cycle.lease_until is not None and _aware(cycle.lease_until) > t):
            return None
        if cycle.status == "running" and cycle.attempt >= max_attempts:
            cycle.status, cycle.active, cycle.stage, cycle.finished_at = "failed", None, None, t
            cycle.reason = (
                f"the worker running this cycle stopped {cycle.attempt} times (its lease expired each time); nothing of it was committed; run the date again"
            )
            cycle.detail = f"last worker: {cycle.lease_owner}"
            return None
        taken_over, lost = cycle.status == "running", cycle.lease_owner
        cycle.status, cycle.stage, cycle.lease_owner, cycle.lease_until = "running", "matching", owner, t + dt.timedelta(seconds=lease_seconds)
        cycle.attempt += 1
        cycle.started_at, cycle.snapshot_at = t, None
        if taken_over:
            cycle.detail = f"attempt {cycle.attempt}: taken over from {lost} after its lease expired"
        try:
            params = MatchParams.from_mapping(json.loads(cycle.params)) if cycle.params else MatchParams()
        except (HarvestError, ValueError, TypeError) as exc:
            # parameters this version cannot read (a renamed one after an upgrade): the cycle fails,
            # rather than holding the only active slot for ever
            cycle.status, cycle.active, cycle.stage, cycle.finished_at = "failed", None, None, t
            cycle.reason = f"its parameters cannot be read: {exc}"
            return None
        return Lease(cycle.id, cycle.attempt, owner, cycle.date, cycle.rerun, params)


def heartbeat(db: Database, held: Lease, *, lease_seconds: float = LEASE_SECONDS) -> bool:
    """Renew the lease; False when it was lost (the cycle is another worker's, or ended)."""
    with db.write() as session:
        done = session.execute(update(Cycle).where(*held.fence()).values(lease_until=now() + dt.timedelta(seconds=lease_seconds)))
        return bool(done.rowcount)  # type: ignore[attr-defined]


def ended_here(db: Database, held: Lease) -> bool:
    """Whether the held cycle ended (done or failed) under this worker's own attempt: a renewal that
    finds it so came after the worker's last commit, and lost nothing."""
    with db.session() as session:
        row = session.execute(select(Cycle.status, Cycle.attempt, Cycle.lease_owner).where(Cycle.id == held.cycle_id)).one_or_none()
    return row is not None and row.status in ("done", "failed") and row.attempt == held.attempt and row.lease_owner == held.owner


def fail(db: Database, held: Lease, reason: str, detail: str | None = None) -> bool:
    """Mark the held cycle failed with its reason; False when the lease was already lost."""
    with db.write() as session:
        done = session.execute(
            update(Cycle).where(*held.fence()).values(status="failed", active=None, stage=None, reason=reason[:4000], detail=detail, finished_at=now())
        )
        return bool(done.rowcount)  # type: ignore[attr-defined]


def set_stage(db: Database, held: Lease, stage: Stage) -> None:
    """Say what the held cycle is doing now (fenced like every write of the worker).

    Raises
    ------
    LeaseLost
        The cycle is no longer this worker's.
    """
    with db.write() as session:
        done = session.execute(update(Cycle).where(*held.fence()).values(stage=stage))
        if not done.rowcount:  # type: ignore[attr-defined]
            raise LeaseLost(f"cycle {held.cycle_id}: the lease of attempt {held.attempt} was lost before the {stage} stage")


class ProgressToCycle(logging.Handler):
    """Keeps the held cycle's progress (the numbers of :class:`matcher.fanout.ProgressLog` lines logged
    by the thread that runs the cycle) in its row, fenced like every write of the worker. The lines come
    at most every few seconds, so this is a few small writes per cycle. A write that fails (a lease
    lost, a database hiccup) is left to the cycle's own fenced writes to notice."""

    def __init__(self, db: Database, held: Lease) -> None:
        super().__init__(logging.INFO)
        self.db, self.held = db, held
        self.thread = threading.get_ident()

    def emit(self, record: logging.LogRecord) -> None:
        numbers = getattr(record, "progress", None)
        if numbers is None or record.thread != self.thread:
            return
        try:
            with self.db.write() as session:
                session.execute(update(Cycle).where(*self.held.fence()).values(progress=json.dumps(numbers)))
        except Exception:  # noqa: BLE001 - progress is a courtesy; the cycle's fenced writes decide
            log.debug("cycle %s: progress not stored", self.held.cycle_id, exc_info=True)


@contextmanager
def reporting_progress(db: Database, held: Lease) -> Iterator[None]:
    """While the block runs, the cycle's row follows its fan-out's progress (``cycles.progress``)."""
    logger = logging.getLogger("harvestmatch.progress")
    handler = ProgressToCycle(db, held)
    level = logger.level
    logger.addHandler(handler)
    if logger.getEffectiveLevel() > logging.INFO:
        logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def hold(session: Session, held: Lease) -> None:
    """First in the results' transaction: lock the cycle's row and check the lease is still ours.

    Raises
    ------
    LeaseLost
        The cycle is no longer this worker's; nothing has been written.
    """
    renewed = session.execute(update(Cycle).where(*held.fence()).values(lease_until=now() + dt.timedelta(seconds=LEASE_SECONDS)))
    if not renewed.rowcount:  # type: ignore[attr-defined]
        raise LeaseLost(f"cycle {held.cycle_id}: the lease of attempt {held.attempt} was lost before the commit")


def finish(session: Session, held: Lease, summary: dict[str, Any], previous_id: int | None) -> None:
    """Inside the results' transaction: supersede the date's previous result and mark this one done.

    Raises
    ------
    LeaseLost
        The cycle is no longer this worker's; the caller's transaction must roll back.
    """
    if previous_id is not None:
        session.execute(update(Cycle).where(Cycle.id == previous_id).values(current=None, superseded_by=held.cycle_id))
    done = session.execute(
        update(Cycle)
        .where(*held.fence())
        .values(status="done", active=None, stage=None, current=1, finished_at=now(), summary=json.dumps(summary, default=str))
    )
    if not done.rowcount:  # type: ignore[attr-defined]
        raise LeaseLost(f"cycle {held.cycle_id}: the lease of attempt {held.attempt} was lost before the commit")


def refuse_while_running(session: Session, what: str) -> None:
    """409 while a cycle that has taken its snapshot is running: it may be selling or filling ``what``.

    Called under the snapshot lock, so a snapshot is either before the caller's change or after it.
    """
    running = session.scalars(select(Cycle).where(Cycle.status == "running", Cycle.snapshot_at.is_not(None))).first()
    if running is not None:
        raise ApiError(
            409,
            "Conflict",
            f"cycle {running.id} ({running.date}) is running and may be matching {what}; try again when it has ended",
        )


def current_cycle(session: Session, date: dt.date, *, other_than: int | None = None) -> Cycle | None:
    query = select(Cycle).where(Cycle.date == date, Cycle.current == 1)
    if other_than is not None:
        query = query.where(Cycle.id != other_than)
    return session.scalars(query).first()


def _refuse_if_done(session: Session, date: dt.date) -> None:
    done = current_cycle(session, date)
    if done is not None:
        raise ApiError(409, "Conflict", f"{date} already has cycle {done.id}; send 'rerun': true to run it again")


def _aware(ts: dt.datetime) -> dt.datetime:
    """SQLite hands timestamps back without their zone; they are UTC."""
    return ts if ts.tzinfo else ts.replace(tzinfo=dt.UTC)
