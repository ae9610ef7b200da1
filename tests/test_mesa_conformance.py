"""The model as a Mesa user meets it: driven only through Mesa's API (the constructor,
step, batch_run, agents and AgentSets, remove, the grid, seeding, the DataCollector), each
behaviour checked against numbers worked out independently or against the arrays' own
rules (helpers.assert_invariants)."""

import warnings

import mesa
import numpy as np
import pandas as pd
import pytest

from bispecific import BispecificModel, Blast, Molecule, TCell
from bispecific.engine.facade.agents import NormalCell, StaleAgentView
from bispecific.engine.facade.mesa_compat import BATCH_RUN_HAS_RNG, BATCH_RUN_READS_RECORDS
from bispecific.engine.facade.mesa_compat import batch_run as compat_batch_run
from bispecific.engine.facade.removal import AgentGone

from .helpers import assert_invariants, small_model


def run(m, steps: int) -> None:
    for _ in range(steps):
        m.step()


def engaged_pair(m):
    """A T cell in a synapse holding trimers, and its blast (run until there is one)."""
    for _ in range(600):
        pairs = m.agents_by_type[TCell].select(lambda t: t.in_synapse and t.trimers > 0)
        if len(pairs):
            t = pairs[0]
            return t, t.partner
        m.step()
    raise AssertionError("no synapse with trimers formed")


# -- batch_run -------------------------------------------------------------------------------
def seeded(parameters: dict, seeds: list[int]) -> tuple[dict, dict]:
    """`mesa.batch_run`'s parameters and keywords for these seeds, as the installed Mesa wants
    them: in `rng=` from Mesa 3.4 (which overwrites a "seed" parameter), else a parameter."""
    if BATCH_RUN_HAS_RNG:
        return parameters, {"rng": seeds}
    return {**parameters, "seed": seeds}, {}


@pytest.mark.parametrize("every", [1, 7, 60])
def test_batch_run_works_with_any_recording_interval(every):
    parameters, keywords = seeded({"width": 16, "height": 16, "plasma_pg_per_ml": 2000.0,
                                   "record_every_minutes": every}, [1, 2])
    rows = mesa.batch_run(BispecificModel, parameters=parameters, max_steps=45,
                          data_collection_period=15, display_progress=False, **keywords)
    df = pd.DataFrame(rows)
    if BATCH_RUN_READS_RECORDS:
        # Mesa 3.4+: 45 steps, a row at every 15th record (records at multiples of `every`).
        records = list(range(0, 46, every))
        expected = records[::15]
    else:
        expected = [0, 15, 30, 45]  # Mesa 3.1-3.3: a row every 15 steps
    assert sorted(df["Step"].unique()) == expected
    assert len(df) == 2 * len(expected)
    assert sorted(df["seed"].unique()) == [1, 2]
    for row in rows:
        step = int(row["Step"])
        recorded_at = (step // every) * every  # the last record at or before the step
        assert row["time_h"] == pytest.approx(recorded_at / 60.0)
        # The same model stepped there by hand holds what the row says.
        m = BispecificModel(width=16, height=16, plasma_pg_per_ml=2000.0, seed=row["seed"],
                            record_every_minutes=every)
        for _ in range(recorded_at):
            m.step()
        assert row["blasts"] == len(m.agents_by_type[Blast])
        assert row["t_cells"] == len(m.agents_by_type[TCell])
        assert row["bound_molecules"] == len(m.agents_by_type[Molecule])


def test_batch_run_takes_seeds_or_iterations_on_every_mesa():
    """The project's `batch_run` calls the installed Mesa as it wants (rng= or iterations=)
    without a warning; seeded rows are those of a model built with that seed."""
    parameters = {"width": 12, "height": 12, "plasma_pg_per_ml": 2000.0,
                  "record_every_minutes": 10}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        by_seed = compat_batch_run(BispecificModel, {**parameters, "seed": [5, 6]},
                                   max_steps=30, display_progress=False)
        by_iterations = compat_batch_run(BispecificModel, parameters, iterations=3,
                                         max_steps=30, display_progress=False)
    assert sorted(row["seed"] for row in by_seed) == [5, 6]
    assert {row["Step"] for row in by_seed} == {30}  # the last record, at the end of the run
    for row in by_seed:
        m = BispecificModel(**parameters, seed=row["seed"])
        for _ in range(int(row["Step"])):
            m.step()
        assert row["blasts"] == len(m.agents_by_type[Blast])
        assert row["kills_total"] == m.datacollector.model_vars["kills_total"][-1]
    assert len(by_iterations) == 3 and all(row["seed"] is None for row in by_iterations)
    with pytest.raises(ValueError, match="not both"):
        compat_batch_run(BispecificModel, parameters, seeds=[1], iterations=2)


# -- unique ids and views --------------------------------------------------------------------
def test_unique_ids_are_unique_across_all_agents():
    m = small_model(size=20, plasma_pg_per_ml=5000.0, seed=4)
    run(m, 144)
    agents = list(m.agents)
    ids = [a.unique_id for a in agents]
    assert len(set(ids)) == len(ids) > 1000
    assert min(ids) >= 1
    first_blast = m.agents_by_type[Blast][0]
    first_tcell = m.agents_by_type[TCell][0]
    assert first_blast.unique_id != first_tcell.unique_id
    # A cell keeps its id for life.
    before = {a.unique_id: a for a in m.agents_by_type[TCell]}
    run(m, 72)
    after = {a.unique_id: a for a in m.agents_by_type[TCell]}
    for uid in before.keys() & after.keys():
        assert before[uid] == after[uid]


def test_a_view_equals_the_view_made_later_and_hashes_alike():
    m = small_model(size=20, plasma_pg_per_ml=2000.0, seed=2)
    before = list(m.agents_by_type[Blast])
    run(m, 72)
    after = {b.index: b for b in m.agents_by_type[Blast]}
    same = [(b, after[b.index]) for b in before if b.index in after]
    assert len(same) > 100
    for old, new in same:
        assert old == new and hash(old) == hash(new) and old is not new
        assert old in m.agents_by_type[Blast]
    assert len({old for old, _ in same} | {new for _, new in same}) == len(same)
    t0 = m.agents_by_type[TCell][0]
    assert t0 != m.agents_by_type[TCell][1]
    assert t0 != m.agents_by_type[Blast][0]  # another type, not the same agent
    other = small_model(size=20, plasma_pg_per_ml=2000.0, seed=2)
    assert other.agents_by_type[TCell][0] != t0  # another model


def test_sets_selected_from_views_keep_their_agents_across_steps():
    m = small_model(size=20, plasma_pg_per_ml=5000.0, seed=4)
    run(m, 144)
    scanning = m.agents_by_type[TCell].select(lambda t: t.engagement == "scanning")
    shuffled = m.agents_by_type[Blast].shuffle()
    n, n_blasts = len(scanning), len(shuffled)
    run(m, 29)
    import gc

    gc.collect()
    assert len(scanning) == n > 0 and len(shuffled) == n_blasts


def test_molecule_views_are_valid_until_the_next_step_then_raise():
    m = small_model(size=20, plasma_pg_per_ml=5000.0, seed=4)
    run(m, 72)
    mol = m.agents_by_type[Molecule][0]
    assert mol == m.agents_by_type[Molecule][0]
    epoch = m.molecule_epoch
    while m.molecule_epoch == epoch:
        m.step()
    with pytest.raises(StaleAgentView):
        _ = mol.state
    fresh = m.agents_by_type[Molecule][0]
    assert fresh != mol and fresh.state in {"on_blast", "on_t_cell", "trimer"}


# -- do / shuffle_do -------------------------------------------------------------------------
def test_step_on_views_raises_instead_of_doing_nothing():
    m = small_model(size=16, seed=1)
    with pytest.raises(TypeError, match="model.step"):
        m.agents.shuffle_do("step")
    with pytest.raises(TypeError, match="model.step"):
        m.agents_by_type[TCell].do("step")
    with pytest.raises(TypeError):
        m.agents_by_type[Blast][0].advance()


def test_do_and_shuffle_do_with_functions_visit_every_agent_once():
    m = small_model(size=16, seed=1)
    seen = []
    m.agents_by_type[TCell].shuffle_do(lambda a: seen.append(a.unique_id))
    assert sorted(seen) == sorted(m.agents_by_type[TCell].get("unique_id"))
    positions = []
    m.agents_by_type[Blast].do(lambda a: positions.append(a.pos))
    assert len(set(positions)) == len(positions) == len(m.agents_by_type[Blast])
    assert m.agents_by_type[Blast].agg("cd19_copies", max) > 0


# -- remove ----------------------------------------------------------------------------------
def test_removing_a_blast_in_synapse_kills_it_and_hands_its_bridges_to_the_t_cell():
    m = small_model(size=20, plasma_pg_per_ml=5000.0, seed=4)
    t, blast = engaged_pair(m)
    n_blasts, t_bound, trimers = len(m.agents_by_type[Blast]), t.bound_molecules, t.trimers
    x, y = blast.pos
    blast.remove()
    assert_invariants(m)
    assert not blast.alive and blast not in m.agents_by_type[Blast]
    assert len(m.agents_by_type[Blast]) == n_blasts - 1
    assert m.grid[x, y] is None
    assert t.partner is None and t.engagement == "scanning" and t.trimers == 0
    assert t.bound_molecules == t_bound and trimers > 0  # the bridges stay on the T cell
    with pytest.raises(AgentGone):
        blast.remove()
    for _ in range(30):
        m.step()
    assert_invariants(m)


def test_removing_a_t_cell_lets_its_blast_go_and_keeps_the_blasts_molecules():
    m = small_model(size=20, plasma_pg_per_ml=5000.0, seed=4)
    t, blast = engaged_pair(m)
    n_t, bound = len(m.agents_by_type[TCell]), blast.bound_molecules
    t.remove()
    assert_invariants(m)
    assert len(m.agents_by_type[TCell]) == n_t - 1 and not t.alive
    assert not blast.engaged and blast.bound_molecules == bound
    run(m, 29)
    assert_invariants(m)


def test_removing_a_normal_cell_and_a_trimer():
    m = small_model(size=20, plasma_pg_per_ml=5000.0, seed=4)
    t, blast = engaged_pair(m)
    normal = m.agents_by_type[NormalCell][0]
    normal.remove()
    assert_invariants(m)
    assert not normal.alive and m.grid[normal.pos] is None
    trimer = next(mol for mol in m.agents_by_type[Molecule]
                  if mol.state == "trimer" and mol.t_cell == t)
    b_bound, t_trimers = blast.bound_molecules, t.trimers
    n_molecules = len(m.agents_by_type[Molecule])
    trimer.remove()
    assert_invariants(m)
    assert blast.bound_molecules == b_bound - 1 and t.trimers == t_trimers - 1
    assert len(m.agents_by_type[Molecule]) == n_molecules - 1


def test_do_remove_on_every_molecule_clears_them_all():
    m = small_model(size=20, plasma_pg_per_ml=5000.0, seed=4)
    run(m, 144)
    molecules = m.agents_by_type[Molecule]
    assert len(molecules) > 100
    molecules.do("remove")
    assert len(m.agents_by_type[Molecule]) == 0
    assert_invariants(m)
    assert all(b.bound_molecules == 0 for b in m.agents_by_type[Blast])


def test_remove_all_agents_empties_the_patch_and_the_model_still_runs():
    m = small_model(size=16, plasma_pg_per_ml=5000.0, seed=4)
    run(m, 72)
    m.remove_all_agents()
    assert len(m.agents) == 0
    assert not any(m.grid[x, y] for x in range(16) for y in range(16))
    assert_invariants(m)
    run(m, 29)  # normal marrow regrows into the empty patch
    assert_invariants(m)


def test_agents_cannot_be_registered_by_hand():
    m = small_model(size=10, seed=1)
    with pytest.raises(TypeError):
        m.register_agent(m.agents_by_type[Blast][0])


# -- seeding ---------------------------------------------------------------------------------
def test_rng_is_accepted_as_mesa_accepts_it():
    by_seed = BispecificModel(width=16, height=16, seed=42)
    by_int = BispecificModel(width=16, height=16, rng=42)
    assert by_int.seed == 42
    assert [b.pos for b in by_seed.agents_by_type[Blast]] == \
        [b.pos for b in by_int.agents_by_type[Blast]]
    gen_a = BispecificModel(width=16, height=16, plasma_pg_per_ml=2000.0,
                            rng=np.random.default_rng(7))
    gen_b = BispecificModel(width=16, height=16, plasma_pg_per_ml=2000.0,
                            rng=np.random.default_rng(7))
    for m in (gen_a, gen_b):
        run(m, 29)
    assert gen_a.seed == gen_b.seed
    assert gen_a.agents_by_type[TCell].get("pos") == gen_b.agents_by_type[TCell].get("pos")
    assert BispecificModel(width=16, height=16, rng=np.random.SeedSequence(3)).seed >= 0
    with pytest.raises(ValueError, match="either rng or seed"):
        BispecificModel(width=16, height=16, seed=1, rng=1)


# -- the grid --------------------------------------------------------------------------------
def test_the_grid_says_what_is_where():
    m = small_model(size=20, plasma_pg_per_ml=2000.0, seed=3)
    run(m, 72)
    grid = m.grid
    assert (grid.width, grid.height, grid.torus) == (20, 20, True)
    cells = [a for a in m.agents if not isinstance(a, Molecule)]
    for cell in cells:
        assert grid[cell.pos] == cell
        assert not grid.is_cell_empty(cell.pos)
    occupied = {c.pos for c in cells}
    empty = [(x, y) for x in range(20) for y in range(20) if (x, y) not in occupied]
    assert all(grid[p] is None and grid.is_cell_empty(p) for p in empty)
    assert grid.kind_at(cells[0].pos) in {"blast", "t_cell", "normal"}
    assert np.count_nonzero(grid.kinds()) == len(cells)
    with pytest.raises(ValueError):
        grid.kinds()[0, 0] = 1
    with pytest.raises(TypeError, match="read-only"):
        grid.place_agent(cells[0], (0, 0))


def test_neighbourhoods_wrap_around_the_periodic_patch():
    m = small_model(size=20, seed=3)
    grid = m.grid
    moore = set(grid.get_neighborhood((0, 0), moore=True))
    assert moore == {(19, 19), (0, 19), (1, 19), (19, 0), (1, 0), (19, 1), (0, 1), (1, 1)}
    assert len(grid.get_neighborhood((5, 5), moore=False, radius=2)) == 12
    assert len(grid.get_neighborhood((5, 5), moore=True, include_center=True, radius=2)) == 25
    # The cells around a position are exactly those whose position is in its neighbourhood.
    cells = [a for a in m.agents if not isinstance(a, Molecule)]
    for centre in [(0, 0), (10, 7), (19, 19)]:
        around = set(grid.get_neighborhood(centre, moore=True, radius=2))
        expected = {c.unique_id for c in cells if c.pos in around}
        assert {c.unique_id for c in grid.get_neighbors(centre, radius=2)} == expected


def test_datacollector_frame_is_indexed_by_the_step_of_each_record():
    m = small_model(size=16, seed=3, record_every_minutes=30)
    for _ in range(95):
        m.step()
    df = m.datacollector.get_model_vars_dataframe()
    assert list(df.index) == [0, 30, 60, 90]
    assert list(df["time_h"]) == [0.0, 0.5, 1.0, 1.5]
