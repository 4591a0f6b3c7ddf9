"""One product's solve, whole: identical offers merged, the safety net's floor when there is one, and the
quality reference when expected refunds steer the matching.

:func:`solve_product` is what every fan-out runs per product (:mod:`matcher.fanout`); the exact solve
itself is :func:`matcher.product.solve`, the floor :func:`matcher.floor.solve_with_floor`.
"""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np
from numpy.typing import NDArray

from matcher.aggregate import merge_identical, split_lanes
from matcher.floor import solve_with_floor
from matcher.product import ProductProblem, ProductSolution, SolveOptions, solve

I64 = NDArray[np.int64]


def solve_product(problem: ProductProblem, options: SolveOptions) -> ProductSolution:
    """Solve one product exactly over all its feasible lanes (see the module docstring).

    Identical offers (same place, ask, grade and expiry: a village's households each posting a few
    crates) are merged first and the optimum handed back to them (:mod:`matcher.aggregate`: exact), so
    they cost one node, not thousands. Not with a given lane table, whose lanes name single offers.

    With expected refunds (``Supply.keep``), the same product is solved a second time as if there were
    none, and that allocation's welfare at the refund-aware margins is reported
    (``welfare_if_quality_ignored``): what letting quality steer the matching gained.

    Raises
    ------
    SolverError
        When the solver fails, a certificate check fails, or the pricing loop exceeds ``max_rounds``.
    """
    solution = solve_merged(problem, options)
    keep = problem.supply.keep
    if keep is None or np.all(keep == 1.0):
        return solution
    started = time.perf_counter()
    plain = solve_merged(replace(problem, supply=replace(problem.supply, keep=None)), options)
    lanes = plain.lanes
    refunded = problem.demand.bid[lanes.demand] * (1.0 - keep[lanes.offer])
    ignored = float(np.dot(plain.shipped.astype(np.float64), lanes.margin - refunded))
    seconds = {**solution.seconds, "quality_reference": time.perf_counter() - started}
    return replace(solution, welfare_if_quality_ignored=ignored, seconds=seconds)


def solve_merged(problem: ProductProblem, options: SolveOptions) -> ProductSolution:
    """:func:`solve_product` without the quality reference: identical offers merged, the floor if any."""
    if problem.given is not None:
        return _dispatch(problem, options)
    # an offer with a floor keeps its own node: its floor is its own
    apart = None if problem.floor_kg is None else problem.floor_kg > 0
    merged, merged_kg, group = merge_identical(problem.supply, problem.supply_kg, apart=apart)
    if merged.size == problem.supply.size:
        return _dispatch(problem, options)
    floor_kg = None
    if problem.floor_kg is not None:
        floor_kg = np.zeros(merged.size, np.int64)
        np.maximum.at(floor_kg, group, problem.floor_kg)  # a floor's group is that one offer
    solution = _dispatch(replace(problem, supply=merged, supply_kg=merged_kg, floor_kg=floor_kg), options)
    return _unmerge(solution, group, problem.supply_kg)


def _dispatch(problem: ProductProblem, options: SolveOptions) -> ProductSolution:
    if problem.floor_kg is not None and np.any(problem.floor_kg > 0):
        return solve_with_floor(problem, options, reference=solve_merged)
    return solve(problem, options)


def _unmerge(solution: ProductSolution, group: I64, supply_kg: I64) -> ProductSolution:
    """A merged offers' solution as one of the original offers (fill rule of :mod:`matcher.aggregate`);
    the final lane set, when kept, names each merged offer's first member."""
    lane, member, kg = split_lanes(group, supply_kg, solution.lanes.offer, solution.shipped)
    lanes = solution.lanes.take(lane)
    lanes = replace(lanes, offer=member)
    first = np.full(int(group.max()) + 1, len(group), np.int64)
    np.minimum.at(first, group, np.arange(len(group), dtype=np.int64))
    network = solution.network
    if network is not None:
        network = replace(network, offer=first[network.offer])
    floor = solution.floor
    if floor is not None:  # a floor's group is one offer: the others get the zeros of floorless groups
        floor = replace(
            floor,
            floor_kg=floor.floor_kg[group],
            floor_sold=floor.floor_sold[group],
            dual=floor.dual[group],
            subsidy=floor.subsidy[group],
            reason=floor.reason[group],
        )
    return replace(
        solution,
        floor=floor,
        lanes=lanes,
        shipped=kg,
        unsold=supply_kg - np.bincount(member, weights=kg, minlength=len(group)).astype(np.int64),
        u=solution.u[group],
        offer_reach=solution.offer_reach[group],
        network=network,
    )
