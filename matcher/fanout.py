"""Products are independent problems: solve them one by one, or on a pool of worker processes.

Workers are started with ``spawn`` (a forked copy of a process that has run polars or OR-Tools threads
can deadlock) and receive plain numpy columns. Results come back in the order of the problems, so the
output does not depend on the number of workers or on which finishes first.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor

from matcher.product import ProductProblem, ProductSolution, SolveOptions, solve_product


def available_cores() -> int:
    """Cores this process may run on (the affinity mask, not the machine's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def solve_products(
    problems: Sequence[ProductProblem], options: SolveOptions, *, workers: int | None = None
) -> tuple[list[ProductSolution], int]:
    """Solve every product; return the solutions in problem order and the number of processes used."""
    workers = min(workers or available_cores(), len(problems)) or 1
    if workers == 1:
        return [solve_product(p, options) for p in problems], 1
    # biggest first, so a large product does not start last and leave one worker idle at the end
    order = sorted(range(len(problems)), key=lambda k: -_size(problems[k]))
    solutions: list[ProductSolution | None] = [None] * len(problems)
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures = {k: pool.submit(solve_product, problems[k], options) for k in order}
        for k, future in futures.items():
            solutions[k] = future.result()
    return [s for s in solutions if s is not None], workers


def _size(problem: ProductProblem) -> int:
    return (problem.supply.size + 1) * (problem.demand.size + 1)
