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
from components.settings.values import ConfigError, Section, check_items, section

TABLE_NAME = re.compile(r"^[a-z][a-z0-9-]{1,40}$")
ATTRIBUTE_TYPES = ("S", "N", "B")
PROJECTIONS = ("ALL", "KEYS_ONLY", "INCLUDE")
INDEX_NAME = re.compile(r"^[A-Za-z0-9_.-]{3,255}$")
# AWS DynamoDB API "Projection": each NonKeyAttributes entry 1-255 characters, and "the total
# count of attributes provided in NonKeyAttributes, summed across all of the secondary indexes,
# must not exceed 100" (an attribute projected into two indexes counts twice).
NON_KEY_ATTRIBUTE = re.compile(r"^.{1,255}$", re.DOTALL)
MAX_NON_KEY_ATTRIBUTES = 100


def load(raw: Mapping[str, Any]) -> DynamoSettings:
    """The ``dynamodb`` section: a non-empty list of uniquely named tables."""
    s = section(raw, "dynamodb")
    tables_raw = s.get("tables")
    if not isinstance(tables_raw, list) or not tables_raw:
        raise ConfigError(s.key("tables"), tables_raw, "a non-empty list of tables")
    tables = tuple(_table(spec, index) for index, spec in enumerate(tables_raw))
    names = [t.name for t in tables]
    if len(set(names)) != len(names):
        raise ConfigError(s.key("tables"), names, "unique table names")
    return DynamoSettings(tables=tables)


def _table(spec: Any, index: int) -> TableSettings:
    """One table; once its name is read, errors name it (``dynamodb.tables[carts]``)."""
    if not isinstance(spec, Mapping):
        raise ConfigError(
            f"dynamodb.tables[{index}]", spec, "an object {name, hashKey, attributes, ...}"
        )
    t = Section(spec, f"dynamodb.tables[{index}]")
    t.known(
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
        )
    )
    name = t.pattern("name", "", TABLE_NAME, "a lowercase name of 2-41 letters, digits or dashes")
    t = Section(spec, f"dynamodb.tables[{name}]")
    attrs_raw = t.get("attributes")
    if not isinstance(attrs_raw, Mapping) or not attrs_raw:
        raise ConfigError(
            t.key("attributes"),
            attrs_raw,
            "an object of attribute name -> S | N | B for every key attribute",
        )
    attributes: list[AttributeSettings] = []
    for attr, kind in attrs_raw.items():
        if kind not in ATTRIBUTE_TYPES:
            raise ConfigError(t.key(f"attributes.{attr}"), kind, f"one of {list(ATTRIBUTE_TYPES)}")
        attributes.append(AttributeSettings(name=str(attr), type=kind))
    defined = {a.name for a in attributes}
    hash_key = t.get("hashKey")
    if not isinstance(hash_key, str) or not hash_key:
        raise ConfigError(t.key("hashKey"), hash_key, "the name of the partition key attribute")
    _defined(t, hash_key, t.key("hashKey"), defined)
    range_key = t.optional_string("rangeKey")
    _defined(t, range_key, t.key("rangeKey"), defined)
    indexes = _indexes(t, defined)
    used = {hash_key, range_key} | {i.hash_key for i in indexes} | {i.range_key for i in indexes}
    unused = defined - used
    if unused:
        # DynamoDB rejects attribute definitions that no key or index uses.
        raise ConfigError(
            t.key("attributes"), sorted(unused), "only attributes used by the table key or an index"
        )
    billing = t.choice("billingMode", "PAY_PER_REQUEST", ("PAY_PER_REQUEST", "PROVISIONED"))
    read = t.get("readCapacity")
    write = t.get("writeCapacity")
    if billing == "PROVISIONED":
        read = t.integer("readCapacity", 0, 1, 40000)
        write = t.integer("writeCapacity", 0, 1, 40000)
    elif read is not None or write is not None:
        raise ConfigError(
            t.key("readCapacity"),
            read if read is not None else write,
            "unset with billingMode PAY_PER_REQUEST",
        )
    ttl = t.optional_string("ttlAttribute")
    if ttl is not None and ttl in (hash_key, range_key):
        raise ConfigError(
            t.key("ttlAttribute"), ttl, "an attribute that is not part of the table key"
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


def _defined(table: Section, attribute: str | None, key: str, defined: set[str]) -> None:
    """A table or index key (when set) must be one of the table's attribute definitions."""
    if attribute is not None and attribute not in defined:
        raise ConfigError(
            key, attribute, f"an attribute defined in {table.key('attributes')} {sorted(defined)}"
        )


def _indexes(table: Section, defined: set[str]) -> list[IndexSettings]:
    """The table's global secondary indexes, uniquely named, keyed on defined attributes."""
    indexes: list[IndexSettings] = []
    gsis = table.get("globalSecondaryIndexes", []) or []
    if not isinstance(gsis, list):
        raise ConfigError(table.key("globalSecondaryIndexes"), gsis, "a list of indexes")
    for gi, gsi in enumerate(gsis):
        gkey = table.key(f"globalSecondaryIndexes[{gi}]")
        if not isinstance(gsi, Mapping):
            raise ConfigError(gkey, gsi, "an object {name, hashKey, rangeKey?, projectionType?}")
        g = Section(gsi, gkey)
        g.known(("name", "hashKey", "rangeKey", "projectionType", "nonKeyAttributes"))
        gname = g.pattern("name", "", INDEX_NAME, "an index name of 3-255 characters")
        ghash = g.string("hashKey")
        _defined(table, ghash, g.key("hashKey"), defined)
        grange = g.optional_string("rangeKey")
        _defined(table, grange, g.key("rangeKey"), defined)
        projection = g.choice("projectionType", "ALL", PROJECTIONS)
        non_key = g.get("nonKeyAttributes", [])
        if not isinstance(non_key, list):
            raise ConfigError(g.key("nonKeyAttributes"), non_key, "a list of attribute names")
        check_items(
            non_key,
            g.key("nonKeyAttributes"),
            NON_KEY_ATTRIBUTE,
            "an attribute name of 1-255 characters",
        )
        if len(set(non_key)) != len(non_key):
            raise ConfigError(g.key("nonKeyAttributes"), non_key, "attribute names listed once")
        if projection == "INCLUDE" and not non_key:
            raise ConfigError(
                g.key("nonKeyAttributes"),
                non_key,
                "a non-empty list when projectionType is INCLUDE",
            )
        if projection != "INCLUDE" and non_key:
            raise ConfigError(
                g.key("nonKeyAttributes"), non_key, "empty unless projectionType is INCLUDE"
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
    projected = sum(len(i.non_key_attributes) for i in indexes)
    if projected > MAX_NON_KEY_ATTRIBUTES:
        raise ConfigError(
            table.key("globalSecondaryIndexes"),
            projected,
            f"at most {MAX_NON_KEY_ATTRIBUTES} nonKeyAttributes summed over the table's indexes",
        )
    if len({i.name for i in indexes}) != len(indexes):
        raise ConfigError(
            table.key("globalSecondaryIndexes"), [i.name for i in indexes], "unique index names"
        )
    return indexes
