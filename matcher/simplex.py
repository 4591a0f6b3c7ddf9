"""A primal network simplex for the transportation problem, warm-startable after lanes are added.

The model (the same as :mod:`matcher.flow`), with offers ``i`` (``q_i`` kg), demand rows ``j`` (``d_j`` kg)
and integer lane margins ``M_ij``::

    maximize    sum_ij M_ij x_ij
    subject to  sum_j x_ij + s_i = q_i,   sum_i x_ij + t_j = d_j,   x, s, t >= 0

As a min-cost flow on nodes ``0..m-1`` (offers, supply ``q_i``), ``m..m+n-1`` (rows, supply ``-d_j``) and a
root ``r = m+n`` (supply ``sum d - sum q``), with arcs ``i -> r`` (unsold, cost 0, arc ``i``), ``r -> j``
(unmet, cost 0, arc ``m+j``) and one arc ``i -> j`` per lane at cost ``c = -M_ij``. No arc has an upper
bound, and no directed cycle exists (arcs go offer -> row, offer -> root, root -> row), so the problem is
bounded and every basis is a spanning tree ``T`` rooted at ``r``.

Basis and duals. Node potentials ``pi`` with ``pi_r = 0`` and ``c_a + pi_tail(a) - pi_head(a) = 0`` on every
tree arc. The reduced cost of an arc is ``rc_a = c_a + pi_tail(a) - pi_head(a)``; the basis is optimal when
``rc_a >= 0`` on every arc. Then ``u_i = pi_i`` and ``w_j = -pi_{m+j}`` are LP duals of the model above
(``u, w >= 0`` from the slack arcs, ``u_i + w_j >= M_ij`` from the lanes).

A pivot:

1. *Entering arc* (block search, as in LEMON): scan the arcs cyclically from where the last scan stopped,
   in blocks of ``B = ceil(sqrt(#arcs))``; after each block, if some arc had ``rc < 0``, take the most
   negative one of the scan so far.
2. *Cycle*: the entering arc ``e = (a, b)`` closes a cycle with the tree paths from ``a`` and ``b`` up to
   their join ``J``. Pushing ``delta`` along ``e`` raises the flow on the arcs the cycle traverses forward
   and lowers it on the others; ``delta`` is the least flow on a backward arc.
3. *Leaving arc* (strongly feasible trees, Cunningham 1976): among the blocking arcs, the last one met when
   the cycle is traversed in the direction of ``e`` starting at ``J``. A tree is strongly feasible when
   every tree arc with zero flow points away from the root; this rule keeps it so, and then no basis
   repeats: degenerate pivots (``delta = 0``) cannot cycle, and the method terminates.
4. *Update*: the subtree cut off by the leaving arc is re-hung from ``e`` (the tree path from ``e``'s end
   inside it up to the leaving arc is reversed), and every potential in it moves by ``+-rc_e``.

The starting basis is greedy: lanes by falling margin, each shipping ``min(q_i left, d_j left)``. Each
such step empties an offer or a row, so the shipping lanes form a forest with at most one node left
non-empty per tree; that node (or a row, when all are empty) hangs from the root by its slack arc, which
makes the tree strongly feasible. A warm start adds lanes at zero flow: the basis stays feasible and the
pivots go on from it.

Everything is in integers (``int64``): the potentials are sums of at most ``m+n`` lane costs, which the
caller's cost scale keeps far below the range (see :func:`matcher.cycle.cost_scale`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit
from numpy.typing import NDArray

I64 = NDArray[np.int64]


@njit(cache=True)
def _greedy(m: int, tail: I64, head: I64, cost: I64, q: I64, d: I64) -> I64:  # pragma: no cover - compiled
    """Flows of the greedy start: lanes by rising cost (falling margin), ties by index."""
    n_lanes = tail.shape[0]
    flow = np.zeros(n_lanes, np.int64)
    left_q = q.copy()
    left_d = d.copy()
    order = np.argsort(cost, kind="mergesort")
    for k in order:
        if cost[k] >= 0:
            break
        i = tail[k]
        j = head[k] - m
        x = min(left_q[i], left_d[j])
        if x > 0:
            flow[k] = x
            left_q[i] -= x
            left_d[j] -= x
    return flow


@njit(cache=True)
def _initial_tree(m, n, tail, head, cost, flow, q, d, offset, parent, pred, up, depth, pi, first, next_sib, prev_sib):  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    """Hang the greedy forest from the root (module docstring); fills the tree arrays and slack flows."""
    n_nodes = m + n + 1
    root = m + n
    n_lanes = tail.shape[0] - offset
    # residual kg per node after the greedy flows
    left = np.empty(m + n, np.int64)
    left[:m] = q
    left[m:] = d
    degree = np.zeros(m + n + 1, np.int64)
    for k in range(n_lanes):
        a = offset + k
        if flow[a] > 0:
            left[tail[a]] -= flow[a]
            left[head[a]] -= flow[a]
            degree[tail[a] + 1] += 1
            degree[head[a] + 1] += 1
    start = np.cumsum(degree)
    fill = start[:-1].copy()
    adj_arc = np.empty(start[-1], np.int64)
    for k in range(n_lanes):
        a = offset + k
        if flow[a] > 0:
            adj_arc[fill[tail[a]]] = a
            fill[tail[a]] += 1
            adj_arc[fill[head[a]]] = a
            fill[head[a]] += 1
    seen = np.zeros(m + n, np.bool_)
    queue = np.empty(m + n, np.int64)
    parent[root] = -1
    pred[root] = -1
    depth[root] = 0
    pi[root] = 0
    for s in range(m + n):
        if seen[s]:
            continue
        # the component of s, in BFS order
        seen[s] = True
        queue[0] = s
        lo, hi = 0, 1
        while lo < hi:
            v = queue[lo]
            lo += 1
            for t in range(start[v], start[v + 1]):
                a = adj_arc[t]
                w = head[a] if tail[a] == v else tail[a]
                if not seen[w]:
                    seen[w] = True
                    queue[hi] = w
                    hi += 1
        size = hi
        # a starting flow must be a forest (edges = nodes - 1) leaving at most one node non-empty
        edges = 0
        open_nodes = 0
        for t in range(size):
            edges += start[queue[t] + 1] - start[queue[t]]
            if left[queue[t]] < 0:
                return False
            if left[queue[t]] > 0:
                open_nodes += 1
        if edges != 2 * (size - 1) or open_nodes > 1:
            return False
        # the node that hangs from the root: the one left non-empty, else a row (zero flow, pointing down)
        hang = -1
        for t in range(size):
            if left[queue[t]] > 0:
                hang = queue[t]
                break
        if hang < 0:
            for t in range(size):
                if queue[t] >= m:
                    hang = queue[t]
                    break
        if hang < 0:
            hang = queue[0]  # an offer with nothing to sell: callers never pass one
        parent[hang] = root
        pred[hang] = hang  # slack arc i (offer) or m+j (row) has the node's own number
        up[hang] = hang < m
        flow[hang] = left[hang]
        depth[hang] = 1
        pi[hang] = 0
        # BFS again from the hanging node to set parents
        for t in range(size):
            seen[queue[t]] = False
        seen[hang] = True
        queue[0] = hang
        lo, hi = 0, 1
        while lo < hi:
            v = queue[lo]
            lo += 1
            for t in range(start[v], start[v + 1]):
                a = adj_arc[t]
                w = head[a] if tail[a] == v else tail[a]
                if not seen[w]:
                    seen[w] = True
                    parent[w] = v
                    pred[w] = a
                    up[w] = tail[a] == w
                    depth[w] = depth[v] + 1
                    pi[w] = pi[v] - cost[a] if up[w] else pi[v] + cost[a]
                    queue[hi] = w
                    hi += 1
    for v in range(n_nodes):
        first[v] = -1
        next_sib[v] = -1
        prev_sib[v] = -1
    for v in range(n_nodes - 2, -1, -1):
        p = parent[v]
        nxt = first[p]
        next_sib[v] = nxt
        if nxt >= 0:
            prev_sib[nxt] = v
        first[p] = v
    return True


@njit(cache=True)
def _pivot_loop(tail, head, cost, flow, parent, pred, up, depth, pi, first, next_sib, prev_sib, state, max_pivots):  # type: ignore[no-untyped-def]  # pragma: no cover - compiled
    """Pivot until no arc has a negative reduced cost; returns the number of pivots (module docstring).

    ``state`` holds ``[next arc to scan, block size]`` and is updated, so a warm start resumes the scan.
    """
    n_arcs = tail.shape[0]
    n_nodes = parent.shape[0]
    stack = np.empty(n_nodes, np.int64)
    next_arc = state[0]
    block = state[1]
    pivots = 0
    while pivots < max_pivots:
        # 1. entering arc: block search
        best = 0
        e = -1
        arc = next_arc
        count = 0
        for _ in range(n_arcs):
            c = cost[arc] + pi[tail[arc]] - pi[head[arc]]
            if c < best:
                best = c
                e = arc
            arc += 1
            if arc == n_arcs:
                arc = 0
            count += 1
            if count == block:
                if e >= 0:
                    break
                count = 0
        next_arc = arc
        if e < 0:
            break
        pivots += 1
        a = tail[e]
        b = head[e]
        # 2. the join
        x, y = a, b
        while x != y:
            if depth[x] > depth[y]:
                x = parent[x]
            elif depth[y] > depth[x]:
                y = parent[y]
            else:
                x = parent[x]
                y = parent[y]
        join = x
        # 3. ratio test with the strongly feasible tie rule
        delta = np.iinfo(np.int64).max
        u_out = -1
        side = 0
        v = a
        while v != join:  # flow runs down from the join to a: arcs pointing up lose flow
            if up[v] and flow[pred[v]] < delta:
                delta = flow[pred[v]]
                u_out = v
                side = 1
            v = parent[v]
        v = b
        while v != join:  # flow runs up from b to the join: arcs pointing down lose flow
            if not up[v] and flow[pred[v]] <= delta:
                delta = flow[pred[v]]
                u_out = v
                side = 2
            v = parent[v]
        # flows around the cycle
        if delta > 0:
            flow[e] += delta
            v = a
            while v != join:
                if up[v]:
                    flow[pred[v]] -= delta
                else:
                    flow[pred[v]] += delta
                v = parent[v]
            v = b
            while v != join:
                if up[v]:
                    flow[pred[v]] += delta
                else:
                    flow[pred[v]] -= delta
                v = parent[v]
        # 4. re-hang the subtree below the leaving arc from the entering arc
        if side == 1:
            inside, outside, sigma = a, b, -best
        else:
            inside, outside, sigma = b, a, best
        v = inside
        new_parent = outside
        new_pred = e
        new_up = tail[e] == inside
        while True:
            old_parent = parent[v]
            old_pred = pred[v]
            old_up = up[v]
            # unlink v from its old parent's children
            if prev_sib[v] >= 0:
                next_sib[prev_sib[v]] = next_sib[v]
            else:
                first[old_parent] = next_sib[v]
            if next_sib[v] >= 0:
                prev_sib[next_sib[v]] = prev_sib[v]
            # link it under its new parent
            nxt = first[new_parent]
            next_sib[v] = nxt
            if nxt >= 0:
                prev_sib[nxt] = v
            prev_sib[v] = -1
            first[new_parent] = v
            parent[v] = new_parent
            pred[v] = new_pred
            up[v] = new_up
            if v == u_out:
                break
            new_parent = v
            new_pred = old_pred
            new_up = not old_up
            v = old_parent
        # depths and potentials of the re-hung subtree
        depth[inside] = depth[outside] + 1
        pi[inside] += sigma
        top = 0
        stack[0] = inside
        top = 1
        while top > 0:
            top -= 1
            v = stack[top]
            c = first[v]
            while c >= 0:
                depth[c] = depth[v] + 1
                pi[c] += sigma
                stack[top] = c
                top += 1
                c = next_sib[c]
    state[0] = next_arc
    return pivots


@dataclass
class SimplexResult:
    """An optimal basic flow: kg per lane (in the order lanes were given), unsold, unmet, duals, objective."""

    shipped: I64
    unsold: I64
    unmet: I64
    u: I64
    w: I64
    objective: int
    pivots: int


class TransportationSimplex:
    """The transportation problem of the module docstring, solved and re-solved from its last basis.

    Parameters
    ----------
    supply_kg, demand_kg
        ``q_i`` and ``d_j``, positive integers.
    lane_offer, lane_demand, lane_margin
        The starting lanes: offer index, demand row index, integer margin ``M_ij``.
    flow
        A starting flow on those lanes, shaped like a greedy one (module docstring: a forest with at
        most one node per tree left non-empty); by default, the greedy flow on the given lanes.

    Raises
    ------
    ValueError
        A supply or demand that is not positive, or a starting flow that is not greedy-shaped.

    Examples
    --------
    >>> import numpy as np
    >>> s = TransportationSimplex(np.array([5]), np.array([3, 4]), np.array([0, 0]), np.array([0, 1]), np.array([2, 7]))
    >>> r = s.solve(); (r.shipped.tolist(), r.objective)
    ([1, 4], 30)
    """

    def __init__(
        self, supply_kg: I64, demand_kg: I64, lane_offer: I64, lane_demand: I64, lane_margin: I64, flow: I64 | None = None
    ) -> None:
        q = np.ascontiguousarray(supply_kg, np.int64)
        d = np.ascontiguousarray(demand_kg, np.int64)
        if np.any(q <= 0) or np.any(d <= 0):
            raise ValueError("supplies and demands must be positive")
        self.m, self.n = m, n = len(q), len(d)
        self.offset = m + n
        root = m + n
        self._tail = np.concatenate([np.arange(m), np.full(n, root), np.asarray(lane_offer, np.int64)]).astype(np.int64)
        self._head = np.concatenate([np.full(m, root), np.arange(m, m + n), np.asarray(lane_demand, np.int64) + m]).astype(np.int64)
        self._cost = np.concatenate([np.zeros(m + n, np.int64), -np.asarray(lane_margin, np.int64)])
        if flow is None:
            lane_flow = _greedy(m, self._tail[self.offset :], self._head[self.offset :], self._cost[self.offset :], q, d)
        else:
            lane_flow = np.array(flow, np.int64)
        self._flow = np.concatenate([np.zeros(m + n, np.int64), lane_flow])
        nodes = m + n + 1
        self._parent = np.empty(nodes, np.int64)
        self._pred = np.empty(nodes, np.int64)
        self._up = np.zeros(nodes, np.bool_)
        self._depth = np.empty(nodes, np.int64)
        self._pi = np.zeros(nodes, np.int64)
        self._first = np.empty(nodes, np.int64)
        self._next = np.empty(nodes, np.int64)
        self._prev = np.empty(nodes, np.int64)
        if not _initial_tree(
            m, n, self._tail, self._head, self._cost, self._flow, q, d, self.offset,
            self._parent, self._pred, self._up, self._depth, self._pi, self._first, self._next, self._prev,
        ):
            raise ValueError("a starting flow must be greedy-shaped: its lanes a forest, each tree with at most one offer or row left non-empty, nothing over-allocated")
        self._state = np.array([0, 0], np.int64)
        self.pivots = 0

    @property
    def lanes(self) -> int:
        return len(self._tail) - self.offset

    def add_lanes(self, lane_offer: I64, lane_demand: I64, lane_margin: I64) -> None:
        """Add lanes at zero flow; the current basis stays feasible and the next solve starts from it."""
        self._tail = np.concatenate([self._tail, np.asarray(lane_offer, np.int64)])
        self._head = np.concatenate([self._head, np.asarray(lane_demand, np.int64) + self.m])
        self._cost = np.concatenate([self._cost, -np.asarray(lane_margin, np.int64)])
        self._flow = np.concatenate([self._flow, np.zeros(len(lane_offer), np.int64)])

    def solve(self, max_pivots: int = 2**62) -> SimplexResult:
        """Pivot to an optimal basis over the lanes given so far and return it.

        Raises
        ------
        RuntimeError
            When ``max_pivots`` pivots did not reach an optimum (a guard; the method terminates).
        """
        self._state[1] = max(10, math.ceil(math.sqrt(len(self._tail))))
        self._state[0] %= max(1, len(self._tail))
        pivots = _pivot_loop(
            self._tail, self._head, self._cost, self._flow, self._parent, self._pred, self._up, self._depth,
            self._pi, self._first, self._next, self._prev, self._state, max_pivots,
        )
        self.pivots += pivots
        if pivots >= max_pivots:
            raise RuntimeError(f"no optimum after {pivots} pivots")
        m, n, k = self.m, self.n, self.offset
        shipped = self._flow[k:].copy()
        margin = -self._cost[k:]
        return SimplexResult(
            shipped=shipped,
            unsold=self._flow[:m].copy(),
            unmet=self._flow[m:k].copy(),
            u=self._pi[:m].copy(),
            w=-self._pi[m:k],
            objective=int(np.dot(shipped, margin)),
            pivots=pivots,
        )
