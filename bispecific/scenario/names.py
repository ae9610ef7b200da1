"""Names and text in scenario and cohort files, and the folder names made from them.

A name (of a scenario, a cohort or an arm) is shown to people and also names a folder. The
folder name is never the name itself but its slug: letters, digits, '.', '_' and '-' only,
at most one path component, never '.' or '..', never empty. So `name = "../../x"` writes
to `runs/x`, not outside `runs/`.
"""

from __future__ import annotations

import re
import unicodedata

NAME_MAX_CHARS = 100
TEXT_MAX_CHARS = 10_000
_NOT_SLUG = re.compile(r"[^\w.-]+")  # \w: letters and digits of any script, and '_'
_EDGES = "._-"


def slug(name: str) -> str:
    """The folder name for `name`: runs of other characters become one '-', and dots,
    dashes and underscores are trimmed from both ends ("../../x" -> "x", "a b/c" -> "a-b-c").
    Empty when the name has no letter or digit; `check_name` refuses such names."""
    text = _NOT_SLUG.sub("-", unicodedata.normalize("NFC", name)).strip(_EDGES)
    return text[:NAME_MAX_CHARS].rstrip(_EDGES)


def bad_character(text: str, newlines: bool) -> str | None:
    """The first character a file may not hold (control characters such as NUL, lone
    surrogates; newline and tab only where `newlines`), as a readable escape, else None."""
    for char in text:
        if newlines and char in "\n\t":
            continue
        if unicodedata.category(char) in ("Cc", "Cs"):
            return repr(char)[1:-1]
    return None


def name_problem(name: str) -> str | None:
    """What is wrong with `name` as a name, or None."""
    if len(name) > NAME_MAX_CHARS:
        return f"at most {NAME_MAX_CHARS} characters"
    char = bad_character(name, newlines=False)
    if char is not None:
        return f"no control characters (found {char})"
    if not slug(name):
        return "at least one letter or digit (it names the output folder)"
    return None


def text_problem(text: str) -> str | None:
    """What is wrong with free text (a description, a path), or None."""
    if len(text) > TEXT_MAX_CHARS:
        return f"at most {TEXT_MAX_CHARS} characters"
    char = bad_character(text, newlines=True)
    if char is not None:
        return f"no control characters (found {char})"
    return None
