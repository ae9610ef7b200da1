"""What `bispecific view` shows and saves, without a browser or the viz extra: the grid
image drawn from the arrays, the data-driven plots, and the controls' scenario."""

import base64
import io
import re

import numpy as np
import pytest
from PIL import Image

from bispecific import Blast, TCell
from bispecific.outputs.figures import grid as grid_figure
from bispecific.scenario import load_scenario
from bispecific.scenario.settings import settings_of
from bispecific.simulation import ScenarioModel
from bispecific.viz import controls, pictures

SCENARIO = "scenarios/continuous_4wk.toml"


def rgb(colour) -> np.ndarray:
    return np.round(np.array(colour) * 255).astype(np.uint8)


@pytest.fixture(scope="module")
def model():
    # A CD19-negative clone, which a patient has only sometimes (none by default), so that
    # the picture has orange cells to check.
    m = ScenarioModel(SCENARIO, width=40, height=30, target_dose_ug_per_day=28.0,
                      step_day=0.0, cd19_negative_fraction=0.05)
    controls.advance(m, 180)
    return m


def test_the_grid_image_has_a_pixel_per_voxel_coloured_by_what_is_there(model):
    image = pictures.grid_rgb(model)
    assert image.shape == (30, 40, 3) and image.dtype == np.uint8
    # Every cell's pixel, read at its position, has its type's colour.
    for t in model.agents_by_type[TCell]:
        x, y = t.pos
        expected = grid_figure.RED if t.in_synapse else grid_figure.GREEN
        assert (image[y, x] == rgb(expected)).all()
    negatives = [b for b in model.agents_by_type[Blast] if not b.cd19_positive]
    orange = np.all(image == rgb(grid_figure.ORANGE), axis=-1)
    assert orange.sum() == len(negatives) > 0
    assert all(orange[b.pos[1], b.pos[0]] for b in negatives)


def test_the_grid_html_carries_the_image_and_a_true_scale_bar(model):
    html = pictures.grid_html(model, model.scenario)
    assert 'width="40"' in html and 'height="30"' in html
    png = re.search(r"base64,([A-Za-z0-9+/=]+)", html).group(1)
    decoded = np.asarray(Image.open(io.BytesIO(base64.b64decode(png))))
    assert (decoded == pictures.grid_rgb(model)).all()
    # 40 voxels of 10 um = 400 um: a 50 um bar is an eighth of the width.
    assert "width:12.500%" in html and ">50 um<" in html


def test_plots_have_a_panel_per_recorded_column_group():
    columns = ["time_h", "blasts", "blasts_cd19_negative", "drug_plasma_pg_per_ml",
               "il6_pg_per_ml", "t_cells_engaged"]
    assert [p.label for p in pictures.panels_for(columns)] == [
        "blasts", "plasma drug", "plasma IL-6", "engaged T cells"]
    # When the readouts give CRS probabilities per grade, their panel appears by itself.
    with_crs = [*columns, "crs_p_grade1", "crs_p_grade2"]
    crs = [p for p in pictures.panels_for(with_crs) if p.label == "CRS"]
    assert len(crs) == 1 and [s.column for s in crs[0].series] == ["crs_p_grade1",
                                                                    "crs_p_grade2"]
    assert "il6_pg_per_ml" not in {s.column for p in pictures.panels_for(columns[:3])
                                   for s in p.series}


def test_live_plots_draw_new_records_on_the_same_picture(model):
    records = model.datacollector.get_model_vars_dataframe()
    plots = pictures.LivePlots(records.columns, model.scenario)
    first = plots.png(records.iloc[:2])
    later = plots.png(records)
    again = plots.png(records)
    size = Image.open(io.BytesIO(first)).size
    assert Image.open(io.BytesIO(later)).size == size
    assert later != first and again == later  # the lines moved; same data, same picture
    crs = records.assign(crs_p_grade1=np.linspace(0, 1, len(records)))
    assert pictures.plots_png(crs, model.scenario) != pictures.plots_png(records,
                                                                          model.scenario)


def test_effector_target_is_written_as_a_clinician_writes_it():
    assert pictures.effector_target(0.06, 0.5) == "1:8.33"
    assert pictures.effector_target(0.5, 0.25) == "2:1"
    assert pictures.effector_target(0.06, 0.0) == "no blasts"


def test_step_sizes_advance_simulated_time_and_stop_at_the_end():
    m = ScenarioModel(SCENARIO, width=16, height=16, days=0.1)
    controls.advance(m, controls.STEP_SIZES["1 hour"])
    assert m.steps == 60
    controls.advance(m, controls.STEP_SIZES["1 day"])
    assert m.steps == 144 and not m.running  # 0.1 days, then the scenario ends


def test_the_saved_scenario_is_named_and_described_as_changed():
    base = load_scenario(SCENARIO)
    same = controls.saved_scenario(base, {})
    assert same.to_dict() == base.to_dict()
    saved = controls.saved_scenario(base, {"target_dose_ug_per_day": 30.0, "seed": 7})
    assert saved.name == "continuous_4wk_view" and saved.seed == 7
    assert "target_dose_ug_per_day = 30" in saved.description
    assert settings_of(saved)["target_dose_ug_per_day"] == 30.0


def test_the_schedule_in_words():
    values = {"first_dose_ug_per_day": 9.0, "step_day": 7.0, "target_dose_ug_per_day": 28.0,
              "administration": "continuous", "days": 28.0}
    assert controls.schedule_text(values, changed=False, exact=True) == (
        "9 ug/day on days 0-7, then 28 ug/day on days 7-28 (continuous infusion)")
    assert "as in the scenario file" in controls.schedule_text(values, False, exact=False)
    flat = {**values, "first_dose_ug_per_day": 28.0, "administration": "bolus"}
    assert controls.schedule_text(flat, True, False) == (
        "28 ug/day on days 0-28 (a bolus of the day's dose every day)")


def test_view_without_the_viz_extra_says_how_to_get_it(monkeypatch, capsys):
    import importlib.util

    from bispecific.cli import main

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "solara" else real(name, *a))
    assert main(["view", SCENARIO]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "pip install -e '.[viz]'" in err


def test_view_of_a_bad_scenario_is_one_line_before_any_server(tmp_path, capsys):
    from bispecific.cli import main

    bad = tmp_path / "bad.toml"
    bad.write_text('[scenario]\nname = "x"\ndays = 1\nseed = 1\n[patient]\nt_cell_fraction = 2\n')
    assert main(["view", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "t_cell_fraction = 2" in err


def test_compile_kernels_leaves_no_kernel_of_the_step_to_compile():
    """The page serves only after `compile_kernels`: in a fresh process, every Numba kernel
    the step calls has a compiled signature after it, so the first Step does not stall."""
    import subprocess
    import sys

    code = """
from bispecific.engine.core import step
from bispecific.engine.facade.warmup import compile_kernels
kernels = [step.tcells.tcell_step, step.cell_events, step.apply_blast_events,
           step.apply_turnover_events, step.normal_production, step.molecule_step,
           step.binding_counts, step.add_bindings, step.exchange]
threaded = [step.binding_counts_parallel, step.molecule_step_parallel,
            step.tcells.tcell_step_parallel]
assert not any(k.signatures for k in kernels + threaded)
compile_kernels()
print(sorted(k.__name__ for k in kernels if not k.signatures))
compile_kernels(parallel=None)  # a patch that may go on threads: their variants too
print(sorted(k.__name__ for k in threaded if not k.signatures))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.split() == ["[]", "[]"]


def test_the_server_compiles_the_kernels_before_it_listens(monkeypatch):
    pytest.importorskip("uvicorn", reason="the server needs the viz extra")
    import uvicorn

    from bispecific.viz import server

    calls = []
    monkeypatch.setattr(server, "compile_kernels", lambda parallel: calls.append("compile"))
    monkeypatch.setattr(uvicorn.Server, "run", lambda self: calls.append("listen"))
    monkeypatch.setenv("SOLARA_APP", "")  # serve() sets these: restored after the test
    monkeypatch.setenv("BISPECIFIC_VIEW_SCENARIO", "")
    server.serve(None, load_scenario(SCENARIO), port=0, open_browser=False,
                 announce=calls.append)
    assert calls == ["compile", "listen", "bispecific view: stopped"]
