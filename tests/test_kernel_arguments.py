"""The kernels take the state's arrays by name (`state.GridArrays`, `BlastArrays`,
`TCellArrays`): each named field must be the state's array of that name, or two arrays of
the same dtype would be swapped silently (issue 23)."""

from tests.helpers import small_model


def test_each_named_field_is_the_state_array_of_that_name():
    s = small_model(size=16).state
    for bundle, prefix in ((s.blast_arrays(), "b_"), (s.tcell_arrays(), "t_")):
        for name in bundle._fields:
            assert getattr(bundle, name) is getattr(s, prefix + name), name
    grid = s.grid_arrays()
    assert (grid.width, grid.height) == (s.width, s.height)
    assert grid.kind is s.occ_kind and grid.idx is s.occ_idx

