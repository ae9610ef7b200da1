"""The page of `bispecific view`: a scenario in the browser, run step by step or played.

The controls are the scenario's settings in clinical terms (`bispecific.scenario.settings`),
starting at the scenario's values; Reset builds a new `ScenarioModel` from them, and the
save button writes them as a scenario file `bispecific run` accepts. The grid and the plots
are drawn from the model (`pictures`). One model per browser tab.

The scenario comes from the environment variable `BISPECIFIC_VIEW_SCENARIO` (a file path,
set by `bispecific view`); without it, the approved regimen.
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any

import solara
import solara.lab

from ..scenario import Scenario, ScenarioError, load_scenario
from ..scenario.settings import Regimen, regimen_of, settings_of
from ..simulation.scenario_model import ScenarioModel, default_scenario
from . import pictures
from .controls import DEFAULT_STEP, STEP_SIZES, advance, saved_scenario, schedule_text

SCENARIO_ENV = "BISPECIFIC_VIEW_SCENARIO"
PLOTS_EVERY_S = 0.5  # while playing, the plots are redrawn at most this often
FRAME_PAUSE_S = 0.02  # while playing, a breath between frames for the browser to draw

PAGE_CSS = pictures.GRID_CSS + """
.bsp-status { font-size: 14px; }
.bsp-note { font-size: 12px; color: #555; }
"""


def base_scenario() -> Scenario:
    path = os.environ.get(SCENARIO_ENV)
    return load_scenario(path) if path else default_scenario()


@solara.component
def GridView(model: ScenarioModel, frame: int):
    solara.HTML(tag="div", unsafe_innerHTML=pictures.grid_html(model, model.scenario),
                classes=["bsp-grid-view"])


@solara.component
def PlotsView(model: ScenarioModel, frame: int):
    plots = solara.use_memo(
        lambda: pictures.LivePlots(model.datacollector.model_reporters, model.scenario),
        [model])
    records = model.datacollector.get_model_vars_dataframe()
    solara.Image(plots.png(records), width="100%", classes=["bsp-plots"])


@solara.component
def Status(model: ScenarioModel, frame: int):
    s = model.state
    blasts, negative = s.blasts_alive(), s.blasts_cd19_negative()
    with solara.Column(gap="2px", classes=["bsp-status"]):
        solara.Text(f"Step: {model.steps}", classes=["bsp-step"])
        solara.Text(f"Day {model.time_h / 24.0:.2f} of {model.scenario.days:g}"
                    + ("" if model.running else ": the end"), classes=["bsp-day"])
        solara.Text(f"Blasts {blasts:,} (CD19- {negative:,}); T cells {s.tcells_alive():,}, "
                    f"{s.tcells_in_synapse():,} in a synapse; plasma drug "
                    f"{model.drug_plasma_pg_per_ml:.0f} pg/mL", classes=["bsp-counts"])


@solara.component
def Page():
    base = solara.use_memo(base_scenario, [])
    defaults = solara.use_memo(lambda: settings_of(base), [base])
    exact = solara.use_memo(lambda: regimen_of(base)[1], [base])
    first_model = solara.use_memo(lambda: ScenarioModel(base), [base])
    model = solara.use_reactive(first_model)
    changes = solara.use_reactive({})  # settings changed from the scenario's
    frame = solara.use_reactive(0)
    plot_frame = solara.use_reactive(0)
    playing = solara.use_reactive(False)
    step_size = solara.use_reactive(DEFAULT_STEP)
    error = solara.use_reactive(None)

    def value(name: str) -> Any:
        return changes.value.get(name, defaults[name])

    def change(**new: Any) -> None:
        changes.value = {**changes.value, **new}

    # One thing at a time moves the model: the play loop, Step or Reset. Pause waits for
    # the frame under way, so that nothing moves after it.
    lock = solara.use_memo(threading.RLock, [])

    def redraw() -> None:
        frame.value += 1
        plot_frame.value += 1

    def do_step() -> None:
        with lock:
            advance(model.value, STEP_SIZES[step_size.value])
            redraw()

    def do_reset() -> None:
        with lock:
            playing.value = False
            try:
                model.value = ScenarioModel(base, **changes.value)
                error.value = None
            except (ScenarioError, ValueError) as exc:
                error.value = str(exc)
            redraw()

    def do_play_pause() -> None:
        with lock:
            playing.value = not playing.value

    def play() -> None:
        last_plot = time.monotonic()
        while True:
            with lock:
                if not (playing.value and model.value.running):
                    break
                advance(model.value, STEP_SIZES[step_size.value])
                frame.value += 1
                if time.monotonic() - last_plot > PLOTS_EVERY_S:
                    plot_frame.value += 1
                    last_plot = time.monotonic()
            time.sleep(FRAME_PAUSE_S)
        with lock:
            plot_frame.value += 1
            if not model.value.running:
                playing.value = False

    solara.lab.use_task(play, dependencies=[playing.value], prefer_threaded=True)

    preview, problem = None, None
    try:
        preview = saved_scenario(base, changes.value)
    except (ScenarioError, ValueError) as exc:
        problem = str(exc)

    solara.Style(PAGE_CSS)
    solara.Title(f"bispecific view: {base.name}")
    with solara.AppBar():
        solara.AppBarTitle(f"bispecific view: {base.name}")

    with solara.Sidebar():
        with solara.Card("Run", margin=0):
            with solara.Row(gap="8px"):
                solara.Button("Reset", on_click=do_reset, color="primary",
                              classes=["bsp-reset"])
                solara.Button("Pause" if playing.value else "Play",
                              on_click=do_play_pause,
                              disabled=not model.value.running, color="primary",
                              classes=["bsp-play"])
                solara.Button("Step", on_click=do_step, color="primary",
                              disabled=playing.value or not model.value.running,
                              classes=["bsp-step-button"])
            solara.Select("Each step advances", values=list(STEP_SIZES), value=step_size)
            if changes.value and model.value.scenario.to_dict() != (
                    preview.to_dict() if preview else None):
                solara.Text("Settings changed: Reset to run them.", classes=["bsp-note"])
            if error.value:
                solara.Error(error.value)

        with solara.Card("Dosing", margin=0):
            first, step_day = value("first_dose_ug_per_day"), value("step_day")
            target = value("target_dose_ug_per_day")
            solara.SliderFloat(f"First dose: {first:g} ug/day", value=first, min=0.0,
                               max=60.0, step=0.5,
                               on_value=lambda v: change(first_dose_ug_per_day=v))
            solara.SliderFloat(f"Step-up on day {step_day:g}", value=step_day, min=0.0,
                               max=float(base.days), step=0.5,
                               on_value=lambda v: change(step_day=v))
            solara.SliderFloat(f"Target dose: {target:g} ug/day", value=target, min=0.0,
                               max=120.0, step=1.0,
                               on_value=lambda v: change(target_dose_ug_per_day=v))
            with solara.Row():
                solara.ToggleButtonsSingle(value=value("administration"),
                                           values=["continuous", "bolus"],
                                           on_value=lambda v: change(administration=v))
            values = {k: value(k) for k in (*Regimen.__dataclass_fields__, "days")}
            changed = any(k in changes.value for k in Regimen.__dataclass_fields__)
            solara.Text(f"Schedule: {schedule_text(values, changed, exact)}",
                        classes=["bsp-note", "bsp-schedule"])

        with solara.Card("Patient", margin=0):
            blasts, t_cells = value("marrow_blast_fraction"), value("t_cell_fraction")
            negative = value("cd19_negative_fraction")
            solara.SliderFloat(f"Marrow blasts: {100 * blasts:.3g}% of marrow cells",
                               value=blasts, min=0.0, max=0.95, step=0.01,
                               on_value=lambda v: change(marrow_blast_fraction=v))
            solara.SliderFloat(f"T cells: {100 * t_cells:.3g}% of marrow cells",
                               value=t_cells, min=0.0, max=0.3, step=0.005,
                               on_value=lambda v: change(t_cell_fraction=v))
            et = pictures.effector_target(t_cells, blasts)
            solara.Text(f"E:T {et} (T cells to blasts)", classes=["bsp-note", "bsp-et"])
            solara.SliderFloat(f"CD19-negative blasts: {100 * negative:.3g}%",
                               value=negative, min=0.0, max=0.2, step=0.001,
                               on_value=lambda v: change(cd19_negative_fraction=v))
            solara.Checkbox(label="Dexamethasone before the first dose and each step-up",
                            value=value("dexamethasone"),
                            on_value=lambda v: change(dexamethasone=v))

        with solara.Card("Patch", margin=0):
            side = int(value("width"))
            solara.SliderInt(f"Patch: {side} x {side} voxels", value=side, min=20,
                             max=300, step=10, on_value=lambda v: change(width=v, height=v))
            solara.InputInt("Seed", value=int(value("seed")),
                            on_value=lambda v: change(seed=v) if v is not None else None)

        with solara.Card("Scenario file", margin=0):
            if preview is not None:
                solara.FileDownload(lambda: preview.to_toml().encode(),
                                    filename=f"{preview.name}.toml",
                                    label="Save settings as scenario TOML",
                                    mime_type="application/toml")
                solara.Text(f"then: bispecific run {preview.name}.toml",
                            classes=["bsp-note"])
            else:
                solara.Error(problem)

    with solara.Columns([1, 1]):
        with solara.Column():
            Status(model.value, frame.value)
            GridView(model.value, frame.value)
        with solara.Column():
            PlotsView(model.value, plot_frame.value)
