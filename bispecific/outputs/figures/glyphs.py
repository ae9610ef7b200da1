"""Text a figure's font cannot draw: drawn with a fallback font, or spelled out, silently.

A scenario, cohort or arm may be named in any script (e.g. CJK). Matplotlib's default font
(DejaVu Sans) has no CJK glyphs: it would draw boxes and warn once per missing glyph. Before
a figure is saved, `make_drawable` looks at every text in it: when a character is missing
from the font chosen for that text, a font installed on this machine that has every missing
character is added as a fallback; when none has them, each missing character is spelled as
its decomposition (e with an accent -> e) or its code point ("<U+6CBB>"). Either way no
warning is raised and nothing is drawn as a box.
"""

from __future__ import annotations

import functools
import unicodedata

from matplotlib import font_manager
from matplotlib.figure import Figure
from matplotlib.ft2font import FT2Font
from matplotlib.text import Text


@functools.lru_cache(maxsize=64)
def _charmap(path: str) -> frozenset[int]:
    try:
        return frozenset(FT2Font(path).get_charmap())
    except (OSError, RuntimeError, ValueError):
        return frozenset()


@functools.lru_cache(maxsize=256)
def _fallback(missing: frozenset[int]) -> str | None:
    """The family name of an installed font that draws every character in `missing`."""
    for entry in sorted(font_manager.fontManager.ttflist, key=lambda f: f.fname):
        # Matplotlib's "Last Resort" font maps every character to a box: not a fallback.
        if "last resort" not in entry.name.lower() and missing <= _charmap(entry.fname):
            return entry.name
    return None


def _missing(text: str, charmap: frozenset[int]) -> frozenset[int]:
    return frozenset(ord(c) for c in text if not c.isspace() and ord(c) not in charmap
                     and unicodedata.category(c)[0] != "C")


def spelled(text: str, charmap: frozenset[int]) -> str:
    """`text` with each character missing from `charmap` spelled with characters it has."""
    out = []
    for char in text:
        if char.isspace() or ord(char) in charmap or unicodedata.category(char)[0] == "C":
            out.append(char)
            continue
        plain = "".join(c for c in unicodedata.normalize("NFKD", char)
                        if not unicodedata.combining(c))
        out.append(plain if plain and all(ord(c) in charmap for c in plain)
                   else f"<U+{ord(char):04X}>")
    return "".join(out)


def make_drawable(fig: Figure) -> None:
    """Make every text of `fig` drawable with the fonts of this machine (module docstring)."""
    for text in fig.findobj(Text):
        make_text_drawable(text)


def make_text_drawable(text: Text) -> str:
    """Make `text` drawable (a fallback font, else spelled); returns what it now says."""
    content = text.get_text()
    if not content or content.isascii():
        return content
    props = text.get_fontproperties()
    charmap = _charmap(font_manager.findfont(props, fallback_to_default=True))
    missing = _missing(content, charmap)
    if missing:
        family = _fallback(missing)
        if family is not None:
            text.set_fontfamily([*props.get_family(), family])
        else:
            text.set_text(spelled(content, charmap))
    return text.get_text()
