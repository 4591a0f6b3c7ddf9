"""Parameters of a matching cycle: a frozen dataclass that validates itself, loadable from TOML."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any, Literal, get_args

from harvestmatch.errors import ParameterError
from harvestmatch.settings import Spec, check, setting
from regions.fills import FILL_RULES, FillRule
from regions.lanes import LaneCosts
from regions.pooling import MAX_SNAP_KM, PRICE_STEP

#: which optimal prices to publish (:func:`matcher.potentials.potentials`)
PriceRule = Literal["farmer", "buyer", "midpoint"]

#: most worker processes one cycle may start
MAX_WORKERS = 256

#: the exact solvers: our warm-started transportation simplex (:mod:`matcher.simplex`), or OR-Tools'
#: min-cost flow solved afresh each pricing round; both end with the same certificate
Solver = Literal["simplex", "ortools"]

#: how a lane's freight is priced: from the fleets and the plan's tours, round by round
#: (:mod:`matcher.freight.loop`), or linear per kg-km (``freight_per_kg_km``, ``handling_per_kg``)
FreightModel = Literal["trucks", "linear"]

#: where a day's problems run (:mod:`matcher.fanout`)
ExecutorKind = Literal["local", "dask"]
EXECUTORS: tuple[str, ...] = get_args(ExecutorKind)
#: the environment variable naming the Dask scheduler when no address is given (read at the edges only)
SCHEDULER_ENV = "HARVEST_DASK_SCHEDULER"


#: keys of the TOML ``[safety_net]`` table and the parameters they set
SAFETY_NET_KEYS = {"min_share": "small_share", "max_subsidy_per_kg": "max_subsidy_per_kg", "small_kg": "small_kg"}

#: tables of a shared TOML file that hold other settings than the cycle's (the service's route planning and after-sales)
OTHER_SECTIONS = frozenset({"plan", "after_sales"})


@dataclass(frozen=True)
class MatchParams:
    """Every knob of one cycle, with its default.

    Attributes
    ----------
    circuity
        Road km per great-circle km (at least 1), used when no lane table gives distances.
    km_per_day
        Distance a truck covers per day; ``transit_days = ceil(distance_km / km_per_day)``.
    freight_per_kg_km, handling_per_kg
        ``cost_per_kg = freight_per_kg_km * distance_km + handling_per_kg``, in the price currency.
    k_nearest
        Offers nearest to each region's hub whose lanes start the solve. Any value gives the same
        optimum (pricing adds what is missing); it trades pricing rounds against network size.
    max_rounds
        Pricing rounds before the solve gives up with an error (it never returns a non-optimum).
    price_rule
        Which optimal prices to publish: ``farmer`` (highest farm-gate prices the optimum supports),
        ``buyer`` (lowest clearing prices) or ``midpoint``.
    workers
        Processes solving products in parallel; ``None``: the cores available, or this process alone on a
        day too small to pay for starting workers (:class:`matcher.fanout.Work`).
    max_snap_km
        An order outside every region joins the nearest region within this many great-circle km of
        its boundary; beyond that it is rejected.
    price_step
        Width of a price tier when orders are pooled: an order's maximum price is rounded down to a
        multiple of it, and its demand row bids that floor.
    solver
        ``simplex`` (the default, the fastest) or ``ortools``: two independent exact solvers, the
        second for cross-checking; both give the same optimum and prices.
    executor, scheduler
        Where the day's products are solved (:mod:`matcher.fanout`): ``local`` (this machine's worker
        processes, the default) or ``dask`` (the Dask cluster whose scheduler is at ``scheduler``, e.g.
        ``tcp://10.0.0.5:8786``; empty: ``$HARVEST_DASK_SCHEDULER``). The result is the same on either.
    fill_rule
        How a demand row's filled kg go back to its orders (:mod:`regions.fills`): ``pro_rata`` (the
        default: every order gets the same share of what it asked, to the kg, so that neither arriving
        first nor splitting an order into many small ones gets a buyer more), ``max_min`` (the smallest
        orders first) or ``fcfs`` (first come, first served).
    small_share, max_subsidy_per_kg, small_kg
        The safety net (:mod:`matcher.safety_net`, off while ``small_share`` is 0): a small
        cooperative's open offers sell at least ``small_share`` of their kg whenever a feasible lane
        with margin at least ``-max_subsidy_per_kg`` (money per kg the platform may pay) lets them;
        without a cooperatives table, a cooperative is small when its open offers in the cycle total
        at most ``small_kg``. In TOML also as a ``[safety_net]`` table (``min_share``,
        ``max_subsidy_per_kg``, ``small_kg``).
    freight, freight_rounds
        How a lane's freight is priced (docs/freight.md): ``trucks`` (the default) from the fleets the
        plan uses, refined from the plan's tours over at most ``freight_rounds`` rounds, so that the
        match pays for trucks, not for kg; ``linear`` at ``freight_per_kg_km x km + handling_per_kg``
        (the relaxation the trucks model starts from, kept for comparison). ``handling_per_kg`` is paid
        in both.
    refund_adjust
        Whether a cooperative's expected refund rate for a product (the batch job's quality table, or
        the service's scorecards) lowers the value of its lanes to ``bid * (1 - refund_rate) - ask -
        cost`` (:mod:`matcher.quality`); off by default.
    """

    circuity: float = setting(LaneCosts.circuity, Spec("number", "road km per great-circle km, used when no lane table gives distances", low=1))
    km_per_day: float = setting(LaneCosts.km_per_day, Spec("number", "km a truck covers per day; transit_days = ceil(km / km_per_day)", low=0, above=True))
    freight_per_kg_km: float = setting(LaneCosts.freight_per_kg_km, Spec("number", "freight cost per kg per km", low=0))
    handling_per_kg: float = setting(LaneCosts.handling_per_kg, Spec("number", "fixed cost per kg shipped", low=0))
    k_nearest: int = setting(12, Spec("whole", "offers nearest to each region whose lanes start the solve; any value gives the same optimum", low=1))
    max_rounds: int = setting(100, Spec("whole", "pricing rounds before giving up with an error", low=1))
    price_rule: PriceRule = setting(
        "farmer",
        Spec(
            "choice",
            "which optimal prices to publish: farmer (the highest farm-gate prices), buyer (the lowest clearing prices) or midpoint",
            choices=get_args(PriceRule),
        ),
    )
    workers: int | None = setting(
        None,
        Spec(
            "whole",
            "processes solving products in parallel",
            low=1,
            high=MAX_WORKERS,
            optional=True,
            shown_default="the cores available; a small day: this process alone",
        ),
    )
    max_snap_km: float = setting(MAX_SNAP_KM, Spec("number", "an order outside every region joins the nearest within this many km, else it is rejected", low=0))
    price_step: float = setting(PRICE_STEP, Spec("number", "width of a price tier: an order's max price is rounded down to it", low=0, above=True))
    solver: Solver = setting("simplex", Spec("choice", "the exact solver: simplex (the fastest) or ortools (cross-checks it)", choices=get_args(Solver)))
    fill_rule: FillRule = setting(
        "pro_rata",
        Spec(
            "choice",
            "how a demand row's filled kg go back to its orders: pro_rata (the same share each), max_min (smallest first) or fcfs (first come, first served)",
            choices=FILL_RULES,
        ),
    )
    executor: ExecutorKind = setting(
        "local", Spec("choice", "where the day's problems run: local worker processes or a Dask cluster (the dask extra)", choices=EXECUTORS)
    )
    scheduler: str | None = setting(
        None, Spec("address", "the Dask scheduler's address, e.g. tcp://10.0.0.5:8786", optional=True, shown_default=f"${SCHEDULER_ENV}")
    )
    small_share: float = setting(
        0.0,
        Spec(
            "number",
            "the safety net: a small cooperative's offers sell at least this share of their kg when a lane allows",
            low=0,
            high=1,
            meaning="a share of an offer's kg",
            shown_default="0: off",
        ),
    )
    max_subsidy_per_kg: float = setting(0.0, Spec("number", "the safety net: the lowest lane margin a floor may use is minus this, money per kg", low=0))
    small_kg: float = setting(
        2000.0, Spec("number", "the safety net: without a cooperatives table, a cooperative whose open offers total at most this many kg is small", low=0)
    )
    freight: FreightModel = setting(
        "trucks",
        Spec(
            "choice",
            "how freight is priced: trucks (from the fleets and the plan's tours, round by round) or linear (freight_per_kg_km x km + handling_per_kg)",
            choices=get_args(FreightModel),
        ),
    )
    freight_rounds: int = setting(4, Spec("whole", "with trucks: the most match-and-route rounds that refine the freight prices", low=1, high=20))
    refund_adjust: bool = setting(
        False,
        Spec(
            "flag",
            "value a lane at bid * (1 - refund_rate) - ask - cost, with the quality table's refund rates (--no-refund-adjust overrides a config that sets it)",
        ),
    )

    def __post_init__(self) -> None:
        check(self)

    def resolved(self, environ: Mapping[str, str]) -> MatchParams:
        """These parameters with what the environment supplies: the Dask scheduler's address from
        ``$HARVEST_DASK_SCHEDULER`` when ``executor`` is ``dask`` and none is given. The command line and
        the service call it with ``os.environ``; the core never reads the environment."""
        if self.executor == "dask" and self.scheduler is None and environ.get(SCHEDULER_ENV, "").strip():
            return replace(self, scheduler=environ[SCHEDULER_ENV])
        return self

    @property
    def costs(self) -> LaneCosts:
        return LaneCosts(self.circuity, self.km_per_day, self.freight_per_kg_km, self.handling_per_kg)

    @classmethod
    def from_mapping(cls, values: dict[str, Any]) -> MatchParams:
        """Parameters from a mapping; unknown keys are an error naming them."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ParameterError(f"unknown parameter(s): {', '.join(unknown)} (known: {', '.join(sorted(known))})")
        return cls(**values)

    @classmethod
    def from_config(cls, data: dict[str, Any], *, source: str = "config") -> MatchParams:
        """Parameters from a parsed TOML document: top-level keys, or a ``[match]`` table, and a
        ``[safety_net]`` table; other tables (the service's ``[plan]``, ``[after_sales]``) belong to other
        readers and are left to them. Errors name ``source`` (:func:`matcher.io.read_params` reads a file)."""
        if "match" in data:
            if not isinstance(data["match"], dict):
                raise ParameterError(f"{source}: match must be a table ([match]), got {data['match']!r}")
            stray = sorted(set(data) - {"match", "safety_net"} - OTHER_SECTIONS)
            if stray:
                raise ParameterError(f"{source}: {', '.join(stray)} set outside the [match] table; with a [match] table, set every cycle parameter in it")
        values = dict(data["match"]) if "match" in data else {k: v for k, v in data.items() if k not in OTHER_SECTIONS}
        net = values.pop("safety_net", data.get("safety_net") if "match" in data else None)
        if net is not None:
            if not isinstance(net, dict):
                raise ParameterError(f"{source}: safety_net must be a table with {', '.join(SAFETY_NET_KEYS)}")
            unknown = sorted(set(net) - set(SAFETY_NET_KEYS))
            if unknown:
                raise ParameterError(f"{source}: unknown safety_net key(s): {', '.join(unknown)} (known: {', '.join(SAFETY_NET_KEYS)})")
            twice = sorted(k for k in net if SAFETY_NET_KEYS[k] in values)
            if twice:
                raise ParameterError(f"{source}: {', '.join(f'safety_net.{k} and {SAFETY_NET_KEYS[k]}' for k in twice)} both set; set each once")
            values.update({SAFETY_NET_KEYS[k]: v for k, v in net.items()})
        try:
            return cls.from_mapping(values)
        except (ParameterError, TypeError) as exc:
            message = str(exc)
            if net is not None and "min_share" in net:  # say it as the file says it
                message = message.replace("small_share", "safety_net.min_share")
            raise ParameterError(f"{source}: {message}") from exc
