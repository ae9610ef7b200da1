"""Mesa is the public API: agents by type, views of the arrays, DataCollector, seed."""

import mesa
import pytest

from bispecific import Blast, Molecule, TCell
from bispecific.engine.facade.agents import NormalCell

from .helpers import small_model


def test_agents_by_type_reaches_all_four_populations():
    m = small_model(size=20, plasma_pg_per_ml=2000.0, seed=4)
    m.run_for(0.1)
    by_type = m.agents_by_type
    assert set(by_type) == {Blast, TCell, NormalCell, Molecule}
    assert len(by_type[Blast]) == m.state.blasts_alive()
    assert len(by_type[TCell]) == m.state.tcells_alive()
    assert len(by_type[NormalCell]) == m.state.normal_alive()
    assert len(by_type[Molecule]) == m.state.n_live_molecules > 0
    assert all(isinstance(a, mesa.Agent) for a in by_type[TCell])
    assert len(m.agents) == sum(len(v) for v in by_type.values())


def test_views_read_the_arrays():
    m = small_model(size=20, plasma_pg_per_ml=5000.0, seed=4)
    m.run_for(0.2)
    on_blasts = [mol for mol in m.agents_by_type[Molecule] if mol.state == "on_blast"]
    assert on_blasts, "expected some molecules held by CD19"
    blast = on_blasts[0].cell
    assert isinstance(blast, Blast) and blast.cd19_positive and blast.alive
    assert on_blasts[0].pos == blast.pos and on_blasts[0].t_cell is None
    assert blast.bound_molecules >= 1
    x, y = blast.pos
    assert m.state.occ_idx[y * m.state.width + x] == blast.index
    # A trimer names both of its cells, and they are an engaged pair.
    trimers = [mol for mol in m.agents_by_type[Molecule] if mol.state == "trimer"]
    assert trimers, "expected some trimers under a high dose"
    assert all(t.t_cell.partner.index == t.blast.index for t in trimers)
    # AgentSet operations work on the views.
    engaged = m.agents_by_type[TCell].select(lambda t: t.engagement != "scanning")
    assert engaged and all(t.partner.engaged for t in engaged)


def test_agents_cannot_be_created_outside_the_arrays():
    m = small_model(size=10, seed=1)
    with pytest.raises(TypeError):
        Blast(m)


def test_datacollector_records_hourly_time_series():
    m = small_model(size=16, plasma_pg_per_ml=525.0, seed=3)
    m.run_for(0.5)
    df = m.datacollector.get_model_vars_dataframe()
    assert list(df["time_h"]) == [float(h) for h in range(13)]
    for column in ("blasts", "blasts_cd19_negative", "t_cells", "t_cells_engaged",
                   "normal_cells", "kills_total", "trimers", "free_molecules",
                   "bound_molecules", "drug_plasma_pg_per_ml"):
        assert column in df
    assert (df["drug_plasma_pg_per_ml"] == 525.0).all()
    assert df["kills_total"].is_monotonic_increasing
