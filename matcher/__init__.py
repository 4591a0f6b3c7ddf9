"""The matching cycle: the exact welfare-maximizing allocation of offers to pooled demand, with prices.

The names below are loaded on first use (:func:`__getattr__`), so that importing a submodule (the
``harvest`` command's parsers, :mod:`matcher.params`) does not load the solver, numba and polars.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from harvestmatch.errors import HarvestError, InputError, ParameterError, Problem, SchemaError, SolverError

if TYPE_CHECKING:
    from matcher.cycle import Sources, match
    from matcher.params import MatchParams
    from matcher.pipeline import CycleResult, compute_cycle
    from matcher.results import MatchResult

#: each lazily loaded name and the module that holds it
_LAZY = {
    "CycleResult": "matcher.pipeline",
    "MatchParams": "matcher.params",
    "MatchResult": "matcher.results",
    "Sources": "matcher.cycle",
    "compute_cycle": "matcher.pipeline",
    "match": "matcher.cycle",
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'matcher' has no attribute {name!r}")
    value = getattr(import_module(_LAZY[name]), name)
    globals()[name] = value
    return value


__all__ = [
    "CycleResult",
    "HarvestError",
    "InputError",
    "MatchParams",
    "MatchResult",
    "ParameterError",
    "Problem",
    "SchemaError",
    "SolverError",
    "Sources",
    "compute_cycle",
    "match",
]
