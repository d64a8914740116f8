"""The DynamoDB global tables section: keys, attributes, indexes and billing per table."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from components.settings.model import (
    AttributeSettings,
    DynamoSettings,
    IndexSettings,
    TableSettings,
)
from components.settings.values import (
    ConfigError,
    _choice,
    _int,
    _known,
    _opt_str,
    _pattern,
    _section,
    _str,
)

TABLE_NAME = re.compile(r"^[a-z][a-z0-9-]{1,40}$")
ATTRIBUTE_TYPES = ("S", "N", "B")
PROJECTIONS = ("ALL", "KEYS_ONLY", "INCLUDE")


def _table(spec: Any, index: int) -> TableSettings:
    key = f"dynamodb.tables[{index}]"
    if not isinstance(spec, Mapping):
        raise ConfigError(key, spec, "an object {name, hashKey, attributes, ...}")
    _known(
        spec,
        key,
        (
            "name",
            "hashKey",
            "rangeKey",
            "attributes",
            "ttlAttribute",
            "globalSecondaryIndexes",
            "billingMode",
            "readCapacity",
            "writeCapacity",
        ),
    )
    name = _pattern(
        spec,
        "name",
        f"{key}.name",
        "",
        TABLE_NAME,
        "a lowercase name of 2-41 letters, digits or dashes",
    )
    key = f"dynamodb.tables[{name}]"
    attrs_raw = spec.get("attributes")
    if not isinstance(attrs_raw, Mapping) or not attrs_raw:
        raise ConfigError(
            f"{key}.attributes",
            attrs_raw,
            "an object of attribute name -> S | N | B for every key attribute",
        )
    attributes: list[AttributeSettings] = []
    for attr, kind in attrs_raw.items():
        if kind not in ATTRIBUTE_TYPES:
            raise ConfigError(f"{key}.attributes.{attr}", kind, f"one of {list(ATTRIBUTE_TYPES)}")
        attributes.append(AttributeSettings(name=str(attr), type=kind))
    defined = {a.name for a in attributes}
    hash_key = spec.get("hashKey")
    if not isinstance(hash_key, str) or not hash_key:
        raise ConfigError(f"{key}.hashKey", hash_key, "the name of the partition key attribute")
    if hash_key not in defined:
        raise ConfigError(
            f"{key}.hashKey",
            hash_key,
            f"an attribute defined in {key}.attributes {sorted(defined)}",
        )
    range_key = _opt_str(spec, "rangeKey", f"{key}.rangeKey")
    if range_key is not None and range_key not in defined:
        raise ConfigError(
            f"{key}.rangeKey",
            range_key,
            f"an attribute defined in {key}.attributes {sorted(defined)}",
        )
    indexes: list[IndexSettings] = []
    gsis = spec.get("globalSecondaryIndexes", []) or []
    if not isinstance(gsis, list):
        raise ConfigError(f"{key}.globalSecondaryIndexes", gsis, "a list of indexes")
    for gi, gsi in enumerate(gsis):
        gkey = f"{key}.globalSecondaryIndexes[{gi}]"
        if not isinstance(gsi, Mapping):
            raise ConfigError(gkey, gsi, "an object {name, hashKey, rangeKey?, projectionType?}")
        _known(gsi, gkey, ("name", "hashKey", "rangeKey", "projectionType", "nonKeyAttributes"))
        gname = _pattern(
            gsi,
            "name",
            f"{gkey}.name",
            "",
            re.compile(r"^[A-Za-z0-9_.-]{3,255}$"),
            "an index name of 3-255 characters",
        )
        ghash = _str(gsi, "hashKey", f"{gkey}.hashKey")
        if ghash not in defined:
            raise ConfigError(
                f"{gkey}.hashKey",
                ghash,
                f"an attribute defined in {key}.attributes {sorted(defined)}",
            )
        grange = _opt_str(gsi, "rangeKey", f"{gkey}.rangeKey")
        if grange is not None and grange not in defined:
            raise ConfigError(
                f"{gkey}.rangeKey",
                grange,
                f"an attribute defined in {key}.attributes {sorted(defined)}",
            )
        projection = _choice(gsi, "projectionType", f"{gkey}.projectionType", "ALL", PROJECTIONS)
        non_key = gsi.get("nonKeyAttributes", []) or []
        if projection == "INCLUDE" and not non_key:
            raise ConfigError(
                f"{gkey}.nonKeyAttributes",
                non_key,
                "a non-empty list when projectionType is INCLUDE",
            )
        if projection != "INCLUDE" and non_key:
            raise ConfigError(
                f"{gkey}.nonKeyAttributes", non_key, "empty unless projectionType is INCLUDE"
            )
        indexes.append(
            IndexSettings(
                name=gname,
                hash_key=ghash,
                range_key=grange,
                projection_type=projection,
                non_key_attributes=tuple(non_key),
            )
        )
    if len({i.name for i in indexes}) != len(indexes):
        raise ConfigError(
            f"{key}.globalSecondaryIndexes", [i.name for i in indexes], "unique index names"
        )
    used = {hash_key, range_key} | {i.hash_key for i in indexes} | {i.range_key for i in indexes}
    unused = defined - used
    if unused:
        # DynamoDB rejects attribute definitions that no key or index uses.
        raise ConfigError(
            f"{key}.attributes", sorted(unused), "only attributes used by the table key or an index"
        )
    billing = _choice(
        spec,
        "billingMode",
        f"{key}.billingMode",
        "PAY_PER_REQUEST",
        ("PAY_PER_REQUEST", "PROVISIONED"),
    )
    read = spec.get("readCapacity")
    write = spec.get("writeCapacity")
    if billing == "PROVISIONED":
        read = _int(spec, "readCapacity", f"{key}.readCapacity", 0, 1, 40000)
        write = _int(spec, "writeCapacity", f"{key}.writeCapacity", 0, 1, 40000)
    elif read is not None or write is not None:
        raise ConfigError(
            f"{key}.readCapacity",
            read if read is not None else write,
            "unset with billingMode PAY_PER_REQUEST",
        )
    ttl = _opt_str(spec, "ttlAttribute", f"{key}.ttlAttribute")
    if ttl is not None and ttl in (hash_key, range_key):
        raise ConfigError(
            f"{key}.ttlAttribute", ttl, "an attribute that is not part of the table key"
        )
    return TableSettings(
        name=name,
        hash_key=hash_key,
        range_key=range_key,
        attributes=tuple(attributes),
        ttl_attribute=ttl,
        global_secondary_indexes=tuple(indexes),
        billing_mode=billing,
        read_capacity=read,
        write_capacity=write,
    )


def _dynamodb(raw: Mapping[str, Any]) -> DynamoSettings:
    s = _section(raw, "dynamodb")
    _known(s, "dynamodb", ("tables",))
    tables_raw = s.get("tables")
    if not isinstance(tables_raw, list) or not tables_raw:
        raise ConfigError("dynamodb.tables", tables_raw, "a non-empty list of tables")
    tables = tuple(_table(spec, index) for index, spec in enumerate(tables_raw))
    names = [t.name for t in tables]
    if len(set(names)) != len(names):
        raise ConfigError("dynamodb.tables", names, "unique table names")
    return DynamoSettings(tables=tables)
