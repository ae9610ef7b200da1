"""Small, fast model set-ups shared by the tests."""

from __future__ import annotations

from bispecific.engine.model import BispecificModel
from bispecific.engine.parameters import ModelParameters


def small_model(
    size: int = 24, plasma_pg_per_ml: float = 525.0, seed: int = 1, **kwargs
) -> BispecificModel:
    """A small patch with a dense tumour, so a few simulated hours show killing."""
    kwargs.setdefault("marrow_blast_fraction", 0.6)
    kwargs.setdefault("t_cells_per_blast", 0.2)
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

    from bispecific.engine import state as st

    s = m.state
    c = s.counters
    nm = s.n_molecules
    states = s.m_state[:nm]
    # Molecules: every one that entered is free, bound or cleared (cleared ones may linger as
    # holes in the arrays until compaction; they count as cleared only).
    assert set(np.unique(states)) <= {st.FREE, st.ON_BLAST, st.ON_TCELL, st.CLEARED}
    live = int(np.count_nonzero(states != st.CLEARED))
    assert live == s.n_live_molecules
    assert nm - live <= 0.1 * nm  # holes are compacted once they pass a tenth
    cleared = c[st.N_CLEARED_EXIT] + c[st.N_CLEARED_INTERNALISED] + c[st.N_CLEARED_WITH_CELL]
    assert c[st.ENTERED] == live + cleared
    # Cells: alive = initial + births - losses.
    alive_b = s.blasts_alive()
    assert alive_b == s.initial_blasts + c[st.BLAST_BIRTHS] - c[st.KILLS] - c[st.BLAST_APOPTOSES]
    alive_t = s.tcells_alive()
    assert alive_t == s.initial_tcells + c[st.T_BIRTHS] - c[st.T_DEATHS]
    assert (c >= 0).all()
    # Occupancy: one cell per voxel, and grid and cells point at each other.
    nb, nt = s.n_blasts, s.n_tcells
    live_b = np.flatnonzero(s.b_alive[:nb])
    live_t = np.flatnonzero(s.t_alive[:nt])
    assert (s.occ_kind[s.b_voxel[live_b]] == st.BLAST).all()
    assert (s.occ_idx[s.b_voxel[live_b]] == live_b).all()
    assert (s.occ_kind[s.t_voxel[live_t]] == st.TCELL).all()
    assert (s.occ_idx[s.t_voxel[live_t]] == live_t).all()
    assert np.count_nonzero(s.occ_kind) == alive_b + alive_t
    # Bound counts match the molecules, and never exceed receptors.
    on_b = s.m_cell[:nm][states == st.ON_BLAST]
    on_t = s.m_cell[:nm][states == st.ON_TCELL]
    assert s.b_alive[on_b].all() and s.t_alive[on_t].all()
    assert np.array_equal(np.bincount(on_b, minlength=nb)[:nb], s.b_bound[:nb])
    assert np.array_equal(np.bincount(on_t, minlength=nt)[:nt], s.t_bound[:nt])
    assert (s.b_bound[:nb] <= s.b_cd19[:nb]).all()
    assert (s.b_bound[:nb][s.b_cd19[:nb] == 0] == 0).all()  # CD19-negative blasts bind nothing
    # Synapses: each live engaged blast has exactly one live T cell holding it.
    partners = s.t_partner[live_t]
    held = partners[partners >= 0]
    held_alive = held[s.b_alive[held] == 1]
    assert len(np.unique(held_alive)) == len(held_alive)
    engaged = np.flatnonzero(s.b_alive[:nb] & s.b_engaged[:nb])
    assert np.array_equal(np.sort(held_alive), engaged)
    assert (s.b_cd19[engaged] > 0).all()
    act, exh = s.t_activation[live_t], s.t_exhaustion[live_t]
    assert ((act >= 0) & (act <= 1) & (exh >= 0) & (exh <= 1)).all()
