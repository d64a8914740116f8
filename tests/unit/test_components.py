"""Components on their own, under ``set_mocks`` and ``@pulumi.runtime.test``: the inputs each
child receives for the less common configurations (bring-your-own VPC, provisioned tables)."""

from __future__ import annotations

from typing import Any

import pulumi
import pytest

from components.dns import FailoverDns, FailoverDnsArgs
from components.dynamodb import GlobalTable, GlobalTableArgs
from components.monitoring import WatchedAlarm
from components.network import RegionalNetwork, RegionalNetworkArgs
from components.settings import AttributeSettings, ExistingNetwork, TableSettings
from preflight.recorder import CloudMocks, RecordingMonitor


@pytest.fixture
def monitor() -> RecordingMonitor:
    recording = RecordingMonitor(CloudMocks("us-east-1"))
    pulumi.runtime.set_mocks(
        recording.mocks, project="securecart-data", stack="unit", preview=False, monitor=recording
    )
    return recording


def _registered(monitor: RecordingMonitor, type_token: str) -> list:
    return [r for r in monitor.recorded if r.type == type_token]


@pulumi.runtime.test
def test_existing_vpc_creates_no_network_only_groups(monitor: RecordingMonitor) -> None:
    existing = ExistingNetwork(
        vpc_id="vpc-0123456789abcdef0",
        subnet_ids=("subnet-0000000a", "subnet-0000000b", "subnet-0000000c"),
    )
    network = RegionalNetwork(
        "network-eu-west-1",
        RegionalNetworkArgs(
            prefix="securecart-dev",
            region="eu-west-1",
            availability_zones=("eu-west-1a", "eu-west-1b", "eu-west-1c"),
            vpc_cidr="10.20.0.0/16",
            app_cidrs=("10.100.0.0/16",),
            existing=existing,
        ),
    )

    def check(values: list[object]) -> None:
        vpc_id, subnets = values[:2]
        assert vpc_id == "vpc-0123456789abcdef0"
        assert subnets == list(existing.subnet_ids)
        assert _registered(monitor, "aws:ec2/vpc:Vpc") == []
        assert _registered(monitor, "aws:ec2/subnet:Subnet") == []
        (db_group,) = _registered(monitor, "aws:rds/subnetGroup:SubnetGroup")
        assert db_group.inputs["subnetIds"] == list(existing.subnet_ids)
        sgs = {
            r.name: r.inputs for r in _registered(monitor, "aws:ec2/securityGroup:SecurityGroup")
        }
        assert sgs["db-sg-eu-west-1"]["vpcId"] == "vpc-0123456789abcdef0"
        (rule,) = sgs["db-sg-eu-west-1"]["ingress"]
        assert (rule["fromPort"], rule["toPort"], rule["cidrBlocks"]) == (
            5432,
            5432,
            ["10.100.0.0/16"],
        )
        assert sgs["cache-sg-eu-west-1"]["ingress"][0]["fromPort"] == 6379
        assert all(sg["egress"] == [] for sg in sgs.values())
        for resource in monitor.recorded:
            if resource.custom:
                assert resource.parent is not None and resource.parent.endswith(
                    "::network-eu-west-1"
                )

    return pulumi.Output.all(
        network.vpc_id,
        network.subnet_ids,
        network.db_subnet_group_name,
        network.cache_subnet_group_name,
        network.db_security_group_id,
        network.cache_security_group_id,
    ).apply(check)


@pulumi.runtime.test
def test_new_vpc_spreads_three_private_subnets(monitor: RecordingMonitor) -> None:
    network = RegionalNetwork(
        "network-us-east-1",
        RegionalNetworkArgs(
            prefix="securecart-dev",
            region="us-east-1",
            availability_zones=("us-east-1a", "us-east-1b", "us-east-1c"),
            vpc_cidr="10.16.0.0/16",
            app_cidrs=("10.100.0.0/16",),
        ),
    )

    def check(_: object) -> None:
        subnets = sorted(_registered(monitor, "aws:ec2/subnet:Subnet"), key=lambda s: s.name)
        assert [s.inputs["availabilityZone"] for s in subnets] == [
            "us-east-1a",
            "us-east-1b",
            "us-east-1c",
        ]
        assert [s.inputs["cidrBlock"] for s in subnets] == [
            "10.16.0.0/20",
            "10.16.16.0/20",
            "10.16.32.0/20",
        ]
        assert all(s.inputs["mapPublicIpOnLaunch"] is False for s in subnets)
        (default_sg,) = _registered(monitor, "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup")
        assert default_sg.inputs["ingress"] == [] and default_sg.inputs["egress"] == []

    return pulumi.Output.all(network.subnet_ids, network.db_security_group_id).apply(check)


def test_provisioned_table_autoscales_in_both_regions(monitor: RecordingMonitor) -> None:
    arns: list[str] = []

    @pulumi.runtime.test  # waits for every outstanding registration before returning
    def build() -> pulumi.Output[None]:
        return _build_table().apply(arns.extend)

    build()
    (resource,) = _registered(monitor, "aws:dynamodb/table:Table")
    assert resource.inputs["billingMode"] == "PROVISIONED"
    assert (resource.inputs["readCapacity"], resource.inputs["writeCapacity"]) == (5, 10)
    assert set(resource.ignore_changes) == {"readCapacity", "writeCapacity"}
    targets = {
        (t.region, t.inputs["scalableDimension"]): t.inputs
        for t in _registered(monitor, "aws:appautoscaling/target:Target")
    }
    assert set(targets) == {
        (region, f"dynamodb:table:{kind}CapacityUnits")
        for region in ("us-east-1", "us-west-2")
        for kind in ("Read", "Write")
    }
    assert targets[("us-west-2", "dynamodb:table:WriteCapacityUnits")]["minCapacity"] == 10
    policies = _registered(monitor, "aws:appautoscaling/policy:Policy")
    assert len(policies) == 4
    assert arns == [
        "arn:aws:dynamodb:us-east-1:123456789012:table/securecart-dev-inventory",
        "arn:aws:dynamodb:us-west-2:123456789012:table/securecart-dev-inventory",
    ]


def _build_table() -> pulumi.Output[list[str]]:
    table = GlobalTable(
        "table-inventory",
        GlobalTableArgs(
            prefix="securecart-dev",
            table=TableSettings(
                name="inventory",
                hash_key="sku",
                attributes=(AttributeSettings(name="sku", type="S"),),
                billing_mode="PROVISIONED",
                read_capacity=5,
                write_capacity=10,
            ),
            home_region="us-east-1",
            replica_region="us-west-2",
            key_arns={
                "us-east-1": "arn:aws:kms:us-east-1:123456789012:key/mrk-1",
                "us-west-2": "arn:aws:kms:us-west-2:123456789012:key/mrk-1",
            },
        ),
    )

    return pulumi.Output.all(table.arns["us-east-1"], table.arns["us-west-2"])


def _watched(name: str) -> WatchedAlarm:
    """An alarm as Monitoring hands it to FailoverDns (settings as a health check tracks them)."""
    return WatchedAlarm(name=pulumi.Output.from_input(name), settings={"threshold": "1"})


class _Net:
    """Stands in for RegionalNetwork: the DNS component reads only the VPC id."""

    def __init__(self, vpc_id: str) -> None:
        self.vpc_id = vpc_id


def test_app_vpcs_of_a_third_region_and_a_role_swap_give_one_association_list(
    monitor: RecordingMonitor,
) -> None:
    pair = ("us-west-2", "us-east-1")  # primary listed first, but associations sort by region

    @pulumi.runtime.test  # waits for every outstanding registration before returning
    def build() -> pulumi.Output[str]:
        dns = FailoverDns(
            "dns",
            FailoverDnsArgs(
                prefix="securecart-unit",
                zone_name="data.securecart.internal",
                primary_region=pair[0],
                secondary_region=pair[1],
                networks={"us-east-1": _Net("vpc-00000000"), "us-west-2": _Net("vpc-11111111")},  # type: ignore[dict-item]
                app_vpc_ids={
                    "eu-west-1": ["vpc-22222222"],
                    "us-east-1": ["vpc-44444444", "vpc-33333333"],
                },
                writer_endpoint="g.global-x.global.rds.amazonaws.com",
                reader_endpoints={r: f"ro.{r}" for r in pair},
                cache_primary_endpoints={r: f"master.{r}" for r in pair},
                cache_reader_endpoints={r: f"replica.{r}" for r in pair},
                health_alarms={r: _watched(f"aurora-health-{r}") for r in pair},
                cache_health_alarms={r: [_watched(f"cache-health-001-{r}")] for r in pair},
                cache_role_alarms={r: [_watched(f"cache-role-001-{r}")] for r in pair},
            ),
        )
        return dns.zone_id

    build()
    (zone,) = _registered(monitor, "aws:route53/zone:Zone")
    assert zone.inputs["vpcs"] == [
        {"vpcId": "vpc-22222222", "vpcRegion": "eu-west-1"},
        {"vpcId": "vpc-00000000", "vpcRegion": "us-east-1"},
        {"vpcId": "vpc-33333333", "vpcRegion": "us-east-1"},
        {"vpcId": "vpc-44444444", "vpcRegion": "us-east-1"},
        {"vpcId": "vpc-11111111", "vpcRegion": "us-west-2"},
    ]
    records = {r.name: r.inputs for r in _registered(monitor, "aws:route53/record:Record")}
    assert records["cache-us-west-2-001"]["records"] == ["master.us-west-2"]
    assert records["cache-us-east-1-001"]["records"] == ["master.us-east-1"]
    assert records["writer"]["records"] == ["g.global-x.global.rds.amazonaws.com"]
    assert records["cache-reader-us-east-1"]["records"] == ["replica.us-east-1"]
    checks = {r.name: r.inputs for r in _registered(monitor, "aws:route53/healthCheck:HealthCheck")}
    assert checks["health-us-east-1"]["cloudwatchAlarmName"] == "aurora-health-us-east-1"
    assert checks["cache-health-us-west-2"]["childHealthThreshold"] == 1
    assert all(len(c.get("referenceName", "")) <= 27 for c in checks.values())


class _AliasMonitor(RecordingMonitor):
    """Also keeps the alias names each registration asks the engine for."""

    def __init__(self) -> None:
        super().__init__(CloudMocks("us-east-1"))
        self.aliases: dict[str, list[tuple[str, str]]] = {}
        self.delete_before_replace: set[str] = set()
        self.depends: dict[str, list[str]] = {}

    def RegisterResource(self, request: Any) -> Any:
        self.aliases[request.name] = [(a.spec.name, a.spec.parentUrn) for a in request.aliases]
        if request.deleteBeforeReplace:
            self.delete_before_replace.add(request.name)
        self.depends[request.name] = [urn.split("::")[-1] for urn in request.dependencies]
        return super().RegisterResource(request)


def test_writer_and_cache_adopt_the_old_records() -> None:
    """Upgrading a stack: the simple writer record takes over `writer-<primary>` (an in-place
    update) instead of being created beside it; one weighted cache record (fixed by region name,
    not role) takes over the old simple `cache` record, deleted before it is replaced, and the
    other cache records wait for it (Route 53 refuses a weighted CNAME beside a simple one)."""
    recording = _AliasMonitor()
    pulumi.runtime.set_mocks(
        recording.mocks, project="securecart-data", stack="unit", preview=False, monitor=recording
    )
    pair = ("us-west-2", "us-east-1")

    @pulumi.runtime.test
    def build() -> pulumi.Output[str]:
        return FailoverDns(
            "dns",
            FailoverDnsArgs(
                prefix="securecart-unit",
                zone_name="data.securecart.internal",
                primary_region=pair[0],
                secondary_region=pair[1],
                networks={r: _Net(f"vpc-{n}0000000") for n, r in enumerate(pair)},  # type: ignore[misc]
                app_vpc_ids={},
                writer_endpoint="g.global-x.global.rds.amazonaws.com",
                reader_endpoints={r: f"ro.{r}" for r in pair},
                cache_primary_endpoints={r: f"master.{r}" for r in pair},
                cache_reader_endpoints={r: f"replica.{r}" for r in pair},
                health_alarms={r: _watched(f"aurora-health-{r}") for r in pair},
                cache_health_alarms={r: [_watched(f"cache-health-001-{r}")] for r in pair},
                cache_role_alarms={r: [_watched(f"cache-role-001-{r}")] for r in pair},
            ),
        ).zone_id

    build()
    # An alias without a parent URN keeps the resource's own parent (the FailoverDns component).
    assert recording.aliases["writer"] == [("writer-us-west-2", "")]
    assert recording.aliases["cache-us-east-1-001"] == [("cache", "")]
    assert recording.aliases["cache-us-west-2-001"] == []
    assert recording.aliases["reader-us-east-1"] == []
    assert recording.delete_before_replace == {"cache-us-east-1-001"}
    assert "cache-us-east-1-001" in recording.depends["cache-us-west-2-001"]
    assert "cache-us-west-2-001" not in recording.depends["cache-us-east-1-001"]
