"""Draw the shipped virtual populations (docs/figures/population_*.png): each covariate's
spread and each pair, with Spearman's rank correlation. Draws only; runs nothing.

    python docs/population_figures.py
"""

from pathlib import Path

import pandas as pd

from bispecific.cohorts.spec import load_cohort
from bispecific.outputs.figures import population_figure

ROOT = Path(__file__).parent.parent
PATIENTS = 400  # enough to see the shape; the shipped files run fewer


def main() -> None:
    for name in ("population_adult", "population_pediatric"):
        cohort = load_cohort(ROOT / "scenarios" / f"{name}.toml").with_patients(PATIENTS)
        path = population_figure(pd.DataFrame(cohort.sample_patients()), name,
                                 ROOT / "docs" / "figures" / name)
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
