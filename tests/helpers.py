"""Small, fast model set-ups shared by the tests."""

from __future__ import annotations

from pathlib import Path

from bispecific.engine.core.parameters import ModelParameters
from bispecific.engine.facade.model import BispecificModel

ROOT = Path(__file__).parent.parent


def small_model(
    size: int = 24, plasma_pg_per_ml: float = 525.0, seed: int = 1, **kwargs
) -> BispecificModel:
    """A small patch with a dense tumour and many T cells, so a few hours show killing."""
    kwargs.setdefault("marrow_blast_fraction", 0.6)
    kwargs.setdefault("t_cell_fraction", 0.15)
    return BispecificModel(
        width=size, height=size, plasma_pg_per_ml=plasma_pg_per_ml, seed=seed, **kwargs)


def shipped_scenarios() -> list:
    """The scenario files in scenarios/ (those with a [scenario] table; not the cohorts)."""
    import tomllib
    from pathlib import Path

    folder = Path(__file__).parent.parent / "scenarios"
    return [p for p in sorted(folder.glob("*.toml"))
            if "scenario" in tomllib.loads(p.read_text())]


def params(**overrides: float) -> ModelParameters:
    return ModelParameters().with_overrides(overrides)


def assert_invariants(m: BispecificModel) -> None:
    """Conservation and occupancy rules of docs/model.md, checked on the arrays."""
    import numpy as np

    from bispecific.engine.core import state as st

    s = m.state
    c = s.counters
    nb, nt, nn = s.n_blasts, s.n_tcells, s.n_normal
    # Molecules: every one that entered is free, bound (counted on the cells) or cleared.
    b_bound, b_trimers = s.b_bound[:nb], s.b_trimers[:nb]
    t_bound, t_trimers = s.t_bound[:nt], s.t_trimers[:nt]
    assert (b_trimers >= 0).all() and (b_bound >= b_trimers).all()
    assert (t_trimers >= 0).all() and (t_bound >= t_trimers).all()
    live = int(b_bound.sum() + (t_bound - t_trimers).sum())
    assert live == s.n_live_molecules
    assert s.free_molecules >= 0
    cleared = c[st.N_CLEARED_EXIT] + c[st.N_CLEARED_INTERNALISED] + c[st.N_CLEARED_WITH_CELL]
    assert c[st.ENTERED] == s.free_molecules + live + cleared
    # Cells: alive = initial + births - losses.
    alive_b = s.blasts_alive()
    assert alive_b == s.initial_blasts + c[st.BLAST_BIRTHS] - c[st.KILLS] - c[st.BLAST_APOPTOSES]
    alive_t = s.tcells_alive()
    assert alive_t == s.initial_tcells + c[st.T_BIRTHS] - c[st.T_DEATHS]
    alive_n = s.normal_alive()
    assert alive_n == s.initial_normal + c[st.NORMAL_BIRTHS] - c[st.NORMAL_DEATHS]
    assert (c >= 0).all()
    # Occupancy: one cell per voxel, and grid and cells point at each other.
    for alive, voxel, kind in ((s.b_alive[:nb], s.b_voxel, st.BLAST),
                               (s.t_alive[:nt], s.t_voxel, st.TCELL),
                               (s.c_alive[:nn], s.c_voxel, st.NORMAL)):
        slots = np.flatnonzero(alive)
        assert (s.occ_kind[voxel[slots]] == kind).all()
        assert (s.occ_idx[voxel[slots]] == slots).all()
    assert np.count_nonzero(s.occ_kind) == alive_b + alive_t + alive_n
    # Dead cells hold nothing after a step (their molecules were cleared or let go).
    live_b = s.b_alive[:nb] == 1
    live_t = s.t_alive[:nt] == 1
    assert (b_bound[~live_b] == 0).all() and (t_bound[~live_t] == 0).all()
    assert (s.b_bound[:nb][live_b] <= np.floor(s.b_cd19[:nb][live_b])).all()
    assert (s.t_bound[:nt][live_t] <= s_cd3(m)).all()
    assert (s.b_bound[:nb][live_b & (s.b_cd19[:nb] == 0)] == 0).all()  # CD19- bind nothing
    # Engagement: partners point at each other, and a T cell's trimers are with its partner.
    engaged_t = np.flatnonzero(live_t & (s.t_engaged[:nt] != st.SCANNING))
    partners = s.t_partner[engaged_t]
    assert (partners >= 0).all()
    live_partner = s.b_alive[partners] == 1
    assert (s.b_partner[partners[live_partner]] == engaged_t[live_partner]).all()
    assert len(np.unique(partners)) == len(partners)  # one T cell per blast
    assert (s.b_cd19[partners] > 0).all()
    # After a step every trimer bridges a live, engaged pair (others let go in the step):
    # both cells count the pair's trimers alike, and the phase's record of them agrees.
    with_trimers = np.flatnonzero(t_trimers > 0)
    pair = s.t_partner[with_trimers]
    assert (pair >= 0).all() and (s.b_alive[pair] == 1).all()
    assert np.array_equal(b_trimers[pair], t_trimers[with_trimers])
    assert b_trimers.sum() == t_trimers.sum()
    assert (s.t_last_partner[with_trimers] == pair).all()
    assert np.array_equal(s.t_last_trimers[:nt][live_t], t_trimers[live_t])
    scanning = np.flatnonzero(live_t & (s.t_engaged[:nt] == st.SCANNING))
    assert (s.t_partner[scanning] == -1).all()
    act, exh = s.t_activation[:nt][live_t], s.t_exhaustion[:nt][live_t]
    assert ((act >= 0) & (act <= 1) & (exh >= 0) & (exh <= 1)).all()


def s_cd3(m: BispecificModel) -> float:
    return m.params.cd3_copies
