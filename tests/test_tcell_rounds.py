"""T cells act in two rounds with no order among them (docs/model.md s.5, "Two rounds, no
order"): who wins a blast that two T cells find in the same step is decided by a priority
drawn each step, not by which T cell comes first. Under the rule up to 0.6 the lower slot
won every such contest; here each of two T cells placed symmetrically must win half of
them, in the kernels and in the reference twin alike."""

import numpy as np

from bispecific.engine.core import rng
from bispecific.engine.core.kernels import constants as kc
from bispecific.engine.core.kernels import tcells
from bispecific.engine.core.state import BLAST, CONTACT, SCANNING, TCELL, new_patch_state
from bispecific.engine.reference import ReferencePatch

from .helpers import params

WIDTH = 5
BLAST_AT = 2 * WIDTH + 2  # the middle voxel
TCELLS_AT = (2 * WIDTH + 1, 2 * WIDTH + 3)  # its left and right neighbours
CONTESTS = 400
# Probing so fast that each T cell finds the blast within the step (chance 1 - e^-12.5).
PROBES = params(probe_rate_per_min=100.0, t_cell_death_per_day=0.0, aicd_per_day=0.0)


def _contest_state():
    s = new_patch_state(np.random.default_rng(0), WIDTH, WIDTH, n_blasts=1, n_tcells=2,
                        n_normal=0, cd19_negative_fraction=0.0, cd19_median_copies=1e4,
                        cd19_sigma_log=0.0)
    s.occ_kind[:] = 0
    s.occ_idx[:] = -1
    s.b_voxel[0] = BLAST_AT
    s.occ_kind[BLAST_AT], s.occ_idx[BLAST_AT] = BLAST, 0
    for slot, voxel in enumerate(TCELLS_AT):
        s.t_voxel[slot] = voxel
        s.occ_kind[voxel], s.occ_idx[voxel] = TCELL, slot
    return s


def _kernel_winner(step: int) -> int:
    s = _contest_state()
    c = kc.kernel_constants(PROBES, 1.0, 10.0)
    grid, blasts, cells = s.kernel_arrays()
    rounds = s.tcell_rounds()
    key = np.uint64(rng.step_key(11, step))
    tcells.propose(key, c, grid, blasts, s.n_tcells, cells, rounds)
    tcells.claim(s.n_tcells, rounds)
    tcells.settle(c, grid, blasts, s.n_tcells, cells, rounds)
    tcells.finish(s.n_tcells, grid, cells, rounds, s.counters, s.stimulation)
    winner = int(s.b_partner[0])
    if winner >= 0:
        loser = 1 - winner
        # The loser stays where it was, scanning; the winner holds the blast.
        assert s.t_engaged[winner] == CONTACT and s.t_partner[winner] == 0
        assert s.t_engaged[loser] == SCANNING and s.t_partner[loser] == -1
        assert s.t_voxel[loser] == TCELLS_AT[loser]
    # Between steps every claim is cleared.
    assert (rounds.blast_claims == np.iinfo(np.int64).max).all()
    assert (rounds.voxel_claims == np.iinfo(np.int64).max).all()
    return winner


def _reference_winner(seed: int) -> int:
    ref = ReferencePatch.from_state(_contest_state(), PROBES, 1.0, 10.0, 0.0, seed=seed)
    ref._tcells_step()
    blast = ref.blasts[0]
    return -1 if blast.partner is None else ref.tcells.index(blast.partner)


def _share_of_first(winners: list[int]) -> float:
    decided = [w for w in winners if w >= 0]
    assert len(decided) >= 0.99 * len(winners)  # the set-up makes both find it
    return float(np.mean([w == 0 for w in decided]))


def test_kernels_give_a_contested_blast_to_either_t_cell_equally():
    share = _share_of_first([_kernel_winner(step) for step in range(CONTESTS)])
    # Binomial(400, 1/2): 4 standard errors are 0.1.
    assert 0.4 < share < 0.6, f"the lower slot won {share:.0%} of contests"


def test_reference_gives_a_contested_blast_to_either_t_cell_equally():
    share = _share_of_first([_reference_winner(seed) for seed in range(CONTESTS)])
    assert 0.4 < share < 0.6, f"the first T cell won {share:.0%} of contests"
