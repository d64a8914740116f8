"""The mapping table (policies/controls.py): every id exists in its framework's shipped list,
every rule supports a control or says why not, and every FSBP control of the plan's services is
covered by a rule or carries a reason."""

from __future__ import annotations

import json
from pathlib import Path

from policies import ALL_RULES, controls

DATA = Path(controls.__file__).parent / "data"


def test_framework_lists_ship_with_source_and_date() -> None:
    for key, name in controls.FRAMEWORK_FILES.items():
        doc = json.loads((DATA / name).read_text())
        assert doc["version"] and doc["retrieved"] and doc["source"], key
        framework = controls.framework(key)
        assert len(framework.ids) == len(set(framework.ids)) > 10, key
    assert controls.framework("cis").version == "v3.0.0"
    assert controls.framework("pci-dss").version == "v4.0.1"
    # CIS AWS Foundations v3.0.0 has 62 recommendations (1.1-1.22; 2.1.1-2.1.4, 2.2.1, 2.3.1-2.3.3,
    # 2.4.1; 3.1-3.9;
    # 4.1-4.16; 5.1-5.6); PCI DSS v4.0.1 numbers its requirements three levels deep or more.
    assert len(controls.framework("cis").ids) == 22 + 9 + 9 + 16 + 6
    assert {"3.5.1", "8.3.10.1", "10.2.1", "12.10.2", "A1.1.2"} <= set(
        controls.framework("pci-dss").ids
    )


def test_every_id_named_exists_in_its_framework() -> None:
    fsbp = set(controls.framework("fsbp").ids)
    cis = set(controls.framework("cis").ids)
    pci = set(controls.framework("pci-dss").ids)
    for rule, entry in controls.RULE_CONTROLS.items():
        assert set(entry.fsbp) <= fsbp, rule
        assert set(entry.cis) <= cis, rule
        assert set(entry.pci) <= pci, rule
    for control in controls.fsbp_catalog().values():
        assert set(control.cis) <= cis, control.id
        assert set(control.pci) <= pci, control.id
    assert set(controls.FSBP_DISPOSITIONS) <= fsbp


def test_every_rule_maps_to_a_control_or_says_why_not() -> None:
    names = {rule.name for rule in ALL_RULES}
    assert set(controls.RULE_CONTROLS) == names
    for rule in ALL_RULES:
        entry = controls.mapping(rule.name)
        supported = controls.fsbp_ids(rule.name) + controls.cis_ids(rule.name)
        supported += controls.pci_ids(rule.name)
        assert supported or len(entry.note) > 30, rule.name
        if entry.pci or entry.cis:  # a direct link (not from a control page) is explained
            assert entry.note, rule.name


def test_links_come_from_the_control_pages() -> None:
    """Hand-checked against the pages: RDS.2 -> PCI 1.4.4 and CIS 2.3.3; KMS.4 -> PCI 3.7.4 and
    CIS 3.6; SecretsManager.1 -> PCI 8.6.3, 8.3.9; EC2.6 -> CIS 3.7 and no PCI v4.0.1 id."""
    catalog = controls.fsbp_catalog()
    assert (catalog["RDS.2"].pci, catalog["RDS.2"].cis) == (("1.4.4",), ("2.3.3",))
    assert (catalog["KMS.4"].pci, catalog["KMS.4"].cis) == (("3.7.4",), ("3.6",))
    assert set(catalog["SecretsManager.1"].pci) == {"8.6.3", "8.3.9"}
    assert (catalog["EC2.6"].pci, catalog["EC2.6"].cis) == ((), ("3.7",))
    assert catalog["RDS.37"].page.endswith("/rds-controls.html")
    assert controls.pci_ids("secretsmanager-rotation") == ("8.6.3", "8.3.9")
    assert controls.cis_ids("rds-not-publicly-accessible") == ("2.3.3",)


def test_every_fsbp_control_of_the_plan_is_covered_or_explained() -> None:
    items = controls.coverage(rule.name for rule in ALL_RULES)
    assert len(items) == len(controls.fsbp_catalog())
    services = {item.control.service for item in items}
    assert services == {
        "RDS",
        "DynamoDB",
        "ElastiCache",
        "KMS",
        "SecretsManager",
        "Lambda",
        "IAM",
        "EC2",
        "CloudWatch",
        "Route53",
        "Backup",
        "SNS",
        "SSM",
        "Neptune",
        "Redshift",
    }
    for item in items:
        assert item.rules or item.disposition, item.control.id
        assert not (item.rules and item.control.id in controls.FSBP_DISPOSITIONS), item.control.id
        if item.disposition:
            assert len(item.disposition.reason) > 10, item.control.id
    counts = controls.coverage_counts(rule.name for rule in ALL_RULES)
    assert sum(counts.values()) == len(items)
    assert set(counts) <= {"covered", "not-applicable", "account-level", "not-covered"}
