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

# Death hazards by disease state, per day, from the first day of treatment.
# - active disease on treatment (from day 0 until a response or the end of treatment):
#   FITTED to the deaths during treatment of MT103-206 and MT103-211 pooled, fatal adverse
#   events in 34 of 225 (15%; [Stein2019], R-3p; on treatment or within
#   TREATMENT_EMERGENT_DAYS of it), on the virtual MT103-211 cohort.
# - active disease after treatment (refractory: no response by the end of treatment;
#   relapsed): one median survival, FITTED on MT103-211's median OS of 6.1 months
#   ([Topp2015], R-3p) with the model's own responses, relapse times and transplant
#   censoring. Checked, not fitted: median RFS of responders against 5.9 ([Topp2015]);
#   children's OS against 8 ([vonStackelberg2016], R-3p).
#   Both by `python docs/calibrate.py --validate` (docs/calibration.md s.5), jointly: for
#   each after-treatment median, the on-treatment median that gives the share of deaths
#   during treatment in expectation over the virtual patients' courses; of those pairs, the
#   one whose median OS is nearest 6.1: 4.55 months after treatment, 17.25 months on
#   treatment (0.6.0; 5.4 and 14.0 on 0.5.0's runs, 4.8 and 16.25 on 0.4.1's). The second
#   is weakly pinned (medians of 8.75-58.25 months keep the share within the target's 95%
#   interval): many deaths in the window come in the 30 days after the last dose, at the
#   after-treatment hazard. One
#   hazard for both gave 28% deaths during treatment against 15% (0.4.1 development, on
#   the kept 0.4.0 cohorts). Until 0.4.0 nobody died during the courses and the
#   after-treatment median was 4.05 months; until 0.3.2, 3, an assumption.
# - in remission: ~1%/month (assumption, U). Bounded by the label's "no fatal adverse events
#   occurred on treatment among patients in remission" ([Label2014], R-3p): no death in
#   ~80 responders over ~3 months of courses, whose rule-of-three upper bound is ~1.2%/month.
HAZARD_ON_TREATMENT_PER_DAY = math.log(2.0) / (17.25 * DAYS_PER_MONTH)  # /day
HAZARD_REFRACTORY_PER_DAY = math.log(2.0) / (4.55 * DAYS_PER_MONTH)  # /day
HAZARD_RELAPSED_PER_DAY = math.log(2.0) / (4.55 * DAYS_PER_MONTH)  # /day
HAZARD_REMISSION_PER_DAY = 0.01 / DAYS_PER_MONTH  # /day

# The window after the last dose in which the trials count a death as treatment-emergent
# (the usual 30 days of adverse-event reporting; assumption, U): the model's deaths during
# treatment are those before the end of treatment plus this.
TREATMENT_EMERGENT_DAYS = 30.0  # days

# Allogeneic transplant in remission: 32 of MT103-211's 81 CR/CRh* responders (40%) went to
# HSCT in blinatumomab-induced remission ([Topp2015]'s investigators, ASH abstract, R; TOWER's
# own rate is validation and is not used). Rule: a transplanted patient is censored on the
# transplant day (the model says nothing about life after HSCT), TRANSPLANT_DAYS after the
# end of treatment (assumption, U).
TRANSPLANT_PROBABILITY_IN_REMISSION = 32.0 / 81.0  # probability
TRANSPLANT_DAYS_AFTER_TREATMENT = 30.0  # days

# Follow-up: administrative censoring (TOWER's median follow-up was ~11.7 months; here a
# fixed window, a cohort setting; assumption).
FOLLOW_UP_DAYS = 24.0 * DAYS_PER_MONTH  # days
