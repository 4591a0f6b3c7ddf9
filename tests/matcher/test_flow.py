from __future__ import annotations

import numpy as np
import pytest

from harvestmatch.errors import SolverError
from matcher.cycle import cost_scale
from matcher.flow import INT_BUDGET, Flow, solve_flow
from matcher.potentials import check_certificate, potentials

# two offers, two rows; the best plan ships o0->d1 and o1->d0
Q = np.array([10, 10])
D = np.array([10, 10])
LO, LD = np.array([0, 0, 1, 1]), np.array([0, 1, 0, 1])
M = np.array([5, 9, 6, 2])


def test_flow_is_the_optimum() -> None:
    flow = solve_flow(Q, D, LO, LD, M)
    assert flow.shipped.tolist() == [0, 10, 10, 0]
    assert flow.objective == 150


@pytest.mark.parametrize("rule", ["farmer", "buyer", "midpoint"])
def test_duals_pass_the_certificate(rule: str) -> None:
    flow = solve_flow(Q, D, LO, LD, M)
    u, w = potentials(2, 2, LO, LD, M, flow, rule=rule)
    check_certificate(LO, LD, M, flow, u, w)
    assert float(Q @ u + D @ w) == flow.objective  # strong duality


def test_a_suboptimal_flow_has_no_prices() -> None:
    bad = Flow(np.array([10, 0, 0, 10]), np.array([0, 0]), np.array([0, 0]), 70)
    with pytest.raises(SolverError, match="negative cycle"):
        potentials(2, 2, LO, LD, M, bad)


def test_certificate_catches_wrong_prices() -> None:
    flow = solve_flow(Q, D, LO, LD, M)
    with pytest.raises(SolverError, match="price certificate failed"):
        check_certificate(LO, LD, M, flow, np.zeros(2), np.zeros(2))


def test_no_lanes_leaves_everything() -> None:
    flow = solve_flow(Q, D, np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64))
    assert flow.unsold.tolist() == [10, 10] and flow.unmet.tolist() == [10, 10] and flow.objective == 0


@pytest.mark.parametrize(
    ("margin", "nodes", "flow", "scale"),
    [(10.0, 1_000, 10**6, 10**7), (50.0, 10**4, 10**11, 10**5), (1e6, 10**6, 10**12, 1)],
)
def test_cost_scale_keeps_integers_in_budget(margin: float, nodes: int, flow: int, scale: int) -> None:
    got = cost_scale(margin, nodes, flow)
    assert got == scale
    assert got == 1 or got * margin * max(nodes + 1, flow) <= INT_BUDGET
