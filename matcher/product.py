"""One product's exact solve: a lane set that grows until duals prove that no omitted lane helps.

Considering every feasible lane nationally means billions of pairs, so the solve starts from a small
lane set and proves optimality by pricing (column generation on a network):

1. start: each offer's lanes to its ``k`` nearest hubs; an offer or a demand row left without any
   profitable lane is searched exhaustively (so its reason, and its best lanes, are exact);
2. solve the min-cost flow on the current lanes and read the duals ``u, w`` (:mod:`matcher.potentials`);
3. price every feasible lane left out: its reduced cost is ``M_ij - u_i - w_j``, positive exactly when
   ``p_j > f_i + c_ij``. As ``p_j <= max_p`` and ``c_ij`` grows with distance, an offer can only gain
   from hubs within ``(max_p - handling - f_i) / (freight * circuity)`` great-circle km: those pairs
   are found with one matrix product per block and priced exactly; all others are proven useless;
4. add the lanes with positive reduced cost (the ``k`` best per offer) and go to 2; when none is
   left, the flow is optimal over all feasible lanes and ``u, w`` are its duals.

A given lane table (road distances, negotiated rates) is the complete lane list: it is solved once.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from matcher.flow import solve_flow
from matcher.potentials import PriceRule, check_certificate, potentials
from regions.errors import SolverError
from regions.lanes import (
    Demand,
    Hubs,
    LaneCosts,
    Lanes,
    Supply,
    all_pairs,
    demand_regions,
    lanes_for_pairs,
    nearest_pairs,
    pairs_within,
    top_per_group,
)

I64 = NDArray[np.int64]
F64 = NDArray[np.float64]

#: reach of an offer or demand row: how far it got towards a sale
NO_LANE, UNPROFITABLE, PROFITABLE = 0, 1, 2


@dataclass(frozen=True)
class GivenLanes:
    """A complete lane list for one product: offer index, region index, distance, optional days and cost."""

    offer: I64
    region: I64
    distance_km: F64
    transit_days: I64 | None = None
    cost_per_kg: F64 | None = None


@dataclass(frozen=True)
class ProductProblem:
    """Everything one product's solve needs, as numpy columns."""

    product: str
    supply: Supply
    supply_kg: I64
    demand: Demand
    demand_kg: I64
    hubs: Hubs
    given: GivenLanes | None = None


@dataclass(frozen=True)
class SolveOptions:
    """How to solve: lane costs, integer scale, initial neighbours, price rule, round limit."""

    costs: LaneCosts
    scale: int
    k_nearest: int = 16
    price_rule: PriceRule = "farmer"
    max_rounds: int = 100


@dataclass
class ProductSolution:
    """The optimum of one product: shipped lanes, leftovers, prices per kg, reasons and statistics."""

    product: str
    lanes: Lanes  # shipped lanes only
    shipped: I64
    unsold: I64
    unmet: I64
    u: F64  # farm-gate premium over ask, per kg
    w: F64  # buyer's saving under bid, per kg
    offer_reach: NDArray[np.int8]
    row_reach: NDArray[np.int8]
    objective: int  # scaled welfare, exact
    rounds: int
    lanes_considered: int
    lanes_solved: int
    seconds: dict[str, float] = field(default_factory=dict)


def solve_product(problem: ProductProblem, options: SolveOptions) -> ProductSolution:
    """Solve one product exactly over all its feasible lanes (see the module docstring).

    Raises
    ------
    SolverError
        When the solver fails, a certificate check fails, or the pricing loop exceeds ``max_rounds``.
    """
    clock = _Clock()
    supply, demand = problem.supply, problem.demand
    if problem.given is not None:
        lanes, considered, offer_reach, row_reach = _given_lanes(problem, options)
        priced = False
    else:
        lanes, considered, offer_reach, row_reach = _initial_lanes(problem, options)
        priced = True
    clock.lap("lanes")

    rounds = 0
    while True:
        rounds += 1
        margin = _scaled(lanes.margin, options.scale)
        flow = solve_flow(problem.supply_kg, problem.demand_kg, lanes.offer, lanes.demand, margin)
        clock.lap("solve")
        u, w = potentials(
            supply.size, demand.size, lanes.offer, lanes.demand, margin, flow, rule=options.price_rule
        )
        check_certificate(lanes.offer, lanes.demand, margin, flow, u, w)
        clock.lap("prices")
        if not priced:
            break
        extra, evaluated = _improving_lanes(problem, options, u, w)
        considered += evaluated
        clock.lap("pricing")
        if extra.size == 0:
            break
        if rounds >= options.max_rounds:
            raise SolverError(
                f"product {problem.product!r}: {extra.size} improving lanes remain after "
                f"{rounds} pricing rounds (max_rounds)"
            )
        lanes = Lanes.concat([lanes, extra])

    ships = flow.shipped > 0
    return ProductSolution(
        product=problem.product,
        lanes=lanes.take(ships),
        shipped=flow.shipped[ships],
        unsold=flow.unsold,
        unmet=flow.unmet,
        u=u / options.scale,
        w=w / options.scale,
        offer_reach=offer_reach,
        row_reach=row_reach,
        objective=flow.objective,
        rounds=rounds,
        lanes_considered=considered,
        lanes_solved=lanes.size,
        seconds=clock.seconds,
    )


def _scaled(margin: F64, scale: int) -> I64:
    return np.rint(margin * scale).astype(np.int64)


def _profitable(lanes: Lanes, scale: int) -> Lanes:
    return lanes.take(_scaled(lanes.margin, scale) > 0)


def _given_lanes(problem: ProductProblem, options: SolveOptions) -> tuple[Lanes, int, NDArray[np.int8], NDArray[np.int8]]:
    g = problem.given
    assert g is not None
    lanes = lanes_for_pairs(
        g.offer,
        g.region,
        problem.supply,
        problem.demand,
        problem.hubs,
        options.costs,
        distance_km=g.distance_km,
        transit_days=g.transit_days,
        cost_per_kg=g.cost_per_kg,
    )
    offer_reach = _reach(problem.supply.size, lanes.offer, lanes, options.scale)
    row_reach = _reach(problem.demand.size, lanes.demand, lanes, options.scale)
    return _profitable(lanes, options.scale), lanes.size, offer_reach, row_reach


def _reach(n: int, index: I64, lanes: Lanes, scale: int) -> NDArray[np.int8]:
    """Per element of ``index``'s side: NO_LANE, UNPROFITABLE or PROFITABLE, from the lanes it appears in."""
    reach = np.full(n, NO_LANE, np.int8)
    reach[index] = UNPROFITABLE
    reach[index[_scaled(lanes.margin, scale) > 0]] = PROFITABLE
    return reach


def _initial_lanes(problem: ProductProblem, options: SolveOptions) -> tuple[Lanes, int, NDArray[np.int8], NDArray[np.int8]]:
    supply, demand, hubs, costs, k = problem.supply, problem.demand, problem.hubs, options.costs, options.k_nearest
    regions = demand_regions(demand)
    offer, region = nearest_pairs(supply, hubs, regions, k)
    lanes = _profitable(lanes_for_pairs(offer, region, supply, demand, hubs, costs), options.scale)
    considered = lanes.size
    offer_reach = np.full(supply.size, NO_LANE, np.int8)
    offer_reach[lanes.offer] = PROFITABLE

    # offers with no profitable lane nearby: search every region, keep their k best lanes
    lonely = np.flatnonzero(offer_reach != PROFITABLE)
    found = []
    for o, r in all_pairs(lonely, regions):
        block = lanes_for_pairs(o, r, supply, demand, hubs, costs)
        considered += block.size
        found.append(_note_reach(block, block.offer, offer_reach, options.scale))
    extra = Lanes.concat(found)
    extra = extra.take(top_per_group(extra.offer, extra.margin, k))
    lanes = Lanes.concat([lanes, extra])

    # demand rows no lane reaches yet: search every offer, keep their k best lanes
    row_reach = np.full(demand.size, NO_LANE, np.int8)
    row_reach[lanes.demand] = PROFITABLE
    lonely_rows = row_reach != PROFITABLE
    found = []
    for o, r in all_pairs(np.arange(supply.size, dtype=np.int64), np.unique(demand.region[lonely_rows])):
        block = lanes_for_pairs(o, r, supply, demand, hubs, costs)
        block = block.take(lonely_rows[block.demand])
        considered += block.size
        found.append(_note_reach(block, block.demand, row_reach, options.scale))
    extra = Lanes.concat(found)
    extra = extra.take(top_per_group(extra.demand, extra.margin, k))
    return Lanes.concat([lanes, extra]), considered, offer_reach, row_reach


def _note_reach(block: Lanes, index: I64, reach: NDArray[np.int8], scale: int) -> Lanes:
    """Raise ``reach`` for the elements ``block`` touches; return the block's profitable lanes."""
    profitable = _scaled(block.margin, scale) > 0
    np.maximum.at(reach, index, np.int8(UNPROFITABLE))
    reach[index[profitable]] = PROFITABLE
    return block.take(profitable)


def _improving_lanes(problem: ProductProblem, options: SolveOptions, u: F64, w: F64) -> tuple[Lanes, int]:
    """Every feasible lane with positive reduced cost (the k best per offer), and how many were priced."""
    supply, demand, hubs, costs, scale = problem.supply, problem.demand, problem.hubs, options.costs, options.scale
    regions = demand_regions(demand)
    if supply.size == 0 or regions.size == 0:
        return Lanes.concat([]), 0
    farm_gate = supply.ask + u / scale
    clearing = demand.bid - w / scale
    # a hair of slack so float rounding never hides a lane the integer test would take
    tol = 4.0 / scale + 1e-9 * max(1.0, float(np.abs(clearing).max()))
    headroom = float(clearing.max()) - costs.handling_per_kg - farm_gate + tol
    per_km = costs.freight_per_kg_km * costs.circuity
    with np.errstate(divide="ignore"):
        radius = np.where(headroom > 0, headroom / per_km if per_km > 0 else np.inf, -1.0)
    candidates = np.flatnonzero(radius >= 0)
    found, evaluated = [], 0
    for o, r in pairs_within(supply, candidates, hubs, regions, radius[candidates]):
        block = lanes_for_pairs(o, r, supply, demand, hubs, costs)
        evaluated += block.size
        reduced = _scaled(block.margin, scale) - u[block.offer] - w[block.demand]
        found.append(block.take(reduced > 0))
    extra = Lanes.concat(found)
    if extra.size:
        reduced = _scaled(extra.margin, scale) - u[extra.offer] - w[extra.demand]
        extra = extra.take(top_per_group(extra.offer, reduced, options.k_nearest))
    return extra, evaluated


class _Clock:
    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.seconds[stage] = self.seconds.get(stage, 0.0) + now - self._last
        self._last = now
