"""Constants of the post-treatment outcome model, each with its unit, source and certainty
(docs/references.md, "Outcomes"). Grades: R (read in the primary source), R-3p (read in a
secondary source), U (unverified or assumed). The death hazard after treatment failure is
fitted (docs/calibration.md s.5); the others are assumptions, as noted.
"""

from __future__ import annotations

import math

DAYS_PER_MONTH = 365.25 / 12.0  # days/month

# Relapse: marrow blasts >= 5% of nucleated cells, the trials' definition (TOWER, MT103-211,
# [Topp2015], [Kantarjian2017]; R-3p).
RELAPSE_BLAST_FRACTION = 0.05  # fraction of nucleated marrow cells

# Stopping rule: a response counts only if it comes within this window from the start of
# treatment (TOWER's and MT103-211's "within two cycles" / "within 12 weeks" endpoint
# definition, [Kantarjian2017], [Topp2015], R-3p; the definition, not their results): a
# patient with no response after two cycles is a treatment failure, whatever later courses
# do.
RESPONSE_WINDOW_DAYS = 84.0  # days

# Nucleated cells in an adult's marrow: ~1e12 (order of magnitude; [BioNumbers] marrow
# cellularity x red-marrow volume, U). Used only for the extinction chance (d/b)^N0, which is
# 0 to machine precision for any level above ~1e-10 whatever the exact count.
MARROW_NUCLEATED_CELLS = 1.0e12  # cells

# Death hazards by disease state, per day.
# - refractory or relapsed r/r B-ALL: one median survival after treatment fails, FITTED on
#   MT103-211's median OS of 6.1 months ([Topp2015], R-3p) with the model's own responses,
#   relapse times and transplant censoring: 4.05 months (`python docs/calibrate.py
#   --validate`, docs/calibration.md s.5; grid 1-12 months in steps of 0.05, 60 virtual
#   patients, KM median 6.1, 95% interval 4.6-8.7). The same rule checked, not fitted:
#   median RFS of responders 5.8 against 5.9 ([Topp2015]); children's OS 7.0 against 8
#   ([vonStackelberg2016], R-3p). (Until 0.3.2: 3 months, an assumption.)
# - in remission: non-relapse mortality ~1%/month (assumption, U: no source read for it;
#   [Zugmaier2015]'s long-term MRD responders are the data to fit it to).
HAZARD_REFRACTORY_PER_DAY = math.log(2.0) / (4.05 * DAYS_PER_MONTH)  # /day
HAZARD_RELAPSED_PER_DAY = math.log(2.0) / (4.05 * DAYS_PER_MONTH)  # /day
HAZARD_REMISSION_PER_DAY = 0.01 / DAYS_PER_MONTH  # /day

# Allogeneic transplant in remission: a share of responders go to HSCT (MT103-211: ~40% of
# CR/CRh responders, [Topp2015], U: from memory of the abstract, to be checked; TOWER's own
# rate is validation and is not used). Rule: a transplanted patient is censored on the
# transplant day (the model says nothing about life after HSCT), TRANSPLANT_DAYS after the
# end of treatment (assumption, U).
TRANSPLANT_PROBABILITY_IN_REMISSION = 0.40  # probability
TRANSPLANT_DAYS_AFTER_TREATMENT = 30.0  # days

# Follow-up: administrative censoring (TOWER's median follow-up was ~11.7 months; here a
# fixed window, a cohort setting; assumption).
FOLLOW_UP_DAYS = 24.0 * DAYS_PER_MONTH  # days
