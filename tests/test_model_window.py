"""A trained model in the real window (offscreen): choosing the source, stepping layers and
heads with keys, the model view, rollout, ablation and reset, long texts in the background,
sessions and exports. The tiny random BERT keeps most tests fast; one test opens the bundled
all-MiniLM-L6-v2 as a person would."""

from __future__ import annotations

import shutil
from dataclasses import replace

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, QRectF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication
from qt_helpers import TINY_BERT, open_tiny_model

from core.maths.rollout import attention_rollout
from core.transformer import load_model

TEXT = "The animal was not swimming in the sea because it was running"


@pytest.fixture
def window(open_window, tiny_kv):
    return open_window(tiny_kv, size=(1400, 900))


def open_tiny(window, qtbot) -> None:
    """File > Open model folder… on the tiny checkpoint, waited for, on TEXT."""
    open_tiny_model(window, qtbot, TEXT)


def test_choosing_the_trained_model_opens_the_bundled_one(window, qtbot):
    assert not window.tabs.isTabVisible(window.tabs.indexOf(window.model_view))
    index = window.top_bar.source_combo.findData("model")
    window.top_bar.source_combo.setCurrentIndex(index)
    window.top_bar.source_combo.activated.emit(index)  # what a person's pick emits
    qtbot.waitUntil(lambda: window.state.transformer is not None, timeout=30000)
    window.controller.flush()
    a = window.controller.analysis
    assert a.model is not None and a.weights.shape == (12, 18, 18)
    assert "all-MiniLM-L6-v2" in window.top_bar.vectors_label.text()
    assert "6 layers x 12 heads" in window.top_bar.vectors_label.text()
    assert window.tabs.isTabVisible(window.tabs.indexOf(window.model_view))
    assert window.controls_stack.currentWidget().widget() is window.model_controls
    it, animal = a.col_labels.index("it"), a.col_labels.index("animal")
    window.apply(selected_head=11)
    window.controller.flush()
    assert abs(window.controller.analysis.weights[11, it, animal] - 0.678) < 0.01
    window.models.choose_source("vectors")  # and back: the made-up heads of word vectors
    window.controller.flush()
    assert window.controller.analysis.model is None
    assert window.state.settings.n_heads == 4


def test_page_keys_step_layers_and_arrows_step_heads(window, qtbot):
    open_tiny(window, qtbot)
    run = load_model(TINY_BERT).run(TEXT)
    target = window.heatmaps.canvas
    assert window.controller.analysis.model.layer == 1  # the last layer first
    qtbot.keyClick(target, Qt.Key.Key_PageUp)
    window.controller.flush()
    a = window.controller.analysis
    assert a.model.layer == 0
    np.testing.assert_allclose(a.weights, run.attentions[0], atol=1e-6)
    np.testing.assert_allclose(window.heatmaps.image_for(None).image, a.mean_weights)
    qtbot.keyClick(target, Qt.Key.Key_PageUp)  # stays at the first layer
    qtbot.keyClick(target, Qt.Key.Key_Down)
    qtbot.keyClick(target, Qt.Key.Key_Down)
    window.controller.flush()
    assert window.state.settings.model.layer == 0 and window.state.settings.selected_head == 1
    assert window.model_controls.layer.value() == 1  # the controls follow (from 1 on screen)


def test_clicking_a_small_map_of_the_model_view_focuses_that_head(window, qtbot):
    open_tiny(window, qtbot)
    window.tabs.setCurrentWidget(window.model_view)
    qtbot.wait(50)
    rect = window.model_view.map_scene_rect(0, 3)
    view = window.model_view.canvas
    point = view.mapFromScene(rect.center())
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=point)
    window.controller.flush()
    assert window.state.settings.model.layer == 0 and window.state.settings.selected_head == 3


def test_rollout_tab_equals_a_direct_numpy_rollout(window, qtbot):
    open_tiny(window, qtbot)
    a = window.controller.analysis
    run = a.model.run
    # Rollout by hand: per layer the head mean, half identity, rows renormalised, multiplied.
    n = len(run.tokens)
    product = np.eye(n)
    for layer in run.attentions.astype(np.float64):
        mixed = 0.5 * layer.mean(axis=0) + 0.5 * np.eye(n)
        product = (mixed / mixed.sum(axis=1, keepdims=True)) @ product
    np.testing.assert_allclose(a.model.across, product, atol=1e-5)
    np.testing.assert_allclose(attention_rollout(run.attentions)[-1], product, atol=1e-5)
    window.apply(model=replace(window.state.settings.model, across_layers="flow"))
    window.controller.flush()
    flow = window.controller.analysis.model
    assert flow.across.shape == (1, n) and "flow" in flow.across_title.lower()
    assert "rounded" in flow.across_note


def test_the_show_box_and_the_across_layers_tab_are_one_choice(window, qtbot):
    open_tiny(window, qtbot)
    show, tabs = window.model_controls.across, window.tabs

    def click_tab(widget) -> None:
        bar = tabs.tabBar()
        qtbot.mouseClick(bar, Qt.MouseButton.LeftButton,
                         pos=bar.tabRect(tabs.indexOf(widget)).center())
        window.controller.flush()

    assert tabs.currentWidget() is window.heatmaps and show.currentData() == "layer"
    show.setCurrentIndex(show.findData("flow"))  # the person picks flow in the Show box
    window.controller.flush()
    assert tabs.currentWidget() is window.across  # ... and sees it, not the heatmaps
    assert "flow" in window.across.title.text().lower()
    click_tab(window.lines)  # another tab: the box says what is on screen again
    assert window.state.settings.model.across_layers == "layer"
    assert show.currentData() == "layer"
    click_tab(window.across)  # back to the tab: the method last used there
    assert window.state.settings.model.across_layers == "flow" and show.currentData() == "flow"
    show.setCurrentIndex(show.findData("layer"))
    window.controller.flush()
    assert tabs.currentWidget() is window.heatmaps
    # Word vectors hide the tab; back on the model, rollout or flow in the settings opens it.
    window.apply(model=replace(window.state.settings.model, across_layers="rollout"))
    window.apply(source="vectors")
    assert not tabs.isTabVisible(tabs.indexOf(window.across))
    assert window.state.settings.model.across_layers == "rollout"  # kept for the model
    window.apply(source="model")
    qtbot.waitUntil(lambda: window.state.transformer is not None, timeout=20000)
    assert tabs.currentWidget() is window.across


def test_the_matrices_with_special_tokens_hidden_are_over_every_token(window, qtbot):
    """With [CLS] / [SEP] hidden, O = V A' holds only over every key: the Matrices tab shows the
    layer's real matrices, the hidden tokens named so, and its O equals V A' to the last bit of
    float32 arithmetic, its A' columns sum to 1."""
    open_tiny(window, qtbot)
    window.apply(model=replace(window.state.settings.model, hide_special=True), selected_head=1)
    window.controller.flush()
    dock = window.computation.dock
    dock.tabs.setCurrentIndex(1)  # Matrices I -> Q, K, V -> A, A' -> O
    data = dock.matrices._data
    run = window.controller.analysis.model.run
    n = len(run.tokens)
    a_prime, v, o = (data.by_symbol(s).array for s in ("A′", "V", "O"))
    assert a_prime.shape == (n, n)  # every key, every query
    np.testing.assert_allclose(a_prime.sum(axis=0), 1.0, atol=1e-5)
    np.testing.assert_allclose(v.astype(np.float64) @ a_prime, o, atol=1e-5)
    labels = data.by_symbol("A′").col_labels
    assert labels[0] == "[CLS] (hidden)" and labels[-1] == "[SEP] (hidden)"
    assert labels[data.query_row] == "it"
    it = run.tokens.index("it")
    np.testing.assert_array_equal(a_prime[:, data.query_row], run.attentions[-1, 1, it])
    # The head statistics are of that whole row too (the shown weights sum to less than 1).
    p = run.attentions[-1, :, it].astype(np.float64)  # (H, n)
    entropy = -(p * np.log(np.where(p > 0, p, 1))).sum(axis=1)
    statistics = dock.panel.statistics
    for head in range(p.shape[0]):
        assert statistics.head_row_texts(head)[0] == f"{entropy[head]:.2f}"
        assert statistics.head_row_texts(head)[2] == f"{p[head].max():.3f}"


def test_ablating_a_head_moves_later_layers_and_reset_restores(window, qtbot):
    open_tiny(window, qtbot)
    before = window.controller.analysis
    window.apply(selected_head=2, model=replace(window.state.settings.model, layer=0))
    window.controller.flush()
    window.model_controls.ablate_button.click()  # ablate the focused head, layer 1 head 3
    window.controller.flush()
    after = window.controller.analysis
    assert window.state.settings.model.ablated == ((0, 2),)
    assert after.model.head_shift[0].max() == 0 and after.model.head_shift[1].max() > 0
    assert after.model.embedding_cosine < 1
    assert window.model_view.ablated_heads() == {(0, 2)}
    # The step panel says so, and shows the head output the layer used: zero.
    panel = window.computation.dock.panel
    assert "head 3 of 4 (ablated: output zeroed)" in panel.title_text()
    assert not panel.steps().head_output.any() and panel.steps().weighted_sum.any()
    window.model_controls.reset_button.click()
    window.controller.flush()
    restored = window.controller.analysis
    assert window.state.settings.model.ablated == () and restored.model.head_shift is None
    np.testing.assert_array_equal(restored.model.run.attentions, before.model.run.attentions)
    assert "ablated" not in panel.title_text()


def test_the_status_says_the_hidden_tokens_share_of_the_querys_weight(window, qtbot):
    open_tiny(window, qtbot)
    window.apply(selected_head=1, model=replace(window.state.settings.model, hide_special=True))
    window.controller.flush()
    a = window.controller.analysis
    share = float(a.model.hidden_share[1, a.query_row])
    assert f"hidden special tokens take {share:.0%} of the weight of 'it' in head 2" in \
        window.status.message.text()
    # The step panel's Σ runs over every key: the hidden ones are a row of their own.
    panel, n = window.computation.dock.panel, len(a.col_labels)
    assert panel.cell_text(n, 0) == "hidden: [CLS], [SEP]"
    assert panel.cell_text(n + 1, 5) == "Σ 1"


def test_a_long_text_runs_in_the_background_and_a_newer_edit_wins(window, qtbot):
    open_tiny(window, qtbot)
    window.controller.sync_tokens = 16  # the tiny model takes 64 tokens: "long" is past 16 here
    long_text = " ".join(["the animal was not swimming"] * 8)  # 42 tokens
    window.apply(sentence=long_text)
    window.controller.flush()
    assert window.controller.jobs.busy("forward")
    assert window.model_view.stale_message() == "updating…"
    assert window.updating.isVisible() and "42 tokens" in window.updating.text()
    window.apply(sentence=long_text + " in the sea")  # before the first one is done
    window.controller.flush()
    qtbot.waitUntil(lambda: not window.controller.jobs.busy("forward"), timeout=20000)
    window.controller.flush()
    a = window.controller.analysis
    assert a.settings.sentence == long_text + " in the sea"
    assert a.col_labels[-2:] == ["sea", "[SEP]"]
    assert window.model_view.stale_message() is None
    qtbot.waitUntil(lambda: not window.updating.isVisible(), timeout=2000)  # a turn later


def test_a_broken_model_folder_is_refused_and_the_window_keeps_its_model(window, qtbot,
                                                                         tmp_path, errors):
    open_tiny(window, qtbot)
    window.controller.settle()  # now, not by its timer while the folder fails (a busy machine)
    shown = window.controller.analysis
    broken = tmp_path / "broken"
    shutil.copytree(TINY_BERT, broken)
    (broken / "config.json").write_text('{"model_type": "t5"}')
    window.models.open(str(broken))
    # The message itself: the loading thread is done a moment before its failure reaches the
    # window, so waiting for "not opening" raced the dialog.
    qtbot.waitUntil(lambda: bool(errors), timeout=20000)
    assert "model_type 't5' is not supported" in errors[-1]
    assert not window.models.opening
    window.controller.flush()
    assert window.state.transformer is not None and window.controller.analysis is shown


def test_a_session_remembers_the_model_layer_head_and_ablations(window, qtbot, tmp_path):
    open_tiny(window, qtbot)
    window.apply(selected_head=1, model=replace(window.state.settings.model, layer=0,
                                                 ablated=((1, 3),)))
    window.controller.flush()
    path = tmp_path / "model.aexp.json"
    assert window.sessions.save_to(str(path))
    window.apply(selected_head=None, model=replace(window.state.settings.model, layer=1,
                                                    ablated=()))
    window.controller.flush()
    assert window.sessions.open(str(path))
    window.controller.flush()
    s = window.state.settings
    assert (s.source, s.model.path, s.model.layer, s.selected_head, s.model.ablated) == \
        ("model", TINY_BERT, 0, 1, ((1, 3),))
    assert window.controller.analysis.model.layer == 0


def test_the_model_view_and_rollout_export_as_figures(window, qtbot, tmp_path):
    open_tiny(window, qtbot)
    for key in ("model", "across"):
        window.tabs.setCurrentWidget(window.model_view if key == "model" else window.across)
        for suffix in (".png", ".svg"):
            path = tmp_path / f"{key}{suffix}"
            window.exports.write_figure(key, str(path))
            assert path.stat().st_size > 1000
    assert b"<svg" in (tmp_path / "model.svg").read_bytes()[:400]
    for key in ("model", "across"):  # "Point at a cell to read it." is no part of a figure
        assert ">Point at" not in (tmp_path / f"{key}.svg").read_text("utf-8")
    assert window.across.readout.isVisibleTo(window)  # shown again after the export


def test_typing_leaves_the_nearest_tokens_for_when_the_changes_stop(window, qtbot):
    open_tiny(window, qtbot)
    window.apply(sentence=TEXT + " again")
    window.controller.flush()  # a live update: the 30,522-token search is left out
    a = window.controller.analysis
    assert not a.coords.neighbours_settled and a.coords.neighbours == ()
    qtbot.waitUntil(lambda: window.controller.analysis.coords.neighbours_settled, timeout=5000)
    words = [w for w, *_ in window.controller.analysis.coords.neighbours]
    assert len(words) >= 5 and not set(words) & set(a.model.run.tokens)


def test_the_about_box_names_the_bundled_models_licence(window, monkeypatch):
    from explorer.commands import dialogs

    shown = []
    monkeypatch.setattr(dialogs.QMessageBox, "about", lambda _p, _t, text: shown.append(text))
    help_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Help")
    help_menu.actions()[0].trigger()
    assert "all-MiniLM-L6-v2" in shown[0] and "Apache License 2.0" in shown[0]
    assert "microsoft/MiniLM-L6-H384-uncased" in shown[0]


def test_no_two_actions_share_a_shortcut(window):
    """An ambiguous shortcut fires neither action (Qt says so only on stderr)."""
    from PySide6.QtGui import QAction

    keys = [s.toString() for action in window.findChildren(QAction) for s in action.shortcuts()
            if not s.isEmpty()]
    assert len(keys) == len(set(keys)), sorted(k for k in keys if keys.count(k) > 1)
    assert "Ctrl+Alt+O" in keys  # open a model folder


def test_toy_mode_brings_the_word_vectors_back(window, qtbot):
    open_tiny(window, qtbot)
    window.edits.switch_mode("toy")
    window.controller.flush()
    s = window.state.settings
    assert (s.mode, s.source, s.n_heads) == ("toy", "vectors", 4)
    assert window.controller.analysis.model is None


def test_the_latent_map_keeps_one_frame_while_stepping_layers(window, qtbot):
    open_tiny(window, qtbot)  # the default projection: one PCA of every layer
    vb = window.latent.getPlotItem().vb
    last = QRectF(vb.viewRect())
    tokens_last = np.column_stack(window.latent.tokens.getData())
    qtbot.keyClick(window.heatmaps.canvas, Qt.Key.Key_PageUp)
    window.controller.flush()
    tokens_first = np.column_stack(window.latent.tokens.getData())
    assert not np.allclose(tokens_first, tokens_last)  # the points moved ...
    assert vb.viewRect() == last  # ... across a still map
    for xy in (tokens_first, tokens_last):
        assert all(last.contains(QPointF(x, y)) for x, y in xy)
    latent = window.latent
    centre = latent.mapFromScene(vb.mapViewToScene(vb.viewRect().center()))
    QApplication.sendEvent(latent.viewport(), QWheelEvent(  # the person zooms in
        QPointF(centre), QPointF(latent.mapToGlobal(centre)), QPoint(0, 0), QPoint(0, 240),
        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase,
        False))
    zoomed = QRectF(vb.viewRect())
    assert latent.zoomed_by_person and zoomed.width() < last.width()
    qtbot.keyClick(window.heatmaps.canvas, Qt.Key.Key_PageDown)
    window.controller.flush()
    assert vb.viewRect() == zoomed  # another layer on the same map: the zoom stays
    window.apply(projection="pca_view")  # a PCA per layer: each layer is fitted anew
    window.controller.flush()
    fitted = QRectF(vb.viewRect())
    qtbot.keyClick(window.heatmaps.canvas, Qt.Key.Key_PageUp)
    window.controller.flush()
    assert vb.viewRect() != fitted
