"""The thread policy: forced counts, the automatic choice, adaptation by measurement, and
cohort workers that never ask for more threads than there are cores."""

import os

import pytest

from bispecific.engine.core import threads as th


@pytest.fixture
def four_free_cores(monkeypatch):
    monkeypatch.delenv("NUMBA_NUM_THREADS", raising=False)
    monkeypatch.setattr(th, "available_cores", lambda: 4)
    monkeypatch.setattr(th, "numba_pool_size", lambda: 4)
    monkeypatch.setattr(th, "busy_cores", lambda: 0.0)
    monkeypatch.setattr(th, "_process_budget", None)


def test_idle_threads_sleep_instead_of_spinning():
    assert os.environ.get("OMP_WAIT_POLICY") == "PASSIVE" or "GOMP_SPINCOUNT" in os.environ


def test_parallel_false_and_numba_num_threads_force_the_count(four_free_cores, monkeypatch):
    assert th.ThreadPolicy(False, 10**6).threads() == 1
    monkeypatch.setenv("NUMBA_NUM_THREADS", "3")
    forced = th.ThreadPolicy(None, 16)  # even a small patch
    assert (forced.adaptive, forced.threads()) == (False, 3)
    assert th.ThreadPolicy(False, 10**6).threads() == 1  # parallel = false still wins


def test_automatic_choice_by_size_cores_and_load(four_free_cores, monkeypatch):
    assert th.ThreadPolicy(None, 64 * 64).threads() == 1  # too small to gain
    big = th.ThreadPolicy(None, 1024 * 1024)
    assert big.adaptive and big.threads() == 4
    assert th.ThreadPolicy(True, 64 * 64).adaptive  # parallel = true: measure even small
    monkeypatch.setattr(th, "busy_cores", lambda: 3.9)  # the cores are taken
    assert th.ThreadPolicy(None, 1024 * 1024).threads() == 1
    monkeypatch.setattr(th, "available_cores", lambda: 1)
    assert not th.ThreadPolicy(True, 1024 * 1024).adaptive


def _run(policy, seconds_per_step, steps):
    """Drive a policy with step times from `seconds_per_step(threads)`; time per count."""
    spent = {1: 0.0, 4: 0.0}
    for _ in range(steps):
        n = policy.threads()
        dt = seconds_per_step(n)
        spent[n] += dt
        policy.record(n, dt)
    return spent


def test_adaptation_keeps_threads_that_pay(four_free_cores):
    policy = th.ThreadPolicy(None, 1024 * 1024)
    spent = _run(policy, lambda n: 1.0 if n == 1 else 0.55, 5000)
    assert policy.current == 4
    assert spent[1] < 0.1 * spent[4]


def test_adaptation_drops_threads_that_lose_and_probing_stays_cheap(four_free_cores):
    """Threads 20x slower (cores busy): the policy falls back to one thread, and probing
    the thread count again costs a few per cent of the run."""
    policy = th.ThreadPolicy(True, 1024 * 1024)
    spent = _run(policy, lambda n: 1.0 if n == 1 else 20.0, 20000)
    assert policy.current == 1
    assert spent[4] < 0.05 * spent[1]


def test_adaptation_follows_a_change_of_load(four_free_cores):
    policy = th.ThreadPolicy(None, 1024 * 1024)
    _run(policy, lambda n: 1.0 if n == 1 else 0.55, 2000)
    assert policy.current == 4
    _run(policy, lambda n: 1.0 if n == 1 else 8.0, 20000)  # other work starts
    assert policy.current == 1
    _run(policy, lambda n: 1.0 if n == 1 else 0.55, 20000)  # and stops
    assert policy.current == 4


def test_cohort_workers_share_the_cores(four_free_cores, monkeypatch):
    assert th.worker_threads(1) == 4
    assert th.worker_threads(2) == 2
    assert th.worker_threads(8) == 1
    th.limit_process_threads(th.worker_threads(2))
    assert th.ThreadPolicy(True, 1024 * 1024).threads() == 2
    monkeypatch.setenv("NUMBA_NUM_THREADS", "4")  # asked for explicitly
    assert th.ThreadPolicy(True, 1024 * 1024).threads() == 4
