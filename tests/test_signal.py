"""Analyses that know when there is no signal: a readout below its floor or no more than
noise is not ranked, the front marks no dominated or indistinguishable point, and the
figures show every point they list (issue 25)."""

import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg

from bispecific.analysis.optimise import pareto_front, run_optimise
from bispecific.analysis.optimise_spec import load_optimise
from bispecific.analysis.sensitivity import run_sensitivity
from bispecific.analysis.sensitivity_spec import load_sensitivity
from bispecific.analysis.signal import no_signal
from bispecific.cli.commands import _print_best, _print_ranking
from bispecific.outputs.figures.pareto import pareto_axes
from bispecific.outputs.figures.sensitivity import sensitivity_axes

from .stand_ins import no_response, noise_only_response
from .test_analysis import OPTIMISE, SENSITIVITY, write

pytest.importorskip("SALib")
pytest.importorskip("optuna")


def test_no_signal_below_the_floor_when_constant_and_when_noise():
    assert "below 0.005" in no_signal("cr_rate", np.array([2.4e-234, 1e-26, np.nan]))
    assert "same for every candidate" in no_signal("median_peak_il6_pg_per_ml",
                                                   np.array([120.0, 120.0, 120.0]))
    assert "simulation noise" in no_signal("cr_rate", np.array([0.2, 0.5]), noise_share=0.8)
    assert no_signal("cr_rate", np.array([0.2, 0.5]), noise_share=0.01) is None


def test_sensitivity_of_noise_says_so_in_one_line_instead_of_ranking(tmp_path, capsys):
    spec = load_sensitivity(write(tmp_path, "s.toml", SENSITIVITY.replace(
        "trajectories = 6", "trajectories = 2")))
    paths = run_sensitivity(spec, tmp_path / "out", workers=1, simulate=noise_only_response)
    noise = pd.read_csv(paths["noise"]).set_index("readout")
    assert noise.loc["cr_rate", "noise_share"] >= 0.5  # the stand-in's CR is all noise
    indices = pd.read_csv(paths["indices"])
    assert indices.loc[indices["readout"] == "cr_rate", "rank"].isna().all()
    _print_ranking(paths["indices"], paths["noise"])
    lines = capsys.readouterr().out.splitlines()
    cr = [line for line in lines if line.startswith("cr_rate:")]
    assert len(cr) == 1 and "no signal" in cr[0] and "decided most by" not in cr[0]
    # The log reduction follows kill_probability in the stand-in: still ranked.
    assert any(line.startswith("median_log10_reduction: decided most by kill_probability")
               for line in lines)


def test_a_search_with_no_signal_ranks_nothing_and_marks_no_front(tmp_path, capsys):
    spec = load_optimise(write(tmp_path, "o.toml", OPTIMISE.replace(
        "trials = 24", "trials = 4").replace("startup_trials = 8", "startup_trials = 2")))
    paths = run_optimise(spec, tmp_path / "out", workers=1, simulate=no_response)
    trials = pd.read_csv(paths["trials"])
    assert trials["cr_rate"].max() < 1e-15
    assert trials["best"].isna().all() and not trials["on_front"].any()
    assert not list((tmp_path / "out" / "best").iterdir())
    _print_best(paths["trials"])
    out = capsys.readouterr().out
    assert "best 1" not in out
    assert out.count("no signal") == 1 and "below 0.005" in out


def test_the_front_marks_no_dominated_or_indistinguishable_point():
    # The search: CR rates between 1e-208 and 1e-26 (nothing), CRS 6% to 26%.
    nothing = np.array([[1e-208, 0.06], [1e-26, 0.26], [1e-100, 0.10], [1e-50, 0.20]])
    assert pareto_front(nothing, 0.005).tolist() == [True, False, False, False]
    # A CR gain of 0.003 for 20 points more CRS is noise; a gain of 0.1 is not.
    points = np.array([[0.500, 0.10], [0.503, 0.30], [0.600, 0.30]])
    assert pareto_front(points, 0.005).tolist() == [True, False, True]
    rng = np.random.default_rng(4)
    for _ in range(50):
        p = rng.random((12, 2))
        on = pareto_front(p, 0.005)
        assert on.any()
        for i in np.flatnonzero(on):  # no marked point is dominated
            assert not (((p[:, 0] >= p[i, 0]) & (p[:, 1] <= p[i, 1])
                         & ((p[:, 0] > p[i, 0]) | (p[:, 1] < p[i, 1]))).any())


def _displayed(fig, ax):
    FigureCanvasAgg(fig).draw()
    legend = ax.get_legend().get_window_extent()
    axes = ax.get_window_extent()
    points = np.vstack([c.get_offset_transform().transform(c.get_offsets())
                        for c in ax.collections if len(c.get_offsets())])
    return legend, axes, points


def test_the_pareto_legend_hides_no_point():
    # Points in every corner, the lower right (no CR, much CRS) included.
    table = pd.DataFrame({
        "trial": ["ref:approved", "t0000", "t0001", "t0002", "t0003"],
        "source": ["reference", "search", "search", "search", "search"],
        "family": ["reference", "bolus", "continuous, flat", "continuous, step-up", "bolus"],
        "units": [None, "flat", "flat", "per_m2", "flat"],
        "cr_rate": [0.4, 1e-26, 0.95, 0.02, 0.5],
        "crs_grade2_rate": [0.06, 0.26, 0.25, 0.01, 0.3],
        "on_front": [True, False, True, True, False],
        "best": pd.array([pd.NA, pd.NA, 1, pd.NA, pd.NA], dtype="Int64")})
    fig = pareto_axes(table, 0.2, "test")
    legend, axes, points = _displayed(fig, fig.axes[0])
    assert len(points) == 5
    for x, y in points:
        assert axes.contains(x, y)  # drawn inside the axes
        assert not legend.contains(x, y)  # and not under the legend


def test_a_sensitivity_figure_with_no_signal_draws_no_bars():
    table = pd.DataFrame({"parameter": ["a", "b"], "rank": [1, 2], "mu_star": [2.4e-234, 0.0],
                          "mu_star_conf": [0.0, 0.0], "mu": [0.0, 0.0], "sigma": [0.0, 0.0]})
    fig = sensitivity_axes(table, "morris", "CR rate", "noise", "t", no_signal="below 0.005")
    assert not fig.axes[0].patches
    assert "no signal" in fig.axes[0].texts[0].get_text()
