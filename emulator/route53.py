"""Route 53 as strict as AWS where the drills depend on it, and its answers as DNS gives them.

- ``ChangeResourceRecordSets`` refuses a CNAME at a name that holds another record type, and
  another type at a name that holds a CNAME (Route 53 Developer Guide, "Choosing between alias
  and non-alias records": "you can't create a CNAME record that has the same name as ... any
  other record"; the API answers ``InvalidChangeBatch``, "RRSet of type CNAME with DNS name
  ... is not permitted as it conflicts with other records with the same DNS name").
- It answers ``PENDING``; ``GetChange`` says ``PENDING`` until the change has propagated
  (``route53_propagation_seconds``), then ``INSYNC`` (Route 53 API Reference,
  ``ChangeResourceRecordSets``/``GetChange``: "PENDING indicates that the changes in this
  request have not propagated to all Amazon Route 53 DNS servers"). moto said INSYNC at once.
- Its control plane can be taken away (``Faults.control_plane_down("route53")``): every change
  is refused, while DNS answers and health checks go on (the AWS Fault Isolation Boundaries
  whitepaper puts Route 53's control plane in us-east-1 and its data plane everywhere).
- Health checks keep ``AlarmIdentifier`` and ``InsufficientDataHealthStatus`` (moto dropped
  them) and a copy of the alarm's settings taken when the check is created or updated, so
  :func:`health` can answer as Route 53 does for CloudWatch-alarm and calculated checks, and
  :func:`zone_records` answers weighted and failover records by health ("How health checks
  work in simple/complex configurations"; weighted: "if all records are unhealthy, Route 53
  responds as if all were healthy").

How :func:`health` decides (Route 53 Developer Guide, "How Amazon Route 53 determines whether a
health check is healthy"):

- ``CLOUDWATCH_METRIC``: "Route 53 monitors the data stream for the corresponding alarm instead
  of monitoring the alarm state" ("you can't force the status of a health check to change by
  using the CloudWatch SetAlarmState API operation"). For a metric the emulator publishes
  (``cloudwatch.emulates``) the check evaluates the data stream with the alarm settings it
  copied ("If you change settings for the CloudWatch alarm after you create a health check, you
  must update the health check"); for any other metric the emulator cannot know the stream and
  the alarm's state stands in for it. When the alarm's region is down no data stream reaches
  Route 53: insufficient data, so ``InsufficientDataHealthStatus`` decides
  (``LastKnownStatus`` = the status "from the last time that CloudWatch had sufficient data";
  a new check with none is healthy: "Values that you specify when you create or update health
  checks").
- ``CALCULATED``: the number of healthy children against ``HealthThreshold`` (0: always healthy;
  more than the children: always unhealthy), evaluated when asked.
- Request interval and failure threshold apply to checks that monitor an endpoint only (the
  guide's "Advanced configuration ('Monitor an endpoint' only)"); the guide gives no interval for
  calculated or CloudWatch checks, so the emulator adds none: a check changes when its data
  stream (or its children) does.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.core.responses import ActionResult
from moto.route53.exceptions import Route53ClientError
from moto.route53.models import Route53Backend, route53_backends
from moto.route53.responses import Route53

from . import cloudwatch
from .dataplane.dns import Record
from .state import STATE, patch


class Route53Error(Route53ClientError):
    """A Route 53 error with AWS's code and message."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(code, message)


_original_change: Any = Route53.change_resource_record_sets
_original_create_check: Any = Route53.create_health_check
_original_update_check: Any = Route53.update_health_check
_CHANGE_IDS = itertools.count(1)


@dataclass(slots=True)
class CheckExtras:
    """What moto drops from a health check's configuration."""

    alarm: tuple[str, str] | None
    """(region, alarm name) of a ``CLOUDWATCH_METRIC`` check."""
    insufficient: str
    """``Healthy``, ``Unhealthy`` or ``LastKnownStatus``."""
    rule: cloudwatch.AlarmRule | None = None
    """The alarm's settings when the check was created or last updated (None: no such alarm
    then)."""


class Route53Data:
    """Submitted changes and health-check extras."""

    def __init__(self) -> None:
        self.changes: dict[str, float] = {}
        """Change id -> when it was submitted."""
        self.checks: dict[str, CheckExtras] = {}
        self.last_known: dict[str, bool] = {}

    def reset(self) -> None:
        self.changes.clear()
        self.checks.clear()
        self.last_known.clear()


def route53_data() -> Route53Data:
    data = STATE.route53
    assert isinstance(data, Route53Data)
    return data


def _backend() -> Route53Backend:
    return route53_backends[DEFAULT_ACCOUNT_ID]["aws"]


def _refuse_conflicts(zone_id: str, changes: list[dict[str, Any]]) -> None:
    """A CNAME may not share its name with any other record type (either way round)."""
    zone = _backend().get_hosted_zone(zone_id)
    existing: dict[str, set[str]] = {}
    for rrset in zone.rrsets:
        existing.setdefault(rrset.name.rstrip(".").lower(), set()).add(str(rrset.type))
    for change in changes:
        record = change.get("ResourceRecordSet", {})
        name = str(record.get("Name", "")).rstrip(".").lower()
        rtype = str(record.get("Type", ""))
        action = change.get("Action")
        types = existing.setdefault(name, set())
        if action == "DELETE":
            continue
        others = types - {rtype}
        if rtype == "CNAME" and others:
            raise Route53Error(
                "InvalidChangeBatch",
                f"RRSet of type CNAME with DNS name {name}. is not permitted as it conflicts "
                f"with other records with the same DNS name in zone {zone.name}",
            )
        if rtype != "CNAME" and "CNAME" in types:
            raise Route53Error(
                "InvalidChangeBatch",
                f"RRSet of type {rtype} with DNS name {name}. is not permitted because a "
                f"conflicting RRSet of type CNAME with the same DNS name already exists in zone "
                f"{zone.name}",
            )
        types.add(rtype)


def _change_resource_record_sets(self: Route53) -> ActionResult:
    if STATE.faults.control_plane_is_down("route53"):
        raise Route53Error(
            "ServiceUnavailable",
            "Route 53's control plane (us-east-1) is unavailable: ChangeResourceRecordSets refused",
        )
    zone_id = self._get_param("HostedZoneId") or self.path.split("/")[-2]
    changes = self._get_param("ChangeBatch.Changes") or []
    _refuse_conflicts(zone_id, changes)
    result: ActionResult = _original_change(self)
    change_id = f"C{next(_CHANGE_IDS):012d}EMU"
    with STATE.lock:
        route53_data().changes[change_id] = STATE.now()
    info = _change_info(change_id)
    return ActionResult({"ChangeInfo": info}) if info else result


def _change_info(change_id: str) -> dict[str, Any]:
    submitted = route53_data().changes.get(change_id.rsplit("/", maxsplit=1)[-1])
    if submitted is None:
        return {}
    due = submitted + STATE.timings.route53_propagation_seconds
    return {
        "Id": f"/change/{change_id.rsplit('/', maxsplit=1)[-1]}",
        "Status": "INSYNC" if STATE.now() >= due else "PENDING",
        "SubmittedAt": datetime.fromtimestamp(submitted, UTC),
    }


def _get_change(self: Route53) -> ActionResult:
    change_id = str(self._get_param("Id"))
    info = _change_info(change_id)
    if not info:
        raise Route53Error(
            "NoSuchChange", f"A change with the specified change ID {change_id} does not exist."
        )
    return ActionResult({"ChangeInfo": info})


def _alarm_rule(alarm: tuple[str, str] | None) -> cloudwatch.AlarmRule | None:
    """What Route 53 copies from the alarm when a check is created or updated."""
    if alarm is None:
        return None
    from moto.cloudwatch.models import cloudwatch_backends

    found = cloudwatch_backends[DEFAULT_ACCOUNT_ID][alarm[0]].alarms.get(alarm[1])
    return None if found is None else cloudwatch.rule_of(found)


def _create_health_check(self: Route53) -> ActionResult:
    config = self._get_param("HealthCheckConfig") or {}
    before = set(self.backend.health_checks)
    result: ActionResult = _original_create_check(self)
    created = set(self.backend.health_checks) - before
    alarm = config.get("AlarmIdentifier") or {}
    identifier = (str(alarm["Region"]), str(alarm["Name"])) if alarm.get("Name") else None
    extras = CheckExtras(
        identifier,
        str(config.get("InsufficientDataHealthStatus") or "LastKnownStatus"),
        _alarm_rule(identifier),
    )
    for check_id in created:
        route53_data().checks[check_id] = extras
    return result


def _update_health_check(self: Route53) -> ActionResult:
    """moto's update, keeping what it drops: a new ``AlarmIdentifier`` or
    ``InsufficientDataHealthStatus``, and a fresh copy of the alarm's settings (an update is how
    a check learns of an alarm edit)."""
    result: ActionResult = _original_update_check(self)
    check_id = str(self._get_param("HealthCheckId"))
    data = route53_data()
    old = data.checks.get(check_id)
    if old is not None:
        alarm = self._get_param("AlarmIdentifier") or {}
        identifier = (str(alarm["Region"]), str(alarm["Name"])) if alarm.get("Name") else old.alarm
        insufficient = str(self._get_param("InsufficientDataHealthStatus") or old.insufficient)
        data.checks[check_id] = CheckExtras(identifier, insufficient, _alarm_rule(identifier))
    return result


def _alarm_state(region: str, name: str) -> str:
    from moto.cloudwatch.models import cloudwatch_backends

    alarms = cloudwatch_backends[DEFAULT_ACCOUNT_ID][region].alarms
    alarm = alarms.get(name)
    return "INSUFFICIENT_DATA" if alarm is None else str(alarm.state_value)


def _stream_state(extras: CheckExtras) -> str:
    """The alarm state the check's data stream indicates (OK / ALARM / INSUFFICIENT_DATA)."""
    assert extras.alarm is not None
    region, name = extras.alarm
    if STATE.faults.is_down(region):
        return "INSUFFICIENT_DATA"  # no data stream from a region that is gone
    if extras.rule is not None and cloudwatch.emulates(extras.rule):
        return cloudwatch.stream_state(region, extras.rule, STATE.now(), "INSUFFICIENT_DATA")
    return _alarm_state(region, name)


def health(check_id: str) -> bool:
    """Whether Route 53 considers the health check healthy right now."""
    check = _backend().health_checks.get(check_id)
    if check is None:
        return False
    data = route53_data()
    healthy: bool
    if check.type_ == "CALCULATED":
        children = check.children or []
        threshold = len(children) if check.health_threshold is None else int(check.health_threshold)
        healthy = sum(1 for child in children if health(child)) >= threshold
    elif check.type_ == "CLOUDWATCH_METRIC":
        extras = data.checks.get(check_id)
        if extras is None or extras.alarm is None:
            return False
        state = _stream_state(extras)
        if state in ("OK", "ALARM"):
            healthy = state == "OK"
            data.last_known[check_id] = healthy  # the last time the data was sufficient
        elif extras.insufficient == "Healthy":
            healthy = True
        elif extras.insufficient == "Unhealthy":
            healthy = False
        else:
            healthy = data.last_known.get(check_id, True)
    else:
        healthy = True  # endpoint checks: the emulator does not probe endpoints
    if check.inverted:
        healthy = not healthy
    if check.disabled:
        healthy = True  # "Route 53 considers the status of a disabled health check healthy"
    return healthy


def zone_records(zone_id: str, name: str) -> list[Record]:
    """What Route 53's DNS answers for ``name`` in the zone: a simple record as it is; of
    weighted or failover records, those whose health checks are healthy (all of them when
    none is, as Route 53 does for weighted records; the emulator then answers the first by set
    identifier, where Route 53 picks any: a deterministic stand-in)."""
    cloudwatch.catch_up(STATE.now())
    try:
        zone = _backend().get_hosted_zone(zone_id)
    except Exception:
        return []
    wanted = name.rstrip(".").lower()
    matching = [r for r in zone.rrsets if r.name.rstrip(".").lower() == wanted]
    if not matching:
        return []
    simple = [r for r in matching if not r.set_identifier]
    chosen = simple
    if not simple:
        failover = [r for r in matching if r.failover]
        if failover:
            primary = [r for r in failover if r.failover == "PRIMARY"]
            use_primary = primary and (
                not primary[0].health_check_id or health(primary[0].health_check_id)
            )
            chosen = primary if use_primary else [r for r in failover if r.failover == "SECONDARY"]
        else:
            healthy = [r for r in matching if not r.health_check_id or health(r.health_check_id)]
            chosen = sorted(healthy or matching, key=lambda r: str(r.set_identifier))[:1]
    records: list[Record] = []
    for rrset in chosen:
        for value in rrset.records or []:
            text = value["Value"] if isinstance(value, dict) else str(value)
            records.append(Record(str(rrset.type), text.rstrip(".").lower(), int(rrset.ttl or 300)))
    return records


def install() -> None:
    """Install the Route 53 extensions (idempotent)."""
    if isinstance(STATE.route53, Route53Data):
        return
    STATE.route53 = Route53Data()
    patch(Route53, "change_resource_record_sets", _change_resource_record_sets)
    patch(Route53, "get_change", _get_change)
    patch(Route53, "create_health_check", _create_health_check)
    patch(Route53, "update_health_check", _update_health_check)
