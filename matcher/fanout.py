"""Products are independent problems: solve them one by one, or on a pool of worker processes.

Workers are started with ``spawn`` (a forked copy of a process that has run polars or OR-Tools threads
can deadlock) and receive plain numpy columns. Results come back in the order of the problems, so the
output does not depend on the number of workers or on which finishes first.

A worker pays about two seconds before its first product (imports, and loading the compiled kernels
from numba's cache): :func:`start_pool` starts the workers and warms them up while the caller still
prepares the day.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import TypeVar

from matcher.product import ProductProblem, ProductSolution, SolveOptions, solve_product

P = TypeVar("P")
O = TypeVar("O")
R = TypeVar("R")


def available_cores() -> int:
    """Cores this process may run on (the affinity mask, not the machine's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def start_pool(workers: int) -> ProcessPoolExecutor | None:
    """A pool of ``workers`` spawned processes, each warming up (:func:`warm_up`); None for one worker.
    The caller shuts it down."""
    if workers <= 1:
        return None
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))
    for _ in range(workers):
        pool.submit(warm_up)
    return pool


def warm_up() -> None:
    """Load (or, the first time, compile into numba's on-disk cache) every compiled kernel a solve
    uses, by solving a tiny product in each pricing mode and with each size of margin cell.
    ``make venv`` runs it once, so that no run pays the compile (about 20 s on this kind of machine;
    loading the cached kernels then costs a worker about 1.5 s)."""
    import numpy as np

    from matcher.dense import DenseMargins
    from regions.lanes import Demand, Hubs, LaneCosts, Supply

    one = np.ones(1)
    supply = Supply(one * 30, one * 110, one, np.ones(1, np.int8), np.ones(1, np.int64))
    demand = Demand(np.zeros(1, np.int64), one * 3, np.ones(1, np.int8), np.ones(1, np.int64))
    problem = ProductProblem("warm-up", supply, np.ones(1, np.int64), demand, np.ones(1, np.int64), Hubs(one * 30, one * 111))
    for dense in (True, False):  # dense: int32 cells; bounded: the simplex's own greedy start
        solve_product(problem, SolveOptions(costs=LaneCosts(), scale=100, dense=dense))
    wide = DenseMargins.build(supply, demand, problem.hubs, LaneCosts(), 10**12)  # int64 cells
    zero = np.zeros(1, np.int64)
    wide.best_cells(zero, zero, 1, 1)
    wide.greedy(problem.supply_kg, problem.demand_kg)


def solve_products(
    problems: Sequence[ProductProblem],
    options: SolveOptions,
    *,
    workers: int | None = None,
    pool: ProcessPoolExecutor | None = None,
) -> tuple[list[ProductSolution], int]:
    """Solve every product; return the solutions in problem order and the number of processes used.

    With ``pool`` (from :func:`start_pool` with ``workers`` processes), its workers solve; else a
    pool of ``workers`` processes (default: the cores available, at most one per product) is started
    here, or none for one.
    """
    if pool is None:
        workers = min(workers or available_cores(), len(problems)) or 1
        if workers == 1:
            return [solve_product(p, options) for p in problems], 1
        with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as own:
            return _on_pool(own, problems, options), workers
    return _on_pool(pool, problems, options), workers or available_cores()


def _on_pool(pool: ProcessPoolExecutor, problems: Sequence[ProductProblem], options: SolveOptions) -> list[ProductSolution]:
    return run_ordered(pool, solve_product, problems, options, size=_size)


def run_ordered(pool: ProcessPoolExecutor, fn: Callable[[P, O], R], problems: Sequence[P], options: O, *, size: Callable[[P], int]) -> list[R]:
    """``fn(problem, options)`` for every problem on the pool's workers, results in problem order.

    The biggest problems are submitted first, so that a large one does not start last and leave the
    other workers idle at the end."""
    order = sorted(range(len(problems)), key=lambda k: -size(problems[k]))
    futures = {k: pool.submit(fn, problems[k], options) for k in order}
    results: dict[int, R] = {k: future.result() for k, future in futures.items()}
    return [results[k] for k in range(len(problems))]


def _size(problem: ProductProblem) -> int:
    return (problem.supply.size + 1) * (problem.demand.size + 1)
