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
        return {"status": "Optimal", "optimal": True, "objective": 0.0, "x": np.zeros(0),
                "build_seconds": 0.0, "solve_seconds": 0.0}
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
