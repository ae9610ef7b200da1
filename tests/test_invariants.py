"""Conservation of molecules and cells and the occupancy rules hold at every step."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .helpers import assert_invariants, params, small_model


def test_invariants_hold_every_step_under_a_high_dose():
    m = small_model(size=20, plasma_pg_per_ml=5000.0, seed=11)
    for _ in range(400):
        m.step()
        assert_invariants(m)
    assert m.counter("kills_total") > 0  # the run exercised killing, not just waiting


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    size=st.integers(6, 18),
    blast_fraction=st.floats(0.05, 1.0),
    effector_ratio=st.floats(0.0, 1.0),
    plasma=st.sampled_from([0.0, 50.0, 525.0, 20_000.0]),
    cd19_negative=st.floats(0.0, 1.0),
    doubling_days=st.floats(0.2, 20.0),
    kill_probability=st.floats(0.0, 1.0),
    speed=st.floats(0.0, 30.0),
    diffusion=st.floats(0.0, 100.0),
    dt_minutes=st.sampled_from([0.5, 1.0, 3.0]),
    seed=st.integers(0, 2**40),
)
def test_invariants_hold_for_random_small_parameter_sets(
    size, blast_fraction, effector_ratio, plasma, cd19_negative, doubling_days,
    kill_probability, speed, diffusion, dt_minutes, seed,
):
    p = params(
        blast_doubling_time_days=doubling_days, kill_probability=kill_probability,
        t_cell_speed_um_per_min=speed, diffusion_um2_per_s=diffusion,
        t_cell_proliferation_per_day=3.0, blast_apoptosis_per_day=0.5,
    )
    m = small_model(
        size=size, plasma_pg_per_ml=plasma, seed=seed, marrow_blast_fraction=blast_fraction,
        t_cells_per_blast=effector_ratio, cd19_negative_fraction=cd19_negative,
        parameters=p, dt_minutes=dt_minutes,
    )
    for _ in range(60):
        m.step()
        assert_invariants(m)
