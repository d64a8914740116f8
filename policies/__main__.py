"""Entry point the engine runs (``python -u -m pulumi.policy <engine> policies/``): builds the
PolicyPack and nothing else, because ``PolicyPack(...)`` starts a gRPC server and never returns.
"""

import sys
from pathlib import Path

# The engine runs this file by path, so make the repository root importable for ``policies.*``.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pulumi_policy import EnforcementLevel, PolicyPack

from policies import ALL_RULES, PACK_NAME
from policies._decode_once import install

install()  # decode each resource's properties once per Analyze, not once per policy

PolicyPack(
    name=PACK_NAME,
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=[rule.policy for rule in ALL_RULES],
    description="SecureCart data-tier guardrails: Multi-AZ, PITR, encryption, cost, resilience, tags.",
)
