"""The trained model's controls (pytest-qt, a real widget offscreen): settings in, one dict out.

Without a state behind it the panel never sees its own changes come back, so every emitted dict
is the settings shown with one change: the panel applies nothing itself.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt
from qt_helpers import PaintCounter

from core.model_settings import ModelSettings
from core.settings import Settings, field_docs
from core.transformer import load_model
from explorer.views.model_controls import NO_MODEL, ModelControls, format_heads

DATA = Path(__file__).parent / "data" / "transformer"


@pytest.fixture(scope="module")
def tiny_bert():
    return load_model(DATA / "tiny-bert").config  # 2 layers x 4 heads


def model_settings(**model) -> Settings:
    """Settings of a 4-head model (the state sets n_heads to the model's), ``model`` changed."""
    head = model.pop("selected_head", None)
    return Settings(source="model", n_heads=4, selected_head=head, model=ModelSettings(**model))


def panel_for(qtbot, config, settings: Settings) -> tuple[ModelControls, list[dict]]:  # noqa: ANN001
    panel = ModelControls()
    qtbot.addWidget(panel)
    emitted: list[dict] = []
    panel.changed.connect(emitted.append)
    panel.set_model_info(config)
    panel.set_settings(settings)
    panel.resize(330, 760)
    panel.show()  # laid out, so a click lands on what it aims at
    qtbot.waitExposed(panel)
    assert emitted == []  # showing settings is not the person changing them
    return panel, emitted


def tick(qtbot, box) -> None:  # noqa: ANN001
    """Click a check box on its box (a box stretched across its row is not clickable in the
    middle, past its text)."""
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton, pos=QPoint(8, box.height() // 2))


def model_change(settings: Settings, **changes) -> dict:
    return {"model": dataclasses.replace(settings.model, **changes)}


def test_set_settings_shows_the_settings_counting_from_1(qtbot, tiny_bert):
    s = model_settings(layer=0, selected_head=2, across_layers="rollout", hide_special=True,
                       ablated=((1, 3), (0, 1)), ablation="mean", what_if_layer=1,
                       what_if_scoring="cosine", what_if_normalization="sparsemax",
                       what_if_temperature=2.5, what_if_causal=False,
                       what_if_exclude_self=True)
    panel, emitted = panel_for(qtbot, tiny_bert, s)
    assert panel.summary.text() == "tiny-bert · 2 layers x 4 heads · 32 dims"
    assert panel.layer.value() == 1
    assert panel.head.currentText() == "head 3"
    assert panel.across.currentText() == "attention rollout (layers 1..1)"
    assert panel.hide_special.isChecked()
    assert panel.what_if.isChecked() and panel.scoring.isEnabled()
    assert panel.what_if_target.text() == "changes layer 2"
    assert not panel.move_what_if.isHidden()  # layer 1 is shown: offer to move the change here
    assert (panel.scoring.currentData(), panel.normalization.currentData()) == \
        ("cosine", "sparsemax")
    assert (panel.temperature.value(), panel.causal.currentText()) == (2.5, "off")
    assert panel.exclude_self.isChecked()
    assert panel.ablated_list.text() == "L1 H2, L2 H4" and panel.ablated_list.isReadOnly()
    assert panel.ablation.currentText() == "mean over tokens"
    assert panel.ablate_button.text() == "Ablate head L1·H3"
    assert panel.reset_button.isEnabled()

    panel.set_settings(model_settings())  # the defaults: the last layer, the mean, no changes
    assert panel.layer.value() == 2
    assert panel.head.currentText() == "mean of heads"
    assert panel.across.currentText() == "this layer's heads"
    assert panel.across.itemText(2) == "attention flow (layers 1..2)"
    assert not panel.what_if.isChecked() and not panel.scoring.isEnabled()
    assert panel.what_if_form.isRowVisible(panel.what_if_row) is False
    assert panel.causal.currentText() == "model's own"
    assert panel.ablated_list.text() == "none"
    assert not panel.ablate_button.isEnabled()  # the mean of heads is no head to ablate
    assert not panel.reset_button.isEnabled()  # nothing to reset
    assert emitted == []


def test_ranges_follow_the_model(qtbot, tiny_bert):
    panel, emitted = panel_for(qtbot, tiny_bert, model_settings())
    assert (panel.layer.minimum(), panel.layer.maximum()) == (1, 2)
    assert [panel.head.itemText(i) for i in range(panel.head.count())] == \
        ["mean of heads", "head 1", "head 2", "head 3", "head 4"]
    assert [panel.head.itemData(i) for i in range(panel.head.count())] == [None, 0, 1, 2, 3]
    assert panel.hide_special.text() == "Hide [CLS] / [SEP]"
    bundled = load_model().config  # 6 layers x 12 heads
    panel.set_model_info(bundled)
    assert panel.layer.maximum() == 6 and panel.layer.value() == 6
    assert panel.head.count() == 13
    gpt2 = load_model(DATA / "tiny-gpt2").config
    panel.set_model_info(gpt2)
    assert panel.hide_special.text() == "Hide special tokens"
    assert emitted == []


def test_no_model_disables_everything_but_loading_one(qtbot, tiny_bert):
    panel, emitted = panel_for(qtbot, None, model_settings(ablated=((0, 0),)))
    assert panel.summary.text() == NO_MODEL
    for widget in (panel.layer, panel.head, panel.across, panel.hide_special, panel.what_if,
                   panel.scoring, panel.temperature, panel.ablate_button, panel.ablation,
                   panel.reset_button):
        assert not widget.isEnabled(), widget
    assert panel.open_button.isEnabled() and panel.bundled_button.isEnabled()
    panel.set_model_info(tiny_bert)
    assert panel.layer.isEnabled() and panel.reset_button.isEnabled()
    assert not panel.scoring.isEnabled()  # the what-if group is still unchecked
    assert emitted == []


def test_each_control_emits_one_change(qtbot, tiny_bert):
    s = model_settings(layer=1, what_if_layer=1)  # what-if on: its controls are enabled
    panel, emitted = panel_for(qtbot, tiny_bert, s)
    actions = [
        (lambda: qtbot.keyClick(panel.layer, Qt.Key.Key_Down), model_change(s, layer=0)),
        (lambda: panel.head.setCurrentIndex(2), {"selected_head": 1}),
        (lambda: panel.head.setCurrentIndex(0), {"selected_head": None}),
        (lambda: panel.across.setCurrentIndex(panel.across.findData("flow")),
         model_change(s, across_layers="flow")),
        (lambda: tick(qtbot, panel.hide_special),
         model_change(s, hide_special=True)),
        (lambda: panel.scoring.setCurrentIndex(panel.scoring.findData("dot")),
         model_change(s, what_if_scoring="dot")),
        (lambda: panel.normalization.setCurrentIndex(panel.normalization.findData("relu")),
         model_change(s, what_if_normalization="relu")),
        (lambda: panel.temperature.setValue(3.5), model_change(s, what_if_temperature=3.5)),
        (lambda: panel.temperature_slider.setValue(300),
         model_change(s, what_if_temperature=10.0)),
        (lambda: panel.causal.setCurrentIndex(1), model_change(s, what_if_causal=True)),
        (lambda: panel.causal.setCurrentIndex(2), model_change(s, what_if_causal=False)),
        (lambda: tick(qtbot, panel.exclude_self),
         model_change(s, what_if_exclude_self=True)),
        (lambda: panel.ablation.setCurrentIndex(panel.ablation.findData("mean")),
         model_change(s, ablation="mean")),
    ]
    for act, expected in actions:
        emitted.clear()
        act()
        assert emitted == [expected]
    assert all(isinstance(e["model"], ModelSettings) for e in emitted if "model" in e)


def test_what_if_check_changes_the_shown_layer(qtbot, tiny_bert):
    s = model_settings(layer=0)
    panel, emitted = panel_for(qtbot, tiny_bert, s)
    panel.what_if.setChecked(True)
    assert emitted == [model_change(s, what_if_layer=0)]
    on = model_settings(layer=0, what_if_layer=0)
    panel.set_settings(on)
    assert panel.what_if_target.text() == "changes layer 1, the one shown"
    assert panel.move_what_if.isHidden()
    emitted.clear()
    panel.what_if.setChecked(False)
    assert emitted == [model_change(on, what_if_layer=None)]

    elsewhere = model_settings(layer=1, what_if_layer=0)  # the person moved on to layer 2
    panel.set_settings(elsewhere)
    assert panel.what_if.isChecked()
    assert panel.what_if_target.text() == "changes layer 1"
    emitted.clear()
    qtbot.mouseClick(panel.move_what_if, Qt.MouseButton.LeftButton)
    assert emitted == [model_change(elsewhere, what_if_layer=1)]


def test_the_ablate_button_toggles_the_focused_head(qtbot, tiny_bert):
    s = model_settings(layer=1, selected_head=2, ablated=((0, 1),))
    panel, emitted = panel_for(qtbot, tiny_bert, s)
    assert panel.ablate_button.text() == "Ablate head L2·H3" and panel.ablate_button.isEnabled()
    qtbot.mouseClick(panel.ablate_button, Qt.MouseButton.LeftButton)
    assert emitted == [model_change(s, ablated=((0, 1), (1, 2)))]  # in, the others kept

    ablated = model_settings(layer=1, selected_head=2, ablated=((0, 1), (1, 2)))
    panel.set_settings(ablated)
    assert panel.ablate_button.text() == "Restore head L2·H3"
    assert panel.ablated_list.text() == "L1 H2, L2 H3"
    emitted.clear()
    qtbot.mouseClick(panel.ablate_button, Qt.MouseButton.LeftButton)
    assert emitted == [model_change(ablated, ablated=((0, 1),))]  # out again


def test_reset_emits_the_model_without_interventions(qtbot, tiny_bert):
    s = model_settings(layer=0, across_layers="rollout", ablated=((1, 1),), ablation="mean",
                       what_if_layer=1, what_if_temperature=4.0)
    panel, emitted = panel_for(qtbot, tiny_bert, s)
    qtbot.mouseClick(panel.reset_button, Qt.MouseButton.LeftButton)
    assert emitted == [{"model": s.model.without_interventions()}]
    assert emitted[0]["model"].layer == 0  # what is shown stays
    assert emitted[0]["model"].across_layers == "rollout"


def test_the_model_buttons(qtbot, tiny_bert):
    s = model_settings(path=str(DATA / "tiny-bert"), layer=1)
    panel, emitted = panel_for(qtbot, tiny_bert, s)
    requested: list[bool] = []
    panel.open_model_requested.connect(lambda: requested.append(True))
    qtbot.mouseClick(panel.open_button, Qt.MouseButton.LeftButton)
    assert requested == [True] and emitted == []
    qtbot.mouseClick(panel.bundled_button, Qt.MouseButton.LeftButton)
    assert emitted == [model_change(s, path=None)]
    panel.set_settings(model_settings(path=None))
    assert not panel.bundled_button.isEnabled()  # already the bundled model


def test_every_control_says_what_it_sets(qtbot, tiny_bert):
    panel, _ = panel_for(qtbot, tiny_bert, model_settings())
    docs = {f.name: f.metadata["doc"] for f in dataclasses.fields(ModelSettings)}
    expected = {
        panel.open_button: docs["path"], panel.bundled_button: docs["path"],
        panel.layer: docs["layer"], panel.across: docs["across_layers"],
        panel.hide_special: docs["hide_special"], panel.what_if: docs["what_if_layer"],
        panel.scoring: docs["what_if_scoring"],
        panel.normalization: docs["what_if_normalization"],
        panel.temperature: docs["what_if_temperature"], panel.causal: docs["what_if_causal"],
        panel.exclude_self: docs["what_if_exclude_self"], panel.ablate_button: docs["ablated"],
        panel.ablated_list: docs["ablated"], panel.ablation: docs["ablation"],
    }
    for widget, doc in expected.items():
        assert widget.toolTip() == doc, widget
    assert panel.head.toolTip().startswith(field_docs()["selected_head"])
    assert panel.reset_button.toolTip()


def test_format_heads():
    assert format_heads(((1, 2), (4, 11))) == "L2 H3, L5 H12"
    assert format_heads(()) == "none"


def test_a_screenshot(qtbot, tiny_bert, tmp_path):
    panel, _ = panel_for(qtbot, tiny_bert, model_settings(layer=1, selected_head=0,
                                                          what_if_layer=0, ablated=((0, 3),)))
    image = panel.grab().toImage()
    assert image.width() == 330 and image.save(str(tmp_path / "model_controls.png"))


def test_settings_given_while_hidden_are_shown_when_the_page_comes_back(qtbot, tiny_bert):
    """With word vectors the page is hidden and is filled only when it is shown again."""
    panel, emitted = panel_for(qtbot, tiny_bert, model_settings(layer=1))
    panel.hide()
    panel.set_settings(model_settings(layer=0, selected_head=3))
    panel.show()
    assert (panel.layer.value(), panel.head.currentText()) == (1, "head 4")
    assert emitted == []


def test_settings_that_change_nothing_here_repaint_nothing(qtbot, tiny_bert):
    """Every edit of the sentence hands the panel the settings again; Qt's setRange and a line
    edit's setText repaint even when nothing changes (~0.6 ms an edit with their group boxes)."""
    settings = model_settings(layer=1, ablated=((0, 1),))
    panel, _ = panel_for(qtbot, tiny_bert, settings)
    counters = [PaintCounter(w) for w in (panel.summary, panel.layer, panel.ablated_list)]
    for _ in range(40):  # the first paints done: a slow machine takes more than one pass
        before = [c.count for c in counters]
        qtbot.wait(50)
        if [c.count for c in counters] == before:
            break
    for counter in counters:
        counter.count = 0
    panel.set_settings(dataclasses.replace(settings, sentence="another text"))
    qtbot.wait(50)  # the paint pass that follows
    assert [c.count for c in counters] == [0, 0, 0]
    assert panel.ablated_list.text() == format_heads(((0, 1),))
    panel.set_settings(model_settings(layer=0, ablated=()))  # what did change is shown
    qtbot.wait(50)
    assert counters[1].count >= 1 and counters[2].count >= 1
    assert (panel.layer.value(), panel.ablated_list.text()) == (1, format_heads(()))
