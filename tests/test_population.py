"""Virtual populations: covariates drawn jointly through a Gaussian copula, and cohorts of real
patients from a table of covariates."""

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import bispecific
from bispecific.cohorts.runner import run_cohort
from bispecific.cohorts.spec import load_cohort
from bispecific.outputs.tables import parquet_available
from bispecific.scenario import ScenarioError

ROOT = Path(__file__).parent.parent
SCENARIOS = ROOT / "scenarios"

HEAD = f"""
[cohort]
name = "pop"
patients = {{patients}}
seed = 5
days = 0.05

[grid]
width = 16
height = 16

[[arm]]
name = "flat"
scenario = "{SCENARIOS / 'flat_28.toml'}"
"""

COVARIATES = """
[covariates.weight_kg]
distribution = "lognormal"
median = 70.0
sigma_log = 0.25

[covariates.bsa_m2]
distribution = "normal"
mean = 1.8
sd = 0.2

[covariates.marrow_blast_fraction]
distribution = "beta"
a = 2.0
b = 3.0
low = 0.1
high = 0.9

[covariates.clearance_l_per_h]
distribution = "lognormal"
median = 2.22
sigma_log = 0.3
"""

CORRELATION = """
[correlation]
covariates = ["weight_kg", "bsa_m2", "marrow_blast_fraction"]
matrix = [[1.0, 0.8, -0.5], [0.8, 1.0, -0.4], [-0.5, -0.4, 1.0]]
"""


def cohort(tmp_path, text: str, patients: int = 3000, name: str = "c.toml"):
    path = tmp_path / name
    path.write_text(HEAD.format(patients=patients) + text)
    return load_cohort(path)


def test_copula_keeps_each_marginal_and_gives_the_rank_correlations_it_implies(tmp_path):
    joint = pd.DataFrame(cohort(tmp_path, COVARIATES + CORRELATION).sample_patients())
    # Spearman's rho of a Gaussian copula with correlation r is (6 / pi) asin(r / 2).
    for a, b, r in (("weight_kg", "bsa_m2", 0.8), ("weight_kg", "marrow_blast_fraction", -0.5),
                    ("bsa_m2", "marrow_blast_fraction", -0.4)):
        expected = 6 / math.pi * math.asin(r / 2)
        assert stats.spearmanr(joint[a], joint[b]).statistic == pytest.approx(expected,
                                                                               abs=0.04)
    # Each covariate keeps its own distribution (Kolmogorov-Smirnov against it).
    for column, dist in (("weight_kg", stats.lognorm(0.25, scale=70.0)),
                         ("bsa_m2", stats.norm(1.8, 0.2)),
                         ("marrow_blast_fraction", stats.beta(2.0, 3.0, loc=0.1, scale=0.8))):
        assert stats.kstest(joint[column], dist.cdf).pvalue > 0.01, column


LOGUNIFORM = """
[covariates.cd19_negative_fraction]
distribution = "loguniform"
low = 1e-6
high = 1e-3
"""


@pytest.mark.parametrize("correlated", [False, True])
def test_a_log_uniform_covariate_gives_each_decade_a_third(tmp_path, correlated):
    # Drawn alone (its own stream) or through the copula (its quantile function): either way
    # scipy's log-uniform on [1e-6, 1e-3], so each of the three decades holds a third.
    copula = """
[correlation]
covariates = ["weight_kg", "cd19_negative_fraction"]
matrix = [[1.0, 0.5], [0.5, 1.0]]
""" if correlated else ""
    draws = pd.DataFrame(cohort(tmp_path, COVARIATES + LOGUNIFORM + copula)
                         .sample_patients())["cd19_negative_fraction"]
    assert stats.kstest(draws, stats.loguniform(1e-6, 1e-3).cdf).pvalue > 0.01
    decades = np.histogram(np.log10(draws), bins=[-6, -5, -4, -3])[0] / len(draws)
    assert decades == pytest.approx([1 / 3] * 3, abs=0.04)


def test_a_correlation_changes_only_the_covariates_it_names(tmp_path):
    alone = pd.DataFrame(cohort(tmp_path, COVARIATES, 50, "a.toml").sample_patients())
    joint = pd.DataFrame(cohort(tmp_path, COVARIATES + CORRELATION, 50, "b.toml")
                         .sample_patients())
    assert alone["clearance_l_per_h"].equals(joint["clearance_l_per_h"])
    assert not alone["bsa_m2"].equals(joint["bsa_m2"])
    # Without a correlation, a lognormal covariate is median x exp(sigma z) of its own stream.
    words = [5, 0, 7, int.from_bytes(__import__("hashlib").sha256(b"weight_kg").digest()[:8],
                                     "little")]
    z = np.random.default_rng(words).standard_normal(1)[0]
    assert alone.loc[7, "weight_kg"] == pytest.approx(70.0 * math.exp(0.25 * z), rel=1e-12)


@pytest.mark.parametrize("matrix, expected", [
    ("[[1.0, 0.9, -0.9], [0.9, 1.0, 0.9], [-0.9, 0.9, 1.0]]", "not positive definite"),
    ("[[1.0, 0.5, 0.0], [0.4, 1.0, 0.0], [0.0, 0.0, 1.0]]", "must be symmetric"),
    ("[[0.9, 0.5, 0.0], [0.5, 1.0, 0.0], [0.0, 0.0, 1.0]]", "the diagonal must be 1"),
    ("[[1.0, 1.5, 0.0], [1.5, 1.0, 0.0], [0.0, 0.0, 1.0]]", "expected a number from -1 to 1"),
    ("[[1.0, 0.5], [0.5, 1.0]]", "expected 3 rows of 3 numbers"),
])
def test_a_bad_correlation_matrix_is_one_clear_line(tmp_path, matrix, expected):
    text = COVARIATES + CORRELATION.replace(
        "[[1.0, 0.8, -0.5], [0.8, 1.0, -0.4], [-0.5, -0.4, 1.0]]", matrix)
    with pytest.raises(ScenarioError) as info:
        cohort(tmp_path, text)
    assert "[correlation] matrix" in str(info.value) and expected in str(info.value)
    assert "\n" not in str(info.value)


def test_a_correlation_names_drawn_covariates_only(tmp_path):
    text = COVARIATES + CORRELATION.replace('"marrow_blast_fraction"]', '"age"]')
    with pytest.raises(ScenarioError, match="'age' is not a \\[covariates\\] entry"):
        cohort(tmp_path, text)


PATIENT_TABLE = "patient,weight_kg,bsa_m2,marrow_blast_fraction\n" \
                "1,80,1.95,0.6\n2,52.5,1.5,0.3\n3,95,2.1,0.85\n"


def test_a_cohort_of_real_patients_runs_each_row_as_a_patient(tmp_path):
    (tmp_path / "real.csv").write_text(PATIENT_TABLE)
    text = (HEAD.replace("patients = {patients}\n", "") + '[patients]\ntable = "real.csv"\n'
            + COVARIATES.split("[covariates.clearance_l_per_h]")[1].join(
                ["[covariates.clearance_l_per_h]", ""]))
    path = tmp_path / "real.toml"
    path.write_text(text)
    real = load_cohort(path)
    assert real.patients == 3
    rows = real.sample_patients()
    assert [(r["weight_kg"], r["bsa_m2"], r["marrow_blast_fraction"]) for r in rows] == [
        (80, 1.95, 0.6), (52.5, 1.5, 0.3), (95, 2.1, 0.85)]
    assert len({r["clearance_l_per_h"] for r in rows}) == 3  # still drawn, patient by patient
    out = tmp_path / "out"
    run_cohort(real, out, workers=1)
    patients = pd.read_csv(out / "patients.csv")
    assert patients["weight_kg"].tolist() == [80, 52.5, 95]
    assert (out / "population.png").stat().st_size > 10_000
    # The next tool reads it whole, with units.
    loaded = bispecific.load_cohort_run(out)
    assert loaded.patients["bsa_m2"].tolist() == [1.95, 1.5, 2.1]
    assert loaded.patients.attrs["units"]["bsa_m2"] == "m^2"
    assert len(loaded.results) == 3 and loaded.info["patients"] == 3
    assert loaded.results.attrs["units"]["peak_il6_pg_per_ml"] == "pg/mL"
    assert (out / "results.parquet").is_file() == parquet_available()
    # The folder keeps the table its cohort.toml names, so the folder describes itself.
    again = load_cohort(out / "cohort.toml")
    assert again.sample_patients() == rows


@pytest.mark.parametrize("table, toml, expected", [
    ("weight_kg,bsa\n70,1.8\n", "", "line 1: unknown column 'bsa'; did you mean 'bsa_m2'?"),
    ("t_cell_fraction\n0.05\nmany\n", "", "line 3: column t_cell_fraction = 'many': expected"),
    ("t_cell_fraction\n0.05\n0.07\n", "patients = 3\n",
     "[cohort] patients = 3: the [patients] table has 2 rows"),
    ("clearance_l_per_h\n2\n", "", "[covariates.clearance_l_per_h] is also a column"),
])
def test_a_bad_patient_table_is_one_clear_line(tmp_path, table, toml, expected):
    (tmp_path / "real.csv").write_text(table)
    text = HEAD.replace("patients = {patients}\n", toml) + '[patients]\ntable = "real.csv"\n' \
        + COVARIATES
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ScenarioError) as info:
        load_cohort(path)
    assert expected in str(info.value) and "\n" not in str(info.value)


def test_shipped_populations_draw_correlated_body_size(tmp_path):
    for name, r in (("population_adult", 0.95), ("population_pediatric", 0.97)):
        drawn = pd.DataFrame(load_cohort(SCENARIOS / f"{name}.toml").with_patients(400)
                             .sample_patients())
        rho = stats.spearmanr(drawn["weight_kg"], drawn["bsa_m2"]).statistic
        # Clipping the tails weakens it a little below (6 / pi) asin(r / 2).
        assert 0.8 < rho <= 6 / math.pi * math.asin(r / 2) + 0.03, name
