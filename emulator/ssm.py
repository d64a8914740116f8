"""Parameter Store as strict as AWS about ``AllowedPattern``, which moto does not enforce.

The stack's active-region setting (``components/active_region.py``) is a String parameter whose
``AllowedPattern`` admits only the two regions of the pair. AWS refuses a ``PutParameter`` whose
value does not match the parameter's pattern with ``ParameterPatternMismatchException``, and a
pattern that is not a regular expression with ``InvalidAllowedPatternException`` (Systems
Manager API Reference, ``PutParameter``: ``AllowedPattern`` "A regular expression used to
validate the parameter value", errors). An overwrite that names no pattern is checked against
the one the parameter already has (moto keeps it too), so the drill's move of the setting is
refused exactly where AWS would refuse it.
"""

from __future__ import annotations

import re
from typing import Any

from moto.ssm.exceptions import SSMException
from moto.ssm.models import SimpleSystemManagerBackend

from .state import patch

_original_put: Any = SimpleSystemManagerBackend.put_parameter


class PatternMismatch(SSMException):
    """``ParameterPatternMismatchException``."""

    def __init__(self, pattern: str) -> None:
        super().__init__(
            "ParameterPatternMismatchException",
            f"Parameter value, cannot be validated against allowedPattern: {pattern}",
        )


class InvalidPattern(SSMException):
    """``InvalidAllowedPatternException``."""

    def __init__(self, pattern: str) -> None:
        super().__init__(
            "InvalidAllowedPatternException",
            f"The request does not meet the regular expression requirement: {pattern}",
        )


def _put_parameter(
    self: SimpleSystemManagerBackend,
    name: str,
    description: str,
    value: str,
    parameter_type: str,
    allowed_pattern: str,
    *args: Any,
    **kwargs: Any,
) -> Any:
    pattern = allowed_pattern
    if pattern is None:
        versions = self._parameters.get(name) or []
        pattern = versions[-1].allowed_pattern if versions else None
    if pattern:
        try:
            compiled = re.compile(pattern)
        except re.error as exc:
            raise InvalidPattern(pattern) from exc
        if value is not None and compiled.search(value) is None:
            raise PatternMismatch(pattern)
    return _original_put(
        self, name, description, value, parameter_type, allowed_pattern, *args, **kwargs
    )


def install() -> None:
    """Enforce ``AllowedPattern`` on ``PutParameter`` (idempotent)."""
    if getattr(SimpleSystemManagerBackend.put_parameter, "__name__", "") != "_put_parameter":
        patch(SimpleSystemManagerBackend, "put_parameter", _put_parameter)
