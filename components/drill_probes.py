"""The DR drills' probe function in each region's data VPC (config ``drillsProbes``).

On AWS a drill runs outside the VPCs; the names applications use resolve only inside them and
the stores answer only there. This function runs the drills' probes from where applications
are (issue 18 item 3): it resolves ``writer.<zone>``, ``cache.<zone>``... through the VPC's
resolver and connects over PostgreSQL (TLS verify-full) and Redis (TLS, AUTH), with the probe
code the sandbox runs (components/functions/app_probes.py). The drill invokes it
(``lambda:InvokeFunction``, docs/drills-iam.json) before it starts and while it measures.

Per region:

- the function in the three private subnets, with the probe security group the network
  creates (``RegionalNetworkArgs.probe_access``; the stores' SGs admit it) and egress rules
  here to the Aurora and cache ports and to the Secrets Manager endpoint only;
- a Secrets Manager interface endpoint (the subnets have no route out: "Access AWS Secrets
  Manager through a VPC endpoint"), without private DNS so nothing else in the VPC changes
  how it reaches Secrets Manager; the function calls the endpoint's own DNS name;
- a role that may read this region's replica of the two secrets (and decrypt them with this
  region's secrets key, through Secrets Manager only), write its log group, and manage its
  network interfaces ("Giving Lambda functions access to resources in an Amazon VPC": the
  ENI actions; Describe* only on ``*``, as EC2 allows).

The deployment package holds the handler, the shared probe module and the pure-Python clients
pg8000 (with scramp, asn1crypto, python-dateutil, six) and redis, taken file by file from the
installed distributions at the versions requirements.txt pins (refused otherwise): the same
pins give the same archive, so Pulumi's archive hash changes only when a pin or our code does.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import pulumi
import pulumi_aws as aws

from components.naming import account_trust_policy
from components.network import CACHE_PORT, POSTGRES_PORT

REPO_ROOT = Path(__file__).resolve().parents[1]
REQUIREMENTS = REPO_ROOT / "requirements.txt"
VENDORED = ("pg8000", "scramp", "asn1crypto", "python-dateutil", "six", "redis")
"""Distributions packaged with the function: the clients and what they import at run time."""
RDS_CA_BUNDLE = Path("components/functions/certs/rds-global-bundle.pem")
"""Where the RDS CA bundle goes (AWS's global bundle, docs/drills.md "Probes inside the VPC"):
verify-full needs it, Aurora's certificates chain to the RDS CAs, not to a public CA."""
HTTPS_PORT = 443
LOG_RETENTION_DAYS = 365
TIMEOUT_SECONDS = 60
MEMORY_MB = 256


class VendoringError(RuntimeError):
    """An installed client is not at the version requirements.txt pins."""


def pinned_versions(requirements: Path = REQUIREMENTS) -> dict[str, str]:
    """``name==version`` lines of requirements.txt, names normalised (PEP 503)."""
    pins: dict[str, str] = {}
    for line in requirements.read_text(encoding="utf-8").splitlines():
        match = re.fullmatch(r"\s*([A-Za-z0-9_.-]+)==([^\s#;]+).*", line)
        if match:
            pins[re.sub(r"[-_.]+", "-", match.group(1)).lower()] = match.group(2)
    return pins


def vendored_files(requirements: Path = REQUIREMENTS) -> dict[str, Path]:
    """Archive path -> installed file, for every ``.py`` file of the vendored distributions
    and their ``METADATA`` and license files (no ``__pycache__``, no RECORD), after checking
    each is at its pinned version."""
    pins = pinned_versions(requirements)
    files: dict[str, Path] = {}
    for name in VENDORED:
        dist = metadata.distribution(name)
        pinned = pins.get(name)
        if pinned != dist.version:
            raise VendoringError(
                f"{name} {dist.version} is installed but requirements.txt pins "
                f"{pinned or 'nothing'}: the probe function packages exactly the pinned "
                "clients (pip install -r requirements.txt)"
            )
        for entry in dist.files or []:
            path = str(entry)
            if "__pycache__" in path or ".." in path:
                continue
            # the code, and each distribution's METADATA (scramp and pg8000 read their own
            # version through importlib.metadata at import time) and license files
            meta = ".dist-info/" in path and (
                path.endswith("/METADATA") or "LICENSE" in path.upper()
            )
            if path.endswith(".py") or meta:
                files[path] = Path(str(entry.locate())).resolve()
    return dict(sorted(files.items()))


FUNCTIONS = Path("components/functions")
"""Where the function's own modules live in the repository (and in its package)."""


def package(root: Path = REPO_ROOT) -> dict[str, pulumi.Asset | pulumi.Archive]:
    """The function's deployment package: handler and probe module at their repository paths
    (so they import each other as in the repository), the vendored clients at the top."""
    ours = [
        Path("components/__init__.py"),
        Path("components/functions/__init__.py"),
        # by path, not by import: the clients they import (redis, pg8000) cost 0.8 s to load,
        # which every preview would pay for a function most stacks do not build
        FUNCTIONS / "app_probes.py",
        FUNCTIONS / "drill_probe.py",
    ]
    if (root / RDS_CA_BUNDLE).exists():
        ours.append(RDS_CA_BUNDLE)
    assets: dict[str, pulumi.Asset | pulumi.Archive] = {
        path: pulumi.FileAsset(str(source)) for path, source in vendored_files().items()
    }
    for path in ours:
        assets[path.as_posix()] = pulumi.FileAsset(str(root / path))
    return dict(sorted(assets.items()))


@dataclass(frozen=True, kw_only=True)
class DrillProbesArgs:
    """Inputs of :class:`DrillProbes`."""

    prefix: str
    """Physical-name prefix, e.g. ``securecart-dev``."""
    regions: tuple[str, str]
    """The stack's region pair: one function in each."""
    vpc_ids: Mapping[str, pulumi.Input[str]]
    subnet_ids: Mapping[str, pulumi.Input[list[str]]]
    """The three private data subnets of each region."""
    probe_security_group_ids: Mapping[str, pulumi.Input[str]]
    """The network's probe SG per region (the stores' SGs admit it)."""
    db_security_group_ids: Mapping[str, pulumi.Input[str]]
    cache_security_group_ids: Mapping[str, pulumi.Input[str]]
    aurora_secret_arn: pulumi.Input[str]
    """The Aurora master secret (home region; each function reads its region's replica)."""
    cache_secret_arn: pulumi.Input[str]
    """The cache AUTH token secret (likewise replicated)."""
    secret_key_arns: Mapping[str, pulumi.Input[str]]
    """The secrets' CMK per region."""
    log_key_arns: Mapping[str, pulumi.Input[str]]
    """The region's CloudWatch Logs CMK (network's ``logs_key_arn``)."""
    log_group_prefix: str
    """``/securecart/<prefix>/``: the logs key admits log groups under it only."""
    account_id: pulumi.Input[str]


class DrillProbes(pulumi.ComponentResource):
    """The probe function, its endpoint, security rules, role and logs, in both regions."""

    functions: dict[str, pulumi.Output[str]]
    """Function name per region (stack output ``drillProbes``)."""

    def __init__(
        self, name: str, args: DrillProbesArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("securecart:drills:DrillProbes", name, None, opts)
        code = pulumi.AssetArchive(package())
        bundled = (REPO_ROOT / RDS_CA_BUNDLE).exists()
        if not bundled:
            pulumi.log.warn(
                f"drillsProbes: {RDS_CA_BUNDLE} is missing, so the probe function cannot verify "
                "Aurora's certificate and its PostgreSQL probes will fail (docs/drills.md, "
                "Probes inside the VPC)",
                self,
            )
        self.functions = {}
        for region in args.regions:
            self.functions[region] = self._region(args, region, code, bundled)
        self.register_outputs({"functions": self.functions})

    def _region(
        self, args: DrillProbesArgs, region: str, code: pulumi.Archive, bundled: bool
    ) -> pulumi.Output[str]:
        child = pulumi.ResourceOptions(parent=self)
        probe_sg = args.probe_security_group_ids[region]
        endpoint_sg = aws.ec2.SecurityGroup(
            f"probe-endpoint-sg-{region}",
            region=region,
            name=f"{args.prefix}-probe-endpoint-sg-{region}",
            description="Secrets Manager endpoint: HTTPS from the DR drill probe function only",
            vpc_id=args.vpc_ids[region],
            ingress=[
                aws.ec2.SecurityGroupIngressArgs(
                    description="HTTPS from the DR drill probe function",
                    protocol="tcp",
                    from_port=HTTPS_PORT,
                    to_port=HTTPS_PORT,
                    security_groups=[probe_sg],
                )
            ],
            egress=[],
            tags={"Name": f"{args.prefix}-probe-endpoint-sg-{region}"},
            opts=child,
        )
        for target, port, sg in (
            ("db", POSTGRES_PORT, args.db_security_group_ids[region]),
            ("cache", CACHE_PORT, args.cache_security_group_ids[region]),
            ("secrets", HTTPS_PORT, endpoint_sg.id),
        ):
            aws.vpc.SecurityGroupEgressRule(
                f"probe-to-{target}-{region}",
                region=region,
                security_group_id=probe_sg,
                description=f"DR drill probe to the {target} port",
                ip_protocol="tcp",
                from_port=port,
                to_port=port,
                referenced_security_group_id=sg,
                opts=child,
            )
        endpoint = aws.ec2.VpcEndpoint(
            f"probe-secrets-endpoint-{region}",
            region=region,
            vpc_id=args.vpc_ids[region],
            service_name=f"com.amazonaws.{region}.secretsmanager",
            vpc_endpoint_type="Interface",
            subnet_ids=args.subnet_ids[region],
            security_group_ids=[endpoint_sg.id],
            # Private DNS would send every client in the VPC (a brought VPC's too) to this
            # endpoint, whose SG admits the probe only: the function uses the endpoint's name.
            private_dns_enabled=False,
            tags={"Name": f"{args.prefix}-probe-secrets-{region}"},
            opts=child,
        )
        log_group = aws.cloudwatch.LogGroup(
            f"probe-logs-{region}",
            region=region,
            name=f"{args.log_group_prefix}drill-probe/{region}",
            kms_key_id=args.log_key_arns[region],
            retention_in_days=LOG_RETENTION_DAYS,
            opts=child,
        )
        function_name = f"{args.prefix}-drill-probe-{region}"
        role = aws.iam.Role(
            f"probe-role-{region}",
            name=function_name,
            description=f"DR drill probe function in {region}: reads the stores' secrets",
            assume_role_policy=pulumi.Output.from_input(args.account_id).apply(
                lambda acct: account_trust_policy("lambda.amazonaws.com", acct)
            ),
            opts=child,
        )
        secrets = {
            "aurora": pulumi.Output.from_input(args.aurora_secret_arn).apply(
                lambda arn: replica_arn(arn, region)
            ),
            "cache": pulumi.Output.from_input(args.cache_secret_arn).apply(
                lambda arn: replica_arn(arn, region)
            ),
        }
        policy = aws.iam.RolePolicy(
            f"probe-policy-{region}",
            role=role.id,
            policy=pulumi.Output.all(
                secrets["aurora"],
                secrets["cache"],
                args.secret_key_arns[region],
                log_group.arn,
                args.account_id,
            ).apply(
                lambda v: probe_policy(
                    region=region,
                    account_id=str(v[4]),
                    secret_arns=[str(v[0]), str(v[1])],
                    key_arn=str(v[2]),
                    log_group_arn=str(v[3]),
                )
            ),
            opts=child,
        )
        environment: dict[str, pulumi.Input[str]] = {
            "AURORA_SECRET_ID": secrets["aurora"],
            "CACHE_SECRET_ID": secrets["cache"],
            # dns_entries[0] is the endpoint's regional name (the others are per AZ)
            "SECRETS_ENDPOINT_URL": endpoint.dns_entries.apply(
                lambda entries: f"https://{entries[0]['dns_name']}" if entries else ""
            ),
        }
        if bundled:
            environment["RDS_CA_FILE"] = RDS_CA_BUNDLE.as_posix()
        function = aws.lambda_.Function(
            f"probe-{region}",
            region=region,
            name=function_name,
            description="DR drill probes through the names applications use (python -m drills)",
            runtime=aws.lambda_.Runtime.PYTHON3D12,
            handler="components/functions/drill_probe.handler",
            code=code,
            role=role.arn,
            timeout=TIMEOUT_SECONDS,
            memory_size=MEMORY_MB,
            vpc_config=aws.lambda_.FunctionVpcConfigArgs(
                subnet_ids=args.subnet_ids[region],
                security_group_ids=[probe_sg],
            ),
            environment=aws.lambda_.FunctionEnvironmentArgs(variables=environment),
            logging_config=aws.lambda_.FunctionLoggingConfigArgs(
                log_format="Text", log_group=log_group.name
            ),
            # The ENI actions must be allowed before Lambda creates the function's interfaces.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[policy]),
        )
        return function.name


def replica_arn(arn: str, region: str) -> str:
    """The ARN of a replicated secret's replica in ``region``: the primary's ARN with the
    region changed (a replica keeps the name and the suffix; Secrets Manager User Guide,
    "Replicate an AWS Secrets Manager secret to other AWS Regions")."""
    parts = arn.split(":")
    if len(parts) < 7 or parts[2] != "secretsmanager":
        return arn  # unknown during a preview: the policy is recomputed when it is known
    parts[3] = region
    return ":".join(parts)


def probe_policy(
    *, region: str, account_id: str, secret_arns: list[str], key_arn: str, log_group_arn: str
) -> str:
    """Least privilege: read two secrets in this region, decrypt them through Secrets Manager,
    write the function's logs, manage its network interfaces."""
    statements: list[dict[str, object]] = [
        {
            "Sid": "ReadTheStoresSecrets",
            "Effect": "Allow",
            "Action": "secretsmanager:GetSecretValue",
            "Resource": sorted(secret_arns),
        },
        {
            "Sid": "DecryptThroughSecretsManager",
            "Effect": "Allow",
            "Action": "kms:Decrypt",
            "Resource": key_arn,
            "Condition": {
                "StringEquals": {"kms:ViaService": f"secretsmanager.{region}.amazonaws.com"}
            },
        },
        {
            "Sid": "Logs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": f"{log_group_arn}:*",
        },
        {
            # Lambda creates and deletes the function's interfaces with these; Describe*
            # allows no resource-level scoping (Lambda Developer Guide, "Giving Lambda
            # functions access to resources in an Amazon VPC").
            "Sid": "NetworkInterfaces",
            "Effect": "Allow",
            "Action": [
                "ec2:CreateNetworkInterface",
                "ec2:DeleteNetworkInterface",
                "ec2:AssignPrivateIpAddresses",
                "ec2:UnassignPrivateIpAddresses",
            ],
            "Resource": f"arn:aws:ec2:{region}:{account_id}:*/*",
        },
        {
            "Sid": "DescribeNetworkInterfaces",
            "Effect": "Allow",
            "Action": ["ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets"],
            "Resource": "*",
        },
    ]
    return json.dumps({"Version": "2012-10-17", "Statement": statements}, sort_keys=True)
