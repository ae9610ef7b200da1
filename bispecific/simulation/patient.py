"""What a run measures in the patient, and the choices that make a patch stand for them:
blast enrichment of a blast-poor marrow, premedication times, assessment times, and the
readouts (cytokines from the expected release, CRS, CD19-negative escape, assessments)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..pharmacology.dosing import total_rate_steps
from ..readouts.crs import CrsReadout
from ..readouts.cytokines import CytokineReadout, patient_scale
from ..readouts.escape import ExpectedEscape
from ..readouts.release import ExpectedRelease
from ..readouts.response import AssessmentRecorder
from ..readouts.tail import ResidualTail
from ..scenario import Scenario
from .chemotherapy import ASSESSMENT_DAYS_AFTER_COURSE, ChemotherapyCourses
from .stopping import TreatmentStopping

# A blast-poor marrow is simulated with at most this share of blasts (docs/model.md s.11):
# dilute enough that blasts' fates stay independent.
MAX_ENRICHED_BLAST_FRACTION = 0.02


def premedication_times_h(scenario: Scenario) -> list[float]:
    """Dexamethasone times: a lead time before the first dose and each cycle, step-up or
    bolus (the r/r label), or before the first dose of each cycle only (the MRD label)."""
    if not scenario.dexamethasone:
        return []
    lead = scenario.cytokines.premedication_lead_h
    step_ups = scenario.premedication_before == "each_step_up"
    return [t - lead for t in scenario.schedule.start_times_h(
        scenario.days, scenario.patient.bsa_m2, step_ups=step_ups)]


def patch_cells(scenario: Scenario) -> int:
    g = scenario.grid
    return round(g.width * g.height * scenario.parameters.marrow_cellularity)


def patch_blast_fraction(scenario: Scenario) -> tuple[float, float]:
    """The blast share simulated in the patch, and its enrichment over the patient's.

    A patient whose blasts would number fewer than `minimum_patch_blasts` in the patch is
    simulated with that many, up to 2% of its cells and within the room the T cells leave
    (docs/model.md s.11)."""
    f0 = scenario.patient.marrow_blast_fraction
    minimum = scenario.simulation.minimum_patch_blasts
    cells = patch_cells(scenario)
    if f0 <= 0.0 or f0 * cells >= minimum:
        return f0, 1.0
    room = 1.0 - scenario.patient.t_cell_fraction
    enriched = min(minimum / max(cells, 1), MAX_ENRICHED_BLAST_FRACTION, room)
    # A share so small that the factor overflows (below ~1e-308) is simulated as it is.
    if enriched <= f0 or not math.isfinite(enriched / f0):
        return f0, 1.0
    return enriched, enriched / f0


def assessment_times_h(scenario: Scenario) -> list[float]:
    """When the trials assess response: the end of each infusion period (the end of a cycle),
    and the end of the run."""
    segments, _ = scenario.schedule.expand(scenario.days, scenario.patient.bsa_m2)
    steps = total_rate_steps(segments)
    ends = [t for (t, rate), (_, before) in zip(steps[1:], steps[:-1], strict=True)
            if rate == 0.0 and before > 0.0]
    after_chemo = [(c.day + ASSESSMENT_DAYS_AFTER_COURSE) * 24.0 for c in scenario.chemotherapy]
    return sorted({*(t for t in [*ends, *after_chemo] if t <= scenario.days * 24.0),
                   scenario.days * 24.0})


@dataclass
class PatientReadouts:
    """What a run measures in the patient: plasma cytokines from the expected release, CRS,
    the CD19-negative subclone in expectation, the marrow at each assessment, and the
    trial's stopping rules read from those assessments."""

    cytokines: CytokineReadout
    crs: CrsReadout
    escape: ExpectedEscape
    tail: ResidualTail
    assessments: AssessmentRecorder
    enrichment: float
    chemotherapy: ChemotherapyCourses | None = None
    stopping: TreatmentStopping | None = None

    @classmethod
    def for_scenario(cls, scenario: Scenario) -> PatientReadouts:
        _, enrichment = patch_blast_fraction(scenario)
        crs = CrsReadout(scenario.crs, scenario.cytokines.il6_baseline_pg_per_ml)
        scale = patient_scale(patch_cells(scenario), scenario.patient.weight_kg,
                              scenario.cytokines) / enrichment
        cytokines = CytokineReadout(
            scale=scale, weight_kg=scenario.patient.weight_kg, params=scenario.cytokines,
            premedication_h=premedication_times_h(scenario),
            release=ExpectedRelease(scenario.parameters, scenario.simulation.dt_minutes),
            on_il6=crs.observe)
        escape = ExpectedEscape(scenario.patient.cd19_negative_fraction)
        tail = ResidualTail()
        assessments = AssessmentRecorder(assessment_times_h(scenario), escape, tail)
        chemo = (ChemotherapyCourses(scenario.chemotherapy, escape, tail)
                 if scenario.chemotherapy else None)
        stopping = (TreatmentStopping(scenario.stopping, assessments, enrichment)
                    if scenario.stopping.active else None)
        return cls(cytokines, crs, escape, tail, assessments, enrichment, chemo, stopping)

    def observers(self) -> list:
        """In update order: chemotherapy (when given) first, then the escape estimate and the
        tail before the assessments that read them, and the stopping rules last, since
        they read the assessments."""
        first = [self.chemotherapy] if self.chemotherapy is not None else []
        last = [self.stopping] if self.stopping is not None else []
        return [*first, self.escape, self.tail, self.cytokines, self.crs, self.assessments,
                *last]
