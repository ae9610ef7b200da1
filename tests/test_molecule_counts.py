"""Bound molecules are counts on their cells (engine/core/state.py); the Mesa `Molecule` agents are
views of those counts, one per molecule, and behave as agents between steps."""

from __future__ import annotations

from collections import Counter

from bispecific.engine.facade.agents import Molecule

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


def test_single_arm_molecules_let_go_at_the_published_rates():
    """With no T cells, no apoptosis and no rebinding (the free pool emptied before each
    step), every single-arm molecule on a blast lets go in a one-minute step with chance
    1 - exp(-(koff_19 + kint)), koff_19 = kon * KD = 6e4 /M/s x 1.49 nM ([Dreier2002] via
    [Liu2023]) and kint = 0.002 /min ([Liu2023]), and a share kint / (koff_19 + kint) of
    the releases are internalisations: the per-cell counts reproduce per-molecule draws.
    Pooled over three seeds (~3.3 million molecule-steps, ~24,000 releases), each within
    four binomial standard errors: the rate to about 2.5%, the share to about 5%."""
    import math

    from bispecific.engine.core.parameters import ModelParameters
    from bispecific.engine.facade.model import BispecificModel

    koff, kint = 6e4 * 1.49e-9 * 60.0, 0.002  # /min
    p_release = 1.0 - math.exp(-(koff + kint))
    share_internalised = kint / (koff + kint)
    exposed = released = internalised = 0
    params = ModelParameters().with_overrides({"blast_apoptosis_per_day": 0.0})
    for seed in (1, 2, 3):
        m = BispecificModel(width=24, height=24, plasma_pg_per_ml=lambda h: 3000.0 if h < 1.0
                            else 0.0, t_cell_fraction=0.0, marrow_blast_fraction=0.6,
                            parameters=params, seed=seed, record_every_minutes=60.0)
        for _ in range(90):  # load, then let the pool empty
            m.step()
        s = m.state
        for _ in range(200):
            s.free_molecules = 0
            nb = s.n_blasts
            exposed += int((s.b_bound[:nb] - s.b_trimers[:nb]).sum())
            before = m.counter("unbindings_total") + m.counter("molecules_cleared_internalised")
            gone = m.counter("molecules_cleared_internalised")
            m.step()
            released += (m.counter("unbindings_total")
                         + m.counter("molecules_cleared_internalised") - before)
            internalised += m.counter("molecules_cleared_internalised") - gone
    assert exposed > 1_000_000
    se = math.sqrt(exposed * p_release * (1.0 - p_release))
    assert abs(released - exposed * p_release) < 4.0 * se
    se_share = math.sqrt(released * share_internalised * (1.0 - share_internalised))
    assert abs(internalised - released * share_internalised) < 4.0 * se_share
