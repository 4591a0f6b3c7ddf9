"""The exact solve of one product's transportation problem as a min-cost flow (OR-Tools).

The model, with lanes ``l = (i, j)`` and integer margins ``M_l`` (money per kg times the cost scale)::

    maximize    sum_l M_l x_l
    subject to  sum_{l leaving i} x_l + s_i = q_i     for every offer i     (s_i: unsold kg)
                sum_{l entering j} x_l + t_j = d_j    for every demand row j (t_j: unmet kg)
                x, s, t >= 0, integer

As a network: one node per offer with supply ``q_i``, one per demand row with supply ``-d_j``, and one
slack node ``D`` with supply ``sum d - sum q`` so that supplies balance. Arcs: ``i -> j`` at cost
``-M_l`` for every lane, ``i -> D`` (unsold) and ``D -> j`` (unmet) at cost 0. The constraint matrix is
totally unimodular, so the integer optimum is the LP optimum.

Arcs go to OR-Tools through its array API in one call each; nothing here loops per arc.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from harvestmatch.errors import SolverError

I64 = NDArray[np.int64]

#: every integer the solver or our checks form stays below this (a quarter of int64's range)
INT_BUDGET = 2**61


@dataclass(frozen=True)
class Flow:
    """An optimal flow: kg per lane, unsold kg per offer, unmet kg per demand row, scaled objective."""

    shipped: I64
    unsold: I64
    unmet: I64
    objective: int


def solve_flow(supply_kg: I64, demand_kg: I64, lane_offer: I64, lane_demand: I64, lane_margin: I64) -> Flow:
    """Solve the transportation problem above exactly.

    Parameters
    ----------
    supply_kg, demand_kg
        ``q_i`` per offer and ``d_j`` per demand row, positive integers.
    lane_offer, lane_demand, lane_margin
        One entry per lane: offer index, demand row index, integer margin ``M_l > 0``.

    Returns
    -------
    Flow

    Raises
    ------
    SolverError
        When OR-Tools ends in any status but OPTIMAL, or its objective disagrees with the flow's.
    """
    n_off, n_dem = len(supply_kg), len(demand_kg)
    slack = n_off + n_dem
    n_lanes = len(lane_offer)
    if n_lanes == 0:
        return Flow(np.zeros(0, np.int64), supply_kg.copy(), demand_kg.copy(), 0)

    offers = np.arange(n_off, dtype=np.int32)
    rows = np.arange(n_off, slack, dtype=np.int32)
    tails = np.concatenate([lane_offer.astype(np.int32), offers, np.full(n_dem, slack, np.int32)])
    heads = np.concatenate([(lane_demand + n_off).astype(np.int32), np.full(n_off, slack, np.int32), rows])
    capacity = np.concatenate([np.minimum(supply_kg[lane_offer], demand_kg[lane_demand]), supply_kg, demand_kg]).astype(np.int64)
    cost = np.concatenate([-lane_margin, np.zeros(n_off + n_dem, np.int64)]).astype(np.int64)

    from ortools.graph.python import min_cost_flow  # only --solver ortools pays its import

    smcf = min_cost_flow.SimpleMinCostFlow()
    arcs = smcf.add_arcs_with_capacity_and_unit_cost(tails, heads, capacity, cost)
    nodes = np.arange(slack + 1, dtype=np.int32)
    supplies = np.concatenate([supply_kg, -demand_kg, [int(demand_kg.sum()) - int(supply_kg.sum())]])
    smcf.set_nodes_supplies(nodes, supplies.astype(np.int64))
    status = smcf.solve()
    if status != smcf.OPTIMAL:
        raise SolverError(f"min-cost flow ended with status {_status_name(status)}, not OPTIMAL")

    flows = np.asarray(smcf.flows(np.asarray(arcs)), dtype=np.int64)
    shipped = flows[:n_lanes]
    unsold = flows[n_lanes : n_lanes + n_off]
    unmet = flows[n_lanes + n_off :]
    objective = int(np.dot(shipped, lane_margin))  # exact: the cost scale keeps it below INT_BUDGET
    if objective != -smcf.optimal_cost():
        raise SolverError(f"min-cost flow objective {-smcf.optimal_cost()} disagrees with the flow's {objective}: an integer overflow; lower the cost scale")
    return Flow(shipped, unsold, unmet, objective)


def _status_name(status: object) -> str:
    return getattr(status, "name", str(status))
