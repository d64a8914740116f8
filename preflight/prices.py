"""``python -m preflight.prices --refresh``: rebuild the pinned price table from the AWS Price List API.

Every entry of ``policies/pricing/prices.json`` is looked up again with ``pricing.get_products``
(the Price List Query API, served from us-east-1 whatever the priced region): a recipe per entry
family names the service code, the ``TERM_MATCH`` filters and the usage type that identifies
the product, and the matching product document gives the on-demand rate (first price tier) or
the reserved term (``LeaseContractLength`` and ``PurchaseOption``: recurring ``Hrs`` rate plus
``Quantity`` upfront fee). Each refreshed entry records the offer, SKU, version and the day it
was taken. The table is written only when every entry was found: a partial table never lands.

Exit codes: 0 refreshed (or, without ``--refresh``, the table summarised); 2 bad option or table;
3 no AWS credentials (the API needs them; the table is left untouched); 4 the API failed or lacks
an entry (the table is left untouched).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sys
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Annotated, Any

import typer

from policies.pricing.table import (
    HOURS_PER_MONTH,
    TABLE_PATH,
    Price,
    PriceTable,
    PriceTableError,
    load_table,
)

PRICING_REGION = "us-east-1"
"""The Price List Query API's endpoint region (it also serves ap-south-1 and eu-central-1)."""
EXIT_OK, EXIT_USAGE, EXIT_NO_CREDENTIALS, EXIT_API = 0, 2, 3, 4
USAGE_PREFIX = {"us-east-1": "(?:USE1-)?", "us-east-2": "USE2-", "us-west-2": "USW2-"}
"""Region prefix of usage types (us-east-1's are often unprefixed)."""
LEASE = {"reserved-1y": "1yr", "reserved-3y": "3yr"}


class RefreshError(RuntimeError):
    """The API failed, or returned no product for an entry; the message names the entry."""


@dataclass(frozen=True)
class Recipe:
    """How to find one entry's product: service, filters and the usage type's name."""

    service: str
    filters: tuple[tuple[str, str], ...]
    usage: str
    """Usage type after the region prefix, a regular expression (anchored at both ends)."""

    def matches(self, region: str, attributes: Mapping[str, Any]) -> bool:
        prefix = USAGE_PREFIX.get(region, r"(?:[A-Z0-9]+-)?")
        pattern = rf"^{prefix}{self.usage}$" if region != "global" else rf"^{self.usage}$"
        return re.match(pattern, str(attributes.get("usagetype", ""))) is not None


def recipe(price: Price) -> Recipe:
    """The lookup for one table entry (the ids are the estimator's, see policies/pricing)."""
    family, _, rest = price.id.partition("/")
    region = () if price.region == "global" else (("regionCode", price.region),)
    simple: dict[str, tuple[str, str]] = {
        "aurora.storage": ("AmazonRDS", r"Aurora:StorageUsage"),
        "aurora.storage-iopt": ("AmazonRDS", r"Aurora:IO-OptimizedStorageUsage"),
        "aurora.io": ("AmazonRDS", r"Aurora:StorageIOUsage"),
        "aurora.replicated-write-io": ("AmazonRDS", r"Aurora:ReplicatedWriteIO"),
        "aurora.backup-storage": ("AmazonRDS", r"Aurora:BackupUsage"),
        "rds.backup-storage": ("AmazonRDS", r"RDS:ChargedBackupUsage"),
        # Neptune (issue 20): usage types modelled on Aurora's; AmazonNeptune's offer not read yet.
        "neptune.storage": ("AmazonNeptune", r"StorageUsage"),
        "neptune.io": ("AmazonNeptune", r"StorageIOUsage"),
        "neptune.replicated-write-io": ("AmazonNeptune", r"ReplicatedWriteIO"),
        "dynamodb.write": ("AmazonDynamoDB", r"WriteRequestUnits"),
        "dynamodb.read": ("AmazonDynamoDB", r"ReadRequestUnits"),
        "dynamodb.replicated-write": ("AmazonDynamoDB", r"ReplWriteRequestUnits"),
        "dynamodb.storage": ("AmazonDynamoDB", r"TimedStorage-ByteHrs"),
        "dynamodb.pitr": ("AmazonDynamoDB", r"TimedPITRStorage-ByteHrs"),
        "dynamodb.stream-read": ("AmazonDynamoDB", r"Streams-Requests"),
        "dynamodb.wcu": ("AmazonDynamoDB", r"WriteCapacityUnit-Hrs"),
        "dynamodb.rcu": ("AmazonDynamoDB", r"ReadCapacityUnit-Hrs"),
        "dynamodb.replicated-wcu": ("AmazonDynamoDB", r"ReplWriteCapacityUnit-Hrs"),
        "cache.backup-storage": ("AmazonElastiCache", r"BackupUsage"),
        "kms.key": ("awskms", r"KMS-Keys"),
        "kms.request": ("awskms", r"KMS-Requests"),
        "secretsmanager.secret": ("AWSSecretsManager", r"AWSSecretsManager-Secrets"),
        "secretsmanager.api": ("AWSSecretsManager", r"AWSSecretsManager-APIRequest"),
        "cloudwatch.alarm": ("AmazonCloudWatch", r"CW:AlarmMonitorUsage"),
        "cloudwatch.alarm-high-resolution": ("AmazonCloudWatch", r"CW:HighResAlarmMonitorUsage"),
        "cloudwatch.dashboard": ("AmazonCloudWatch", r"DashboardsUsageHour(?:-Basic)?"),
        "cloudwatch.logs-ingestion": ("AmazonCloudWatch", r"DataProcessing-Bytes"),
        "cloudwatch.logs-storage": ("AmazonCloudWatch", r"TimedStorage-ByteHrs"),
        "backup.aurora-storage": ("AWSBackup", r"WarmStorage-ByteHrs-Aurora"),
        "backup.dynamodb-storage": ("AWSBackup", r"WarmStorage-ByteHrs-DynamoDB"),
        "route53.zone": ("AmazonRoute53", r"HostedZone"),
        "route53.health-check": ("AmazonRoute53", r"Health-Check-AWS"),
        "route53.query": ("AmazonRoute53", r"DNS-Queries"),
        "vpc.interface-endpoint": ("AmazonVPC", r"VpcEndpoint-Hours"),
        "redshift.managed-storage": ("AmazonRedshift", r"RMS:ra3\.xlplus"),
        "redshift.backup-storage": ("AmazonRedshift", r"PaidSnapshots"),
    }
    if family in ("aurora.instance", "aurora.instance-iopt"):
        engine, cls = rest.split("/", 1)
        name = {"aurora-postgresql": "Aurora PostgreSQL", "aurora-mysql": "Aurora MySQL"}.get(
            engine, engine
        )
        filters = (
            *region,
            ("instanceType", cls),
            ("databaseEngine", name),
            ("deploymentOption", "Single-AZ"),
        )
        kind = "InstanceUsageIOOptimized" if family.endswith("-iopt") else "InstanceUsage"
        return Recipe("AmazonRDS", filters, rf"{kind}:{re.escape(cls)}")
    if family == "rds.instance":
        engine, cls = rest.split("/", 1)
        name = {"postgres": "PostgreSQL", "mysql": "MySQL"}.get(engine, engine)
        filters = (
            *region,
            ("instanceType", cls),
            ("databaseEngine", name),
            ("deploymentOption", "Single-AZ"),
        )
        return Recipe("AmazonRDS", filters, rf"InstanceUsage:{re.escape(cls)}")
    if family == "rds.storage":
        volume = {"gp3": ("General Purpose-GP3", "GP3"), "gp2": ("General Purpose", "GP2")}[rest]
        return Recipe(
            "AmazonRDS", (*region, ("volumeType", volume[0])), rf"RDS:{volume[1]}-Storage"
        )
    if family == "neptune.instance":
        # AmazonNeptune's instance products carry instanceType and an InstanceUsage usage type
        # like RDS's (not yet met against the live API from here; a moved one fails by name).
        filters = (*region, ("instanceType", rest))
        return Recipe("AmazonNeptune", filters, rf"InstanceUsage:{re.escape(rest)}")
    if family == "cache.node":
        engine, node = rest.split("/", 1)
        filters = (*region, ("instanceType", node), ("cacheEngine", engine.capitalize()))
        return Recipe("AmazonElastiCache", filters, rf"NodeUsage:{re.escape(node)}")
    if family == "redshift.node":
        filters = (*region, ("instanceType", rest))
        return Recipe("AmazonRedshift", filters, rf"Node:{re.escape(rest)}")
    if family == "transfer.inter-region":
        filters = (
            ("fromRegionCode", price.region),
            ("toRegionCode", rest),
            ("transferType", "InterRegion Outbound"),
        )
        return Recipe("AWSDataTransfer", filters, r"[A-Z0-9]+-AWS-Out-Bytes")
    if price.id in simple:
        service, usage = simple[price.id]
        return Recipe(service, region, usage)
    raise RefreshError(
        f"no Price List recipe for table entry {price.id!r} (add one to preflight/prices.py)"
    )


def _filters(recipe_: Recipe) -> list[dict[str, str]]:
    return [
        {"Type": "TERM_MATCH", "Field": field, "Value": value} for field, value in recipe_.filters
    ]


def products(client: Any, recipe_: Recipe) -> Iterator[dict[str, Any]]:
    """Every product document the query returns (pages followed)."""
    token: str | None = None
    while True:
        kwargs: dict[str, Any] = {
            "ServiceCode": recipe_.service,
            "Filters": _filters(recipe_),
            "FormatVersion": "aws_v1",
            "MaxResults": 100,
        }
        if token:
            kwargs["NextToken"] = token
        page = client.get_products(**kwargs)
        for item in page.get("PriceList", []):
            yield json.loads(item) if isinstance(item, str) else item
        token = page.get("NextToken")
        if not token:
            return


def _scale(api_unit: str, unit: str) -> float:
    """API hourly rates of things the table prices per month (dashboards) become monthly."""
    return (
        HOURS_PER_MONTH if api_unit.lower() in ("hrs", "hours") and unit.endswith("-month") else 1.0
    )


def _dimensions(term: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    dims = list(term.get("priceDimensions", {}).values())
    return sorted(dims, key=lambda d: float(d.get("beginRange", "0") or 0))


def _on_demand(price: Price, doc: Mapping[str, Any]) -> Price | None:
    for term in doc.get("terms", {}).get("OnDemand", {}).values():
        for dim in _dimensions(term):
            text = dim.get("pricePerUnit", {}).get("USD")
            if text is not None:  # the first (lowest) tier that has a USD price
                usd = float(text)
                return replace(
                    price, usd=usd * _scale(str(dim.get("unit", "")), price.unit), upfront_usd=0.0
                )
    return None


def _reserved(price: Price, doc: Mapping[str, Any]) -> Price | None:
    for term in doc.get("terms", {}).get("Reserved", {}).values():
        attrs = term.get("termAttributes", {})
        if attrs.get("LeaseContractLength") != LEASE[price.term]:
            continue
        if (
            attrs.get("PurchaseOption") != price.option
            or attrs.get("OfferingClass", "standard") != "standard"
        ):
            continue
        hourly = upfront = 0.0
        for dim in _dimensions(term):
            usd = float(dim.get("pricePerUnit", {}).get("USD", "0"))
            if str(dim.get("unit")) == "Quantity":
                upfront += usd
            else:
                hourly += usd
        return replace(price, usd=hourly, upfront_usd=upfront)
    return None


def refresh_table(
    table: PriceTable,
    client: Any,
    today: dt.date | None = None,
    echo: Callable[[str], None] = lambda _m: None,
) -> PriceTable:
    """A new table with every entry looked up again; :class:`RefreshError` names a missing one."""
    taken = (today or dt.date.today()).isoformat()
    cache: dict[tuple[str, tuple[tuple[str, str], ...]], list[dict[str, Any]]] = {}
    fresh: list[Price] = []
    for price in table.prices:
        how = recipe(price)
        query = (how.service, how.filters)  # entries that share a query share its answer
        if query not in cache:
            echo(f"get_products {how.service} {dict(how.filters)}")
            cache[query] = list(products(client, how))
        docs = [
            d
            for d in cache[query]
            if how.matches(price.region, d.get("product", {}).get("attributes", {}))
        ]
        found: Price | None = None
        for doc in docs:
            found = _on_demand(price, doc) if price.term == "on-demand" else _reserved(price, doc)
            if found is not None:
                product = doc.get("product", {})
                source = {
                    "offer": how.service,
                    "sku": str(product.get("sku", "")),
                    "version": str(doc.get("version", "")),
                }
                if "url" in price.source:
                    source["url"] = price.source["url"]
                found = replace(found, taken=taken, source=source, basis="price-list", note="")
                break
        if found is None:
            raise RefreshError(
                f"the Price List API returned no {price.term} price for {price.id} in {price.region} "
                f"({how.service}, usage type {how.usage}); the table was left untouched"
            )
        fresh.append(found)
    return PriceTable(tuple(fresh), table.meta)


def has_credentials() -> bool:
    """True when boto3 finds credentials (environment, profile, SSO, container or instance role)."""
    import boto3

    return boto3.Session().get_credentials() is not None


def pricing_client() -> Any:
    """The Price List Query API client (endpoint region us-east-1)."""
    import boto3

    return boto3.client("pricing", region_name=PRICING_REGION)


def summary(table: PriceTable) -> list[str]:
    """What the table holds: entries per basis and term, regions, dates taken."""
    bases = Counter(p.basis for p in table.prices)
    terms = Counter(p.term for p in table.prices)
    return [
        f"{len(table.prices)} prices: " + ", ".join(f"{n} {b}" for b, n in sorted(bases.items())),
        "terms: " + ", ".join(f"{n} {t}" for t, n in sorted(terms.items())),
        "regions: " + ", ".join(sorted(table.regions())),
        "taken: " + ", ".join(sorted({p.taken for p in table.prices})),
    ]


app = typer.Typer(add_completion=False, pretty_exceptions_enable=False, help=__doc__)


@app.command()
def main(
    refresh: Annotated[
        bool, typer.Option("--refresh", help="Rebuild the table from the AWS Price List API.")
    ] = False,
    table_path: Annotated[
        Path, typer.Option("--table", metavar="FILE", show_default="policies/pricing/prices.json")
    ] = TABLE_PATH,
) -> None:
    """Show the pinned price table, or rebuild it from the AWS Price List API (--refresh)."""
    raise typer.Exit(run(refresh=refresh, table_path=table_path))


def run(
    *, refresh: bool, table_path: Path, client: Any = None, today: dt.date | None = None
) -> int:
    """The command's body; ``client`` replaces the real Price List client in tests."""
    try:
        table = load_table(table_path)
    except PriceTableError as exc:
        typer.echo(f"error: {exc}", err=True)
        return EXIT_USAGE
    if not refresh:
        for line in summary(table):
            typer.echo(line)
        return EXIT_OK
    if client is None:
        if not has_credentials():
            typer.echo(
                "no AWS credentials: --refresh calls the AWS Price List API (pricing:GetProducts), which "
                "needs credentials (AWS_PROFILE, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, SSO or an "
                f"instance role). The price table was left untouched: {table_path}",
                err=True,
            )
            return EXIT_NO_CREDENTIALS
        client = pricing_client()
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        fresh = refresh_table(table, client, today, echo=lambda m: typer.echo(m, err=True))
    except (RefreshError, BotoCoreError, ClientError) as exc:
        typer.echo(
            f"refresh failed: {exc}. The price table was left untouched: {table_path}", err=True
        )
        return EXIT_API
    temporary = table_path.with_suffix(".json.tmp")
    temporary.write_text(fresh.dumps(), encoding="utf-8")
    temporary.replace(table_path)
    changed = sum(
        1
        for old, new in zip(table.prices, fresh.prices, strict=True)
        if (old.usd, old.upfront_usd) != (new.usd, new.upfront_usd)
    )
    typer.echo(f"wrote {table_path}: {len(fresh.prices)} prices, {changed} changed")
    return EXIT_OK


def cli(argv: Sequence[str] | None = None) -> None:
    """Entry point of ``python -m preflight.prices``."""
    app(
        args=list(argv) if argv is not None else sys.argv[1:],
        prog_name="python -m preflight.prices",
    )


if __name__ == "__main__":
    cli()
