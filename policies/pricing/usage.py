"""Usage figures for the cost estimate: what the plan cannot know (GB stored, requests, writes).

One definition serves three readers: ``stacks/usage.<stack>.yaml`` (validated by preflight),
the budget gate's ``usage`` property in ``stacks/policy-config.<stack>.json`` (a JSON schema
generated from the same figures, so ``pulumi preview --policy-pack`` rejects a bad copy), and
the estimator, which reads the validated :class:`Usage`. Every figure has a default, a range
and a unit; the report lists the defaults a stack relied on.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final


class UsageError(ValueError):
    """A bad usage figure: the message names the key, the value and what is allowed."""

    def __init__(self, key: str, value: Any, allowed: str) -> None:
        self.key, self.value, self.allowed = key, value, allowed
        super().__init__(f"usage key '{key}' has value {value!r}; allowed: {allowed}")


@dataclass(frozen=True, slots=True)
class Figure:
    """One usage figure: its default, range, unit and meaning."""

    key: str
    """Name inside its section (``storageGb``)."""
    default: float
    minimum: float
    maximum: float
    unit: str
    description: str

    def check(self, path: str, value: Any) -> float:
        """The value as a float, or :class:`UsageError` naming ``path``."""
        allowed = f"a number from {_num(self.minimum)} to {_num(self.maximum)} ({self.unit})"
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise UsageError(path, value, allowed)
        number = float(value)
        if not math.isfinite(number) or not self.minimum <= number <= self.maximum:
            raise UsageError(path, value, allowed)
        return number

    def schema(self) -> dict[str, Any]:
        """JSON schema of the figure (what the Pulumi CLI validates the policy config with)."""
        return {
            "type": "number",
            "minimum": self.minimum,
            "maximum": self.maximum,
            "default": self.default,
            "description": f"{self.description} ({self.unit}).",
        }


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


F = Figure
SECTIONS: Final[dict[str, tuple[Figure, ...]]] = {
    "aurora": (
        F(
            "storageGb",
            50,
            0,
            131072,
            "GB",
            "Data in the cluster volume; each region keeps a full copy",
        ),
        F(
            "writeIoPerSecond",
            100,
            0,
            1e6,
            "I/Os per second",
            "Storage write I/Os in the primary region (4 KiB units); each is replicated to the secondary",
        ),
        F(
            "readIoPerSecond",
            200,
            0,
            1e6,
            "I/Os per second",
            "Storage read I/Os per region (reads the buffer cache misses)",
        ),
        F(
            "extraReaders",
            0,
            0,
            15,
            "instances",
            "Average readers added by reader auto scaling, per region",
        ),
    ),
    "cache": (
        F("dataGb", 2, 0, 100000, "GB", "Data held in the cache (the size of one snapshot)"),
        F(
            "writesPerSecond",
            100,
            0,
            1e7,
            "writes per second",
            "Writes to the primary, replicated to the secondary region",
        ),
        F("itemSizeKb", 1, 0.01, 512000, "KB", "Average size of a written item"),
    ),
    "kms": (
        F(
            "requestsPerMonth",
            100000,
            0,
            1e12,
            "requests per region",
            "KMS API requests by the services using the keys",
        ),
    ),
    "secretsManager": (
        F("apiCallsPerMonth", 50000, 0, 1e12, "calls", "GetSecretValue and other API calls"),
    ),
    "cloudwatch": (
        F(
            "logsGbPerMonth",
            2,
            0,
            1e6,
            "GB per region",
            "Log data ingested (Aurora log exports, enhanced monitoring, VPC flow logs, secret rotation)",
        ),
    ),
    "route53": (
        F("queriesPerMonth", 5e6, 0, 1e13, "queries", "DNS queries to the private hosted zone"),
    ),
    "payments": (
        F(
            "walGbPerMonth",
            20,
            0,
            1e6,
            "GB per month",
            "Transaction log (WAL) the payments database writes; shipped to its cross-region read"
            " replica, and again with the snapshots to its replicated automated backups",
        ),
        F(
            "backupGb",
            100,
            0,
            1e6,
            "GB",
            "Automated backup storage the payments database's retention window holds (snapshots"
            " and logs); the replicated copy in the other region holds the same",
        ),
    ),
    "neptune": (
        F(
            "storageGb",
            10,
            0,
            131072,
            "GB",
            "Fraud graph data in the cluster volume; each region keeps a full copy",
        ),
        F(
            "writeIoPerSecond",
            20,
            0,
            1e6,
            "I/Os per second",
            "Storage write I/Os in the primary region; each is replicated to the secondary",
        ),
        F(
            "readIoPerSecond",
            50,
            0,
            1e6,
            "I/Os per second",
            "Storage read I/Os per region (reads the buffer cache misses)",
        ),
    ),
    "backup": (
        F(
            "dailyChangePercent",
            5,
            0,
            100,
            "% per day",
            "Share of the Aurora volume that changes per day (incremental recovery points)",
        ),
    ),
    "redshift": (
        F(
            "storageGb",
            100,
            0,
            1e7,
            "GB",
            "Data in the analytics cluster's managed storage (RA3), when the stack has one",
        ),
        F(
            "dailyChangePercent",
            2,
            0,
            100,
            "% per day",
            "Share of the warehouse's data that changes per day (what each day's snapshots add)",
        ),
    ),
}
"""Sections and their figures (everything but the per-table DynamoDB figures)."""

TABLE_FIGURES: Final[tuple[Figure, ...]] = (
    F("storageGb", 5, 0, 1e6, "GB", "Table data, indexes included; each replica keeps a full copy"),
    F(
        "writesPerSecond",
        10,
        0,
        1e7,
        "writes per second",
        "Item writes in the primary region, replicated to the other region",
    ),
    F(
        "readsPerSecond",
        50,
        0,
        1e7,
        "reads per second",
        "Strongly consistent item reads (eventual reads cost half)",
    ),
    F("itemSizeKb", 1, 0.01, 400, "KB", "Average item size"),
    F(
        "streamReadsPerSecond",
        0,
        0,
        1e7,
        "reads per second",
        "Stream reads by your own consumers (replication's are free)",
    ),
)
"""Figures of one DynamoDB table: under ``dynamodb.default`` and ``dynamodb.tables.<name>``."""

_TABLES: Final = {f.key: f for f in TABLE_FIGURES}


@dataclass(frozen=True, slots=True)
class Default:
    """A figure the usage file left out, with the value the estimate used."""

    key: str
    value: float
    unit: str
    description: str


@dataclass(frozen=True, slots=True)
class Usage:
    """Validated usage figures, defaults filled in."""

    values: Mapping[str, float]
    """``section.key`` -> value for every figure of :data:`SECTIONS`."""
    table_default: Mapping[str, float]
    tables: Mapping[str, Mapping[str, float]]
    """Per table name: the figures the file gives (the rest come from ``table_default``)."""
    given: frozenset[str]
    """Dotted keys the file set explicitly."""

    def figure(self, key: str) -> float:
        """``usage.figure("aurora.storageGb")``."""
        return self.values[key]

    def table(self, name: str | None) -> dict[str, float]:
        """Figures of one table (its own, then ``dynamodb.default``, then the defaults)."""
        merged = dict(self.table_default)
        if name is not None:
            merged.update(self.tables.get(name, {}))
        return merged

    def defaults_used(self, table_names: Iterable[str] = ()) -> list[Default]:
        """Figures the estimate took from the defaults (for the report)."""
        out = [
            Default(f"{section}.{f.key}", f.default, f.unit, f.description)
            for section, figures in SECTIONS.items()
            for f in figures
            if f"{section}.{f.key}" not in self.given
        ]
        for name in table_names:
            for f in TABLE_FIGURES:
                own = f"dynamodb.tables.{name}.{f.key}"
                shared = f"dynamodb.default.{f.key}"
                if own not in self.given and shared not in self.given:
                    out.append(Default(own, f.default, f.unit, f.description))
        return out


def _mapping(path: str, value: Any, allowed: Iterable[str]) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise UsageError(path, value, f"a mapping with keys {', '.join(allowed)}")
    return value


def _unknown(path: str, keys: Iterable[str], allowed: Iterable[str]) -> None:
    known = list(allowed)
    for key in keys:
        if key not in known:
            where = f"{path}.{key}" if path else str(key)
            raise UsageError(where, key, f"one of {', '.join(known)}")


def _table(path: str, raw: Any, given: set[str]) -> dict[str, float]:
    data = _mapping(path, raw, _TABLES)
    _unknown(path, data, _TABLES)
    out: dict[str, float] = {}
    for key, value in data.items():
        out[key] = _TABLES[key].check(f"{path}.{key}", value)
        given.add(f"{path}.{key}")
    return out


def parse_usage(raw: Any) -> Usage:
    """Validate a usage document (the YAML file, or the gate's ``usage`` property).

    ``None`` or ``{}`` means every default. Raises :class:`UsageError` for an unknown key, a
    value of the wrong type or one out of range.
    """
    top = ["dynamodb", *SECTIONS]
    doc = _mapping("usage", raw, top)
    _unknown("", doc, top)
    given: set[str] = set()
    values: dict[str, float] = {}
    for section, figures in SECTIONS.items():
        by_key = {f.key: f for f in figures}
        data = _mapping(section, doc.get(section), by_key)
        _unknown(section, data, by_key)
        for f in figures:
            path = f"{section}.{f.key}"
            if f.key in data:
                values[path] = f.check(path, data[f.key])
                given.add(path)
            else:
                values[path] = float(f.default)
    dynamo = _mapping("dynamodb", doc.get("dynamodb"), ("default", "tables"))
    _unknown("dynamodb", dynamo, ("default", "tables"))
    table_default = {f.key: float(f.default) for f in TABLE_FIGURES}
    table_default.update(_table("dynamodb.default", dynamo.get("default"), given))
    tables_raw = _mapping("dynamodb.tables", dynamo.get("tables"), ("<table name>",))
    tables: dict[str, dict[str, float]] = {}
    for name, figures in tables_raw.items():
        if not isinstance(name, str) or not name:
            raise UsageError("dynamodb.tables", name, "table names as in dynamodbTables[].name")
        tables[name] = _table(f"dynamodb.tables.{name}", figures, given)
    return Usage(values, table_default, tables, frozenset(given))


def _object(properties: Mapping[str, Any], description: str) -> dict[str, Any]:
    return {
        "type": "object",
        "additionalProperties": False,
        "properties": dict(properties),
        "description": description,
    }


def json_schema() -> dict[str, Any]:
    """The JSON schema of a usage document, with every figure's minimum and maximum."""
    table = _object({f.key: f.schema() for f in TABLE_FIGURES}, "Figures of one DynamoDB table.")
    properties: dict[str, Any] = {
        section: _object({f.key: f.schema() for f in figures}, f"{section} usage.")
        for section, figures in SECTIONS.items()
    }
    properties["dynamodb"] = _object(
        {
            "default": table,
            "tables": {
                "type": "object",
                "additionalProperties": table,
                "description": "Per table (dynamodbTables[].name): figures that differ from the default.",
            },
        },
        "DynamoDB usage.",
    )
    return _object(properties, "Usage figures (a copy of stacks/usage.<stack>.yaml).")


def default_document() -> dict[str, Any]:
    """Every default, in the shape of a usage file (the gate's schema default)."""
    doc: dict[str, Any] = {
        section: {f.key: f.default for f in figures} for section, figures in SECTIONS.items()
    }
    doc["dynamodb"] = {"default": {f.key: f.default for f in TABLE_FIGURES}, "tables": {}}
    return doc
