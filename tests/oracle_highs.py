"""The independent oracle: the transportation LP solved by HiGHS (highspy).

OR-Tools and highspy each bundle HiGHS and cannot share a process (their symbols clash), so this
module imports nothing from harvestmatch and is run in a separate worker process by the tests and the
benchmark. Model: maximize sum margin_l x_l, sum over an offer's lanes <= q_i, over a row's lanes <= d_j.
"""

from __future__ import annotations

import time

import numpy as np


def lp_optimum(
    n_offers: int,
    n_rows: int,
    lane_offer: np.ndarray,
    lane_demand: np.ndarray,
    margin: np.ndarray,
    supply_kg: np.ndarray,
    demand_kg: np.ndarray,
    *,
    solver: str = "simplex",
    time_limit: float = 3600.0,
) -> dict:
    """Solve with HiGHS; return objective, primal values, status and seconds (build and solve)."""
    import highspy

    started = time.perf_counter()
    n_lanes = len(margin)
    if n_lanes == 0:  # HiGHS calls a model without columns "Empty"; its optimum is 0
        return {"status": "Optimal", "optimal": True, "objective": 0.0, "x": np.zeros(0), "build_seconds": 0.0, "solve_seconds": 0.0}
    lp = highspy.HighsLp()
    lp.num_col_ = n_lanes
    lp.num_row_ = n_offers + n_rows
    lp.col_cost_ = -np.asarray(margin, dtype=np.float64)
    lp.col_lower_ = np.zeros(n_lanes)
    lp.col_upper_ = np.full(n_lanes, highspy.kHighsInf)
    lp.row_lower_ = np.full(n_offers + n_rows, -highspy.kHighsInf)
    lp.row_upper_ = np.concatenate([supply_kg, demand_kg]).astype(np.float64)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = np.arange(0, 2 * n_lanes + 1, 2, dtype=np.int32)
    index = np.empty(2 * n_lanes, dtype=np.int32)
    index[0::2] = lane_offer
    index[1::2] = n_offers + np.asarray(lane_demand)
    lp.a_matrix_.index_ = index
    lp.a_matrix_.value_ = np.ones(2 * n_lanes)
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("solver", solver)
    h.setOptionValue("time_limit", float(time_limit))
    h.setOptionValue("threads", 1)
    h.passModel(lp)
    built = time.perf_counter()
    h.run()
    solved = time.perf_counter()
    status = h.getModelStatus()
    x = np.asarray(h.getSolution().col_value) if n_lanes else np.zeros(0)
    return {
        "status": h.modelStatusToString(status),
        "optimal": status == highspy.HighsModelStatus.kOptimal,
        "objective": float(-h.getInfo().objective_function_value) if n_lanes else 0.0,
        "x": x,
        "build_seconds": built - started,
        "solve_seconds": solved - built,
    }


def lp_floor_optimum(
    n_offers: int,
    n_rows: int,
    lane_offer: np.ndarray,
    lane_demand: np.ndarray,
    margin: np.ndarray,
    supply_kg: np.ndarray,
    demand_kg: np.ndarray,
    floor_kg: np.ndarray,
) -> dict:
    """The safety net's lexicographic optimum by two LPs (HiGHS): first the most floor kg sold, then the
    most welfare among the allocations that sell that many.

    Lanes are every lane a floor may use (margin at least minus the subsidy cap; no other lane can help).
    Variables: ``x_l >= 0`` per lane, ``0 <= y_i <= floor_i`` per offer (floor kg sold); rows: an offer's
    lanes ``<= q_i``, a demand row's ``<= d_j``, ``y_i <= sum of offer i's lanes``; stage two adds
    ``sum y >= floor sold`` of stage one. Returns the floor kg sold, the welfare, and the status."""
    import highspy

    n_lanes = len(margin)
    n_cols = n_lanes + n_offers

    def solve(cost: np.ndarray, least_floor: float | None) -> tuple[bool, float, np.ndarray]:
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        h.setOptionValue("threads", 1)
        inf = highspy.kHighsInf
        lower = np.zeros(n_cols)
        upper = np.concatenate([np.full(n_lanes, inf), np.asarray(floor_kg, np.float64)])
        h.addVars(n_cols, lower, upper)
        h.changeColsCost(n_cols, np.arange(n_cols, dtype=np.int32), np.asarray(-cost, np.float64))
        lanes = np.arange(n_lanes, dtype=np.int32)
        for i in range(n_offers):
            mine = lanes[np.asarray(lane_offer) == i]
            h.addRow(-inf, float(supply_kg[i]), len(mine), mine, np.ones(len(mine)))
            # y_i - sum x <= 0
            idx = np.concatenate([mine, [n_lanes + i]]).astype(np.int32)
            h.addRow(-inf, 0.0, len(idx), idx, np.concatenate([-np.ones(len(mine)), [1.0]]))
        for j in range(n_rows):
            mine = lanes[np.asarray(lane_demand) == j]
            h.addRow(-inf, float(demand_kg[j]), len(mine), mine, np.ones(len(mine)))
        if least_floor is not None:
            ys = np.arange(n_lanes, n_cols, dtype=np.int32)
            h.addRow(least_floor, inf, len(ys), ys, np.ones(len(ys)))
        h.run()
        ok = h.getModelStatus() == highspy.HighsModelStatus.kOptimal
        x = np.asarray(h.getSolution().col_value)
        return ok, float(-h.getInfo().objective_function_value), x

    ok1, floor_sold, _ = solve(np.concatenate([np.zeros(n_lanes), np.ones(n_offers)]), None)
    floor_sold = float(round(floor_sold))  # an integral optimum: the constraint matrix is totally unimodular
    ok2, welfare, x = solve(np.concatenate([np.asarray(margin, np.float64), np.zeros(n_offers)]), floor_sold)
    return {"optimal": ok1 and ok2, "floor_sold": floor_sold, "welfare": welfare if n_cols else 0.0}
