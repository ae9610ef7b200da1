"""Conservation of molecules and cells, occupancy, counts and trimer pairing hold at every
step, over a wide range of parameters and concentrations (hypothesis)."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .helpers import assert_invariants, params, small_model


def test_invariants_hold_every_step_under_a_high_dose():
    m = small_model(size=20, plasma_pg_per_ml=5000.0, seed=11)
    for _ in range(400):
        m.step()
        assert_invariants(m)
    assert m.counter("kills_total") > 0  # the run exercised killing, not just waiting
    assert m.counter("trimers_formed_total") > 0


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    size=st.integers(6, 18),
    blast_fraction=st.floats(0.0, 0.9),
    t_fraction=st.floats(0.0, 0.5),
    plasma=st.sampled_from([0.0, 50.0, 525.0, 20_000.0, 5e7]),
    cd19_negative=st.floats(0.0, 1.0),
    division=st.floats(0.0, 5.0),
    kill_probability=st.floats(0.0, 1.0),
    speed=st.floats(0.0, 30.0),
    kd_cd3=st.floats(0.1, 5000.0),
    cellularity=st.floats(0.05, 1.0),
    dt_minutes=st.sampled_from([0.5, 1.0, 3.0]),
    seed=st.integers(0, 2**40),
)
def test_invariants_hold_for_random_small_parameter_sets(
    size, blast_fraction, t_fraction, plasma, cd19_negative, division, kill_probability,
    speed, kd_cd3, cellularity, dt_minutes, seed,
):
    t_fraction = min(t_fraction, 1.0 - blast_fraction)
    p = params(
        blast_division_per_day=division, kill_probability=kill_probability,
        t_cell_speed_um_per_min=speed, kd_cd3_nM=kd_cd3, marrow_cellularity=cellularity,
        t_cell_proliferation_per_day=3.0, blast_apoptosis_per_day=0.5,
        normal_turnover_per_day=2.0,
    )
    m = small_model(
        size=size, plasma_pg_per_ml=plasma, seed=seed, marrow_blast_fraction=blast_fraction,
        t_cell_fraction=t_fraction, cd19_negative_fraction=cd19_negative,
        parameters=p, dt_minutes=dt_minutes,
    )
    for _ in range(60):
        m.step()
        assert_invariants(m)
