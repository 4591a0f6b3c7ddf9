"""The one exception tree of harvestmatch.

It lives at the bottom of the dependency graph (``regions`` is imported by ``matcher``, which is imported
by the CLI and the API), so every package raises from the same base::

    HarvestError                      base of everything harvestmatch raises on purpose
    ├── InputError(ValueError)        the input is wrong; carries one Problem per defect
    │   └── SchemaError               a table misses a column or a column has the wrong type
    ├── ParameterError(ValueError)    an option or a parameter file is out of range
    ├── ExecutionError(RuntimeError)  the cluster that runs a day's problems is unreachable or lost its workers
    └── SolverError(RuntimeError)     the solver did not reach a proven optimum

The CLI prints ``InputError.problems`` one line each and exits 2; the API turns them into problem details.
A long list of defects of one kind is cut by :func:`first_problems`: the first :data:`MAX_LISTED` are
listed, the rest counted in one line.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from itertools import islice

#: how many problems of one kind (one column's bad cells, one table's duplicates) are listed before
#: the rest are counted in one line
MAX_LISTED = 10


@dataclass(frozen=True, order=True)
class Problem:
    """One defect in the input: where it is and what is wrong.

    ``row`` is the 1-based data row (the header is not counted; in a CSV file, row ``n`` is on line
    ``n + 1``), or ``None`` when the problem concerns the whole table or column.
    """

    source: str
    row: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        where = [self.source]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column {self.column!r}")
        return f"{': '.join(where)}: {self.message}"


def first_problems(
    problems: Iterable[Problem],
    *,
    source: str,
    column: str | None,
    rest: str,
    total: int | None = None,
    limit: int = MAX_LISTED,
) -> list[Problem]:
    """The first ``limit`` problems, then one line counting the rest: ``... and {n} more {rest}``.

    Parameters
    ----------
    problems
        The problems of one kind, in the order they are listed. It may be lazy (a generator over the
        rows of a frame of bad rows): only the first ``limit`` are built when ``total`` is given.
    source, column
        Where the counting line points (its row is ``None``).
    rest
        What the rest are, after "more": ``"rows with bad values"``, ``"duplicate rows"``.
    total
        How many problems ``problems`` holds, when known (a frame's height); else they are counted.
    limit
        How many are listed.

    Returns
    -------
    list of Problem
        At most ``limit + 1`` problems.
    """
    remaining = iter(problems)
    listed = list(islice(remaining, limit))
    count = total if total is not None else len(listed) + sum(1 for _ in remaining)
    if count > limit:
        listed.append(Problem(source, None, column, f"... and {count - limit} more {rest}"))
    return listed


class HarvestError(Exception):
    """Base of every error harvestmatch raises on purpose."""


class InputError(HarvestError, ValueError):
    """The input is wrong. ``problems`` lists every defect found, in a stable order."""

    def __init__(self, problems: list[Problem] | Problem) -> None:
        if isinstance(problems, Problem):
            problems = [problems]
        if not problems:
            raise ValueError("InputError needs at least one Problem")
        self.problems: list[Problem] = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class SchemaError(InputError):
    """A table misses a required column, or a column cannot be read as its type."""


class ParameterError(HarvestError, ValueError):
    """A parameter is out of range or of the wrong type."""


class ExecutionError(HarvestError, RuntimeError):
    """The cluster that runs a day's problems cannot be reached, or lost every worker: nothing is
    written, and a service cycle fails with this reason."""


class SolverError(HarvestError, RuntimeError):
    """The solver ended without a proven optimum (infeasible, overflow, bad result)."""
