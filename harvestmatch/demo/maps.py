"""A map of one cycle: regions shaded by clearing price, shipped lanes as lines weighted by kg."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

if TYPE_CHECKING:
    import geopandas as gpd


def render_cycle_map(
    shapes: gpd.GeoDataFrame,
    allocations: pl.DataFrame,
    demand_out: pl.DataFrame,
    offers: pl.DataFrame,
    hubs: pl.DataFrame,
    path: Path,
    *,
    product: str,
    title: str,
    credit: str,
) -> Path:
    """Draw the map into a PNG file.

    Regions are shaded by the kg-weighted clearing price of ``product`` (grey where it was not
    traded); every shipped lane, all products, is a line from the offer to its region's hub with a
    width growing with its kg.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.collections import LineCollection

    traded = demand_out.filter((pl.col("product") == product) & (pl.col("filled_kg") > 0))
    price = traded.group_by("region_id").agg(
        ((pl.col("clearing_price") * pl.col("filled_kg")).sum() / pl.col("filled_kg").sum()).alias("price")
    )
    shaded = shapes.merge(price.to_pandas(), on="region_id", how="left")

    fig, ax = plt.subplots(figsize=(11, 9), dpi=110)
    shaded.plot(ax=ax, color="#eeeeee", edgecolor="white", linewidth=0.3)
    if shaded["price"].notna().any():
        shaded[shaded["price"].notna()].plot(
            ax=ax, column="price", cmap="YlOrRd", edgecolor="white", linewidth=0.3, legend=True,
            legend_kwds={"label": f"{product}: clearing price, yuan/kg", "shrink": 0.6},
        )
    lanes = allocations.join(offers.select("offer_id", "lat", "lon"), on="offer_id").join(
        hubs.select("region_id", "hub_lat", "hub_lon"), on="region_id"
    )
    if lanes.height:
        segments = np.stack(
            [lanes.select("lon", "lat").to_numpy(), lanes.select("hub_lon", "hub_lat").to_numpy()], axis=1
        )
        kg = lanes["quantity_kg"].to_numpy().astype(float)
        width = 0.2 + 2.5 * np.sqrt(kg / kg.max())
        ax.add_collection(LineCollection(list(segments), linewidths=width, colors="#1f4e79", alpha=0.35))
        ax.scatter(lanes["lon"], lanes["lat"], s=3, color="#2e7d32", zorder=3, label="cooperative")
        ax.legend(loc="lower left")
    ax.set_title(title)
    ax.set_xlabel("longitude")
    ax.set_ylabel("latitude")
    ax.set_xlim(73, 136)
    ax.set_ylim(17, 54)
    fig.text(0.01, 0.01, credit, fontsize=7, color="#555555")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path
