"""One product's exact solve: a lane set that grows until duals prove that no omitted lane helps.

Considering every feasible lane at once means millions of lanes per product (billions nationally), so
the solve starts from a small lane set and proves optimality by pricing (column generation on a network):

1. start: the lanes most likely to matter (below, per pricing mode), and a starting flow: greedy by
   margin, or, when the offers carry the previous cycle's prices, greedy by the reduced cost those
   prices give (:mod:`matcher.warm`; a warm start changes the time, not the optimum nor the prices);
2. solve the transportation problem on the current lanes (:mod:`matcher.simplex`, warm from the last
   round's basis; or OR-Tools' min-cost flow, cold, with ``solver="ortools"``), read duals ``u, w`` and
   check the optimality certificate on the current lanes (:func:`matcher.potentials.check_certificate`);
3. price every feasible lane left out: its reduced cost is ``M_ij - u_i - w_j``;
4. when some lane has positive reduced cost, add the best few per offer and per demand row and go to 2;
   when none is left, the flow is optimal over all feasible lanes;
5. prices by the cycle's price rule (:func:`matcher.potentials.potentials`: the farmer rule takes the
   largest duals that the final lane set supports); lanes those prices leave with a positive reduced
   cost are added (the flow stays optimal) until none is left, so the published prices are duals over
   every feasible lane, not only over the solved ones.

Pricing modes:

- **dense** (``offers x rows <= DENSE_CELLS``, :mod:`matcher.dense`): every cell's integer margin is
  computed once; the start is a greedy flow over every profitable cell (about 99% of the optimum on the
  national benchmark) on the greedy's cells plus each row's best ``k_row`` offers and each offer's best
  ``k_offer`` rows by margin, and each round is one compiled pass over the matrix. Reasons (no lane,
  not profitable) come from the matrix too.
- **bounded** (larger products, where the matrix would not fit in a worker's memory,
  :mod:`matcher.bounded`): each region with
  its ``k_nearest`` nearest offers and each offer with the ``k_best`` regions where its margin bound is
  highest; a round bounds the reduced cost of whole (offer, region) pairs by the regions' best clearing
  prices (``p_j <= P_r``: only pairs with ``f_i + c_ir < P_r`` can hold an improving lane) and prices
  exactly only those, adding lanes within a small look-ahead of improving (measured on the national
  benchmark, this cut the rounds by a third); an offer or row left with nothing and no profitable lane
  in the set is searched exhaustively, so its reason is exact.
- **given**: a given lane table (road distances, negotiated rates) is the complete lane list: it is
  solved once.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from harvestmatch.errors import SolverError
from matcher.bounded import improving_lanes, initial_lanes, reach, scaled_margins
from matcher.dense import DenseMargins, check_duals, fits
from matcher.flow import Flow, solve_flow
from matcher.params import MatchParams, Solver
from matcher.potentials import PriceRule, check_certificate, potentials
from matcher.simplex import TransportationSimplex
from matcher.warm import dense_start, lane_start, premiums
from regions.lanes import Demand, Hubs, LaneCosts, Lanes, Supply, lanes_for_pairs

I64 = NDArray[np.int64]
F64 = NDArray[np.float64]


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
    #: per offer, the whole kg the safety net's floor tries to sell (:mod:`matcher.floor`); None: no floor
    floor_kg: I64 | None = None
    #: per supply node, added to the scaled margin of each of its lanes (the safety net's floor nodes,
    #: :mod:`matcher.floor`); None: no bonus
    bonus: I64 | None = None
    #: per supply node, the lowest scaled margin of a lane it may use; None: 1 (profitable lanes only)
    lower: I64 | None = None

    def node_bonus(self) -> I64:
        return self.bonus if self.bonus is not None else np.zeros(self.supply.size, np.int64)

    def node_lower(self) -> I64:
        return self.lower if self.lower is not None else np.ones(self.supply.size, np.int64)


@dataclass(frozen=True)
class SolveOptions:
    """How to solve: solver, lane costs, integer scale, starting lanes, lanes added per round, price rule.

    Dense pricing starts from a greedy flow over every cell plus each row's ``k_row`` and each
    offer's ``k_offer`` best cells by margin, and a round adds as many by reduced cost (the defaults
    were the fastest of those measured on the national benchmark). Bounded pricing starts from ``k_nearest`` offers per
    region and ``k_best`` regions per offer; a round adds at most ``lanes_per_round`` lanes per offer
    and ``lanes_per_row`` per demand row, taken from the lanes whose reduced cost is above
    ``-lookahead`` times the product's median bid. ``dense=False`` forces bounded pricing. None of them
    changes the optimum, only how fast it is reached. What a cycle's parameters also set (solver,
    ``k_nearest``, price rule, rounds, the floor's subsidy cap) defaults to :class:`MatchParams`'
    declaration; :meth:`of` takes them from a cycle's parameters.
    """

    costs: LaneCosts
    scale: int
    solver: Solver = MatchParams.solver
    dense: bool = True
    k_row: int = 1
    k_offer: int = 16
    k_nearest: int = MatchParams.k_nearest
    k_best: int = 4
    lanes_per_round: int = 16
    lanes_per_row: int = 8
    lookahead: float = 0.01
    price_rule: PriceRule = MatchParams.price_rule
    max_rounds: int = MatchParams.max_rounds
    max_subsidy_per_kg: float = MatchParams.max_subsidy_per_kg  # how far below zero a floor's lane margin may go (matcher.floor)
    keep_network: bool = False  # return the final lane set (benchmarks re-solve it)

    @classmethod
    def of(cls, params: MatchParams, *, scale: int, dense: bool = True, keep_network: bool = False) -> SolveOptions:
        """The options of a cycle run with ``params`` at the integer cost ``scale``."""
        return cls(
            costs=params.costs,
            scale=scale,
            solver=params.solver,
            dense=dense,
            k_nearest=params.k_nearest,
            price_rule=params.price_rule,
            max_rounds=params.max_rounds,
            max_subsidy_per_kg=params.max_subsidy_per_kg,
            keep_network=keep_network,
        )


@dataclass(frozen=True)
class FloorOutcome:
    """One product's safety-net floor (:mod:`matcher.floor`), per offer, and the welfare it cost (scaled
    integers). ``reason`` indexes ``matcher.floor.FLOOR_REASONS``."""

    floor_kg: I64
    floor_sold: I64  # kg sold through the floor node, at most floor_kg
    dual: F64  # lambda per kg, money; NaN where no floor kg sold
    subsidy: F64  # money the platform pays the offer's floor kg
    reason: NDArray[np.int8]  # index into FLOOR_REASONS
    objective_without_floor: int


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
    pivots: int = 0  # simplex pivots (0 with OR-Tools)
    pricing: str = "bounded"  # dense, bounded or given
    seconds: dict[str, float] = field(default_factory=dict)
    network: Lanes | None = None  # the final lane set, when SolveOptions.keep_network
    floor: FloorOutcome | None = None  # the safety net's floor, when the problem has one
    #: with expected refunds: the welfare, at the refund-aware margins, of the optimum that ignores them
    welfare_if_quality_ignored: float | None = None


def solve(problem: ProductProblem, options: SolveOptions) -> ProductSolution:
    """Solve one product exactly over all its feasible lanes (the module docstring), as given: no merging
    of identical offers, no floor (:func:`matcher.solve.solve_product` does both).

    Raises
    ------
    SolverError
        When the solver fails, a certificate check fails, or the pricing loop exceeds ``max_rounds``.
    """
    return finish(problem, options, optimize(problem, options))


@dataclass
class Optimum:
    """Where the pricing loop ended: a flow optimal over every feasible lane, the lane set that proves
    it, and what :func:`finish` needs to publish prices and reasons."""

    lanes: Lanes
    margin: I64  # the solver's margins: scaled lane margins plus the node's bonus
    flow: Flow
    u: NDArray[np.int64] | F64
    w: NDArray[np.int64] | F64
    rule_duals: bool  # whether u, w are already the price rule's
    dense: DenseMargins | None
    table: Lanes | None  # a given lane table, whole
    considered: int
    mode: str
    rounds: int
    pivots: int
    clock: _Clock


def optimize(problem: ProductProblem, options: SolveOptions) -> Optimum:
    """Steps 1-4 of the module docstring: the optimal flow over every feasible lane.

    Raises
    ------
    SolverError
        When the solver fails, a certificate check fails, or the pricing loop exceeds ``max_rounds``.
    """
    clock = _Clock()
    supply, demand = problem.supply, problem.demand
    dense: DenseMargins | None = None
    table: Lanes | None = None
    start: I64 | None = None  # a starting flow on the first lanes (dense pricing: greedy over every cell)
    if problem.given is not None:
        table = given_lanes(problem, options)  # every lane of a given table
        lanes, considered, mode = allowed(problem, table, options.scale), table.size, "given"
    elif options.dense and fits(supply, demand):
        dense = DenseMargins.build(supply, demand, problem.hubs, options.costs, options.scale)
        zero = -2 * problem.node_bonus(), np.zeros(demand.size, np.int64)
        more_offer, more_row = dense.best_cells(*zero, options.k_row, options.k_offer, problem.node_lower())
        warm = _warm(problem, options)
        if warm is None:
            offer, row, kg = dense.greedy(problem.supply_kg, problem.demand_kg)
        else:  # from the previous cycle's prices: their greedy flow and tight cells (matcher.warm)
            offer, row, kg, tight = dense_start(dense, *warm, problem.supply_kg, problem.demand_kg, options.k_row, options.k_offer, problem.node_lower())
            more_offer, more_row = np.concatenate([more_offer, tight[0]]), np.concatenate([more_row, tight[1]])
        cell = np.union1d(offer * demand.size + row, more_offer * demand.size + more_row)
        start = np.zeros(len(cell), np.int64)  # the greedy's kg, on its cells
        start[np.searchsorted(cell, offer * demand.size + row)] = kg
        lanes, considered, mode = dense.lanes(cell // demand.size, cell % demand.size), supply.size * demand.size, "dense"
    else:
        first = initial_lanes(supply, demand, problem.hubs, options.costs, k_nearest=options.k_nearest, k_best=options.k_best)
        lanes = allowed(problem, first, options.scale)
        considered, mode = lanes.size, "bounded"
    clock.lap("lanes")

    margin = solver_margin(problem, lanes, options.scale)
    warm = _warm(problem, options) if mode == "given" else None  # bounded pricing starts cold (matcher.warm)
    if warm is not None:
        start = lane_start(supply.size, demand.size, lanes.offer, lanes.demand, margin, *warm, problem.supply_kg, problem.demand_kg)
    engine: _Engine = _Simplex(problem, lanes, margin, start) if options.solver == "simplex" else _OrTools(problem, lanes, margin, options.price_rule)
    rounds = 0
    while True:
        rounds += 1
        flow, u, w = engine.solve()
        clock.lap("solve")
        check_certificate(lanes.offer, lanes.demand, margin, flow, u, w)
        clock.lap("prices")
        if mode == "given":
            break
        extra, evaluated = _price(problem, options, dense, u, w, lanes)
        considered += evaluated if dense is None else 0
        clock.lap("pricing")
        if extra.size == 0:
            break
        if rounds >= options.max_rounds:
            raise SolverError(f"product {problem.product!r}: {extra.size} improving lanes remain after {rounds} pricing rounds (max_rounds)")
        lanes = Lanes.concat([lanes, extra])
        extra_margin = solver_margin(problem, extra, options.scale)
        margin = np.concatenate([margin, extra_margin])
        engine.add(extra, extra_margin)
    return Optimum(lanes, margin, flow, u, w, engine.rule_duals, dense, table, considered, mode, rounds, engine.pivots, clock)


def finish(problem: ProductProblem, options: SolveOptions, opt: Optimum) -> ProductSolution:
    """Step 5 of the module docstring (prices by the price rule, over every feasible lane), then the
    reasons; the solution names the problem's supply nodes.

    Raises
    ------
    SolverError
        When a certificate check fails.
    """
    supply, demand, clock = problem.supply, problem.demand, opt.clock
    lanes, margin, flow, u, w, dense, mode, considered = opt.lanes, opt.margin, opt.flow, opt.u, opt.w, opt.dense, opt.mode, opt.considered
    while not opt.rule_duals:
        u, w = potentials(supply.size, demand.size, lanes.offer, lanes.demand, margin, flow, rule=options.price_rule)
        check_certificate(lanes.offer, lanes.demand, margin, flow, u, w)
        clock.lap("prices")
        if mode == "given":
            break
        extra, _ = _price(problem, options, dense, u, w, lanes)
        clock.lap("pricing")
        if extra.size == 0:
            break
        lanes = Lanes.concat([lanes, extra])
        margin = np.concatenate([margin, solver_margin(problem, extra, options.scale)])
        flow = Flow(np.concatenate([flow.shipped, np.zeros(extra.size, np.int64)]), flow.unsold, flow.unmet, flow.objective)

    if dense is not None:
        offer_reach, row_reach = dense.offer_reach, dense.row_reach
    else:
        offer_reach, row_reach, evaluated = reach(
            supply,
            demand,
            problem.hubs,
            options.costs,
            lanes,
            sold_nothing=flow.unsold == problem.supply_kg,
            got_nothing=flow.unmet == problem.demand_kg,
            scale=options.scale,
            table=opt.table,
        )
        considered += evaluated
    clock.lap("reasons")
    ships = flow.shipped > 0
    return ProductSolution(
        product=problem.product,
        lanes=lanes.take(ships),
        shipped=flow.shipped[ships],
        unsold=flow.unsold,
        unmet=flow.unmet,
        u=(np.asarray(u, np.float64) - problem.node_bonus()) / options.scale,
        w=np.asarray(w, np.float64) / options.scale,
        offer_reach=offer_reach,
        row_reach=row_reach,
        objective=flow.objective,
        rounds=opt.rounds,
        lanes_considered=considered,
        lanes_solved=lanes.size,
        pivots=opt.pivots,
        pricing=mode,
        seconds=clock.seconds,
        network=lanes if options.keep_network else None,
    )


def _warm(problem: ProductProblem, options: SolveOptions) -> tuple[I64, NDArray[np.bool_]] | None:
    """The previous cycle's premiums (:func:`matcher.warm.premiums`), or None for a cold start (also for
    the safety net's floor nodes, whose duals carry a bonus)."""
    if problem.supply.previous_price is None or problem.bonus is not None:
        return None
    return premiums(problem.supply.previous_price, problem.supply.ask, options.scale)


def solver_margin(problem: ProductProblem, lanes: Lanes, scale: int) -> I64:
    """The margins the solver sees: each lane's scaled margin plus its supply node's bonus."""
    margin = scaled_margins(lanes.margin, scale)
    return margin if problem.bonus is None else margin + problem.bonus[lanes.offer]


class _Engine(Protocol):
    """A solver kept across pricing rounds: ``solve`` returns the flow and duals for pricing."""

    @property
    def rule_duals(self) -> bool:  # whether the duals it returns are already the price rule's
        ...

    @property
    def pivots(self) -> int: ...

    def solve(self) -> tuple[Flow, NDArray[np.int64] | F64, NDArray[np.int64] | F64]: ...

    def add(self, lanes: Lanes, margin: I64) -> None: ...


class _Simplex:
    """:class:`matcher.simplex.TransportationSimplex`, warm from the previous round's basis."""

    rule_duals = False

    def __init__(self, problem: ProductProblem, lanes: Lanes, margin: I64, flow: I64 | None) -> None:
        self.simplex = TransportationSimplex(problem.supply_kg, problem.demand_kg, lanes.offer, lanes.demand, margin, flow)

    @property
    def pivots(self) -> int:
        return self.simplex.pivots

    def solve(self) -> tuple[Flow, I64, I64]:
        r = self.simplex.solve()
        return Flow(r.shipped, r.unsold, r.unmet, r.objective), r.u, r.w

    def add(self, lanes: Lanes, margin: I64) -> None:
        self.simplex.add_lanes(lanes.offer, lanes.demand, margin)


class _OrTools:
    """OR-Tools' min-cost flow, solved afresh each round; duals by the price rule from its residuals."""

    rule_duals = True
    pivots = 0

    def __init__(self, problem: ProductProblem, lanes: Lanes, margin: I64, rule: PriceRule) -> None:
        self.problem, self.rule = problem, rule
        self.offer, self.demand, self.margin = lanes.offer, lanes.demand, margin

    def solve(self) -> tuple[Flow, F64, F64]:
        p = self.problem
        flow = solve_flow(p.supply_kg, p.demand_kg, self.offer, self.demand, self.margin)
        u, w = potentials(p.supply.size, p.demand.size, self.offer, self.demand, self.margin, flow, rule=self.rule)
        return flow, u, w

    def add(self, lanes: Lanes, margin: I64) -> None:
        self.offer = np.concatenate([self.offer, lanes.offer])
        self.demand = np.concatenate([self.demand, lanes.demand])
        self.margin = np.concatenate([self.margin, margin])


def _price(
    problem: ProductProblem,
    options: SolveOptions,
    dense: DenseMargins | None,
    u: NDArray[np.int64] | F64,
    w: NDArray[np.int64] | F64,
    current: Lanes,
) -> tuple[Lanes, int]:
    """The lanes to add after a solve (none when no feasible lane has positive reduced cost), and how
    many lanes were priced one by one."""
    if dense is None:
        return improving_lanes(
            problem.supply,
            problem.demand,
            problem.hubs,
            options.costs,
            np.asarray(u, np.float64),
            np.asarray(w, np.float64),
            current,
            scale=options.scale,
            bonus=problem.node_bonus(),
            lower=problem.node_lower(),
            lookahead=options.lookahead,
            per_offer=options.lanes_per_round,
            per_row=options.lanes_per_row,
        )
    # duals are integers (simplex) or half-integers (the midpoint rule): twice them is exact; a node's
    # bonus moves its dual, so the scan sees ``2M - (u2 - 2 bonus) - w2``
    u2 = np.rint(2 * np.asarray(u, np.float64)).astype(np.int64)
    w2 = np.rint(2 * np.asarray(w, np.float64)).astype(np.int64)
    check_duals(u2, w2)
    offer, row = dense.best_cells(u2 - 2 * problem.node_bonus(), w2, options.k_row, options.k_offer, problem.node_lower())
    return dense.lanes(offer, row), 0


def allowed(problem: ProductProblem, lanes: Lanes, scale: int) -> Lanes:
    """The lanes their supply node may use: profitable ones, or down to the node's ``lower`` margin."""
    return lanes.take(scaled_margins(lanes.margin, scale) >= problem.node_lower()[lanes.offer])


def given_lanes(problem: ProductProblem, options: SolveOptions) -> Lanes:
    """Every feasible lane of the given table, whatever its margin."""
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
    return lanes


class _Clock:
    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.seconds[stage] = self.seconds.get(stage, 0.0) + now - self._last
        self._last = now
