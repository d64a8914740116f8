"""Decode a resource's properties once per Analyze call instead of once per policy.

pulumi-policy 1.21.0 runs ``deserialize_properties(json_format.MessageToDict(props))`` for every
resource policy on every ``Analyze`` request: with ~50 resource rules that decoding is two thirds
of the time per call. Both steps are pure, so a one-entry cache keyed on the identity of the
request's message (held, so the identity cannot be reused) returns the same decoded value to
every policy of the same request. Each policy decodes both the resource and its provider, so
the cache keeps many entries (AnalyzeStack decodes every resource once per stack policy). Rules only read what they are given.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pulumi_policy.policy as _policy
from google.protobuf import json_format

_ENTRIES = 2048
"""Enough for every resource of an AnalyzeStack request (each stack policy decodes them all)."""


class _IdentityCache:
    """Results keyed by the argument's identity. Arguments are held with their results, so an
    id cannot be reused by a new object while its entry is alive; the cache empties when full."""

    def __init__(self) -> None:
        self._entries: dict[int, tuple[Any, Any]] = {}

    def get(self, key: Any, compute: Any) -> Any:
        entry = self._entries.get(id(key))
        if entry is not None and entry[0] is key:
            return entry[1]
        if len(self._entries) >= _ENTRIES:
            self._entries.clear()
        result = compute(key)
        self._entries[id(key)] = (key, result)
        return result


_messages = _IdentityCache()
_dicts = _IdentityCache()


def _message_to_dict(message: Any, *args: Any, **kwargs: Any) -> Any:
    if args or kwargs:
        return json_format.MessageToDict(message, *args, **kwargs)
    return _messages.get(message, json_format.MessageToDict)


_original_deserialize = _policy.deserialize_properties  # type: ignore[attr-defined]


def _deserialize(props: Any, *args: Any, **kwargs: Any) -> Any:
    if args or kwargs:
        return _original_deserialize(props, *args, **kwargs)
    return _dicts.get(props, _original_deserialize)


def install() -> None:
    """Route pulumi-policy's decoding through the caches (the policy server process only)."""
    shim = SimpleNamespace(
        **{
            name: getattr(json_format, name)
            for name in dir(json_format)
            if not name.startswith("__")
        }
    )
    shim.MessageToDict = _message_to_dict
    _policy.json_format = shim  # type: ignore[attr-defined]
    _policy.deserialize_properties = _deserialize  # type: ignore[attr-defined]
