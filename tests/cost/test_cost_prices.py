"""The pinned price table and ``python -m preflight.prices --refresh``, driven through botocore's
Stubber with recorded Price List answers (no network), and through the real command line."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from policies.pricing.table import (
    TABLE_PATH,
    PriceTable,
    PriceTableError,
    load_table,
    pinned_table,
)
from preflight.prices import EXIT_API, EXIT_NO_CREDENTIALS, EXIT_OK, recipe, run

REPO = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "pricelist"
REGIONS = ("us-east-1", "us-east-2", "us-west-2")
SUBSET = [
    ("aurora.instance/aurora-postgresql/db.r6g.large", "us-east-1"),
    ("cache.node/valkey/cache.r7g.large", "us-east-1"),
    ("dynamodb.write", "us-east-1"),
    ("dynamodb.read", "us-east-1"),
    ("transfer.inter-region/us-west-2", "us-east-1"),
    ("route53.zone", "global"),
]


def _answer(name: str) -> dict[str, Any]:
    doc = json.loads((FIXTURES / f"{name}.json").read_text())
    doc["PriceList"] = [json.dumps(item) for item in doc["PriceList"]]
    return doc


def _filters(*pairs: tuple[str, str]) -> list[dict[str, str]]:
    return [{"Type": "TERM_MATCH", "Field": f, "Value": v} for f, v in pairs]


def _request(service: str, *pairs: tuple[str, str], token: str | None = None) -> dict[str, Any]:
    params: dict[str, Any] = {
        "ServiceCode": service,
        "Filters": _filters(*pairs),
        "FormatVersion": "aws_v1",
        "MaxResults": 100,
    }
    if token:
        params["NextToken"] = token
    return params


EAST = ("regionCode", "us-east-1")
CALLS = [  # in the order of the table's entries (each query once)
    (
        "rds-aurora-postgresql-db.r6g.large-us-east-1",
        _request(
            "AmazonRDS",
            EAST,
            ("instanceType", "db.r6g.large"),
            ("databaseEngine", "Aurora PostgreSQL"),
            ("deploymentOption", "Single-AZ"),
        ),
    ),
    ("dynamodb-us-east-1", _request("AmazonDynamoDB", EAST)),
    (
        "elasticache-valkey-cache.r7g.large-us-east-1.page-1",
        _request(
            "AmazonElastiCache",
            EAST,
            ("instanceType", "cache.r7g.large"),
            ("cacheEngine", "Valkey"),
        ),
    ),
    (
        "elasticache-valkey-cache.r7g.large-us-east-1.page-2",
        _request(
            "AmazonElastiCache",
            EAST,
            ("instanceType", "cache.r7g.large"),
            ("cacheEngine", "Valkey"),
            token="page-2-token",
        ),
    ),
    (
        "datatransfer-us-east-1-to-us-west-2",
        _request(
            "AWSDataTransfer",
            ("fromRegionCode", "us-east-1"),
            ("toRegionCode", "us-west-2"),
            ("transferType", "InterRegion Outbound"),
        ),
    ),
    ("route53-global", _request("AmazonRoute53")),
]


def _subset_table(path: Path) -> PriceTable:
    pinned = pinned_table()
    keep = [p for p in pinned.prices if (p.id, p.region) in SUBSET]
    table = PriceTable(tuple(keep), pinned.meta)
    path.write_text(table.dumps(), encoding="utf-8")
    return table


def _client() -> tuple[Any, Stubber]:
    client = boto3.client(
        "pricing", region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test"
    )
    return client, Stubber(client)


def test_refresh_rebuilds_every_entry_from_the_price_list(tmp_path: Path) -> None:
    path = tmp_path / "prices.json"
    _subset_table(path)
    client, stubber = _client()
    for name, params in CALLS:
        stubber.add_response("get_products", _answer(name), params)
    with stubber:
        code = run(refresh=True, table_path=path, client=client, today=dt.date(2026, 12, 24))
    stubber.assert_no_pending_responses()
    assert code == EXIT_OK
    table = load_table(path)
    aurora = "aurora.instance/aurora-postgresql/db.r6g.large"
    od = table.get(aurora, "us-east-1")
    assert (od.usd, od.unit, od.basis, od.taken) == (0.26, "hour", "price-list", "2026-12-24")
    assert od.source == {
        "offer": "AmazonRDS",
        "sku": "4U9P9G87PY8QVQH5",
        "version": "20261113201534",
        "url": "https://aws.amazon.com/rds/aurora/pricing/",
    }
    # the 1-year No Upfront term, not the I/O-Optimized product or another purchase option
    one = table.get(aurora, "us-east-1", "reserved-1y")
    assert (one.usd, one.upfront_usd, one.option) == (0.182, 0.0, "No Upfront")
    # 3 years Partial Upfront: $0.053/h plus $1,393 spread over 26,280 h
    three = table.get(aurora, "us-east-1", "reserved-3y")
    assert (three.usd, three.upfront_usd) == (0.053, 1393.0)
    assert three.effective_usd == pytest.approx(0.053 + 1393 / 26280)
    node = "cache.node/valkey/cache.r7g.large"
    # the node-hour product on page 2, not the synchronous-durability meter on page 1
    assert table.get(node, "us-east-1").usd == 0.1752
    assert table.get(node, "us-east-1").source["sku"] == "QE3WWQ6CM8JKF2WD"
    assert table.get(node, "us-east-1", "reserved-1y").usd == 0.12
    assert table.get(node, "us-east-1", "reserved-3y").usd == 0.0922
    # one query answers both DynamoDB entries; Standard-IA request units are skipped
    assert table.get("dynamodb.write", "us-east-1").usd == 0.000000625
    assert table.get("dynamodb.read", "us-east-1").usd == 0.000000125
    assert (
        table.get("transfer.inter-region/us-west-2", "us-east-1").source["sku"]
        == "8A5AXE9EXBN5PGWR"
    )
    # tiered: the first 25 hosted zones' price
    assert table.get("route53.zone", "global").usd == 0.50
    assert all(p.basis == "price-list" and p.note == "" for p in table.prices)


def test_a_missing_product_leaves_the_table_untouched(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "prices.json"
    _subset_table(path)
    before = path.read_bytes()
    client, stubber = _client()
    empty = {"FormatVersion": "aws_v1", "PriceList": []}
    stubber.add_response("get_products", empty, CALLS[0][1])
    with stubber:
        code = run(refresh=True, table_path=path, client=client)
    assert code == EXIT_API
    assert path.read_bytes() == before
    err = capsys.readouterr().err
    assert (
        "no on-demand price for aurora.instance/aurora-postgresql/db.r6g.large in us-east-1" in err
    )
    assert "left untouched" in err


def test_an_api_error_leaves_the_table_untouched(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "prices.json"
    _subset_table(path)
    before = path.read_bytes()
    client, stubber = _client()
    stubber.add_client_error(
        "get_products", "AccessDeniedException", "not authorized to perform: pricing:GetProducts"
    )
    with stubber:
        code = run(refresh=True, table_path=path, client=client)
    assert code == EXIT_API
    assert path.read_bytes() == before
    assert "pricing:GetProducts" in capsys.readouterr().err


def test_without_credentials_the_command_says_so_and_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "prices.json"
    _subset_table(path)
    before = path.read_bytes()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        {
            "HOME": str(tmp_path),
            "AWS_CONFIG_FILE": str(tmp_path / "no-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-credentials"),
            "AWS_EC2_METADATA_DISABLED": "true",
        }
    )
    proc = subprocess.run(
        [sys.executable, "-m", "preflight.prices", "--refresh", "--table", str(path)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == EXIT_NO_CREDENTIALS, proc.stderr
    assert "no AWS credentials" in proc.stderr and "pricing:GetProducts" in proc.stderr
    assert f"left untouched: {path}" in proc.stderr
    assert path.read_bytes() == before


def test_without_refresh_the_command_summarises_the_pinned_table() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "preflight.prices"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0
    assert "regions: global, us-east-1, us-east-2, us-west-2" in proc.stdout


def test_every_entry_carries_region_unit_date_and_source() -> None:
    table = pinned_table()
    for price in table.prices:
        assert price.region in (*REGIONS, "global")
        assert price.unit and price.usd > 0
        assert dt.date.fromisoformat(price.taken)
        assert price.source["offer"] and (price.source.get("url") or price.source.get("sku"))
        if price.basis == "derived":
            assert price.note.startswith("derived:")
        recipe(price)  # the refresh knows how to look every entry up again


def _allowed(rule: str) -> set[str]:
    found: set[str] = set()
    for stack in ("dev", "staging", "prod"):
        config = json.loads((REPO / "stacks" / f"policy-config.{stack}.json").read_text())
        found |= set(config.get(rule, {}).get("allowed", []))
    return found


@pytest.mark.parametrize("region", REGIONS)
def test_every_allowed_instance_class_and_node_type_is_priced_in_every_region(region: str) -> None:
    table = pinned_table()
    ids = [
        f"aurora.instance/aurora-postgresql/{c}" for c in _allowed("cost-allowed-instance-classes")
    ]
    ids += [f"cache.node/valkey/{n}" for n in _allowed("cost-allowed-cache-node-types")]
    assert len(ids) >= 14
    for id_ in ids:
        od = table.get(id_, region)
        one, three = table.get(id_, region, "reserved-1y"), table.get(id_, region, "reserved-3y")
        assert three.effective_usd < one.effective_usd < od.usd, id_
        assert one.option == "No Upfront"
        # AWS sells Aurora no 3-year No Upfront term; cache nodes have one
        assert three.option == ("Partial Upfront" if id_.startswith("aurora") else "No Upfront")


def test_a_malformed_table_is_refused_naming_the_entry(tmp_path: Path) -> None:
    doc = json.loads(TABLE_PATH.read_text())
    doc["entries"][3]["usd"] = -1
    with pytest.raises(PriceTableError, match=r"entries\[3\]: usd is -1"):
        PriceTable.from_document(doc)
    doc = json.loads(TABLE_PATH.read_text())
    del doc["entries"][5]["taken"]
    with pytest.raises(PriceTableError, match=r"entries\[5\]: missing taken"):
        PriceTable.from_document(doc)
    doc = json.loads(TABLE_PATH.read_text())
    doc["entries"].append(doc["entries"][0])
    with pytest.raises(PriceTableError, match="appears twice"):
        PriceTable.from_document(doc)


def test_the_file_round_trips_one_entry_per_line() -> None:
    text = TABLE_PATH.read_text()
    table = load_table(TABLE_PATH)
    assert table.dumps() == text
    assert text.count("\n") == len(table.prices) + 8
