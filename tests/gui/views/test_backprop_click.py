"""Clicking a Backprop column opens that layer, as the Hierarchy view's columns do."""

from PyQt6.QtCore import Qt

from gui.views.layers.backprop import BackpropView


def test_a_layer_column_emits_its_name_and_the_input_column_nothing(qtbot, tiny_inspection):
    view = BackpropView()
    qtbot.addWidget(view)
    view.resize(1000, 700)
    view.show()
    view.set_inspection(tiny_inspection)
    strip = view.strip
    layer = strip.shown_names[0]
    assert layer in tiny_inspection.layer_names
    with qtbot.waitSignal(view.layer_selected) as blocker:
        qtbot.mouseClick(strip.picture(layer), Qt.MouseButton.LeftButton)
    assert blocker.args == [layer]
    assert strip.shown_names[-1] == "input"
    with qtbot.assertNotEmitted(view.layer_selected):
        qtbot.mouseClick(strip.picture("input"), Qt.MouseButton.LeftButton)


def test_clicking_a_backprop_column_in_the_window_opens_the_layer(qtbot, open_window):
    window = open_window
    window.tabs.setCurrentWidget(window.backprop_view)
    strip = window.backprop_view.strip
    assert "parts" in strip.shown_names
    qtbot.mouseClick(strip.picture("parts"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.feature_view.layer_name == "parts")
    assert window.tabs.currentWidget() is window.feature_view
    assert window.model_panel.selected_layer() == "parts"
