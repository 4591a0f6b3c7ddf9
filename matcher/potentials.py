"""Prices from an optimal flow: dual values read off the residual network.

The LP dual of the transportation problem (see :mod:`matcher.flow`) is::

    minimize    sum_i q_i u_i + sum_j d_j w_j
    subject to  u_i + w_j >= M_ij   on every lane,    u, w >= 0

Complementary slackness with an optimal flow: ``u_i + w_j = M_ij`` where a lane ships, ``u_i = 0``
where an offer has unsold kg, ``w_j = 0`` where a row has unmet kg. Prices per kg follow:
farm-gate ``f_i = ask_i + u_i``, clearing ``p_j = bid_j - w_j``, and ``f_i + c_ij >= p_j`` everywhere,
with equality where goods move.

OR-Tools' min-cost flow gives no duals, so we derive them: node potentials ``pi`` with
``pi_v <= pi_u + cost(u, v)`` on every residual arc are exactly the dual solutions (``u_i = pi_i``,
``w_j = -pi_j``, ``pi_D = 0``). Residual arcs, with lanes uncapacitated (their bound never binds):

    i -> j  cost -M_ij   every lane            j -> i  cost +M_ij   a lane that ships
    i -> D  cost 0       every offer           D -> i  cost 0       an offer with unsold kg
    D -> j  cost 0       every demand row      j -> D  cost 0       a row with unmet kg

Shortest-path distances from ``D`` are the largest potentials (the highest farm-gate and clearing
prices any optimum supports); minus the distances to ``D`` are the smallest. Both are exact integers
(the graph has negative arcs but, the flow being optimal, no negative cycle: a compiled first-in-
first-out Bellman-Ford, :func:`shortest_distances`).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from harvestmatch.errors import SolverError
from harvestmatch.kernels import kernel
from matcher.flow import Flow
from matcher.params import PriceRule

I64 = NDArray[np.int64]
F64 = NDArray[np.float64]


def potentials(
    n_offers: int,
    n_rows: int,
    lane_offer: I64,
    lane_demand: I64,
    lane_margin: I64,
    flow: Flow,
    *,
    rule: PriceRule = "farmer",
) -> tuple[F64, F64]:
    """Dual values ``(u, w)`` in the integer cost units, one per offer and one per demand row.

    Parameters
    ----------
    rule
        ``"farmer"``: the largest duals (highest prices for cooperatives; buyers pay the most any
        optimum supports); ``"buyer"``: the smallest; ``"midpoint"``: their average, also a dual
        optimum (the set of dual optima is convex).

    Raises
    ------
    SolverError
        When the residual network has a negative cycle, i.e. the flow was not optimal.
    """
    n = n_offers + n_rows + 1
    slack = n - 1
    offers = np.arange(n_offers, dtype=np.int64)
    rows = np.arange(n_offers, slack, dtype=np.int64)
    ships = flow.shipped > 0
    unsold = flow.unsold > 0
    unmet = flow.unmet > 0
    tails = np.concatenate([lane_offer, lane_demand[ships] + n_offers, offers, np.full(int(unsold.sum()), slack), np.full(n_rows, slack), rows[unmet]])
    heads = np.concatenate([lane_demand + n_offers, lane_offer[ships], np.full(n_offers, slack), offers[unsold], rows, np.full(int(unmet.sum()), slack)])
    weights = np.zeros(len(tails), dtype=np.float64)
    weights[: len(lane_margin)] = -lane_margin
    weights[len(lane_margin) : len(lane_margin) + int(ships.sum())] = lane_margin[ships]

    if rule in ("farmer", "midpoint"):
        high = shortest_distances(tails, heads, weights, n, slack)
    if rule in ("buyer", "midpoint"):
        low = -shortest_distances(heads, tails, weights, n, slack)  # distances *to* the slack node
    pi = high if rule == "farmer" else low if rule == "buyer" else (high + low) / 2.0
    if not np.all(np.isfinite(pi)):
        raise SolverError("the residual network is not connected to the slack node")
    u = pi[:n_offers]
    w = -pi[n_offers:slack]
    u[u == 0] = 0.0  # no negative zeros in the output
    w[w == 0] = 0.0
    return u, w


def shortest_distances(tails: I64, heads: I64, weights: F64, n: int, source: int) -> F64:
    """Shortest-path distances from ``source`` on a graph with negative arcs and no negative cycle.

    Bellman-Ford in first-in-first-out order (a node is scanned again only when its label improved),
    compiled: residual networks of transportation optima have short shortest paths, so each node is
    scanned a few times; a node relabelled ``n`` times proves a negative cycle.

    Raises
    ------
    SolverError
        On a negative cycle (the flow was not optimal).
    """
    order = np.argsort(tails, kind="stable")
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(tails, minlength=n), out=indptr[1:])
    dist = _bellman_ford(indptr, np.ascontiguousarray(heads[order], np.int64), np.ascontiguousarray(weights[order], np.float64), source)
    if dist is None:
        raise SolverError("the flow is not optimal: its residual network has a negative cycle")
    return dist


@kernel(cache=True)
def _bellman_ford(indptr, head, weight, source):  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    n = indptr.shape[0] - 1
    dist = np.full(n, np.inf)
    dist[source] = 0.0
    queued = np.zeros(n, np.bool_)
    relabels = np.zeros(n, np.int64)
    queue = np.empty(n, np.int64)  # a ring: at most n nodes are queued at once
    queue[0] = source
    queued[source] = True
    lo, size = 0, 1
    while size > 0:
        v = queue[lo]
        lo = lo + 1 if lo + 1 < n else 0
        size -= 1
        queued[v] = False
        dv = dist[v]
        for k in range(indptr[v], indptr[v + 1]):
            w = head[k]
            label = dv + weight[k]
            if label < dist[w]:
                dist[w] = label
                relabels[w] += 1
                if relabels[w] >= n:
                    return None
                if not queued[w]:
                    queued[w] = True
                    at = lo + size
                    queue[at if at < n else at - n] = w
                    size += 1
    return dist


def check_certificate(lane_offer: I64, lane_demand: I64, lane_margin: I64, flow: Flow, u: F64 | I64, w: F64 | I64) -> None:
    """Raise :class:`SolverError` unless ``(flow, u, w)`` satisfy the optimality certificate exactly.

    Dual feasibility on the given lanes, complementary slackness on shipped lanes, unsold offers and
    unmet rows. Integer arithmetic (duals are integers or half-integers in the scaled units).
    """
    reduced = lane_margin - u[lane_offer] - w[lane_demand]
    problems = []
    if np.any(u < 0) or np.any(w < 0):
        problems.append("a negative dual")
    if np.any(reduced > 0):
        problems.append(f"{int((reduced > 0).sum())} lanes with positive reduced cost")
    if np.any(reduced[flow.shipped > 0] != 0):
        problems.append("a shipping lane off its prices")
    if np.any(u[flow.unsold > 0] != 0) or np.any(w[flow.unmet > 0] != 0):
        problems.append("a price premium on an offer or row that is not cleared")
    if problems:
        raise SolverError("price certificate failed: " + "; ".join(problems))
