"""Typed, validated settings for one stack: the only shape of config the components see.

``__main__.py`` collects the raw project config (parsed YAML values, keys without the
``securecart-data:`` prefix) and calls :func:`load_settings`. Every rule here fails with a
:class:`ConfigError` that names the key, the value and what is allowed, before any resource
is registered, so bad config never half-deploys anything.

The package front door re-exports what the program, preflight, drills and tests import; the
modules behind it are: ``model`` (the frozen settings types), ``values`` (ConfigError and the
value readers), ``windows`` (backup and maintenance windows), one module per section
(``placement``, ``aurora``, ``dynamodb``, ``cache``, ``operations``), ``keys`` (the key
catalogue) and ``loader`` (``load_settings``).
"""

from components.settings.keys import CONFIG_KEYS, STRING_KEYS, STRUCTURED_KEYS, parse_config_value
from components.settings.loader import load_settings
from components.settings.model import (
    AppPeering,
    AttributeSettings,
    AuroraSettings,
    BackupSettings,
    BudgetSettings,
    CacheSettings,
    DrillSettings,
    DynamoSettings,
    ExistingNetwork,
    IndexSettings,
    MonitoringSettings,
    NeptuneSettings,
    NetworkSettings,
    PaymentsSettings,
    RedshiftSettings,
    Settings,
    TableSettings,
)
from components.settings.values import ConfigError

__all__ = [
    "CONFIG_KEYS",
    "STRING_KEYS",
    "STRUCTURED_KEYS",
    "AppPeering",
    "AttributeSettings",
    "AuroraSettings",
    "BackupSettings",
    "BudgetSettings",
    "CacheSettings",
    "ConfigError",
    "DrillSettings",
    "DynamoSettings",
    "ExistingNetwork",
    "IndexSettings",
    "MonitoringSettings",
    "NeptuneSettings",
    "NetworkSettings",
    "PaymentsSettings",
    "RedshiftSettings",
    "Settings",
    "TableSettings",
    "load_settings",
    "parse_config_value",
]
