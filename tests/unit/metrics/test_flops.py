"""flops per token, counted from the architecture."""



def test_flops_count_the_linear_maps_of_the_cell(tiny_lm_values):
    _, _, values = tiny_lm_values
    assert values["flops"] == 2 * (3 * 3 + 3 * 3)  # the one linear node: x (emsize 3) and h (3) onto 3 units
