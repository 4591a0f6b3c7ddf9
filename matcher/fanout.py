"""A day's problems are independent: run them in this process, on a local pool, or on a Dask cluster.

One seam for every fan-out (products, routing problems): an :class:`Executor` maps a function over
problems and returns the results in the order of the problems, so the output does not depend on the
executor, the number of workers or which finishes first.

- ``local`` (the default): a pool of worker processes started with ``spawn`` (a forked copy of a
  process that has run polars or OR-Tools threads can deadlock), or this process alone for one worker.
  A worker pays about two seconds before its first product (imports, and loading the compiled kernels
  from numba's cache): :func:`open_executor` starts the workers and warms them up while the caller still
  prepares the day.
- ``dask``: the workers of a Dask cluster (``dask scheduler`` / ``dask worker``, or any deployment of
  them), reached at a scheduler address (``--scheduler`` or ``HARVEST_DASK_SCHEDULER``). Each problem is
  one task carrying only its own compact columns; the shared options go to the workers once. A worker
  lost mid-day has its tasks run again elsewhere (Dask's retry); a scheduler that cannot be reached, or
  a cluster without workers for :data:`NO_WORKER_GRACE_SECONDS`, ends the day with
  :class:`~harvestmatch.errors.ExecutionError` and nothing written. Needs the ``dask`` extra.

Both report progress (problems done of the total) to an optional callback.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, TypeVar

from harvestmatch.errors import ExecutionError, ParameterError
from matcher.params import EXECUTORS, SCHEDULER_ENV
from matcher.product import ProductProblem, ProductSolution, SolveOptions
from matcher.solve import solve_product

if TYPE_CHECKING:
    import polars as pl

P = TypeVar("P")
Opts = TypeVar("Opts")
R = TypeVar("R")


#: how long a Dask cluster may have no worker at all before the day fails
NO_WORKER_GRACE_SECONDS = 30.0

#: how often a Dask day's futures are looked at (progress, failures, workers left)
POLL_SECONDS = 0.2

#: how long connecting to a Dask scheduler may take
CONNECT_TIMEOUT_SECONDS = 15.0

#: ``progress(done, total)`` after each problem (or batch of problems) finishes
Progress = Callable[[int, int], None]

#: progress lines go to this logger (the ``harvest`` command shows them on a terminal; the service's
#: worker logs them), at most every :data:`PROGRESS_EVERY_SECONDS` and once at the end
PROGRESS_LOG = logging.getLogger("harvestmatch.progress")
PROGRESS_EVERY_SECONDS = 5.0


class ProgressLog:
    """A :data:`Progress` that logs ``label: done of total, elapsed, about N s left``."""

    def __init__(self, label: str, *, every: float = PROGRESS_EVERY_SECONDS, log: logging.Logger = PROGRESS_LOG) -> None:
        self.label, self.every, self.log = label, every, log
        self.started = time.monotonic()
        self.last = self.started

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if done < total and now - self.last < self.every:
            return
        self.last = now
        elapsed = now - self.started
        estimate = elapsed / done * (total - done) if 0 < done < total else None
        left = f", about {estimate:.0f} s left" if estimate is not None else ""
        # the numbers ride along for handlers that keep them (the service's cycle status)
        numbers = {
            "stage": self.label,
            "done": done,
            "total": total,
            "elapsed_s": round(elapsed, 1),
            "left_s": round(estimate, 1) if estimate is not None else None,
        }
        self.log.info("%s: %d of %d done, %.0f s%s", self.label, done, total, elapsed, left, extra={"progress": numbers})


class Executor(Protocol):
    """Runs ``fn(problem, options)`` for every problem; results in problem order."""

    kind: str
    workers: int

    def map_ordered(
        self, fn: Callable[[P, Opts], R], problems: Sequence[P], options: Opts, *, size: Callable[[P], int], progress: Progress | None = None
    ) -> list[R]: ...

    def close(self) -> None: ...


def available_cores() -> int:
    """Cores this process may run on (the affinity mask, not the machine's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def open_executor(
    kind: str = "local",
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    problems: int | None = None,
    warm: bool = True,
    work: Work | None = None,
) -> Executor:
    """An executor of ``kind``; the caller closes it.

    ``local``: ``workers`` processes (default: the cores available, at most ``problems``, and this
    process alone when ``work`` says the day is too small to pay for starting workers:
    :meth:`Work.small`), warming up (:func:`warm_up`) while the caller goes on; one worker runs in this
    process. ``dask``: the cluster
    at ``scheduler`` (the edges fill it from ``$HARVEST_DASK_SCHEDULER``: :meth:`MatchParams.resolved
    <matcher.params.MatchParams.resolved>`; nothing here reads the environment).

    Raises
    ------
    ParameterError
        An unknown kind, ``dask`` without its extra installed or without an address.
    ExecutionError
        The Dask scheduler cannot be reached.
    """
    if kind == "local":
        if workers is None and work is not None and work.small():
            return InProcess()
        n = min(workers or available_cores(), max(1, problems if problems is not None else available_cores()))
        return InProcess() if n <= 1 else LocalPool(n, warm=warm)
    if kind == "dask":
        return DaskCluster(scheduler or "", warm=warm)
    raise ParameterError(f"executor must be one of {', '.join(EXECUTORS)}, got {kind!r}")


#: below this many dense cells (offers x demand rows of one product, summed over products) a day is
#: solved in this process when no worker count is given: a spawned worker pays about two seconds
#: before its first product (imports, and the compiled kernels from numba's cache), the time the
#: simplex takes for about 20 million cells, so a pool cannot win it back on a smaller day
IN_PROCESS_CELLS = 2_000_000

#: below this many stops (offers, and orders or demand rows) a day's routing problems, if any, are
#: solved in this process too (:data:`IN_PROCESS_CELLS`)
IN_PROCESS_STOPS = 200


@dataclass(frozen=True)
class Work:
    """How much a day asks of its executor, to decide whether starting workers pays (:func:`open_executor`).

    Attributes
    ----------
    cells
        Dense cells: offers times demand rows of the same product, summed over products.
    stops
        Stops its routing problems may hold (offers plus orders or demand rows); 0 when nothing is routed.
    """

    cells: int
    stops: int = 0

    @classmethod
    def of(cls, offers: pl.DataFrame, demand: pl.DataFrame, *, routed: bool = False) -> Work:
        """The work of a day of ``offers`` and ``demand`` rows (or orders), each with a ``product``
        column; ``routed``: its freight is routed (the ``trucks`` model or a plan)."""
        import polars as pl

        per = offers.group_by("product").len("o").join(demand.group_by("product").len("d"), on="product")
        cells = int((per["o"].cast(pl.Int64) * per["d"].cast(pl.Int64)).sum())
        return cls(cells, offers.height + demand.height if routed else 0)

    def small(self) -> bool:
        return self.cells < IN_PROCESS_CELLS and self.stops < IN_PROCESS_STOPS


class InProcess:
    """One worker: this process."""

    kind = "local"
    workers = 1

    def map_ordered(
        self, fn: Callable[[P, Opts], R], problems: Sequence[P], options: Opts, *, size: Callable[[P], int], progress: Progress | None = None
    ) -> list[R]:
        progress = progress or ProgressLog(_label(fn))
        results = []
        for k, problem in enumerate(problems, start=1):
            results.append(fn(problem, options))
            progress(k, len(problems))
        return results

    def close(self) -> None:
        return None


class LocalPool:
    """A pool of spawned worker processes on this machine."""

    kind = "local"

    def __init__(self, workers: int, *, warm: bool = True) -> None:
        self.workers = workers
        self._pool = ProcessPoolExecutor(
            max_workers=workers, mp_context=multiprocessing.get_context("spawn"), initializer=die_with_parent, initargs=(os.getpid(),)
        )
        if warm:
            for _ in range(workers):
                self._pool.submit(warm_up)

    def map_ordered(
        self, fn: Callable[[P, Opts], R], problems: Sequence[P], options: Opts, *, size: Callable[[P], int], progress: Progress | None = None
    ) -> list[R]:
        progress = progress or ProgressLog(_label(fn))
        # biggest first, so a large problem does not start last and leave the other workers idle at the end
        order = sorted(range(len(problems)), key=lambda k: -size(problems[k]))
        futures: dict[Future[R], int] = {self._pool.submit(fn, problems[k], options): k for k in order}
        results: dict[int, R] = {}
        # as_completed waits on every future once: wait(pending) in a loop would go over all the pending
        # ones at every completion, which on a day of thousands of routing problems keeps a core busy
        for future in as_completed(futures):
            results[futures[future]] = future.result()
            progress(len(results), len(problems))
        return [results[k] for k in range(len(problems))]

    def close(self) -> None:
        self._pool.shutdown(cancel_futures=True)


class DaskCluster:
    """The workers of a Dask cluster, through a client connected to its scheduler."""

    kind = "dask"

    def __init__(self, address: str, *, warm: bool = True, grace_seconds: float = NO_WORKER_GRACE_SECONDS) -> None:
        if not address:
            raise ParameterError(f"executor dask needs a scheduler address: give --scheduler tcp://HOST:8786 or set {SCHEDULER_ENV}")
        try:
            from distributed import Client
        except ImportError:
            raise ParameterError("executor dask needs Dask: install the dask extra, pip install 'harvestmatch[dask]'") from None
        self.address = address
        #: how long the cluster may have no worker before the day fails (a test shortens it)
        self.grace_seconds = grace_seconds
        try:
            self._client = Client(address, timeout=CONNECT_TIMEOUT_SECONDS, set_as_default=False)
        except (OSError, TimeoutError) as exc:
            raise ExecutionError(f"cannot reach the Dask scheduler at {address}: {exc}") from None
        addresses = list(self._client.scheduler_info().get("workers", {}))
        self.workers = max(1, len(addresses))
        # each worker loads the compiled kernels while the caller prepares the day (not waited for)
        self._warming = [self._client.submit(warm_up, pure=False, workers=[a], allow_other_workers=False) for a in addresses] if warm else []

    def map_ordered(
        self, fn: Callable[[P, Opts], R], problems: Sequence[P], options: Opts, *, size: Callable[[P], int], progress: Progress | None = None
    ) -> list[R]:
        client = self._client
        if not problems:
            return []
        progress = progress or ProgressLog(_label(fn))
        shared = client.scatter(options, broadcast=True)
        # higher priority first: the biggest problems start first, as on the local pool
        futures = [client.submit(fn, problem, shared, pure=False, priority=size(problem)) for problem in problems]
        alone_since: float | None = None
        try:
            while True:
                finished = [f for f in futures if f.done()]
                progress(len(finished), len(futures))
                failed = [f for f in finished if f.status == "error"]
                if failed:
                    failed[0].result()  # raises the task's own exception
                if any(f.status == "cancelled" for f in finished):  # the shared options died with every worker that held them
                    raise ExecutionError(
                        f"the Dask cluster at {self.address} lost its workers mid-day (and the data they held); "
                        f"{len(futures) - len(finished)} of {len(futures)} problems unsolved"
                    )
                if len(finished) == len(futures):
                    break
                if not client.scheduler_info().get("workers"):
                    alone_since = alone_since or time.monotonic()
                    if time.monotonic() - alone_since > self.grace_seconds:
                        raise ExecutionError(
                            f"the Dask cluster at {self.address} has had no worker for {self.grace_seconds:g} s; "
                            f"{len(futures) - len(finished)} of {len(futures)} problems unsolved"
                        )
                else:
                    alone_since = None
                time.sleep(POLL_SECONDS)
            return client.gather(futures)  # type: ignore[no-any-return]
        except (OSError, TimeoutError) as exc:
            raise ExecutionError(f"lost the Dask scheduler at {self.address}: {exc}") from None
        finally:
            client.cancel(futures)

    def close(self) -> None:
        self._client.cancel(self._warming)
        self._client.close()


def die_with_parent(parent: int) -> None:
    """A pool worker's first step: ask Linux to kill it when the process that started it dies
    (``PR_SET_PDEATHSIG``), so that a ``harvest match`` or a service worker killed mid-day (``kill -9``,
    the OOM killer) does not leave its workers solving an abandoned day; and leave at once if that
    process already died before the request. Elsewhere than Linux a worker exits when its work queue
    closes, after the product in hand."""
    import ctypes
    import signal
    import sys

    if sys.platform.startswith("linux"):
        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, int(signal.SIGKILL), 0, 0, 0)
    if os.getppid() != parent:
        os._exit(1)


def warm_up() -> None:
    """Load (or, the first time, compile into numba's on-disk cache) every compiled kernel a solve
    uses, by solving a tiny product in each pricing mode and with each size of margin cell.
    ``make venv`` runs it once, so that no run pays the compile (about 20 s on this kind of machine;
    loading the cached kernels then costs a worker about 1.5 s)."""
    from dataclasses import replace

    import numpy as np

    from harvestmatch.kernels import compile_all
    from matcher.dense import DenseMargins
    from matcher.warm import lane_start, start_duals, warm_greedy
    from regions.geodesy import haversine_km
    from regions.lanes import Demand, Hubs, LaneCosts, Supply

    one = np.ones(1)
    supply = Supply(one * 30, one * 110, one, np.ones(1, np.int8), np.ones(1, np.int64))
    demand = Demand(np.zeros(1, np.int64), one * 3, np.ones(1, np.int8), np.ones(1, np.int64))
    compile_all()  # the tiny product below would otherwise run interpreted (harvestmatch.kernels)
    problem = ProductProblem("warm-up", supply, np.ones(1, np.int64), demand, np.ones(1, np.int64), Hubs(one * 30, one * 111))
    warm = replace(problem, supply=replace(supply, previous_price=one * 2))  # a warm start (matcher.warm)
    for dense in (True, False):  # dense: int32 cells; bounded: the simplex's own greedy start
        for p in (problem, warm):
            solve_product(p, SolveOptions(costs=LaneCosts(), scale=100, dense=dense))
    wide = DenseMargins.build(supply, demand, problem.hubs, LaneCosts(), 10**12)  # int64 cells
    zero = np.zeros(1, np.int64)
    wide.best_cells(zero, zero, 1, 1, np.ones(1, np.int64))
    wide.greedy(problem.supply_kg, problem.demand_kg)
    warm_greedy(wide, *start_duals(wide, zero, np.ones(1, np.bool_)), problem.supply_kg, problem.demand_kg)
    lane_start(1, 1, zero, zero, np.ones(1, np.int64), zero, np.ones(1, np.bool_), problem.supply_kg, problem.demand_kg)  # given lanes
    haversine_km(one * 30, one * 110, one * 31, one * 111)


def solve_products(
    problems: Sequence[ProductProblem],
    options: SolveOptions,
    *,
    workers: int | None = None,
    executor: Executor | None = None,
    progress: Progress | None = None,
) -> tuple[list[ProductSolution], int]:
    """Solve every product; return the solutions in problem order and the number of workers used.

    With ``executor`` (from :func:`open_executor`), its workers solve; else a local one of ``workers``
    processes (default: the cores available, at most one per product) is opened and closed here.
    """
    if executor is None:
        own = open_executor("local", workers=workers, problems=len(problems), warm=False)
        try:
            return own.map_ordered(solve_product, problems, options, size=_size, progress=progress), own.workers
        finally:
            own.close()
    return executor.map_ordered(solve_product, problems, options, size=_size, progress=progress), executor.workers


def _label(fn: Callable[..., object]) -> str:
    return {"solve_product": "products", "_solve_one": "routing problems"}.get(getattr(fn, "__name__", ""), "problems")


def _size(problem: ProductProblem) -> int:
    return (problem.supply.size + 1) * (problem.demand.size + 1)


__all__ = [
    "EXECUTORS",
    "IN_PROCESS_CELLS",
    "IN_PROCESS_STOPS",
    "Executor",
    "SCHEDULER_ENV",
    "Work",
    "available_cores",
    "die_with_parent",
    "open_executor",
    "solve_products",
    "warm_up",
]
