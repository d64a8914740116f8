"""The Aurora PostgreSQL global database section: classes, versions, windows, scaling."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from components.settings.model import AuroraSettings
from components.settings.values import ConfigError, Section, section

# Aurora global databases need memory-optimised classes (no burstable db.t*, no serverless here).
AURORA_GLOBAL_CLASS = re.compile(
    r"^db\.(r5|r6g|r6i|r7g|r7i|r8g|x2g)\.(large|xlarge|[248]xlarge|12xlarge|16xlarge|24xlarge)$"
)
# Aurora PostgreSQL majors that support global databases and managed switchover.
AURORA_ENGINE_VERSION = re.compile(r"^(1[3-7])\.\d{1,2}$")
ENGINE_DATA = Path(__file__).resolve().parent / "data" / "aurora-postgresql.json"
"""AWS's own lists for Aurora PostgreSQL, with their sources and retrieval date: per major the
first version global databases and the RDS Data API support, the versions that exist, reserved
words and role names, and the databases every cluster already has."""


@cache
def engine_data() -> dict[str, Any]:
    """``data/aurora-postgresql.json``, parsed once."""
    loaded: dict[str, Any] = json.loads(ENGINE_DATA.read_text(encoding="utf-8"))
    return loaded


def _version(text: str) -> tuple[int, int]:
    major, minor = text.split(".")
    return int(major), int(minor)


def listed_versions(major: int, floor: tuple[int, int] = (0, 0)) -> tuple[str, ...]:
    """The versions AWS lists for ``major`` (``data/aurora-postgresql.json``) at or after
    ``floor``, oldest first: what ``auroraEngineVersion`` may be."""
    versions: list[str] = engine_data()["majors"][str(major)]["versions"]
    return tuple(sorted((v for v in versions if _version(v) >= floor), key=_version))


DATA_API_MINIMUM: Mapping[int, tuple[int, int]] = {
    int(major): _version(spec["dataApiFrom"]) for major, spec in engine_data()["majors"].items()
}
"""First version per major where the RDS Data API serves provisioned Aurora PostgreSQL clusters
(AWS "Supported Regions and Aurora DB engines for RDS Data API"; every region in REGIONS has it).
It is not supported on T classes, which AURORA_GLOBAL_CLASS already excludes (AWS "Limitations
for the Amazon RDS Data API")."""
GLOBAL_DATABASE_MINIMUM: Mapping[int, tuple[int, int]] = {
    int(major): _version(spec["globalDatabaseFrom"])
    for major, spec in engine_data()["majors"].items()
}
"""First version per major that can join an Aurora global database (AWS "Supported Regions and
DB engines for Aurora global databases", Aurora PostgreSQL table)."""
PI_RETENTION_DAYS = (7, *range(31, 732, 31))
"""Performance Insights accepts 7 (free tier), or a multiple of 31 up to 731 days."""
MONITORING_INTERVALS = (1, 5, 10, 15, 30, 60)
"""Enhanced monitoring granularities in seconds (0 would turn it off, which we never allow)."""
IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
IDENTIFIER_RULE = "a lowercase identifier (letters, digits, _), 1-63 characters"


def load(raw: Mapping[str, Any], environment: str) -> AuroraSettings:
    """The ``aurora`` section, with the rules that tie its fields together."""
    s = section(raw, "aurora")
    d = AuroraSettings()
    settings = AuroraSettings(
        engine_version=s.pattern(
            "engineVersion",
            d.engine_version,
            AURORA_ENGINE_VERSION,
            "an Aurora PostgreSQL version 13.x to 17.x (major.minor) that supports global databases",
        ),
        instance_class=s.pattern(
            "instanceClass",
            d.instance_class,
            AURORA_GLOBAL_CLASS,
            "a memory-optimised class that can join a global database (db.r5/r6g/r6i/r7g/r7i/r8g/x2g, large or bigger)",
        ),
        instances_per_region=s.integer("instancesPerRegion", d.instances_per_region, 2, 15),
        database_name=s.pattern("databaseName", d.database_name, IDENTIFIER, IDENTIFIER_RULE),
        master_username=s.pattern("masterUsername", d.master_username, IDENTIFIER, IDENTIFIER_RULE),
        backup_retention_days=s.integer("backupRetentionDays", d.backup_retention_days, 7, 35),
        # RDS: each window at least 30 minutes, and they must not conflict (checked below).
        preferred_backup_window=s.window(
            "preferredBackupWindow", d.preferred_backup_window, 30, weekly=False
        ),
        preferred_maintenance_window=s.window(
            "preferredMaintenanceWindow", d.preferred_maintenance_window, 30, weekly=True
        ),
        performance_insights_retention_days=s.choice(
            "performanceInsightsRetentionDays",
            d.performance_insights_retention_days,
            PI_RETENTION_DAYS,
        ),
        monitoring_interval_seconds=s.choice(
            "monitoringIntervalSeconds", d.monitoring_interval_seconds, MONITORING_INTERVALS
        ),
        autoscaling_min_readers=s.integer(
            "autoscalingMinReaders", d.autoscaling_min_readers, 1, 15
        ),
        autoscaling_max_readers=s.integer(
            "autoscalingMaxReaders", d.autoscaling_max_readers, 1, 15
        ),
        autoscaling_target_cpu=s.number(
            "autoscalingTargetCpuPercent", d.autoscaling_target_cpu, 10, 90
        ),
        deletion_protection=s.boolean("deletionProtection", d.deletion_protection),
        data_api_enabled=s.boolean("dataApiEnabled", d.data_api_enabled),
        allow_major_version_upgrade=s.boolean(
            "allowMajorVersionUpgrade", d.allow_major_version_upgrade
        ),
    )
    s.no_overlap(
        "preferredBackupWindow",
        settings.preferred_backup_window,
        "preferredMaintenanceWindow",
        settings.preferred_maintenance_window,
    )
    major, minor = (int(part) for part in settings.engine_version.split("."))
    _check_version(s, settings.engine_version, major, minor)
    _check_names(s, settings.master_username, settings.database_name)
    floor = DATA_API_MINIMUM[major]
    if settings.data_api_enabled and (major, minor) < floor:
        raise ConfigError(
            s.key("engineVersion"),
            settings.engine_version,
            f"{floor[0]}.{floor[1]} or later while auroraDataApiEnabled is true (the RDS Data API "
            "needs Aurora PostgreSQL 13.11, 14.8, 15.3, 16.1 or 17.4 and later): "
            f"{', '.join(listed_versions(major, floor))}",
        )
    if settings.autoscaling_max_readers < settings.autoscaling_min_readers:
        raise ConfigError(
            s.key("autoscalingMaxReaders"),
            settings.autoscaling_max_readers,
            f">= auroraAutoscalingMinReaders ({settings.autoscaling_min_readers})",
        )
    if environment == "prod" and not settings.deletion_protection:
        raise ConfigError(s.key("deletionProtection"), False, "true in prod")
    return settings


def _check_version(s: Section, text: str, major: int, minor: int) -> None:
    """The version is one AWS lists for its major and can join a global database."""
    floor = GLOBAL_DATABASE_MINIMUM[major]
    allowed = ", ".join(listed_versions(major, floor))
    if (major, minor) < floor:
        raise ConfigError(
            s.key("engineVersion"),
            text,
            f"{floor[0]}.{floor[1]} or later in Aurora PostgreSQL {major} (the first version "
            f"that can join an Aurora global database): {allowed}",
        )
    if text not in listed_versions(major):
        raise ConfigError(
            s.key("engineVersion"),
            text,
            f"an Aurora PostgreSQL {major} version AWS lists that can join a global database: "
            f"{allowed}",
        )


def _check_names(s: Section, master_username: str, database_name: str) -> None:
    """Neither name is a PostgreSQL reserved word; the master user is no reserved role and the
    database is none of the ones every Aurora PostgreSQL cluster already has."""
    data = engine_data()
    reserved = set(data["reservedWords"])
    user = master_username.lower()
    prefixes = tuple(data["reservedRolePrefixes"])
    if user in reserved or user in data["reservedRoles"] or user.startswith(prefixes):
        raise ConfigError(
            s.key("masterUsername"),
            master_username,
            "a name that is not a PostgreSQL reserved word, not a reserved role "
            f"({', '.join(data['reservedRoles'])}) and not starting with "
            f"{' or '.join(prefixes)}",
        )
    name = database_name.lower()
    if name in reserved or name in data["existingDatabases"]:
        raise ConfigError(
            s.key("databaseName"),
            database_name,
            "a name that is not a PostgreSQL reserved word and not a database every cluster "
            f"already has ({', '.join(data['existingDatabases'])})",
        )
