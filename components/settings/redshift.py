"""The Redshift analytics section: whether the stack has the warehouse, its size and snapshots."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from components.settings.model import RedshiftSettings
from components.settings.values import ConfigError, section

NODE_COUNTS: Mapping[str, tuple[int, int]] = {
    "ra3.large": (1, 16),
    "ra3.xlplus": (1, 16),
    "ra3.4xlarge": (2, 32),
}
"""RA3 node types and the node counts a cluster of each may have (Redshift Management Guide,
"Amazon Redshift provisioned clusters", RA3 node type table: ra3.large and ra3.xlplus run as a
single node or 2-16 nodes, ra3.4xlarge as 2-32). RA3 only: managed storage is what lets
compute and storage scale apart, and DC2 cannot take AZ relocation or Multi-AZ."""
IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
IDENTIFIER_RULE = "a lowercase identifier (letters, digits, _), 1-63 characters"
DEFAULT_ADMIN = "awsuser"
"""The console's default admin user name; Security Hub's Redshift.8 fails a cluster that keeps
it (https://docs.aws.amazon.com/securityhub/latest/userguide/redshift-controls.html)."""


def load(raw: Mapping[str, Any]) -> RedshiftSettings:
    """The ``redshift`` section; every field is validated even when the warehouse is off."""
    s = section(raw, "redshift")
    d = RedshiftSettings()
    node_type = s.choice("nodeType", d.node_type, tuple(NODE_COUNTS))
    low, high = NODE_COUNTS[node_type]
    nodes = s.integer("numberOfNodes", low if "nodeType" in s.values else d.number_of_nodes, 1, 32)
    if not low <= nodes <= high:
        raise ConfigError(
            s.key("numberOfNodes"), nodes, f"an integer from {low} to {high} for {node_type}"
        )
    username = s.pattern("masterUsername", d.master_username, IDENTIFIER, IDENTIFIER_RULE)
    if username == DEFAULT_ADMIN:
        raise ConfigError(
            s.key("masterUsername"), username, f"{IDENTIFIER_RULE}, not the default {DEFAULT_ADMIN}"
        )
    return RedshiftSettings(
        enabled=s.boolean("enabled", d.enabled),
        node_type=node_type,
        number_of_nodes=nodes,
        database_name=s.pattern("databaseName", d.database_name, IDENTIFIER, IDENTIFIER_RULE),
        master_username=username,
        # Automated snapshots: 1-35 days (0 would turn them off, which we never allow);
        # EnableSnapshotCopy's RetentionPeriod: "at least 1 and no more than 35" (Redshift API).
        snapshot_retention_days=s.integer(
            "snapshotRetentionDays", d.snapshot_retention_days, 1, 35
        ),
        copy_retention_days=s.integer("copyRetentionDays", d.copy_retention_days, 1, 35),
        maintenance_window=s.window("maintenanceWindow", d.maintenance_window, 30, weekly=True),
    )
