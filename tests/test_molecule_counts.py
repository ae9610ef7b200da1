"""Bound molecules are counts on their cells (engine/state.py); the Mesa `Molecule` agents are
views of those counts, one per molecule, and behave as agents between steps."""

from __future__ import annotations

from collections import Counter

from bispecific.engine.agents import Molecule

from .helpers import assert_invariants, small_model


def _engaged_model():
    m = small_model(size=24, plasma_pg_per_ml=3000.0, seed=6)
    for _ in range(90):
        m.step()
        if m.state.molecules_in_state(3) > 0:  # TRIMER
            break
    return m


def test_one_view_per_molecule_on_the_cell_that_holds_it():
    m = _engaged_model()
    s = m.state
    views = list(m.agents_by_type[Molecule])
    assert len(views) == s.n_live_molecules > 0
    by_state = Counter(v.state for v in views)
    assert by_state["trimer"] == int(s.b_trimers[: s.n_blasts].sum()) > 0
    on_blast = Counter(v.blast.index for v in views if v.blast is not None)
    for b, n in on_blast.items():
        assert n == s.b_bound[b]
    for v in views:
        if v.state == "trimer":
            assert s.t_partner[v.t_cell.index] == v.blast.index
    assert len({v.unique_id for v in views}) == len(views)


def test_removing_every_molecule_view_empties_the_cells():
    """Views stay valid through removals between steps, so AgentSet.do('remove') reaches
    them all; every one leaves the patch by exit."""
    m = _engaged_model()
    live = m.state.n_live_molecules
    exits = m.counter("molecules_cleared_exit")
    m.agents_by_type[Molecule].do("remove")
    assert m.state.n_live_molecules == 0
    assert m.counter("molecules_cleared_exit") == exits + live
    assert len(m.agents_by_type[Molecule]) == 0
    assert_invariants(m)
    m.step()
    assert_invariants(m)


def test_a_removed_blasts_trimers_stay_on_its_t_cell():
    m = _engaged_model()
    trimer = next(v for v in m.agents_by_type[Molecule] if v.state == "trimer")
    blast, t_cell = trimer.blast, trimer.t_cell
    blast.remove()
    assert trimer.state == "on_t_cell" and trimer.t_cell == t_cell and trimer.blast is None
    assert_invariants(m)
    m.step()
    assert_invariants(m)
