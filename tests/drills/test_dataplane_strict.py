"""The emulator refuses what AWS refuses (issue 16 item 10); each expectation is the AWS page's.

- RDS API Reference, ``FailoverGlobalCluster``: ``AllowDataLoss`` "Can't be specified together
  with the Switchover parameter".
- Aurora User Guide, "Performing switchovers for Amazon Aurora global databases": the primary
  and the target secondary must run the same engine version.
- Route 53 Developer Guide / API: a CNAME can't share its name with another record type
  (``InvalidChangeBatch``); ``ChangeResourceRecordSets`` answers ``PENDING``, ``GetChange``
  says ``INSYNC`` once the change has propagated.
- RDS API Reference, ``FailoverState``: ``pending``, then ``switching-over`` (switchover) or
  ``failing-over`` (failover).
"""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError
from drill_harness import PRIMARY, SECONDARY, DrillHarness
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.rds.models import rds_backends

from emulator.state import ManualClock


def _gid(harness: DrillHarness) -> str:
    return harness.topology.global_cluster_id


def test_failover_with_both_allow_data_loss_and_switchover_is_refused(
    harness: DrillHarness,
) -> None:
    rds = harness.client("rds", SECONDARY)
    for allow, switch in ((True, True), (False, True)):  # "specified together", any values
        with pytest.raises(ClientError) as refused:
            rds.failover_global_cluster(
                GlobalClusterIdentifier=_gid(harness),
                TargetDbClusterIdentifier=harness.seeded.cluster_arns[SECONDARY],
                AllowDataLoss=allow,
                Switchover=switch,
            )
        assert refused.value.response["Error"]["Code"] == "InvalidParameterCombination"
    # nothing started: the writer is where it was and no failover is in flight
    assert harness.writer_region() == PRIMARY
    assert not harness.global_cluster().get("FailoverState")


def test_switchover_to_a_member_on_another_engine_version_is_refused(
    harness: DrillHarness,
) -> None:
    identifier = harness.topology.cluster(SECONDARY).identifier
    cluster = rds_backends[DEFAULT_ACCOUNT_ID][SECONDARY].clusters[identifier]
    cluster.engine_version = "16.4" if cluster.engine_version != "16.4" else "16.6"
    rds = harness.client("rds", SECONDARY)
    with pytest.raises(ClientError) as refused:
        rds.switchover_global_cluster(
            GlobalClusterIdentifier=_gid(harness),
            TargetDbClusterIdentifier=harness.seeded.cluster_arns[SECONDARY],
        )
    assert refused.value.response["Error"]["Code"] == "InvalidParameterCombination"
    assert "same engine version" in str(refused.value)
    # a failover with data loss (the primary's region is lost) is not a switchover: allowed
    rds.failover_global_cluster(
        GlobalClusterIdentifier=_gid(harness),
        TargetDbClusterIdentifier=harness.seeded.cluster_arns[SECONDARY],
        AllowDataLoss=True,
    )


def _change(harness: DrillHarness, name: str, rtype: str, value: str) -> dict:
    route53 = harness.client("route53", PRIMARY)
    return route53.change_resource_record_sets(
        HostedZoneId=harness.seeded.zone_id,
        ChangeBatch={
            "Changes": [
                {
                    "Action": "UPSERT",
                    "ResourceRecordSet": {
                        "Name": name,
                        "Type": rtype,
                        "TTL": 60,
                        "ResourceRecords": [{"Value": value}],
                    },
                }
            ]
        },
    )


def test_a_cname_never_shares_its_name_with_another_record_type(harness: DrillHarness) -> None:
    zone = harness.topology.dns_zone_name
    writer = f"writer.{zone}"  # seeded as a CNAME
    with pytest.raises(ClientError) as refused:
        _change(harness, writer, "TXT", '"owner=drills"')
    assert refused.value.response["Error"]["Code"] == "InvalidChangeBatch"
    assert "conflicting RRSet of type CNAME" in str(refused.value)

    _change(harness, f"meta.{zone}", "TXT", '"owner=drills"')
    with pytest.raises(ClientError) as refused:
        _change(harness, f"meta.{zone}", "CNAME", "elsewhere.example.com")
    assert refused.value.response["Error"]["Code"] == "InvalidChangeBatch"
    assert "conflicts with other records with the same DNS name" in str(refused.value)
    # an UPSERT of the CNAME itself is fine (the drill's own kind of change)
    _change(harness, writer, "CNAME", "elsewhere.example.com")
    assert harness.seeded.record_value(writer) == "elsewhere.example.com"


def test_change_is_pending_until_it_has_propagated(
    harness: DrillHarness, clock: ManualClock
) -> None:
    propagation = harness.emulator.timings.route53_propagation_seconds
    info = _change(harness, f"x.{harness.topology.dns_zone_name}", "CNAME", "a.example.com")
    assert info["ChangeInfo"]["Status"] == "PENDING"
    route53 = harness.client("route53", PRIMARY)
    change_id = info["ChangeInfo"]["Id"]
    clock.advance(propagation * 0.9)
    assert route53.get_change(Id=change_id)["ChangeInfo"]["Status"] == "PENDING"
    clock.advance(propagation * 0.2)
    assert route53.get_change(Id=change_id)["ChangeInfo"]["Status"] == "INSYNC"
    with pytest.raises(ClientError, match="NoSuchChange"):
        route53.get_change(Id="/change/CNOSUCHCHANGE")


def test_failover_state_goes_pending_then_failing_over(
    harness: DrillHarness, clock: ManualClock
) -> None:
    duration = harness.emulator.timings.failover_seconds
    gc = harness.client("rds", SECONDARY).failover_global_cluster(
        GlobalClusterIdentifier=_gid(harness),
        TargetDbClusterIdentifier=harness.seeded.cluster_arns[SECONDARY],
        AllowDataLoss=True,
    )["GlobalCluster"]
    assert gc["FailoverState"]["Status"] == "pending"
    clock.advance(duration * 0.45)
    assert harness.global_cluster()["FailoverState"]["Status"] == "pending"
    clock.advance(duration * 0.1)  # past half-way: verification done, promoting
    state = harness.global_cluster()["FailoverState"]
    assert state["Status"] == "failing-over" and state["IsDataLossAllowed"] is True
    clock.advance(duration)
    assert not harness.global_cluster().get("FailoverState")
    assert harness.writer_region() == SECONDARY
