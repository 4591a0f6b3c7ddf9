"""Small charts drawn on the server as inline SVG (no script): a score over the cycles, for a
cooperative's scorecard per product and a buyer's credit.

:func:`score_chart` turns the API's history (one point per cycle date) into the geometry a template
draws: the points' positions in a fixed ``viewBox`` (the chart scales to its box, a phone's too), the
line through them, the grid and an optional threshold line. The cycles are evenly spaced (the x axis
counts cycles, not days); the score runs from 0 at the bottom to 1 at the top.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: the chart's drawing box (SVG user units) and the margins left for the labels
WIDTH, HEIGHT = 320.0, 140.0
LEFT, RIGHT, TOP, BOTTOM = 34.0, 10.0, 10.0, 24.0
#: the score grid lines (and their labels)
GRID = (0.0, 0.5, 1.0)


@dataclass
class Point:
    x: float
    y: float
    date: str
    score: float


@dataclass
class Chart:
    """What a template draws: ``points`` (each with its date and score), ``line`` (the polyline's
    ``points`` attribute), ``grid`` ((y, score) per grid line), ``threshold`` (y, value) or None."""

    width: float = WIDTH
    height: float = HEIGHT
    left: float = LEFT
    right: float = WIDTH - RIGHT
    bottom: float = HEIGHT - BOTTOM
    points: list[Point] = field(default_factory=list)
    line: str = ""
    grid: list[tuple[float, float]] = field(default_factory=list)
    threshold: tuple[float, float] | None = None


def _y(score: float) -> float:
    score = min(1.0, max(0.0, score))
    return round(TOP + (1.0 - score) * (HEIGHT - TOP - BOTTOM), 2)


def score_chart(history: list[dict[str, Any]], *, threshold: float | None = None) -> Chart:
    """The chart of ``history`` (dicts with ``date`` and ``score``, oldest first)."""
    chart = Chart(grid=[(_y(s), s) for s in GRID])
    n = len(history)
    span = WIDTH - RIGHT - LEFT
    for k, h in enumerate(history):
        x = LEFT + (span / 2 if n == 1 else span * k / (n - 1))
        chart.points.append(Point(round(x, 2), _y(float(h["score"])), str(h["date"]), float(h["score"])))
    chart.line = " ".join(f"{p.x},{p.y}" for p in chart.points)
    if threshold is not None:
        chart.threshold = (_y(threshold), threshold)
    return chart


__all__ = ["Chart", "Point", "score_chart"]
