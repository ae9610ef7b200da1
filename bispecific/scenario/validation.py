"""Checking parsed TOML against a schema of allowed keys, one clear line per error.

Shared by scenario and cohort files: each key has a type, a range and a default; every
error names the file, the key, the value and what is allowed, with a did-you-mean. Numbers
must be finite; text may not hold control characters; a `Name` also names a folder
(`names.py`).
"""

from __future__ import annotations

import difflib
import math
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .names import name_problem, text_problem


class ScenarioError(ValueError):
    """A scenario file that cannot be run; the message is one line for the user."""


def one_line(text: str) -> str:
    """An error message kept to one line, whatever a file name or a key holds."""
    return text.replace("\r", "\\r").replace("\n", "\\n")


class FileProblem(ScenarioError):
    """The file itself cannot be used: missing, a folder, unreadable, or the other kind of
    file (a cohort given as a scenario, or the reverse). `reason` is the message without
    the file name."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(one_line(f"{path}: {reason}"))
        self.reason = reason


def read_text(path: Path, expected: str, missing: str = "no such file",
              encoding: str = "utf-8") -> str:
    """The text of a file, or a one-line `FileProblem` saying why not.

    Parameters
    ----------
    path
        The file.
    expected
        What the file should be, for a folder given instead (e.g. "a scenario .toml file").
    missing
        The reason given for a file that is not there.
    encoding
        "utf-8", or "utf-8-sig" to drop the byte-order mark some spreadsheets write.
    """
    try:
        return path.read_text(encoding=encoding)
    except FileNotFoundError:
        raise FileProblem(path, missing) from None
    except IsADirectoryError:
        raise FileProblem(path, f"is a folder, expected {expected}") from None
    except UnicodeDecodeError:
        raise FileProblem(path, "cannot read: not UTF-8 text") from None
    except OSError as exc:
        raise FileProblem(path, f"cannot read ({exc.strerror or exc})") from None
    except ValueError:  # a NUL in the path
        raise FileProblem(path, "cannot read: the path holds a NUL character") from None


def read_toml(path: Path, kind: str) -> dict[str, Any]:
    """The parsed TOML of a `kind` ("scenario" or "cohort") file; one-line errors."""
    text = read_text(path, f"a {kind} .toml file")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(one_line(f"{path}: TOML syntax error: {exc}")) from None
    other = "cohort" if kind == "scenario" else "scenario"
    if other in data and kind not in data:
        raise FileProblem(path, f"is a {other} file (it has a [{other}] table), not a {kind}")
    return data


class Name(str):
    """Marks a key whose string is a name: one line, with a letter or digit (`names.py`)."""


@dataclass(frozen=True)
class Key:
    """One allowed key: its type, range and default (None: required).

    The range is inclusive, except that `lo_open` excludes `lo` itself (a median that must
    be above 0).
    """

    kind: type
    default: Any = None
    lo: float = -math.inf
    hi: float = math.inf
    required: bool = False
    doc: str = ""
    lo_open: bool = False
    choices: tuple[str, ...] | None = None  # for strings: the values allowed

    def allowed(self) -> str:
        if self.kind is list:
            return "a list of tables"
        if self.kind is Name:
            return "a name of 1 to 100 characters with a letter or digit, on one line"
        if self.kind is str:
            if self.choices:
                return "one of " + ", ".join(f'"{c}"' for c in self.choices)
            return "a string"
        if self.kind is bool:
            return "true or false"
        what = "an integer" if self.kind is int else "a number"
        if math.isinf(self.lo) and math.isinf(self.hi):
            return what
        if self.lo_open:
            above = f"{what} above {self.lo:g}"
            return above if math.isinf(self.hi) else f"{above}, up to {self.hi:g}"
        if math.isinf(self.hi):
            return f"{what} >= {self.lo:g}"
        return f"{what} from {self.lo:g} to {self.hi:g}"

    def accepts(self, value: float) -> bool:
        above = value > self.lo if self.lo_open else value >= self.lo
        return math.isfinite(value) and above and value <= self.hi


class Failer:
    def __init__(self, label: str) -> None:
        self.label = label

    def __call__(self, message: str) -> None:
        # One line whatever the file holds: a key or a file name may contain a newline.
        raise ScenarioError(one_line(f"{self.label}: {message}"))

    def unknown(self, name: str, known: set[str] | dict[str, Any], what: str,
                where: str = "") -> None:
        hint = suggest(name, known) if isinstance(name, str) else ""
        allowed = ", ".join(sorted(known))
        self(f"{where}unknown {what} {shorten(name)}{hint} (allowed: {allowed})")


def suggest(name: str, known: Any) -> str:
    """'; did you mean 'x'?' for a near miss or a key that the name begins, else ''."""
    close = difflib.get_close_matches(name, list(known), n=1)
    if not close:
        close = sorted(k for k in known if k.startswith(name) or name.startswith(k))
    return f"; did you mean '{close[0]}'?" if close else ""


def array_of_tables(data: dict[str, Any], name: str, fail: Failer) -> list[tuple[str, dict]]:
    """The `[[name]]` entries of parsed TOML as (where, table) pairs, `where` naming each
    entry for errors (`[[name]] #n`); one-line errors for anything that is not an array of
    tables. Absent: no entries."""
    raw = data.get(name, [])
    if not isinstance(raw, list):
        fail(f"'{name}' must be an array of tables: write each as [[{name}]]")
    entries = []
    for n, entry in enumerate(raw, start=1):
        where = f"[[{name}]] #{n}"
        if not isinstance(entry, dict):
            fail(f"{where} must be a table")
        entries.append((where, entry))
    return entries


def check_keys(raw: Any, schema: dict[str, Key], where: str,
               fail: Failer) -> dict[str, Any]:
    """The table's values, checked against `schema`, with defaults filled in."""
    if not isinstance(raw, dict):
        fail(f"{where} must be a table, not {describe(raw)}")
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
    bad = f"{where} = {shorten(value)}: expected {spec.allowed()}"
    if spec.kind is list:
        if not isinstance(value, list):
            fail(bad)
        return value
    if spec.kind in (str, Name):
        if not isinstance(value, str) or (spec.choices and value not in spec.choices):
            fail(bad)
        problem = name_problem(value) if spec.kind is Name else text_problem(value)
        if problem is not None:
            fail(f"{where} = {shorten(value)}: must have {problem}")
        return value
    if spec.kind is bool:
        if not isinstance(value, bool):
            fail(bad)
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        fail(bad)
    if spec.kind is int and not isinstance(value, int):
        fail(bad)
    if not spec.accepts(value):
        fail(bad)
    return spec.kind(value)


def describe(value: Any) -> str:
    """The TOML kind of a value, for messages: 'a string', 'a list', 'a number'."""
    kinds = ((bool, "true/false"), (int, "an integer"), (float, "a number"), (str, "a string"),
             (list, "a list"), (dict, "a table"))
    return next((name for kind, name in kinds if isinstance(value, kind)), type(value).__name__)


def shorten(value: Any, limit: int = 60) -> str:
    """repr(value), cut to `limit` characters so that an error stays one readable line."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def number(x: float) -> str:
    """A number as a user would write it: 12, 0.5, 1e-06."""
    return f"{x:g}"
