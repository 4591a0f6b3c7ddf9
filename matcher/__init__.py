"""The matching cycle: the exact welfare-maximizing allocation of offers to pooled demand, with prices."""

from harvestmatch.errors import HarvestError, InputError, ParameterError, Problem, SchemaError, SolverError
from matcher.cycle import Sources, match
from matcher.params import MatchParams
from matcher.pipeline import CycleResult, compute_cycle
from matcher.results import MatchResult

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
