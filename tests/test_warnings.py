"""No deprecation warning reaches a user from the project's own calls, on whichever Mesa is
installed (3.3 on Python 3.11, the newest 3.x on 3.13; .ci/run runs both): every
DeprecationWarning or FutureWarning raised while the project runs is turned into an error
for a short run. (Not only those attributed to the package's modules: Mesa 3.5 warns from
inside a decorator of `Model.__init__`, so its `stacklevel` names Mesa, not the caller.)"""

import warnings
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from bispecific import BispecificModel, ScenarioModel
from bispecific.cli.main import main
from bispecific.engine.facade.mesa_compat import batch_run, model_time

ROOT = Path(__file__).parent.parent

@contextmanager
def project_warnings_are_errors():
    with warnings.catch_warnings():
        warnings.simplefilter("default")
        for category in (DeprecationWarning, PendingDeprecationWarning, FutureWarning):
            warnings.filterwarnings("error", category=category)
        yield


def test_a_short_run_from_the_command_line_warns_of_nothing(tmp_path, capsys):
    with project_warnings_are_errors():
        status = main(["run", str(ROOT / "scenarios" / "continuous_4wk.toml"), "--out",
                       str(tmp_path / "run"), "--days", "0.05", "--quiet"])
    err = capsys.readouterr().err
    assert status == 0, err
    assert "Warning" not in err
    assert (tmp_path / "run" / "summary.json").exists()


def test_the_mesa_api_warns_of_nothing_and_seeds_alike_either_way():
    with project_warnings_are_errors():
        by_seed = BispecificModel(width=12, height=12, plasma_pg_per_ml=2000.0, seed=8)
        by_rng = BispecificModel(width=12, height=12, plasma_pg_per_ml=2000.0, rng=8)
        drawn = BispecificModel(width=12, height=12, rng=np.random.default_rng(3))
        for _ in range(20):
            by_seed.step()
            by_rng.step()
        scenario_model = ScenarioModel(days=0.01, width=12, height=12, rng=4)
        scenario_model.run_model()
        rows = batch_run(BispecificModel, {"width": 12, "height": 12, "seed": [1]},
                         max_steps=5, display_progress=False)
    # An integer rng is the seed; a Generator draws one that reproduces the model alone.
    assert by_rng.seed == 8 and np.array_equal(by_seed.state.b_voxel, by_rng.state.b_voxel)
    assert by_seed.datacollector.model_vars["kills_total"][-1] == (
        by_rng.datacollector.model_vars["kills_total"][-1])
    again = BispecificModel(width=12, height=12, seed=drawn.seed)
    assert np.array_equal(again.state.b_voxel, drawn.state.b_voxel)
    assert scenario_model.scenario.seed == scenario_model.seed == 4
    assert model_time(by_seed) == 20.0 and scenario_model.steps == round(0.01 * 1440)
    assert rows[0]["seed"] == 1
