"""The private-zone names of the stores AWS gives no global writer endpoint (issue 20).

``payments.<zone>`` (the payments database: a cross-region promotion makes a second,
independent instance with its own endpoint) and ``fraud.<zone>`` (the Neptune global database
has no global writer endpoint) are simple CNAMEs to the current writer's own endpoint. Nothing
in AWS moves them: the drill does, right after the writer moved and before any Pulumi
operation, with an UPSERT (idempotent; the same type and TTL) journaled like every irreversible
call: docs/components.md, "Name in the private zone", as for the older simple ``cache.<zone>``.
"""

from __future__ import annotations

from .engine import DrillContext
from .stores import cache_record


def cname(ctx: DrillContext, name: str) -> str | None:
    """The simple CNAME value of ``name`` in the stack's zone (None when there is none)."""
    dns = ctx.target.require_dns()
    return cache_record(ctx, dns.zone_id, name).simple


def point(ctx: DrillContext, name: str, value: str, *, store: str, why: str) -> None:
    """UPSERT ``name`` CNAME ``value`` unless it already says so (journaled as
    ``dns:<name>-><value>``)."""
    dns = ctx.target.require_dns()
    key = f"dns:{name}->{value}"
    if cname(ctx, name) == value.rstrip("."):
        ctx.resolve_call(key, "AWS shows it done")
        return
    with ctx.irreversible(key, f"route53 UPSERT {name} CNAME {value}", store=store):
        ctx.aws.call(
            "route53",
            ctx.target.primary_region,
            "change_resource_record_sets",
            HostedZoneId=dns.zone_id,
            ChangeBatch={
                "Comment": f"drill {ctx.drill_id}: {why}",
                "Changes": [
                    {
                        "Action": "UPSERT",
                        "ResourceRecordSet": {
                            "Name": name,
                            "Type": "CNAME",
                            "TTL": dns.ttl_seconds,
                            "ResourceRecords": [{"Value": value}],
                        },
                    }
                ],
            },
        )
    ctx.event("dns", f"{name} -> {value} ({why})", store=store)
