"""What an estimate is made of: priced lines, their totals, and the pricer that adds them.

``estimate.py`` holds the billing rule of each resource type; this module holds what they share:
the line and estimate types, the readers for inputs (which may be unknown during a preview, and
then read as absent), and :class:`Pricer`, which looks prices up and records each line with the
words a reviewer needs to check it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from policies import resource_types as t
from policies._values import known_str, list_items
from policies.pricing.table import HOURS_PER_MONTH, Price, PriceTable
from policies.pricing.usage import Usage

RESERVED_TERMS = ("reserved-1y", "reserved-3y")
GIB_PER_KB = 1.0 / (1024.0 * 1024.0)
DAYS_PER_MONTH = HOURS_PER_MONTH / 24.0
AURORA_IO_KIB = 4.0
"""Aurora counts write I/Os in 4 KiB units, so a replicated write I/O carries at most 4 KiB."""

NOT_PRICED = "not priced: "
"""How the basis of a line the estimator cannot price begins."""

STORES = {
    "rds": "aurora",
    "appautoscaling": "aurora",
    "dynamodb": "dynamodb",
    "elasticache": "cache",
    "kms": "kms",
    "secretsmanager": "secrets",
    "cloudwatch": "monitoring",
    "sns": "monitoring",
    "route53": "dns",
    "backup": "backup",
    "ec2": "network",
    "iam": "iam",
    "budgets": "budget",
    "neptune": "neptune",
    "redshift": "analytics",
}
TYPE_STORES = {
    # The stack's only plain RDS instances are the payments database's (issue 20): a store of
    # its own, so its cost does not read as Aurora's.
    "aws:rds/instance:Instance": "payments",
    "aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication": "payments",
}


class ResourceLike(Protocol):
    """What the estimator reads of a resource (the pack's ``Res`` and preflight's adapter)."""

    @property
    def type(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def urn(self) -> str: ...
    @property
    def props(self) -> Mapping[str, Any]: ...


@dataclass(frozen=True, slots=True)
class Line:
    """One priced item of one resource."""

    urn: str
    type: str
    name: str
    region: str
    """Where it is billed (``global`` for Route 53)."""
    store: str
    """aurora, dynamodb, cache, kms, secrets, monitoring, dns, backup, network, iam, budget."""
    item: str
    quantity: float
    unit: str
    unit_usd: float
    monthly_usd: float
    basis: str
    """How the figure was computed, in words a reviewer can check."""
    reserved: Mapping[str, float] | None = None
    """Monthly USD under each reservation term, for steady compute (instances, cache nodes)."""
    reserved_options: Mapping[str, str] | None = None
    """Purchase option per term (``No Upfront`` / ``Partial Upfront``)."""
    reserved_estimated: tuple[str, ...] = ()
    """Terms whose rate is not a published figure but derived from one by a ratio (the table
    entry's basis ``derived``): the report marks those figures estimated (issue 21)."""
    reserved_missing: tuple[str, ...] = ()
    """Terms for which this steady compute (an RDS or Neptune instance, a Redshift node) has no
    reserved rate in the table: that term's total counts it at on demand, and the report says so
    rather than leave the reserved alternative looking complete (issue 20, item 3)."""
    free: bool = False
    price_id: str = ""
    """The ``prices.json`` id it was priced with (empty for $0 notes)."""
    priced: bool = True
    """False when the estimator cannot price it: $0 in the sums, and the estimate is incomplete."""

    @property
    def reason(self) -> str:
        """Why an unpriced line has no figure (its basis without the ``not priced:`` prefix)."""
        return self.basis.removeprefix(NOT_PRICED)


@dataclass(frozen=True, slots=True)
class Recommendation:
    """A cheaper way to run the same plan, with the figures that show it."""

    title: str
    current_usd: float
    """Monthly USD of the lines it would change, as planned."""
    alternative_usd: float
    """Monthly USD of the same lines the other way."""
    detail: str
    """How it was computed and what to change."""

    @property
    def saving_usd(self) -> float:
        return self.current_usd - self.alternative_usd


@dataclass
class Estimate:
    """All lines of one stack, with the totals the report and the gate need."""

    lines: list[Line]
    primary: str | None
    secondary: str | None
    usage: Usage
    tables: list[str] = field(default_factory=list)
    """Logical names of the DynamoDB tables (for the defaults listing)."""
    recommendations: list[Recommendation] = field(default_factory=list)
    """Cheaper configurations of the same plan (Aurora I/O-Optimized where it pays)."""

    @property
    def monthly_usd(self) -> float:
        """The on-demand monthly total."""
        return sum(line.monthly_usd for line in self.lines)

    def reserved_monthly_usd(self, term: str) -> float:
        """The monthly total with every instance and cache node on ``term``."""
        return sum(
            line.reserved[term] if line.reserved and term in line.reserved else line.monthly_usd
            for line in self.lines
        )

    def reserved_estimated(self, term: str) -> bool:
        """True when the ``term`` total includes a rate derived by a ratio, not published."""
        return any(term in line.reserved_estimated for line in self.lines)

    def reserved_on_demand(self, term: str) -> list[Line]:
        """Steady compute that the ``term`` total counts at on demand (no reserved rate)."""
        return [line for line in self.lines if term in line.reserved_missing]

    def total(self, basis: str = "on-demand") -> float:
        """``on-demand``, ``reserved-1y`` or ``reserved-3y`` total."""
        return self.monthly_usd if basis == "on-demand" else self.reserved_monthly_usd(basis)

    def by(self, attribute: str) -> dict[str, float]:
        """Monthly USD per ``store`` or ``region``, largest first."""
        sums: dict[str, float] = defaultdict(float)
        for line in self.lines:
            sums[str(getattr(line, attribute))] += line.monthly_usd
        return dict(sorted(sums.items(), key=lambda kv: (-kv[1], kv[0])))

    @property
    def unpriced(self) -> list[Line]:
        """Lines the estimator could not price (a region or item the table lacks, a type
        without a rule): each is $0 in the totals, so the totals are a lower bound."""
        return [line for line in self.lines if not line.priced]

    @property
    def complete(self) -> bool:
        """True when every line is priced (or free): only then is a total the stack's cost."""
        return not self.unpriced


# --- reading inputs -----------------------------------------------------------------------------


def mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


_PLURAL = {"request": "requests", "request-unit": "request units", "query": "queries"}


def _money(value: float) -> str:
    text = f"{value:,.6f}".rstrip("0")
    whole, _, decimals = text.partition(".")
    return f"${whole}.{decimals.ljust(2, '0')}"


def rate(usd: float, unit: str) -> str:
    """``$0.26/hour``, ``$0.20 per million requests``: a unit price as a reader checks it."""
    if usd and usd < 0.001:
        return f"{_money(usd * 1e6)} per million {_PLURAL.get(unit, unit + 's')}"
    return f"{_money(usd)}/{unit}"


def dollars(value: float) -> str:
    """``$1,234.50``: a monthly figure in whole cents, as every cost report prints it."""
    return f"${value:,.2f}"


def qty(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 or value.is_integer() else f"{value:,.2f}"


def store_of(type_token: str) -> str:
    """The store (cost family) a type token belongs to."""
    module = (
        type_token.split(":")[1].split("/", maxsplit=1)[0] if type_token.count(":") >= 2 else ""
    )
    if type_token.startswith("random:"):
        return "secrets"
    if type_token in TYPE_STORES:
        return TYPE_STORES[type_token]
    return STORES.get(module, "other")


# --- the estimator ------------------------------------------------------------------------------


class Pricer:
    """State of one estimate: prices, usage, the region pair and the lines so far."""

    def __init__(self, resources: Sequence[ResourceLike], usage: Usage, prices: PriceTable) -> None:
        self.resources = [r for r in resources if r.type.startswith(("aws:", "random:"))]
        self.usage, self.prices = usage, prices
        self.lines: list[Line] = []
        self.by_type: dict[str, list[ResourceLike]] = defaultdict(list)
        for res in self.resources:
            self.by_type[res.type].append(res)
        self.primary, self.secondary = self._pair()
        self.seen_region: set[tuple[str, str]] = set()

    def _pair(self) -> tuple[str | None, str | None]:
        # The pair is where the data stores are (a stray resource elsewhere, e.g. a
        # subscription, does not make its region the secondary); without stores, anywhere.
        stores = [
            res
            for kind in (t.RDS_CLUSTER, t.DYNAMODB_TABLE, t.CACHE_REPLICATION_GROUP)
            for res in self.by_type[kind]
        ]
        regions = sorted(
            {
                region
                for res in stores or self.resources
                for region in [known_str(res.props.get("region"))]
                + [
                    known_str(mapping(rep).get("regionName"))
                    for rep in list_items(res.props.get("replicas"))
                ]
                if region
            }
        )
        primary = next(
            (
                known_str(c.props.get("region"))
                for c in self.by_type[t.RDS_CLUSTER]
                if known_str(c.props.get("masterUsername")) and known_str(c.props.get("region"))
            ),
            None,
        ) or (regions[0] if regions else None)
        others = [r for r in regions if r != primary]
        return primary, others[0] if others else None

    def region_of(self, res: ResourceLike) -> str:
        """The resource's region input; without one, the pair's primary (else us-east-1)."""
        return known_str(res.props.get("region")) or self.primary or "us-east-1"

    def first_in(self, region: str, what: str) -> bool:
        """True once per region for ``what``: a charge billed per region, not per resource."""
        if (region, what) in self.seen_region:
            return False
        self.seen_region.add((region, what))
        return True

    def other(self, region: str) -> str | None:
        if region == self.primary:
            return self.secondary
        return self.primary if region == self.secondary else None

    def charge(
        self,
        res: ResourceLike,
        region: str,
        item: str,
        quantity: float,
        price_id: str,
        basis: str,
        *,
        reserved: bool = False,
        reserved_as: tuple[str, float] | None = None,
        store: str | None = None,
    ) -> None:
        """Add a line priced ``quantity`` times the table's ``price_id`` in ``region``.

        ``reserved`` adds the table's reserved terms of ``price_id``; ``reserved_as`` (price id,
        factor) prices the reservations as ``factor`` reservations of another id instead (an
        Aurora I/O-Optimized instance is covered by 1.3 reserved Standard instances)."""
        price = self.prices.find(price_id, region)
        if price is None:
            self.note(
                res,
                region,
                item,
                f"the table has no on-demand price for {price_id} in {region}",
                free=False,
            )
            return
        terms: dict[str, float] = {}
        options: dict[str, str] = {}
        estimated: list[str] = []
        missing: list[str] = []
        if reserved or reserved_as:
            reserved_id, factor = reserved_as or (price_id, 1.0)
            for term in RESERVED_TERMS:
                found: Price | None = self.prices.find(reserved_id, region, term)
                if found is None:
                    missing.append(term)
                    continue
                terms[term] = quantity * factor * found.effective_usd
                options[term] = found.option
                if found.basis == "derived":
                    estimated.append(term)
        self.lines.append(
            Line(
                urn=res.urn,
                type=res.type,
                name=res.name,
                region=region,
                store=store or store_of(res.type),
                item=item,
                quantity=quantity,
                unit=price.unit,
                unit_usd=price.usd,
                monthly_usd=quantity * price.usd,
                basis=f"{basis} at {rate(price.usd, price.unit)}",
                price_id=price_id,
                reserved=terms or None,
                reserved_options=options or None,
                reserved_estimated=tuple(estimated),
                reserved_missing=tuple(missing),
            )
        )

    def note(self, res: ResourceLike, region: str, item: str, basis: str, *, free: bool) -> None:
        """A $0 line: free (listed as free), or not priced (listed as a gap)."""
        self.lines.append(
            Line(
                urn=res.urn,
                type=res.type,
                name=res.name,
                region=region,
                store=store_of(res.type),
                item=item,
                quantity=0.0,
                unit="",
                unit_usd=0.0,
                monthly_usd=0.0,
                basis=basis if free else f"{NOT_PRICED}{basis}",
                free=free,
                priced=free,
            )
        )

    def free(self, res: ResourceLike, why: str) -> None:
        self.note(res, known_str(res.props.get("region")) or "global", "no charge", why, free=True)

    def transfer(
        self, res: ResourceLike, source: str, target: str | None, gib: float, what: str
    ) -> None:
        if target is None or target == source:
            return
        self.charge(
            res,
            source,
            f"replication to {target} (inter-region transfer)",
            gib,
            f"transfer.inter-region/{target}",
            f"{qty(gib)} GB/month {what}",
        )
