"""Nothing printed that says nothing (issue 25): names a font cannot draw are drawn with a
fallback font or spelled out, without glyph warnings or boxes; checkpoints off a terminal
are noted once, not once an hour."""

import warnings

import pytest
from matplotlib.figure import Figure

from bispecific.cli.main import main
from bispecific.outputs.figures.glyphs import _charmap, make_drawable
from bispecific.outputs.figures.style import save

from .test_cli_failures import GOOD

NAME = "治疗 café"  # CJK, which the default font lacks, and an accent, which it has


def test_a_name_the_font_cannot_draw_is_drawn_another_way_silently(tmp_path):
    from matplotlib import font_manager

    fig = Figure()
    ax = fig.subplots()
    ax.set_title(NAME)
    ax.plot([0, 1], [0, 1], label=f"arm {NAME}")
    ax.legend()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a glyph warning fails the test
        save(fig, tmp_path / "f", ("png", "svg"))
    for text in (ax.title, *ax.get_legend().get_texts()):
        fonts = [font_manager.findfont(font_manager.FontProperties(family=[f]))
                 for f in text.get_fontfamily()]
        drawn = set().union(*(_charmap(f) for f in fonts))
        shown = text.get_text()
        # Every character shown is in a real font of the text (no box, no Last Resort).
        assert all(ord(c) in drawn or c.isspace() for c in shown), shown
        assert "café" in shown  # what the font has is kept as it is
        assert "治疗" in shown or "<U+6CBB><U+7597>" in shown
        assert not any("last resort" in f.lower() for f in text.get_fontfamily())


def test_make_drawable_leaves_ascii_alone():
    fig = Figure()
    ax = fig.subplots()
    ax.set_title("approved 9 -> 28 ug/day")
    make_drawable(fig)
    assert ax.get_title() == "approved 9 -> 28 ug/day"


def _scenario(tmp_path, name: str, days: float):
    path = tmp_path / "s.toml"
    path.write_text(GOOD.replace('name = "good"', f'name = "{name}"').replace(
        "days = 1", f"days = {days}").replace("end_day = 1", f"end_day = {days}"))
    return path


def test_a_run_named_in_cjk_prints_no_glyph_warnings(tmp_path, capsys):
    path = _scenario(tmp_path, NAME, 0.05)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert main(["run", str(path), "--out", str(tmp_path / "out"), "--quiet"]) == 0
    assert not [w for w in caught if "Glyph" in str(w.message)]
    assert "Glyph" not in capsys.readouterr().err


def test_checkpoints_off_a_terminal_are_noted_once(tmp_path, capsys):
    path = _scenario(tmp_path, "ckpt", 0.25)  # 6 hours: 5 checkpoints, one an hour
    out = tmp_path / "out"
    assert main(["run", str(path), "--out", str(out), "--checkpoint-every", "1"]) == 0
    err = capsys.readouterr().err.splitlines()  # captured: not a terminal
    saves = [line for line in err if "saved a checkpoint" in line]
    assert len(saves) == 1 and saves[0].startswith("note: saved a checkpoint at hour 1 ")
    assert "later checkpoints replace it without a note" in saves[0]


@pytest.mark.parametrize("name", ["Ünïcödé", "αβγ"])
def test_scripts_the_default_font_has_are_kept(name):
    fig = Figure()
    ax = fig.subplots()
    ax.set_title(name)
    make_drawable(fig)
    assert ax.get_title() == name
