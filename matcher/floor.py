"""The safety net's floor: small producers' offers sell at least their floor kg when any allowed lane
lets them, solved exactly, with the welfare it costs.

The policy (:mod:`matcher.safety_net` says who is small and how many kg): offer ``i`` has a floor
``F_i`` (whole kg, 0 for most offers) and may meet it through any feasible lane whose margin is at least
``-c`` (``c`` = ``max_subsidy_per_kg``: the platform pays up to that to make the sale happen). The
floor is lexicographic: first the least total shortfall ``sum_i (F_i - floor kg sold_i)`` the allowed
lanes permit, then the most welfare among the allocations with it.

The model stays a transportation problem. Each offer with a floor becomes two supply nodes, both at the
offer's place, ask, grade and expiry:

- a *floor node* with ``F_i`` kg, whose lanes are every feasible lane with scaled margin ``>= -c`` and
  whose margins carry a bonus ``B``;
- a *main node* with the other ``q_i - F_i`` kg, whose lanes are the profitable ones, as any offer's.

Maximizing ``sum (M + B [floor node]) x`` is the lexicographic optimum when ``B`` exceeds the welfare
any one kg of floor can be traded against: two feasible flows differ by cycles of the residual network,
each simple (at most ``nodes`` lanes, each changing welfare by at most ``|M|max`` per kg) and each moving
the floor by at most one kg per kg of flow, so ``B = (nodes + 1) * (|M|max + 1)`` suffices. Then the
floor kg sold ``S_i`` are fixed and every optimum's welfare is ``objective - B * sum S``.

Prices. The duals of that problem price scarce floor capacity at ``B`` (a row a floor could not reach is
worth ``B`` per kg to the objective), which no buyer should see. Prices come from the second stage
instead, ``max welfare subject to each offer's floor kg >= S_i``: the same flow is optimal for it with
floor nodes of ``S_i`` kg and main nodes of ``q_i - S_i`` kg (the floor kg that could not sell join the
main node, unsold; the flow stays optimal: any better second-stage flow, mapped back to the first stage
with the same floor kg sold, would beat the weighted optimum there), every floor node ships all
it holds, so no dual is pinned to the bonus, and the price rule's duals are finite and honest. With
``v_i`` the floor node's dual less ``B`` and ``u_i`` the offer's premium (the main node's dual; ``max(0,
v_i)`` when the whole offer is floor):

- the floor's dual ``lambda_i = u_i - v_i >= 0`` is the welfare one more kg of floor would cost: the
  per-kg cost of that producer's safety net (dual feasibility of the main node on the floor node's
  shipping lanes gives ``u_i >= v_i``);
- on a lane the floor node ships, the buyer pays ``p_j = bid_j - w_j``, the cooperative gets its one
  farm-gate price ``ask_i + u_i`` on every kg it sells, freight costs ``c_ij``: the platform pays the
  gap ``u_i + w_j - M_ij = lambda_i`` per kg, so the subsidy is ``lambda_i * S_i`` and nothing else
  (on every other shipping lane the gap is 0: complementary slackness). Buyers never pay above their
  bid, cooperatives never get below their ask.

The price of fairness is the welfare of the same product solved without floors (exactly, again) less
the welfare with them. That solve comes first: when its optimum already sells every floor (on
profitable lanes, all of them allowed) it is the lexicographic optimum, its prices need no floor dual
(0 is one), and the floor problem is not built at all.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
import polars as pl
from numpy.typing import NDArray

from harvestmatch.errors import SolverError
from matcher.bounded import all_pairs
from matcher.flow import Flow
from matcher.product import (
    FloorOutcome,
    GivenLanes,
    Optimum,
    ProductProblem,
    ProductSolution,
    SolveOptions,
    allowed,
    finish,
    given_lanes,
    optimize,
    solver_margin,
)
from regions.lanes import LaneCosts, Lanes, demand_regions, lanes_for_pairs

I64 = NDArray[np.int64]
F64 = NDArray[np.float64]

#: why an offer's floor was or was not met (``floor_reason`` in offers_out.csv)
FLOOR_REASONS = ("none", "met", "no_feasible_lane", "beyond_subsidy_cap", "demand_taken")
NONE, MET, NO_LANE, BEYOND_CAP, DEMAND_TAKEN = range(5)

#: the bonus and the duals built on it stay below this, so that the float potentials stay exact
BONUS_LIMIT = 2**50


def deepest_loss(max_ask: float, costs: LaneCosts, lanes: pl.DataFrame | GivenLanes | None = None) -> float:
    """The most money per kg any lane can lose: ``ask + cost`` (a bid is never negative), the cost from
    the lane table when one is given, else over half the globe."""
    if lanes is None:
        return max_ask + costs.handling_per_kg + costs.freight_per_kg_km * costs.circuity * math.pi * 6371.0
    if isinstance(lanes, pl.DataFrame):
        km = lanes["distance_km"].to_numpy()
        given = lanes["cost_per_kg"].fill_null(np.nan).to_numpy() if "cost_per_kg" in lanes.columns else None
    else:
        km, given = lanes.distance_km, lanes.cost_per_kg
    deepest = costs.freight_per_kg_km * float(np.max(np.asarray(km, np.float64), initial=0.0)) + costs.handling_per_kg
    if given is not None:
        given = np.asarray(given, np.float64)
        given = given[~np.isnan(given)]  # an empty cell keeps the computed cost
        deepest = max(deepest, float(given.max(initial=0.0)))
    return max_ask + deepest


def cap_units(problem: ProductProblem, options: SolveOptions) -> int:
    """``max_subsidy_per_kg`` in the solver's integer units, at most just beyond the deepest loss any lane
    of the product can make (:func:`deepest_loss`), so that a generous cap allows every feasible lane
    and no more, whatever the integer width of the margins."""
    deepest = deepest_loss(float(problem.supply.ask.max(initial=0.0)), options.costs, problem.given)
    cap = min(options.max_subsidy_per_kg, deepest)
    return int(math.floor(cap * options.scale + 0.5)) + (1 if options.max_subsidy_per_kg > deepest else 0)


def solve_with_floor(
    problem: ProductProblem, options: SolveOptions, *, reference: Callable[[ProductProblem, SolveOptions], ProductSolution]
) -> ProductSolution:
    """The lexicographic optimum of the module docstring, its prices, and the floor's outcome per offer.

    ``reference`` solves the same product without floors (identical offers merged:
    :func:`matcher.solve.solve_merged`).

    Raises
    ------
    SolverError
        When a solve or a certificate fails, or the bonus would leave exact arithmetic.
    """
    assert problem.floor_kg is not None
    supply, q, floor = problem.supply, problem.supply_kg, problem.floor_kg
    if np.any(floor < 0) or np.any(floor > q):
        raise SolverError(f"product {problem.product!r}: a floor must be between 0 and the offer's kg")
    # the day without floors first: its welfare is the reference, and when it meets every floor already
    # (on profitable lanes, all allowed) it is the lexicographic optimum itself, with floor duals 0
    started = time.perf_counter()
    unfloored = reference(replace(problem, floor_kg=None), options)
    reference_seconds = time.perf_counter() - started
    if np.all(problem.supply_kg - unfloored.unsold >= floor):
        met = np.where(floor > 0, MET, NONE).astype(np.int8)
        outcome = FloorOutcome(floor.copy(), floor.copy(), np.where(floor > 0, 0.0, np.nan), np.zeros(supply.size), met, unfloored.objective)
        return replace(unfloored, floor=outcome)

    cap = cap_units(problem, options)
    nodes = _Nodes.split(q, floor)
    bonus = _bonus(problem, options, cap, nodes.size + problem.demand.size + 1)
    first = _expanded(problem, nodes, bonus, cap)
    opt = optimize(first, options)
    sold_floor = np.zeros(supply.size, np.int64)
    is_floor = nodes.floor
    sold_floor[nodes.origin[is_floor]] = (nodes.kg - opt.flow.unsold)[is_floor]

    # second stage: floor nodes hold what they sold, main nodes the rest (module docstring, Prices)
    second_nodes = _Nodes.split(q, sold_floor)
    second = _expanded(problem, second_nodes, bonus, cap)
    solution = finish(second, options, _carried(opt, nodes, second_nodes, second, options))
    welfare = solution.objective - bonus * int(sold_floor.sum())
    seconds = {**solution.seconds, "floor_reference": reference_seconds}

    folded = _fold(problem, second_nodes, solution)
    u_node = solution.u  # the floor nodes' duals less the bonus: v
    on_floor = second_nodes.floor
    dual = np.full(supply.size, np.nan)
    lam = folded.u[second_nodes.origin[on_floor]] - u_node[on_floor]
    if np.any(lam < -1e-9):
        raise SolverError(f"product {problem.product!r}: a floor's dual is negative; the prices are not a dual optimum")
    dual[second_nodes.origin[on_floor]] = np.maximum(lam, 0.0)
    subsidy = np.where(sold_floor > 0, np.nan_to_num(dual) * sold_floor, 0.0)
    outcome = FloorOutcome(
        floor_kg=floor.copy(),
        floor_sold=sold_floor,
        dual=dual,
        subsidy=subsidy,
        reason=_reasons(first, opt, nodes, sold_floor, floor, cap, options),
        objective_without_floor=unfloored.objective,
    )
    return replace(folded, objective=welfare, seconds=seconds, floor=outcome)


@dataclass(frozen=True)
class _Nodes:
    """The supply nodes of a split: main nodes (offers with kg beyond their floor) first, then floor
    nodes, each list in offer order."""

    origin: I64  # the offer each node belongs to
    kg: I64
    floor: NDArray[np.bool_]

    @classmethod
    def split(cls, q: I64, floor: I64) -> _Nodes:
        main = np.flatnonzero(q - floor > 0)
        flo = np.flatnonzero(floor > 0)
        origin = np.concatenate([main, flo])
        kg = np.concatenate([(q - floor)[main], floor[flo]])
        kind = np.concatenate([np.zeros(len(main), np.bool_), np.ones(len(flo), np.bool_)])
        return cls(origin, kg, kind)

    @property
    def size(self) -> int:
        return len(self.origin)

    def index(self, n_offers: int, floor: bool) -> I64:
        """Each offer's main (or floor) node, -1 where it has none."""
        at = np.full(n_offers, -1, np.int64)
        pick = self.floor == floor
        at[self.origin[pick]] = np.flatnonzero(pick)
        return at


def _bonus(problem: ProductProblem, options: SolveOptions, cap: int, nodes: int) -> int:
    """``B = (nodes + 1) * (|M|max + 1)`` in the solver's units (module docstring)."""
    supply, demand = problem.supply, problem.demand
    top = float(demand.bid.max(initial=0.0)) - float(supply.ask.min(initial=0.0))
    biggest = max(int(math.ceil(abs(top) * options.scale)), cap) + 1
    bonus = (nodes + 1) * biggest
    if bonus * 4 >= BONUS_LIMIT:
        raise SolverError(
            f"product {problem.product!r}: the floor's bonus ({bonus} units at cost scale {options.scale}) is too large for "
            "exact prices; the cycle's cost scale should have been lowered for it (matcher.cycle.cost_scale)"
        )
    return bonus


def _expanded(problem: ProductProblem, nodes: _Nodes, bonus: int, cap: int) -> ProductProblem:
    """The problem over the split's nodes: floor nodes carry the bonus and may use lanes down to ``-cap``."""
    given = problem.given
    if given is not None:
        node_of = [nodes.index(problem.supply.size, kind)[given.offer] for kind in (False, True)]  # main, floor
        picks = [np.flatnonzero(node >= 0) for node in node_of]
        offers = [node[p] for node, p in zip(node_of, picks, strict=True)]
        pick = np.concatenate(picks)
        given = GivenLanes(
            np.concatenate(offers),
            given.region[pick],
            given.distance_km[pick],
            None if given.transit_days is None else given.transit_days[pick],
            None if given.cost_per_kg is None else given.cost_per_kg[pick],
        )
    return replace(
        problem,
        supply=problem.supply.take(nodes.origin),
        supply_kg=nodes.kg,
        given=given,
        floor_kg=None,
        bonus=np.where(nodes.floor, bonus, 0).astype(np.int64),
        lower=np.where(nodes.floor, -cap, 1).astype(np.int64),
    )


def _carried(opt: Optimum, first: _Nodes, second: _Nodes, problem: ProductProblem, options: SolveOptions) -> Optimum:
    """The first stage's optimum as a flow of the second stage's nodes: lanes of floor nodes that sold
    nothing dropped, the rest renamed; the same kg on every lane, unsold recounted."""
    n_offers = int(max(first.origin.max(initial=-1), second.origin.max(initial=-1))) + 1
    rename = np.full(first.size, -1, np.int64)
    for kind in (False, True):
        was, now = first.index(n_offers, kind), second.index(n_offers, kind)
        has = was >= 0
        rename[was[has]] = now[has]
    keep = rename[opt.lanes.offer] >= 0
    if np.any(opt.flow.shipped[~keep] > 0):
        raise SolverError("a floor node that sold nothing ships on a lane")
    lanes = opt.lanes.take(keep)
    lanes = Lanes(rename[lanes.offer], lanes.demand, lanes.distance_km, lanes.transit_days, lanes.cost_per_kg, lanes.margin)
    shipped = opt.flow.shipped[keep]
    sent = np.bincount(lanes.offer, weights=shipped, minlength=second.size).astype(np.int64)
    unsold = second.kg - sent
    if np.any(unsold < 0) or np.any(unsold[second.floor] != 0):
        raise SolverError("the second stage's floor nodes do not hold exactly what they sold")
    flow = Flow(shipped, unsold, opt.flow.unmet, opt.flow.objective)
    dense = opt.dense
    if dense is not None:
        # a second-stage node's row is the first stage's row of the same offer (any node: equal rows)
        row = np.full(n_offers, -1, np.int64)
        row[first.origin] = np.arange(first.size)
        dense = dense.take(row[second.origin], problem.supply)
    table = opt.table
    if table is not None:
        # a lane table is the complete lane list, and a main node new in this stage (an offer that was all
        # floor, with floor kg unsold) has lanes in it too: the second stage solves on every allowed lane
        # of the table, the carried kg on theirs, the others at zero
        table = given_lanes(problem, options)
        every = allowed(problem, table, options.scale)
        n = problem.demand.size
        every = every.take(np.argsort(every.offer * n + every.demand, kind="stable"))
        key, want = every.offer * n + every.demand, lanes.offer * n + lanes.demand
        at = np.minimum(np.searchsorted(key, want), max(every.size - 1, 0))
        if len(want) and (every.size == 0 or np.any(key[at] != want)):
            raise SolverError("a carried lane is not an allowed lane of the table")
        full = np.zeros(every.size, np.int64)
        full[at] = shipped
        lanes, flow = every, Flow(full, unsold, opt.flow.unmet, opt.flow.objective)
    return Optimum(
        lanes,
        solver_margin(problem, lanes, options.scale),
        flow,
        opt.u,
        opt.w,
        False,
        dense,
        table,
        opt.considered,
        opt.mode,
        opt.rounds,
        opt.pivots,
        opt.clock,
    )


def _fold(problem: ProductProblem, nodes: _Nodes, solution: ProductSolution) -> ProductSolution:
    """The second stage's solution over the offers: an offer's two nodes' kg on a lane added up, its
    premium the main node's dual (``max(0, v)`` without one), its reach the main node's."""
    m, n = problem.supply.size, problem.demand.size
    lanes = solution.lanes
    offer = nodes.origin[lanes.offer]
    key = offer * n + lanes.demand
    cells, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    shipped = np.bincount(inverse, weights=solution.shipped, minlength=len(cells)).astype(np.int64)
    picked = lanes.take(first)
    folded = Lanes(offer[first], picked.demand, picked.distance_km, picked.transit_days, picked.cost_per_kg, picked.margin)
    unsold = np.bincount(nodes.origin, weights=solution.unsold, minlength=m).astype(np.int64)
    main, flo = nodes.index(m, False), nodes.index(m, True)
    u = np.zeros(m)
    reach = np.zeros(m, np.int8)
    has_main = main >= 0
    u[has_main] = solution.u[main[has_main]]
    reach[has_main] = solution.offer_reach[main[has_main]]
    only_floor = ~has_main & (flo >= 0)
    u[only_floor] = np.maximum(solution.u[flo[only_floor]], 0.0)
    reach[only_floor] = solution.offer_reach[flo[only_floor]]
    network = solution.network
    if network is not None:
        network = Lanes(nodes.origin[network.offer], network.demand, network.distance_km, network.transit_days, network.cost_per_kg, network.margin)
    return replace(solution, lanes=folded, shipped=shipped, unsold=unsold, u=u, offer_reach=reach, network=network)


def _reasons(problem: ProductProblem, opt: Optimum, nodes: _Nodes, sold: I64, floor: I64, cap: int, options: SolveOptions) -> NDArray[np.int8]:
    """Per offer: no floor, met, or why not (:data:`FLOOR_REASONS`), from the first stage's lanes."""
    m = len(floor)
    reason = np.where(floor == 0, NONE, np.where(sold >= floor, MET, DEMAND_TAKEN)).astype(np.int8)
    short = np.flatnonzero((floor > 0) & (sold == 0))
    if len(short) == 0:
        return reason
    node = nodes.index(m, True)[short]
    if opt.dense is not None:
        rows = opt.dense.margin[node]
        allowed = (rows >= -cap).any(axis=1)
        feasible = (rows > opt.dense.no_lane).any(axis=1)
    else:
        allowed = np.isin(node, opt.lanes.offer)  # every lane of the set is allowed to its node
        feasible = allowed.copy()
        lonely = ~allowed
        if lonely.any():
            allowed[lonely], feasible[lonely] = _search(problem, opt, node[lonely], cap, options)
    reason[short] = np.where(allowed, DEMAND_TAKEN, np.where(feasible, BEYOND_CAP, NO_LANE))
    return reason


def _search(problem: ProductProblem, opt: Optimum, node: I64, cap: int, options: SolveOptions) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    """Whether each floor node has an allowed lane, and any feasible lane, over every region (or the
    given table)."""
    allowed = np.zeros(problem.supply.size, np.bool_)
    feasible = np.zeros(problem.supply.size, np.bool_)
    blocks: list[Lanes] = []
    if opt.table is not None:
        blocks.append(opt.table.take(np.isin(opt.table.offer, node)))
    else:
        for o, r in all_pairs(node, demand_regions(problem.demand)):
            blocks.append(lanes_for_pairs(o, r, problem.supply, problem.demand, problem.hubs, options.costs))
    for block in blocks:
        feasible[block.offer] = True
        ok = np.rint(block.margin * options.scale) >= -cap
        allowed[block.offer[ok]] = True
    return allowed[node], feasible[node]
