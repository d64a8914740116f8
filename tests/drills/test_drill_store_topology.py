"""What the sandbox seeds of the issue-20 stores: exactly the stores a stack's plan declares,
under the names the components give them (read from the recorded plan, never defaulted when
the plan has them)."""

from __future__ import annotations

from typing import Any

import pytest

from drills.stackfile import enabled_stores, load_stack_settings
from drills.topology import default_topology, from_recording
from preflight.model import RecordedResource, Recording


def _res(name: str, type_: str, inputs: dict[str, Any]) -> RecordedResource:
    return RecordedResource(
        urn=f"urn:pulumi:prod::securecart-data::{type_}::{name}",
        type=type_,
        name=name,
        custom=True,
        inputs=inputs,
        parent=None,
        provider=None,
    )


def test_a_plan_with_payments_and_redshift_seeds_them_under_the_plans_names() -> None:
    """The plan as components/payments.py and components/redshift.py declare it (names and
    sizes from the plan, what the plan leaves out from the components' naming)."""
    settings = load_stack_settings("prod")
    east, west = "us-east-1", "us-west-2"
    recording = Recording(
        project="securecart-data",
        stack="prod",
        resources=[
            _res(
                f"payments-{east}",
                "aws:rds/instance:Instance",
                {
                    "region": east,
                    "identifier": "pay-east",
                    "instanceClass": "db.r7g.large",
                    "engineVersion": "16.6",
                    "backupRetentionPeriod": 35.0,  # how Pulumi's mocks hand numbers over
                    "allocatedStorage": 200.0,
                },
            ),
            _res(
                f"payments-{west}",
                "aws:rds/instance:Instance",
                {"region": west, "identifier": "pay-west", "replicateSourceDb": "arn:east"},
            ),
            _res(
                f"payments-params-{east}",
                "aws:rds/parameterGroup:ParameterGroup",
                {"region": east, "name": "pg-east"},
            ),
            _res(
                f"payments-params-{west}",
                "aws:rds/parameterGroup:ParameterGroup",
                {"region": west, "name": "pg-west"},
            ),
            _res(
                f"redshift-{east}",
                "aws:redshift/cluster:Cluster",
                {
                    "region": east,
                    "clusterIdentifier": "dw-east",
                    "nodeType": "ra3.xlplus",
                    "numberOfNodes": 2.0,
                },
            ),
            _res(
                f"redshift-copy-grant-{west}",
                "aws:redshift/snapshotCopyGrant:SnapshotCopyGrant",
                {"region": west, "snapshotCopyGrantName": "grant-west"},
            ),
            _res(
                f"redshift-params-{east}",
                "aws:redshift/parameterGroup:ParameterGroup",
                {"region": east, "name": "rp-east"},
            ),
            _res(
                f"redshift-params-{west}",
                "aws:redshift/parameterGroup:ParameterGroup",
                {"region": west, "name": "rp-west"},
            ),
        ],
        outputs={},
        config={},
    )
    topology = from_recording(recording, settings)
    assert topology.neptune is None  # none in the plan
    assert topology.payments is not None and topology.redshift is not None
    # the source is the instance without replicateSourceDb, the replica the other region
    assert (topology.payments.source_region, topology.payments.replica_region) == (east, west)
    assert topology.payments.identifiers == {east: "pay-east", west: "pay-west"}
    assert topology.payments.parameter_groups == {east: "pg-east", west: "pg-west"}
    assert topology.payments.backup_retention_days == 35
    assert topology.payments.allocated_storage_gb == 200
    assert topology.payments.instance_class == "db.r7g.large"
    # the restore lands in the other region, with that region's parameter group and grant
    assert (topology.redshift.region, topology.redshift.copy_region) == (east, west)
    assert topology.redshift.cluster_identifier == "dw-east"
    assert topology.redshift.grant_name == "grant-west"
    assert topology.redshift.restore_parameter_group == "rp-west"
    assert (topology.redshift.node_type, topology.redshift.number_of_nodes) == ("ra3.xlplus", 2)


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_the_default_topology_follows_the_stack_switches(stack: str) -> None:
    settings = load_stack_settings(stack)
    topology = default_topology(settings)
    expected = enabled_stores(settings)
    assert {
        name for name in ("payments", "neptune", "redshift") if getattr(topology, name) is not None
    } == expected
    # stacks/*.yaml: dev builds none, staging the payments database, prod all three
    assert (
        expected
        == {
            "dev": frozenset(),
            "staging": frozenset({"payments"}),
            "prod": frozenset({"payments", "neptune", "redshift"}),
        }[stack]
    )
