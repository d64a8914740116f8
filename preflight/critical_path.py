"""The deploy critical path: the longest chain of dependent resources, in estimated seconds.

The engine creates resources in parallel as soon as what they wait for is done, so the time a
``pulumi up`` of an empty stack takes is the longest path through the dependency graph, with each
resource weighted by how long AWS typically takes to create it (``TYPICAL_CREATE_SECONDS``).

Scheduling model (what the engine and the Python SDK actually do):

* A resource starts when every resource it depends on has finished: its recorded
  ``dependencies``, the resources its inputs came from (``property_dependencies``) and its
  explicit provider.
* Depending on a component means depending on everything inside it: a component *finishes* when
  all of its children have finished (components themselves take 0 s).
* A child cannot be registered before its parent is: a resource starts no earlier than its parent
  *starts*. A component starts when its own dependencies have finished, so a ``depends_on`` on a
  component holds up every child in it.

Providers, components and the stack take 0 s. Unknown types take ``DEFAULT_CREATE_SECONDS``.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

from preflight.model import RecordedResource, Recording

DEFAULT_CREATE_SECONDS = 5.0
"""Creation time assumed for a type not in ``TYPICAL_CREATE_SECONDS``."""

DYNAMODB_TABLE_WITHOUT_REPLICAS_SECONDS = 20.0
"""A DynamoDB table without replicas is ACTIVE within seconds; with replicas see the table."""

TYPICAL_CREATE_SECONDS: Mapping[str, float] = {
    # Typical creation times on AWS, in seconds, from the AWS documentation's guidance and from
    # what ``pulumi up`` reports for these resources. They are estimates for ordering and sizing
    # a deploy, not guarantees; the shape of the path matters more than the exact minutes.
    #
    # Aurora (PostgreSQL)
    "aws:rds/globalCluster:GlobalCluster": 60.0,  # ~1 min, metadata only until members join
    "aws:rds/cluster:Cluster": 480.0,  # ~8 min per regional cluster (primary or secondary)
    "aws:rds/clusterInstance:ClusterInstance": 600.0,  # ~10 min per instance
    "aws:rds/subnetGroup:SubnetGroup": 3.0,
    "aws:rds/clusterParameterGroup:ClusterParameterGroup": 5.0,
    "aws:rds/parameterGroup:ParameterGroup": 5.0,
    # ElastiCache (Redis/Valkey) global datastore
    "aws:elasticache/replicationGroup:ReplicationGroup": 900.0,  # ~15 min, Multi-AZ
    "aws:elasticache/globalReplicationGroup:GlobalReplicationGroup": 300.0,  # ~5 min
    "aws:elasticache/subnetGroup:SubnetGroup": 3.0,
    "aws:elasticache/parameterGroup:ParameterGroup": 5.0,
    "aws:elasticache/user:User": 10.0,
    "aws:elasticache/userGroup:UserGroup": 30.0,
    # DynamoDB global tables: ~5 min with a replica (see ``creation_seconds``)
    "aws:dynamodb/table:Table": 300.0,
    "aws:dynamodb/tableReplica:TableReplica": 300.0,
    # KMS
    "aws:kms/key:Key": 10.0,
    "aws:kms/replicaKey:ReplicaKey": 15.0,
    "aws:kms/alias:Alias": 2.0,
    # Network
    "aws:ec2/vpc:Vpc": 15.0,
    "aws:ec2/subnet:Subnet": 5.0,
    "aws:ec2/securityGroup:SecurityGroup": 5.0,
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": 2.0,
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": 2.0,
    "aws:ec2/securityGroupRule:SecurityGroupRule": 2.0,
    "aws:ec2/routeTable:RouteTable": 3.0,
    "aws:ec2/routeTableAssociation:RouteTableAssociation": 2.0,
    "aws:ec2/vpcEndpoint:VpcEndpoint": 60.0,
    # Secrets and identity
    "aws:secretsmanager/secret:Secret": 3.0,
    "aws:secretsmanager/secretVersion:SecretVersion": 2.0,
    "aws:iam/role:Role": 3.0,
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": 2.0,
    "aws:iam/rolePolicy:RolePolicy": 2.0,
    "aws:iam/policy:Policy": 3.0,
    "random:index/randomPassword:RandomPassword": 0.0,  # local, no API call
    # DNS failover (Route 53 waits for changes to be INSYNC)
    "aws:route53/zone:Zone": 45.0,
    "aws:route53/record:Record": 45.0,
    "aws:route53/healthCheck:HealthCheck": 5.0,
    # Monitoring
    "aws:sns/topic:Topic": 3.0,
    "aws:sns/topicSubscription:TopicSubscription": 3.0,
    "aws:sns/topicPolicy:TopicPolicy": 2.0,
    "aws:cloudwatch/metricAlarm:MetricAlarm": 2.0,
    "aws:cloudwatch/compositeAlarm:CompositeAlarm": 2.0,
    "aws:cloudwatch/dashboard:Dashboard": 2.0,
    # Read replica auto scaling
    "aws:appautoscaling/target:Target": 5.0,
    "aws:appautoscaling/policy:Policy": 3.0,
    # Backup and cost
    "aws:backup/vault:Vault": 5.0,
    "aws:backup/plan:Plan": 3.0,
    "aws:backup/selection:Selection": 10.0,  # waits for the IAM role to propagate
    "aws:budgets/budget:Budget": 5.0,
}


GLOBAL = "global"
"""The region label of planned resources that have no region (IAM, Route 53, budgets)."""


def is_plan_resource(resource: RecordedResource) -> bool:
    """A resource the deploy creates in the cloud (not a component, a provider or the stack)."""
    return resource.custom and not resource.type.startswith("pulumi:")


def region_label(resource: RecordedResource) -> str:
    """The region a planned resource lives in, or ``"global"``."""
    return resource.region or GLOBAL


def creation_seconds(resource: RecordedResource) -> float:
    """Typical time to create ``resource`` (0 for components, providers and the stack)."""
    if not is_plan_resource(resource):
        return 0.0
    if resource.type == "aws:dynamodb/table:Table" and not resource.inputs.get("replicas"):
        return DYNAMODB_TABLE_WITHOUT_REPLICAS_SECONDS
    return TYPICAL_CREATE_SECONDS.get(resource.type, DEFAULT_CREATE_SECONDS)


def provider_urn(reference: str | None) -> str | None:
    """The URN part of a provider reference ``<urn>::<id>``."""
    if not reference:
        return None
    urn, sep, _id = reference.rpartition("::")
    return urn if sep else reference


def direct_dependencies(resource: RecordedResource) -> set[str]:
    """URNs ``resource`` waits for: dependencies, property dependencies and its provider."""
    deps = set(resource.dependencies)
    for urns in resource.property_dependencies.values():
        deps.update(urns)
    provider = provider_urn(resource.provider)
    if provider:
        deps.add(provider)
    deps.discard(resource.urn)
    return deps


@dataclass(frozen=True, slots=True)
class PathStep:
    """One resource on the critical path."""

    urn: str
    name: str
    type: str
    region: str | None
    start: float
    """Estimated seconds after the deploy starts when this resource starts creating."""
    duration: float


@dataclass(frozen=True, slots=True)
class Window:
    """Estimated start and finish of one resource, in seconds from the start of the deploy."""

    start: float
    finish: float


@dataclass(frozen=True, slots=True)
class CriticalPath:
    """The longest chain of dependent resources and the estimated schedule of every resource."""

    total_seconds: float
    steps: tuple[PathStep, ...]
    schedule: Mapping[str, Window]
    """URN -> estimated window, for every recorded resource."""

    @property
    def urns(self) -> list[str]:
        """URNs on the path, in deploy order."""
        return [step.urn for step in self.steps]


class DependencyCycleError(ValueError):
    """The recorded dependencies contain a cycle (the engine would reject the program)."""


_START, _FINISH = 0, 1


def critical_path(
    resources: Recording | Sequence[RecordedResource],
    durations: Mapping[str, float] | None = None,
    *,
    existing: Collection[str] = (),
) -> CriticalPath:
    """The deploy critical path of a recording.

    ``durations`` overrides the per-type table (type token -> seconds), e.g. for tests.
    ``existing`` holds the URNs that already exist as planned (a change report's unchanged
    resources): they take no time, so the path is the one of the changes.
    """
    items = list(resources.resources if isinstance(resources, Recording) else resources)
    by_urn = {r.urn: r for r in items}
    weight = {r.urn: 0.0 if r.urn in existing else _weight(r, durations) for r in items}

    # Nodes are (urn, _START) and (urn, _FINISH); edges carry the weight of the node they leave.
    edges: dict[tuple[str, int], list[tuple[tuple[str, int], float]]] = defaultdict(list)

    def add(src: tuple[str, int], dst: tuple[str, int], seconds: float = 0.0) -> None:
        edges[src].append((dst, seconds))

    for r in items:
        add((r.urn, _START), (r.urn, _FINISH), weight[r.urn])
        for dep in direct_dependencies(r):
            if dep in by_urn:
                add((dep, _FINISH), (r.urn, _START))
        if r.parent in by_urn:
            add((r.parent, _START), (r.urn, _START))
            if not by_urn[r.parent].custom:
                add((r.urn, _FINISH), (r.parent, _FINISH))

    nodes = [(r.urn, kind) for r in items for kind in (_START, _FINISH)]
    earliest, via = _longest_paths(nodes, edges)

    schedule = {r.urn: Window(earliest[(r.urn, _START)], earliest[(r.urn, _FINISH)]) for r in items}
    if not items:
        return CriticalPath(0.0, (), schedule)

    end = max(items, key=lambda r: (earliest[(r.urn, _FINISH)], r.custom))
    steps: list[PathStep] = []
    node: tuple[str, int] | None = (end.urn, _FINISH)
    while node is not None:
        prev = via.get(node)
        urn, kind = node
        resource = by_urn[urn]
        if (
            kind == _FINISH
            and prev == (urn, _START)
            and is_plan_resource(resource)
            and urn not in existing
        ):
            steps.append(
                PathStep(
                    urn=urn,
                    name=resource.name,
                    type=resource.type,
                    region=resource.region,
                    start=earliest[prev],
                    duration=weight[urn],
                )
            )
        node = prev
    steps.reverse()
    return CriticalPath(earliest[(end.urn, _FINISH)], tuple(steps), schedule)


def _weight(resource: RecordedResource, durations: Mapping[str, float] | None) -> float:
    if durations is not None and resource.custom and resource.type in durations:
        return durations[resource.type]
    return creation_seconds(resource)


def _longest_paths(
    nodes: Iterable[tuple[str, int]],
    edges: Mapping[tuple[str, int], list[tuple[tuple[str, int], float]]],
) -> tuple[dict[tuple[str, int], float], dict[tuple[str, int], tuple[str, int]]]:
    """Earliest time of every node (longest path from any source) and the edge that set it."""
    node_list = list(nodes)
    indegree = dict.fromkeys(node_list, 0)
    for targets in edges.values():
        for dst, _seconds in targets:
            indegree[dst] += 1
    earliest = dict.fromkeys(node_list, 0.0)
    via: dict[tuple[str, int], tuple[str, int]] = {}
    ready = deque(n for n in node_list if indegree[n] == 0)
    done = 0
    while ready:
        node = ready.popleft()
        done += 1
        for dst, seconds in edges.get(node, ()):
            candidate = earliest[node] + seconds
            if dst not in via or candidate > earliest[dst]:
                earliest[dst] = candidate
                via[dst] = node
            indegree[dst] -= 1
            if indegree[dst] == 0:
                ready.append(dst)
    if done != len(node_list):
        stuck = sorted({urn for urn, kind in node_list if indegree[(urn, kind)] > 0})
        raise DependencyCycleError(f"dependency cycle among: {', '.join(stuck)}")
    return earliest, via


def ancestors(resource: RecordedResource, by_urn: Mapping[str, RecordedResource]) -> list[str]:
    """URNs of the recorded ancestors of ``resource``, outermost first."""
    chain: list[str] = []
    seen = {resource.urn}
    parent = resource.parent
    while parent is not None and parent in by_urn and parent not in seen:
        seen.add(parent)
        chain.append(parent)
        parent = by_urn[parent].parent
    chain.reverse()
    return chain


def plan_dependencies(resources: Recording | Sequence[RecordedResource]) -> dict[str, set[str]]:
    """For every planned resource, the planned resources it waits for directly.

    This is the graph the scheduling model implies, restricted to real resources: a dependency
    on a component stands for everything planned inside it, and a component's own dependencies
    hold up each of its descendants. Providers (0 s, nothing to wait for) are left out.
    """
    items = list(resources.resources if isinstance(resources, Recording) else resources)
    by_urn = {r.urn: r for r in items}
    children: dict[str, list[str]] = defaultdict(list)
    for r in items:
        if r.parent in by_urn:
            children[r.parent].append(r.urn)

    expanded: dict[str, set[str]] = {}

    def expand(urn: str) -> set[str]:
        """The planned resources ``urn`` stands for as a dependency."""
        if urn not in expanded:
            expanded[urn] = set()  # guards against parent cycles in malformed input
            resource = by_urn[urn]
            if is_plan_resource(resource):
                expanded[urn] = {urn}
            elif not resource.custom:
                found: set[str] = set()
                for child in children[urn]:
                    found |= expand(child)
                expanded[urn] = found
        return expanded[urn]

    result: dict[str, set[str]] = {}
    for r in items:
        if not is_plan_resource(r):
            continue
        deps: set[str] = set()
        for holder in [*ancestors(r, by_urn), r.urn]:
            for dep in direct_dependencies(by_urn[holder]):
                if dep in by_urn:
                    deps |= expand(dep)
        deps.discard(r.urn)
        result[r.urn] = deps
    return result
