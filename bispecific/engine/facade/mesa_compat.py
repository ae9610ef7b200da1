"""What differs between the Mesa versions the project supports (3.1 to the newest 3.x), in
one place, so that the rest of the package calls Mesa one way and no call of its own warns.

- Seeding: Mesa 3.4 deprecates `Model(seed=)` for `Model(rng=)` (Mesa 4 removes `seed=`);
  from an integer both seed `model.rng` and `model.random` alike on every 3.x, so the model
  passes `rng=` (`BispecificModel.__init__`).
- `mesa.batch_run`: Mesa 3.4 deprecates `iterations=` for `rng=` (a list of seeds, one run
  per seed and parameter set). Mesa 3.4+ sets the seed keyword of every run from `rng`,
  overwriting a `"seed"` given in `parameters`, so on those versions seeds must go through
  `rng=`. `batch_run` below takes seeds either way and calls each version as it wants.
- Records: Mesa 3.4+'s `batch_run` reads the DataCollector's records by record (at
  `datacollector._collection_steps`; `data_collection_period` counts records), older
  versions by step (`data_collection_period` counts steps). `BATCH_RUN_READS_RECORDS` says
  which (`bispecific.engine.facade.records` answers both ways).
- Time: Mesa 3.4+ has `model.time` (1 per step for a model stepped by `step()`), driven by
  an event list that `step()` runs up to `time + 1`; older versions only `model.steps`.
  `model_time` reads whichever there is; `catch_up_clock` moves a fresh model's clock and
  events to a step without running it (a run continued from a checkpoint).

The plan for Mesa 4 (which removes `seed=`, `model.steps` and `batch_run`) is in
docs/mesa4.md.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Mapping
from typing import Any

import mesa

MESA_VERSION: tuple[int, ...] = tuple(
    int(p) for p in mesa.__version__.split("+")[0].split(".")[:3] if p.isdigit())
"""The installed Mesa's version, e.g. (3, 3, 1)."""

BATCH_RUN_HAS_RNG: bool = "rng" in inspect.signature(mesa.batch_run).parameters
"""Whether `mesa.batch_run` takes `rng=` (Mesa 3.4+), which replaces `iterations=`."""

BATCH_RUN_READS_RECORDS: bool = "_collection_steps" in vars(mesa.DataCollector())
"""Whether `mesa.batch_run` reads `model_vars[name][i]` as the i-th record (Mesa 3.4+) rather
than as the value at step i (older)."""


def model_time(model: mesa.Model) -> float:
    """The model's time in steps: `model.time` where Mesa has it (3.4+), else `model.steps`."""
    return float(getattr(model, "time", model.steps))


MESA_CLOCK = ("_time",)
"""Model attributes that hold Mesa 3.4+'s clock: set only by `catch_up_clock`, never by hand
(the event list would still be at 0, and the next step would run every step in between)."""


def catch_up_clock(model: mesa.Model, steps: int) -> None:
    """Bring a fresh model's Mesa clock to `steps` without running the steps (Mesa 3.4+: its
    time and the event that runs the next step; older Mesa has no clock besides `steps`,
    which the caller sets). `model.steps` ends at `steps` either way."""
    advance = getattr(model, "_advance_time", None)
    if advance is None or model_time(model) >= steps:
        return
    user_step = model._user_step
    model._user_step = lambda: None  # Mesa's step event counts the steps and calls this
    try:
        advance(float(steps))
    finally:
        model._user_step = user_step
    model.steps = steps


def batch_run(model_cls: type[mesa.Model], parameters: Mapping[str, Any], *,
              seeds: Iterable[int | None] | None = None, iterations: int | None = None,
              **kwargs: Any) -> list[dict[str, Any]]:
    """`mesa.batch_run` with the seeds given the way the installed Mesa wants them.

    Parameters
    ----------
    model_cls
        The model class (`BispecificModel`, `ScenarioModel`).
    parameters
        As for `mesa.batch_run`; a `"seed"` here (one value or a list) is moved to `seeds`.
    seeds
        One run per seed and parameter set; each row's `"seed"` column says which.
    iterations
        Instead of seeds: this many runs per parameter set, each seeded from the OS.
    **kwargs
        The other arguments of `mesa.batch_run` (`max_steps`, `data_collection_period`,
        `number_processes`, `display_progress`).

    Returns
    -------
    list of dict
        Mesa's rows, with `"seed"` in every row.
    """
    params = dict(parameters)
    if "seed" in params:
        if seeds is not None:
            raise ValueError("give the seeds once: in parameters['seed'] or in seeds")
        given = params.pop("seed")
        seeds = [given] if given is None or isinstance(given, int) else list(given)
    if seeds is not None and iterations is not None:
        raise ValueError("give seeds or iterations, not both")
    seeds = list(seeds) if seeds is not None else [None] * (iterations or 1)
    if BATCH_RUN_HAS_RNG:
        # Mesa 3.4+ passes each value of rng= as the model's `seed` (our signature has one).
        rows = mesa.batch_run(model_cls, params, rng=seeds, **kwargs)
        for row in rows:
            row.setdefault("seed", row.pop("rng", None))
        return rows
    return mesa.batch_run(model_cls, {**params, "seed": seeds}, iterations=1, **kwargs)
