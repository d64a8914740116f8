"""The pinned price table (``policies/pricing/prices.json``): one entry per price, region and term.

Each entry carries its region, unit, the date it was taken and its source (the Price List API
offer, SKU and version when it came from the API, the public pricing page otherwise), so every
dollar in an estimate can be traced back. ``python -m preflight.prices --refresh`` rebuilds the
file from the AWS Price List API; nothing else writes it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Final

TABLE_PATH: Final = Path(__file__).resolve().parent / "prices.json"

HOURS_PER_MONTH: Final = 730.0
"""Hours in the estimate's month: 8,760 h / 12, the month AWS's own price pages, pricing
calculator and Price List "per month" figures use. A 31-day month is 744 h, a 30-day one 720 h."""
SECONDS_PER_MONTH: Final = HOURS_PER_MONTH * 3600.0
TERM_HOURS: Final = {"reserved-1y": 8760.0, "reserved-3y": 26280.0}
"""Hours in a reservation term, to spread an upfront payment over (1 and 3 years of 8,760 h)."""
TERMS: Final = ("on-demand", "reserved-1y", "reserved-3y")
BASES: Final = ("price-list", "pricing-page", "recorded", "derived")
"""Where a figure comes from (docs/cost.md, Prices). ``recorded``: a Price List figure as a public
repository recorded it (an open-source cost tool's test data), the source naming the repository,
path and commit; ``derived``: computed or assumed, which reports mark (estimated)."""
OPTIONS: Final = ("No Upfront", "Partial Upfront")
GLOBAL: Final = "global"
"""Region of prices for global services (Route 53)."""


class PriceTableError(ValueError):
    """The table file is malformed, or a price the estimate needs is missing."""


@dataclass(frozen=True, slots=True)
class Price:
    """One price: USD per ``unit`` in ``region`` under ``term``."""

    id: str
    """What is priced: ``aurora.instance/aurora-postgresql/db.r6g.large``, ``dynamodb.write``..."""
    term: str
    region: str
    unit: str
    usd: float
    """Recurring price per unit (per hour for instances and nodes)."""
    taken: str
    """ISO date the figure was taken."""
    source: Mapping[str, str]
    """``offer`` (Price List service code) and ``url``; ``sku`` and ``version`` from the API."""
    basis: str
    upfront_usd: float = 0.0
    """One-time payment of a reservation (Partial Upfront)."""
    option: str = ""
    """Purchase option of a reservation: ``No Upfront`` or ``Partial Upfront``."""
    note: str = ""

    @property
    def effective_usd(self) -> float:
        """Per unit with a reservation's upfront payment spread over its term's hours."""
        hours = TERM_HOURS.get(self.term)
        return self.usd + (self.upfront_usd / hours if hours else 0.0)

    def document(self) -> dict[str, Any]:
        """The entry as the table file stores it."""
        out: dict[str, Any] = {
            "id": self.id,
            "term": self.term,
            "region": self.region,
            "unit": self.unit,
            "usd": self.usd,
        }
        if self.upfront_usd:
            out["upfrontUsd"] = self.upfront_usd
        if self.option:
            out["option"] = self.option
        out.update({"taken": self.taken, "source": dict(self.source), "basis": self.basis})
        if self.note:
            out["note"] = self.note
        return out


_REQUIRED: Final = ("id", "term", "region", "unit", "usd", "taken", "source", "basis")


def _entry(index: int, raw: Any) -> Price:
    where = f"prices.json entries[{index}]"
    if not isinstance(raw, Mapping):
        raise PriceTableError(f"{where}: expected an object, got {raw!r}")
    missing = [k for k in _REQUIRED if k not in raw]
    if missing:
        raise PriceTableError(f"{where}: missing {', '.join(missing)}")
    usd, upfront = raw["usd"], raw.get("upfrontUsd", 0.0)
    for key, value in (("usd", usd), ("upfrontUsd", upfront)):
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise PriceTableError(f"{where}: {key} is {value!r}; allowed: a number >= 0")
    if raw["term"] not in TERMS:
        raise PriceTableError(f"{where}: term {raw['term']!r}; allowed: {', '.join(TERMS)}")
    if raw["term"] != "on-demand" and raw.get("option") not in OPTIONS:
        raise PriceTableError(
            f"{where}: option {raw.get('option')!r}; allowed: {', '.join(OPTIONS)}"
        )
    if raw["basis"] not in BASES:
        raise PriceTableError(f"{where}: basis {raw['basis']!r}; allowed: {', '.join(BASES)}")
    source = raw["source"]
    if not isinstance(source, Mapping) or not ({"url", "sku"} & set(source)):
        raise PriceTableError(f"{where}: source needs a url or an offer sku, got {source!r}")
    return Price(
        id=str(raw["id"]),
        term=str(raw["term"]),
        region=str(raw["region"]),
        unit=str(raw["unit"]),
        usd=float(usd),
        upfront_usd=float(upfront),
        taken=str(raw["taken"]),
        source={str(k): str(v) for k, v in source.items()},
        basis=str(raw["basis"]),
        option=str(raw.get("option", "")),
        note=str(raw.get("note", "")),
    )


@dataclass(frozen=True)
class PriceTable:
    """All prices, indexed by (id, region, term)."""

    prices: tuple[Price, ...]
    meta: Mapping[str, Any] = field(default_factory=dict)
    """Top-level fields of the file other than ``entries`` (format, currency, description)."""

    def __post_init__(self) -> None:
        index: dict[tuple[str, str, str], Price] = {}
        for price in self.prices:
            key = (price.id, price.region, price.term)
            if key in index:
                raise PriceTableError(f"prices.json: {key} appears twice")
            index[key] = price
        object.__setattr__(self, "_index", index)

    def find(self, id_: str, region: str, term: str = "on-demand") -> Price | None:
        """The price, or None when the table has none."""
        index: dict[tuple[str, str, str], Price] = self._index  # type: ignore[attr-defined]
        return index.get((id_, region, term))

    def get(self, id_: str, region: str, term: str = "on-demand") -> Price:
        """The price; :class:`PriceTableError` names what is missing."""
        price = self.find(id_, region, term)
        if price is None:
            raise PriceTableError(
                f"no {term} price for {id_} in {region} in policies/pricing/prices.json "
                "(add it, or rebuild the table: python -m preflight.prices --refresh)"
            )
        return price

    def regions(self) -> set[str]:
        """Regions the table prices."""
        return {p.region for p in self.prices}

    @classmethod
    def from_document(cls, doc: Any) -> PriceTable:
        """Parse and validate a table document."""
        if not isinstance(doc, Mapping) or not isinstance(doc.get("entries"), list):
            raise PriceTableError("prices.json: expected an object with an 'entries' list")
        meta = {k: v for k, v in doc.items() if k != "entries"}
        return cls(tuple(_entry(i, e) for i, e in enumerate(doc["entries"])), meta)

    def dumps(self) -> str:
        """The file text: one entry per line, so a refresh shows up as a readable diff."""
        head = json.dumps(dict(self.meta), indent=1)[:-2]
        lines = ",\n".join("  " + json.dumps(p.document()) for p in self.prices)
        return f'{head},\n "entries": [\n{lines}\n ]\n}}\n'


def load_table(path: Path = TABLE_PATH) -> PriceTable:
    """Read and validate a table file."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise PriceTableError(f"{path}: {exc}") from exc
    return PriceTable.from_document(doc)


@cache
def pinned_table() -> PriceTable:
    """The table shipped with the pack, read once per process."""
    return load_table(TABLE_PATH)
