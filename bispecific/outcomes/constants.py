"""Constants of the post-treatment outcome model, each with its unit, source and certainty
(docs/references.md, "Outcomes"). Grades: R (read in the primary source), R-3p (read in a
secondary source), U (unverified or assumed). Every hazard here is PENDING CALIBRATION
(docs/calibration.md): the values are chosen from the sources' medians by the closed forms
noted, not fitted to a cohort's survival curve.
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

# Death hazards by disease state, per day. PENDING CALIBRATION; values picked without a fit:
# - refractory or relapsed r/r B-ALL: median survival 3 months after salvage fails
#   (assumption, U). Checked, not fitted: a mixture of 43% CR/CRh ([Topp2015], MT103-211)
#   with exponential relapse-free survival of median 5.9 months ([Topp2015], R-3p) gives a
#   median OS of 7.5 months against the 6.1 reported ([Topp2015], R-3p); 30% CR/CRi gives
#   6.6 against INO-VATE's standard-of-care arm's 6.2 ([Kantarjian2016], R-3p). The
#   calibration (pending) fits these hazards to those medians with the model's own relapse
#   times;
# - in remission: non-relapse mortality ~1%/month (assumption, U: no source read for it;
#   [Zugmaier2015]'s long-term MRD responders are the data to fit it to).
HAZARD_REFRACTORY_PER_DAY = math.log(2.0) / (3.0 * DAYS_PER_MONTH)  # /day
HAZARD_RELAPSED_PER_DAY = math.log(2.0) / (3.0 * DAYS_PER_MONTH)  # /day
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
