"""The cycle worker: claims queued cycles from the database and runs them, one at a time, under a lease.

``harvest worker`` runs one in the foreground; ``harvest serve`` starts one in a thread beside the
HTTP server unless told not to (``--no-worker``), and any number may run against one database: the
database hands each cycle to exactly one (:mod:`api.jobs`). While a cycle runs, a heartbeat thread
renews its lease; a worker that is killed stops renewing, and once the lease expires another worker
takes the cycle over from the start (its snapshot and solve are redone; nothing of the lost attempt
was committed, since the commit is one transaction fenced by the lease).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import traceback
import uuid

from api import jobs, runner
from api.after_sales import AfterSalesConfig
from api.db import Database
from api.planning import PlanConfig
from api.runner import Compute
from api.settings import WorkerSettings
from harvestmatch.errors import HarvestError

log = logging.getLogger("harvestmatch.worker")


class Worker:
    """Claims and runs cycles until stopped.

    Parameters
    ----------
    db
        The service's database.
    settings
        How it holds and looks for cycles (:class:`~api.settings.WorkerSettings`; default: the
        defaults). The heartbeat renews the lease every third of ``lease_seconds``; ``wake()`` makes an
        idle worker look at once.
    plan
        How each cycle's routes are planned (:class:`api.planning.PlanConfig`; default: planned, with
        the default budget).
    after_sales
        How the scores forget, for the quality a cycle run with ``refund_adjust`` reads
        (:class:`api.after_sales.AfterSalesConfig`; default: the defaults).
    compute
        The function that computes a claimed cycle (default :func:`matcher.pipeline.compute_cycle`):
        a seam, so that a test can hold a cycle after its snapshot or make it fail.
    """

    def __init__(
        self,
        db: Database,
        *,
        settings: WorkerSettings | None = None,
        name: str | None = None,
        plan: PlanConfig | None = None,
        after_sales: AfterSalesConfig | None = None,
        compute: Compute | None = None,
    ) -> None:
        self.db = db
        self.settings = settings or WorkerSettings()
        self.plan = plan or PlanConfig()
        self.after_sales = after_sales or AfterSalesConfig()
        self.compute = compute
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._busy = threading.Lock()
        self._thread: threading.Thread | None = None

    def run_once(self) -> int | None:
        """Claim one cycle and run it to its end; its id, or None when there was nothing to claim."""
        with self._busy:
            held = jobs.claim(self.db, self.name, lease_seconds=self.settings.lease_seconds, max_attempts=self.settings.max_attempts)
            if held is None:
                return None
            log.info("cycle %s (%s), attempt %s: claimed by %s", held.cycle_id, held.date, held.attempt, self.name)
            beat = _Heartbeat(self.db, held, self.settings.lease_seconds)
            beat.start()
            try:
                summary = runner.run(self.db, held, self.plan, self.after_sales, compute=self.compute)
                log.info("cycle %s: done, welfare %.2f", held.cycle_id, summary.get("welfare", 0.0))
            except jobs.LeaseLost as exc:
                log.warning("%s; another worker has it", exc)
            except HarvestError as exc:
                log.info("cycle %s: failed: %s", held.cycle_id, exc)
                jobs.fail(self.db, held, runner.reason_for(exc), f"{type(exc).__name__}: {exc}")
            except Exception as exc:  # the cycle must end in a status, whatever happened
                log.exception("cycle %s: internal error", held.cycle_id)
                jobs.fail(
                    self.db,
                    held,
                    f"internal error ({type(exc).__name__}); the operator sees the details and the service log has them",
                    traceback.format_exc(limit=8),
                )
            finally:
                beat.stop()
            return held.cycle_id

    def serve(self) -> None:
        """Run cycles until :meth:`stop`; between them, wait for :meth:`wake` or the poll interval."""
        while not self._stop.is_set():
            try:
                ran = self.run_once()
            except Exception:  # the database went away for a moment: log it, wait, try again
                log.exception("worker %s: cannot claim a cycle", self.name)
                ran = None
            if ran is None:
                self._wake.wait(self.settings.poll_seconds)
                self._wake.clear()

    def start(self) -> threading.Thread:
        """Serve in a daemon thread (beside the HTTP server)."""
        self._thread = threading.Thread(target=self.serve, name=f"worker-{self.name}", daemon=True)
        self._thread.start()
        return self._thread

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float | None = None) -> bool:
        """Stop after the cycle in hand (if any); True when the thread has ended."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            return not self._thread.is_alive()
        return True

    def idle(self, timeout: float) -> bool:
        """Wait until no cycle is in hand; True if so within ``timeout`` seconds (for tests and shutdown)."""
        got = self._busy.acquire(timeout=timeout)
        if got:
            self._busy.release()
        return got


class _Heartbeat:
    """Renews a claim's lease every third of it, until stopped or the lease is lost."""

    def __init__(self, db: Database, held: jobs.Lease, lease_seconds: float) -> None:
        self.db, self.held, self.lease_seconds = db, held, lease_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"heartbeat-{held.cycle_id}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _beat(self) -> None:
        while not self._stop.wait(self.lease_seconds / 3):
            try:
                if not jobs.heartbeat(self.db, self.held, lease_seconds=self.lease_seconds):
                    # after the commit the cycle is no longer running: not a loss (the beat may come
                    # between the commit and stop())
                    if not self._stop.is_set() and not jobs.ended_here(self.db, self.held):
                        log.warning("cycle %s: lease lost", self.held.cycle_id)
                    return
            except Exception:  # a missed beat is not fatal; the lease is three beats long
                log.exception("cycle %s: heartbeat failed", self.held.cycle_id)
