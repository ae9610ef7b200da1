"""Checking parsed TOML against a schema of allowed keys, one clear line per error.

Shared by scenario and cohort files: each key has a type, an inclusive range and a default;
every error names the file, the key, the value and what is allowed, with a did-you-mean.
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass
from typing import Any


class ScenarioError(ValueError):
    """A scenario file that cannot be run; the message is one line for the user."""


@dataclass(frozen=True)
class Key:
    """One allowed key: its type, range (inclusive) and default (None: required)."""

    kind: type
    default: Any = None
    lo: float = -math.inf
    hi: float = math.inf
    required: bool = False
    doc: str = ""
    choices: tuple[str, ...] | None = None  # for strings: the values allowed

    def allowed(self) -> str:
        if self.kind is list:
            return "a list of tables"
        if self.kind is str:
            if self.choices:
                return "one of " + ", ".join(f'"{c}"' for c in self.choices)
            return "a string"
        if self.kind is bool:
            return "true or false"
        what = "an integer" if self.kind is int else "a number"
        if math.isinf(self.lo) and math.isinf(self.hi):
            return what
        if math.isinf(self.hi):
            return f"{what} >= {self.lo:g}"
        return f"{what} from {self.lo:g} to {self.hi:g}"


class Failer:
    def __init__(self, label: str) -> None:
        self.label = label

    def __call__(self, message: str) -> None:
        raise ScenarioError(f"{self.label}: {message}")

    def unknown(self, name: str, known: set[str] | dict[str, Any], what: str,
                where: str = "") -> None:
        hint = suggest(name, known)
        allowed = ", ".join(sorted(known))
        self(f"{where}unknown {what} '{name}'{hint} (allowed: {allowed})")


def suggest(name: str, known: Any) -> str:
    """'; did you mean 'x'?' for a near miss or a key that the name begins, else ''."""
    close = difflib.get_close_matches(name, list(known), n=1)
    if not close:
        close = sorted(k for k in known if k.startswith(name) or name.startswith(k))
    return f"; did you mean '{close[0]}'?" if close else ""


def check_keys(raw: dict[str, Any], schema: dict[str, Key], where: str,
                fail: Failer) -> dict[str, Any]:
    out = {}
    for key in raw:
        if key not in schema:
            fail.unknown(key, schema, "key", f"{where} ")
    for key, spec in schema.items():
        if key not in raw:
            if spec.required:
                fail(f"{where} missing required key '{key}' ({spec.allowed()})")
            out[key] = spec.default
            continue
        out[key] = _check_value(raw[key], spec, f"{where} {key}", fail)
    return out


def _check_value(value: Any, spec: Key, where: str, fail: Failer) -> Any:
    bad = f"{where} = {value!r}: expected {spec.allowed()}"
    if spec.kind is list:
        if not isinstance(value, list):
            fail(f"{where} = {value!r}: expected a list of tables")
        return value
    if spec.kind is str:
        if not isinstance(value, str) or (spec.choices and value not in spec.choices):
            fail(bad)
        return value
    if spec.kind is bool:
        if not isinstance(value, bool):
            fail(bad)
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        fail(bad)
    if spec.kind is int and not isinstance(value, int):
        fail(bad)
    if not (math.isfinite(value) and spec.lo <= value <= spec.hi):
        fail(bad)
    return spec.kind(value)


def number(x: float) -> str:
    """A number as a user would write it: 12, 0.5, 1e-06."""
    return f"{x:g}"
