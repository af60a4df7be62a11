"""Layer names cut to fit keep the block number and the layer's role."""

from gui.widgets.layer_names import fit_name, split_name


def width(limit: int):
    return lambda text: len(text) <= limit


def test_a_name_that_fits_is_left_whole():
    assert fit_name("block_13_depthwise_relu", width(40)) == "block_13_depthwise_relu"


def test_the_cut_keeps_the_block_number_and_the_last_part():
    # A plain middle elide would give "block_1…e_relu" and hide block 13.
    assert fit_name("block_13_depthwise_relu", width(22)) == "block_13…relu"
    assert fit_name("stem_block_13_depthwise_relu", width(27)) == "stem_block_13…relu"
    assert fit_name("block_13_depthwise_relu", width(14)) == "block_13…relu"
    assert fit_name("block_13_depthwise_BN", width(12)) == "block_13…BN"


def test_the_head_runs_to_the_first_number_and_no_further():
    # ResNet names number the stage, the block and the unit: all stay.
    assert fit_name("conv4_block6_2_relu", width(18)) == "conv4_block6_2…"
    assert fit_name("conv4_block6_2_relu_x", width(19)) == "conv4_block6_2…x"
    # No number early on: the first part is the head.
    assert fit_name("expanded_conv_depthwise_BN", width(16)) == "expanded_conv…BN"


def test_when_nothing_else_fits_the_head_alone_is_kept():
    assert fit_name("block_13_depthwise_relu", width(5)) == "block_13…"


def test_names_without_underscores_are_cut_at_the_end():
    assert fit_name("conv2d", width(4)) == "con…"
    assert fit_name("ab", width(0)) == "a…"


def test_split_name_breaks_after_the_underscore_nearest_the_middle():
    narrow = width(10)
    assert split_name("block_12_project_BN", narrow) == ["block_12_", "project_BN"]
    assert split_name("conv1", narrow) == ["conv1"]
    assert split_name("averyverylongname", narrow) == ["averyverylongname"]  # nowhere to break


def test_the_docstring_examples_hold():
    assert fit_name("block_13_depthwise_relu", width(14)) == "block_13…relu"
    assert fit_name("a_block_2_b_c_d", width(14)) == "a_block_2_b…d"
    assert fit_name("a_block_2_b_c_d", width(12)) == "a_block_2…d"
