"""The two Route 53 rules on the designs they exist to stop, through pulumi_policy's validate:
the previous failover-record writer, health checks naming alarms the stack does not have, and
the preview-time cases (names unknown, links known only as dependencies) that must pass."""

from __future__ import annotations

from dataclasses import replace

from policies import RULES_BY_NAME
from policies import resource_types as t
from preflight.model import RecordedResource
from tests.policies.policy_support import EAST, UNKNOWN, WEST, golden_stack, make, mutate, run_rule

WRITER = RULES_BY_NAME["route53-writer-failover"]
ALARMS = RULES_BY_NAME["route53-health-check-alarm"]


def _without(stack: list[RecordedResource], *names: str) -> list[RecordedResource]:
    return [r for r in stack if r.name not in names]


def _replace(stack: list[RecordedResource], new: RecordedResource) -> list[RecordedResource]:
    return [new if r.name == new.name else r for r in stack]


def test_the_previous_failover_writer_pair_is_refused() -> None:
    stack = _without(golden_stack(), "writer")
    for region, role in ((EAST, "PRIMARY"), (WEST, "SECONDARY")):
        stack.append(
            make(
                t.ROUTE53_RECORD,
                f"writer-{region}",
                {
                    "zoneId": "Z0123456789",
                    "name": "writer.data.securecart.internal",
                    "type": "CNAME",
                    "ttl": 30.0,
                    "setIdentifier": region,
                    "records": [f"sc-{region}.cluster-abc.{region}.rds.amazonaws.com"],
                    "failoverRoutingPolicies": [{"type": role}],
                    "healthCheckId": f"hc-{region}",
                },
                deps={"healthCheckId": [f"health-{region}"], "records": [f"aurora-{region}"]},
            )
        )
    messages = run_rule(WRITER, stack)
    assert messages == [
        f"writer-{region} (aws:route53/record:Record): {issue}"
        for region in (EAST, WEST)
        for issue in (
            "`failoverRoutingPolicies` is set on the writer name. Fix: make the writer name one "
            "simple CNAME: the global endpoint moves with the writer",
            f'`records` comes from ["aurora-{region}"], not the Aurora global cluster\'s writer '
            "endpoint. Fix: set records=[global_cluster.endpoint] (it follows the writer through "
            "switchover and failover)",
        )
    ]


def test_a_failover_cache_name_and_an_unguarded_latency_record_are_refused() -> None:
    stack = golden_stack()
    cache = next(r for r in stack if r.name == f"cache-{EAST}-001")
    reader = next(r for r in stack if r.name == f"reader-{WEST}")
    stack = _replace(stack, mutate(cache, "failoverRoutingPolicies", [{"type": "PRIMARY"}]))
    stack = _replace(stack, mutate(reader, "healthCheckId", ""))
    messages = run_rule(WRITER, stack)
    assert [m.split(": `")[0] for m in messages] == [
        f"cache-{EAST}-001 (aws:route53/record:Record)",
        f"reader-{WEST} (aws:route53/record:Record)",
    ]
    assert "`failoverRoutingPolicies` is set on a cache name" in messages[0]
    assert "`healthCheckId` is not set on a latency-routed record" in messages[1]


def test_a_health_check_naming_an_alarm_of_the_other_region_is_refused() -> None:
    stack = golden_stack()
    check = next(r for r in stack if r.name == f"health-{EAST}")
    # By name only (a literal, no dependency): the alarm of that name lives in us-west-2.
    named = mutate(check, "cloudwatchAlarmName", f"sc-aurora-health-{WEST}")
    messages = run_rule(ALARMS, _replace(stack, named))
    assert messages == [
        f"health-{EAST} (aws:route53/healthCheck:HealthCheck): `cloudwatchAlarmName` is "
        f'"sc-aurora-health-{WEST}", but the stack has no aws:cloudwatch/metricAlarm:MetricAlarm '
        f"of that name in {EAST}. Fix: name an alarm of this stack in that region (pass the "
        "alarm's name output, so the check is also created after it)"
    ]
    # Linked by dependency, but looking in the other region.
    moved = mutate(check, "cloudwatchAlarmRegion", WEST)
    (message,) = run_rule(ALARMS, _replace(stack, moved))
    assert f'`cloudwatchAlarmRegion` is "{WEST}", but alarm aurora-health-{EAST}' in message


def test_preview_unknowns_pass_when_the_links_are_known() -> None:
    stack = golden_stack()
    check = next(r for r in stack if r.name == f"health-{EAST}")
    # In a first preview the alarm's name output is unknown; the dependency still links it.
    unknown_name = replace(check, inputs={**check.inputs, "cloudwatchAlarmName": UNKNOWN})
    assert run_rule(ALARMS, _replace(stack, unknown_name)) == []
    writer = next(r for r in stack if r.name == "writer")
    unknown_target = replace(writer, inputs={**writer.inputs, "records": [UNKNOWN]})
    assert run_rule(WRITER, _replace(stack, unknown_target)) == []


def test_a_cache_name_only_the_control_plane_can_move_is_refused() -> None:
    """The design issue 16 item 6 replaces: one simple cache CNAME that a drill UPSERTs."""
    stack = [r for r in golden_stack() if not r.name.startswith("cache-")]
    stack.append(
        make(
            t.ROUTE53_RECORD,
            "cache",
            {
                "zoneId": "Z0123456789",
                "name": "cache.data.securecart.internal",
                "type": "CNAME",
                "ttl": 30.0,
                "records": [f"master.sc-cache-{EAST}.abc.{EAST}.cache.amazonaws.com"],
            },
        )
    )
    assert run_rule(WRITER, stack) == [
        "cache (aws:route53/record:Record): `weightedRoutingPolicies` is not set: the cache name is one "
        "simple record, which moves only through ChangeResourceRecordSets (the Route 53 control "
        "plane, in us-east-1). Fix: give each region's primary endpoint its own weighted record "
        "guarded by a health check that follows the role, so the name fails over in Route 53's "
        "data plane"
    ]
    # A weighted cache record without a health check would keep answering with a dead region.
    weighted = next(r for r in golden_stack() if r.name == f"cache-{WEST}-001")
    bare = mutate(weighted, "healthCheckId", "")
    (message,) = run_rule(WRITER, _replace(golden_stack(), bare))
    assert "`healthCheckId` is not set on a weighted-routed record" in message


def test_health_checks_must_fail_when_data_stops_and_follow_alarm_edits() -> None:
    stack = golden_stack()
    check = next(r for r in stack if r.name == f"health-{EAST}")
    unset = replace(
        check,
        inputs={k: v for k, v in check.inputs.items() if k != "insufficientDataHealthStatus"},
    )
    assert run_rule(ALARMS, _replace(stack, unset)) == [
        f"health-{EAST} (aws:route53/healthCheck:HealthCheck): `insufficientDataHealthStatus` is "
        "not set (Route 53 then keeps the last known status, healthy for a new check). Fix: set "
        "it to one of Unhealthy"
    ]
    last = mutate(check, "insufficientDataHealthStatus", "LastKnownStatus")
    (message,) = run_rule(ALARMS, _replace(stack, last))
    assert (
        '`insufficientDataHealthStatus` is "LastKnownStatus". Fix: use one of Unhealthy' in message
    )
    untriggered = replace(check, inputs={k: v for k, v in check.inputs.items() if k != "triggers"})
    (message,) = run_rule(ALARMS, _replace(stack, untriggered))
    assert "`triggers` is not set: Route 53 copies the alarm's settings" in message
    # Unknown at preview (an output): decided later, not refused.
    pending = replace(check, inputs={**check.inputs, "triggers": UNKNOWN})
    assert run_rule(ALARMS, _replace(stack, pending)) == []
