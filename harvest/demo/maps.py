"""The demo's maps: the country with clearing prices and the line-haul network, and one city's last-mile tours."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

if TYPE_CHECKING:
    import geopandas as gpd


def render_cycle_map(
    shapes: gpd.GeoDataFrame,
    demand_out: pl.DataFrame,
    routes: pl.DataFrame,
    stops: pl.DataFrame,
    places: pl.DataFrame,
    path: Path,
    *,
    product: str,
    title: str,
    credit: str,
) -> Path:
    """Draw the national map into a PNG file: regions shaded by the kg-weighted clearing price of
    ``product`` (grey where it was not traded), and the plan's line-haul network on top: each hub a dot
    sized by the kg it sends and receives, each hop between two hubs a line whose width grows with the
    trucks that drive it (a multi-stop tour's hops each count its truck once)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.collections import LineCollection

    traded = demand_out.filter((pl.col("product") == product) & (pl.col("filled_kg") > 0))
    price = traded.group_by("region_id").agg(((pl.col("clearing_price") * pl.col("filled_kg")).sum() / pl.col("filled_kg").sum()).alias("price"))
    shaded = shapes.merge(price.to_pandas(), on="region_id", how="left")
    where = {d: (lon, lat) for d, lat, lon in places.select("depot_id", "lat", "lon").iter_rows()}
    haul = routes.filter(pl.col("leg") == "line_haul")
    legs = stops.filter(pl.col("leg") == "line_haul").join(haul.select("route_id", "depot_id"), on="route_id").sort("route_id", "seq")
    hops = (
        legs.with_columns(frm=pl.col("stop_id").shift(1).over("route_id").fill_null(pl.col("depot_id")), to=pl.col("stop_id"))
        .group_by("frm", "to")
        .agg(pl.len().alias("trucks"))
        .sort("frm", "to")
    )
    sent = haul.group_by("depot_id").agg(pl.col("kg").sum()).rename({"depot_id": "hub"})
    received = legs.group_by("stop_id").agg(pl.col("kg").sum()).rename({"stop_id": "hub"})
    kg = pl.concat([sent, received]).group_by("hub").agg(pl.col("kg").sum()).sort("hub")

    fig, ax = plt.subplots(figsize=(11, 9), dpi=110)
    shaded.plot(ax=ax, color="#eeeeee", edgecolor="white", linewidth=0.3)
    if shaded["price"].notna().any():
        shaded[shaded["price"].notna()].plot(
            ax=ax,
            column="price",
            cmap="YlOrRd",
            edgecolor="white",
            linewidth=0.3,
            legend=True,
            legend_kwds={"label": f"{product}: clearing price, yuan/kg", "shrink": 0.6},
        )
    if hops.height:
        segments = [[where[f], where[t]] for f, t in hops.select("frm", "to").iter_rows()]
        trucks = hops["trucks"].to_numpy().astype(float)
        ax.add_collection(
            LineCollection(segments, linewidths=0.3 + 2.5 * np.sqrt(trucks / trucks.max()), colors="#1f4e79", alpha=0.45, label="line haul (width: trucks)")
        )
    if kg.height:
        xy = np.array([where[h] for h in kg["hub"]])
        size = kg["kg"].to_numpy().astype(float)
        ax.scatter(xy[:, 0], xy[:, 1], s=4 + 120 * size / size.max(), color="#2e7d32", alpha=0.7, zorder=3, label="hub (size: kg in and out)")
    if hops.height or kg.height:
        ax.legend(loc="lower left")
    ax.set_xlim(73, 136)
    ax.set_ylim(17, 54)
    return _finish(fig, ax, path, title=title, credit=credit)


def render_last_mile_map(
    shapes: gpd.GeoDataFrame, routes: pl.DataFrame, stops: pl.DataFrame, places: pl.DataFrame, path: Path, *, hub: str, title: str, credit: str
) -> Path:
    """One destination hub's last-mile tours: each tour a coloured loop from the hub through its pickup
    points in order, over the hub's region."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tours = routes.filter((pl.col("leg") == "last_mile") & (pl.col("hub") == hub)).sort("route_id")
    visits = stops.join(tours.select("route_id"), on="route_id").sort("route_id", "seq")
    home = places.filter(pl.col("depot_id") == f"hub:{hub}").row(0, named=True)
    fig, ax = plt.subplots(figsize=(9, 9), dpi=110)
    region = shapes[shapes["region_id"] == hub]
    region.plot(ax=ax, color="#f3f3f3", edgecolor="#999999", linewidth=0.6)
    colours = plt.get_cmap("tab20")
    for k, ((route_id,), visit) in enumerate(visits.group_by("route_id", maintain_order=True)):
        lon = [home["lon"], *visit["lon"].to_list(), home["lon"]]
        lat = [home["lat"], *visit["lat"].to_list(), home["lat"]]
        ax.plot(lon, lat, color=colours(k % 20), linewidth=1.2, alpha=0.9)
        ax.scatter(visit["lon"], visit["lat"], s=6 + visit["kg"].to_numpy() / 20, color=colours(k % 20), zorder=3)
    ax.scatter([home["lon"]], [home["lat"]], marker="s", s=80, color="black", zorder=4, label="hub")
    ax.legend(loc="lower left")
    ax.set_aspect(1 / max(np.cos(np.radians(home["lat"])), 0.1))
    return _finish(fig, ax, path, title=title, credit=credit)


def _finish(fig: Any, ax: Any, path: Path, *, title: str, credit: str) -> Path:
    """Title, axes and the data credit (wrapped to the figure), then the PNG written and the figure closed."""
    import matplotlib.pyplot as plt

    ax.set_title(title)
    ax.set_xlabel("longitude")
    ax.set_ylabel("latitude")
    fig.text(0.01, 0.005, credit, fontsize=6, color="#555555", wrap=True)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path
