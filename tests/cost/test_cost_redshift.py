"""The analytics warehouse's lines, computed by hand from AWS's published Redshift prices
(https://aws.amazon.com/redshift/pricing/: ra3.xlplus $1.086 per node-hour, managed storage
$0.024 per GB-month, backup storage at the S3 Standard $0.023; inter-region transfer
us-east-1 -> us-west-2 $0.02 per GB) and a 730-hour month (30.4167 days)."""

from __future__ import annotations

import pytest

from tests.cost.cost_support import EAST, WEST, Planned, lines, run, usd

STACK = [
    Planned(
        "aws:redshift/cluster:Cluster",
        "redshift-us-east-1",
        {"region": EAST, "nodeType": "ra3.xlplus", "numberOfNodes": 2.0},
    ),
    Planned(
        "aws:redshift/snapshotCopy:SnapshotCopy",
        "redshift-snapshot-copy-us-east-1",
        {"region": EAST, "destinationRegion": WEST, "retentionPeriod": 35.0},
    ),
    Planned("aws:redshift/snapshotCopyGrant:SnapshotCopyGrant", "grant", {"region": WEST}),
    Planned("aws:redshift/logging:Logging", "logging", {"region": EAST}),
    Planned("aws:redshift/parameterGroup:ParameterGroup", "params", {"region": EAST}),
    Planned("aws:redshift/subnetGroup:SubnetGroup", "subnets", {"region": EAST}),
]
USAGE = {"redshift": {"storageGb": 1000, "dailyChangePercent": 1}}


def test_nodes_storage_and_the_copy_to_the_other_region() -> None:
    est = run(STACK, USAGE)
    assert est.complete
    # 2 nodes x 730 h x $1.086
    assert usd(est, "redshift-us-east-1", "2 x ra3.xlplus") == pytest.approx(1585.56)
    # 1,000 GB x $0.024
    assert usd(est, "redshift-us-east-1", "managed storage") == pytest.approx(24.00)
    (free,) = lines(est, "redshift-us-east-1", "automated snapshots")
    assert free.free and free.monthly_usd == 0
    # each day's 1% (10 GB) crosses regions: 10 GB x 30.4167 days x $0.02
    (transfer,) = lines(est, "redshift-snapshot-copy-us-east-1", "replication to us-west-2")
    assert (transfer.region, transfer.quantity) == (EAST, pytest.approx(304.1667, rel=1e-5))
    assert transfer.monthly_usd == pytest.approx(6.0833, rel=1e-4)
    # us-west-2 keeps a full copy plus 35 days of 1%: 1,350 GB x $0.023
    (stored,) = lines(est, "redshift-snapshot-copy-us-east-1", "snapshot copies")
    assert (stored.region, stored.quantity) == (WEST, pytest.approx(1350.0))
    assert stored.monthly_usd == pytest.approx(31.05)
    assert est.by("store")["analytics"] == pytest.approx(1585.56 + 24.00 + 6.0833 + 31.05, rel=1e-5)
    for name in ("grant", "logging", "params", "subnets"):
        assert all(line.free for line in lines(est, name)), name


def test_a_node_type_the_table_lacks_leaves_the_estimate_incomplete() -> None:
    changed = [
        Planned(p.type, p.name, {**p.props, "nodeType": "dc2.large"})
        if p.name == "redshift-us-east-1"
        else p
        for p in STACK
    ]
    est = run(changed, USAGE)
    assert not est.complete
