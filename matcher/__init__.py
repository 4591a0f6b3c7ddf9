"""The matching cycle: the exact welfare-maximizing allocation of offers to pooled demand, with prices."""

from matcher.cycle import MatchResult, Sources, match
from matcher.params import MatchParams
from harvestmatch.errors import HarvestError, InputError, ParameterError, Problem, SchemaError, SolverError

__all__ = [
    "HarvestError",
    "InputError",
    "MatchParams",
    "MatchResult",
    "ParameterError",
    "Problem",
    "SchemaError",
    "SolverError",
    "Sources",
    "match",
]
