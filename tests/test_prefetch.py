"""The prefetch hint compiles on this Numba/LLVM and changes no value (kernels/prefetch.py):
every dtype the T-cell pass hints at, at the ends of the array too."""

import numpy as np
import pytest
from numba import njit

from bispecific.engine.core.kernels.prefetch import prefetch


@njit
def _sum_with_hints(values, ahead):
    total = 0.0
    n = values.shape[0]
    for i in range(n):
        prefetch(values, (i + ahead) % n)
        total += values[i]
    return total


@pytest.mark.parametrize("dtype", [np.int8, np.int32, np.float32, np.float64])
def test_a_hinted_loop_computes_what_a_plain_one_does(dtype):
    values = (np.arange(1000) % 7).astype(dtype)
    # 0+1+...+6 = 21, 142 times over the first 994, then 0+...+5 = 15: 2,997.
    assert _sum_with_hints(values, 16) == 2997.0
