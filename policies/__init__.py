"""securecart-guardrails: the policy pack's rules, importable without starting a server.

``policies/__main__.py`` hands :data:`ALL_POLICIES` to ``PolicyPack``; tests, docs and the
preflight import the same objects, so what the engine enforces is what the tests exercise.
"""

from __future__ import annotations

from policies._rule import Rule
from policies.access import RULES as ACCESS_RULES
from policies.alarms import RULES as ALARM_RULES
from policies.backups import RULES as BACKUP_RULES
from policies.budget_gate import RULES as BUDGET_RULES
from policies.cost import RULES as COST_RULES
from policies.encryption import RULES as ENCRYPTION_RULES
from policies.hardening import RULES as HARDENING_RULES
from policies.kms import RULES as KMS_RULES
from policies.multi_az import RULES as MULTI_AZ_RULES
from policies.neptune import RULES as NEPTUNE_RULES
from policies.network import RULES as NETWORK_RULES
from policies.observability import RULES as OBSERVABILITY_RULES
from policies.rds_instances import RULES as RDS_INSTANCE_RULES
from policies.redshift import RULES as REDSHIFT_RULES
from policies.resilience import RULES as RESILIENCE_RULES
from policies.route53 import RULES as ROUTE53_RULES
from policies.secrets_manager import RULES as SECRETS_RULES
from policies.tagging import RULES as TAGGING_RULES

PACK_NAME = "securecart-guardrails"

ALL_RULES: tuple[Rule, ...] = (
    *MULTI_AZ_RULES,
    *BACKUP_RULES,
    *RDS_INSTANCE_RULES,
    *NEPTUNE_RULES,
    *ENCRYPTION_RULES,
    *KMS_RULES,
    *SECRETS_RULES,
    *NETWORK_RULES,
    *OBSERVABILITY_RULES,
    *COST_RULES,
    *BUDGET_RULES,
    *RESILIENCE_RULES,
    *ALARM_RULES,
    *ROUTE53_RULES,
    *TAGGING_RULES,
    *ACCESS_RULES,
    *HARDENING_RULES,
    *REDSHIFT_RULES,
)
"""Every rule, grouped by concern in the order the policy table (docs/policies.md) lists them."""

RULES_BY_NAME: dict[str, Rule] = {rule.name: rule for rule in ALL_RULES}

__all__ = ["ALL_RULES", "PACK_NAME", "RULES_BY_NAME", "Rule"]
