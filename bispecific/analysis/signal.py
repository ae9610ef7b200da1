"""Whether a readout carries a signal an analysis may rank, in one line when it does not.

An analysis that ranks noise is worse than none: a sensitivity run whose CR rates are all
near 1e-234 would still name the parameter that "decides" them, and a search whose CR rates
are all below 1e-26 would still mark a front and a best schedule. A readout has no signal
when:

- every candidate's value is below the readout's floor (`Readout.floor`: half a percent for
  rates, `readouts.RATE_FLOOR`): no trial could tell such a rate from 0;
- it is the same for every candidate (to 1e-9 of its size);
- it varies over the candidates no more than between seed sets at fixed parameters: the
  measured noise share of its variance (`sensitivity.noise`) is at least `NOISE_LIMIT`.

`sensitivity` and `optimise` then print `no_signal_line` instead of a ranking.
"""

from __future__ import annotations

import numpy as np

from .readouts import READOUTS

NOISE_LIMIT = 0.5  # half the variance over the candidates or more is simulation noise
SAME = 1e-9


def below_floor(name: str, values: np.ndarray) -> str | None:
    """Why `values` of readout `name` are all below its floor, or None."""
    readout = READOUTS[name]
    finite = np.asarray(values, float)
    finite = finite[np.isfinite(finite)]
    if readout.floor is None or not finite.size:
        return None
    top = float(np.max(np.abs(finite)))
    if top >= readout.floor:
        return None
    return (f"every candidate's {readout.label} is below {readout.floor:g} (the highest is "
            f"{top:.2g})")


def no_signal(name: str, values: np.ndarray, noise_share: float = float("nan")) -> str | None:
    """Why readout `name` carries no signal over the candidates' `values`, or None.

    Parameters
    ----------
    name
        A readout of `readouts.READOUTS`.
    values
        The readout of every candidate (NaN: a candidate with no finished run).
    noise_share
        The share of the readout's variance over the candidates that is simulation noise
        (NaN: not measured).
    """
    reason = below_floor(name, values)
    if reason is not None:
        return reason
    label = READOUTS[name].label
    finite = np.asarray(values, float)
    finite = finite[np.isfinite(finite)]
    if not finite.size:
        return f"no candidate has a {label}"
    if np.ptp(finite) <= SAME * max(float(np.max(np.abs(finite))), 1e-300):
        return f"{label} is the same for every candidate ({finite[0]:.3g})"
    if np.isfinite(noise_share) and noise_share >= NOISE_LIMIT:
        return (f"{label} varies no more than simulation noise ({noise_share:.0%} of its "
                "variance is between seed sets)")
    return None


def no_signal_line(name: str, reason: str, instead: str) -> str:
    """The one line a command prints for a readout with no signal."""
    return f"{name}: no signal: {reason}; {instead}"
