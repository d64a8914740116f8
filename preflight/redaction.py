"""Keeping secrets out of everything preflight prints or writes.

Two kinds of secret reach preflight:

* values the program marked secret (generated passwords, ``pulumi.Output.secret``), which the
  recorder leaves wrapped in Pulumi's secret envelope
  ``{"4dabf18193072939515e22adb298388d": SECRET_SIG, "value": ...}``;
* ``secure:`` config values from the stack file (``{"secure": "<ciphertext>"}``).

Both are replaced by ``[secret]`` wherever a value is shown. As a second line of defence, the
plaintexts found inside the envelopes are collected so that free text (policy messages, error
messages) can be scrubbed too: a policy that quotes a property must not leak a password.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from preflight.model import SECRET_SIG, SIG_KEY
from preflight.model import is_secret as is_wrapped_secret

REDACTED = "[secret]"
"""What a secret looks like in terminal output and JSON."""

MIN_SCRUB_LENGTH = 6
"""Plaintexts shorter than this are not scrubbed from free text (they would match everywhere)."""


def is_secret(value: Any) -> bool:
    """True for a wrapped Pulumi secret or a ``secure:`` config value."""
    return is_wrapped_secret(value) or (isinstance(value, Mapping) and set(value) == {"secure"})


def redact(value: Any) -> Any:
    """A deep copy of ``value`` with every secret replaced by ``[secret]``."""
    if is_secret(value):
        return REDACTED
    if isinstance(value, Mapping):
        return {str(k): redact(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    return value


def secret_plaintexts(values: Iterable[Any]) -> set[str]:
    """Every string found inside a secret anywhere in ``values`` (long enough to scrub)."""
    found: set[str] = set()
    for value in values:
        for text in _strings_in_secrets(value, inside=False):
            if len(text) >= MIN_SCRUB_LENGTH:
                found.add(text)
    return found


def _strings_in_secrets(value: Any, *, inside: bool) -> Iterator[str]:
    if isinstance(value, Mapping):
        now_inside = inside or is_secret(value)
        for key, item in value.items():
            if now_inside and key == SIG_KEY:
                continue
            yield from _strings_in_secrets(item, inside=now_inside)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings_in_secrets(item, inside=inside)
    elif inside and isinstance(value, str) and value != SECRET_SIG:
        yield value


class Scrubber:
    """Replaces known secret plaintexts in free text with ``[secret]``."""

    def __init__(self, plaintexts: Iterable[str] = ()) -> None:
        # Longest first, so a secret that contains another is replaced whole.
        self._plaintexts = sorted(set(plaintexts), key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for plaintext in self._plaintexts:
            if plaintext in text:
                text = text.replace(plaintext, REDACTED)
        return text
