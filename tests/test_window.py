"""The real window, offscreen: controls -> state -> controller -> views, clicks, keys, loading,
remembering. The tiny vector table is used unless the test is about the real default set."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent, QKeySequence
from qt_helpers import click_chip

from core.settings import Settings
from explorer.commands import dialogs
from explorer.main_window import MainWindow
from explorer.persistence import ENV_VAR, Store

ROOT = Path(__file__).resolve().parents[1]


def make_window(qtbot, tmp_path, kv=None, settings: Settings | None = None,
                resize: bool = True) -> MainWindow:
    window = MainWindow(settings, Store(str(tmp_path / "settings.ini")), str(tmp_path / "cache"))
    qtbot.addWidget(window)
    if resize:
        window.resize(1200, 800)
    window.show()
    if kv is not None:
        window.set_vectors(kv, None)
        window.controller.flush()
    return window


@pytest.fixture
def window(qtbot, tmp_path, tiny_kv, errors):
    w = make_window(qtbot, tmp_path, tiny_kv)
    yield w
    w.shutdown()  # no thread may outlive its test: Qt aborts then


def settle(window: MainWindow) -> None:
    """Run the coalesced recompute now instead of waiting for the frame timer."""
    window.controller.flush()


def mean_image(window: MainWindow) -> np.ndarray:
    return np.array(window.heatmaps.image_for(None).image)


# ------------------------------------------------------------------------------ first screen
def test_first_screen_shows_the_default_sentence(window):
    a = window.controller.analysis
    assert a is not None and a.query.text == "it" and a.weights.shape[0] == 4
    assert [c.token.text for c in window.token_strip.chips][:2] == ["The", "animal"]
    assert window.heatmaps.small_heatmap(3).plot.isVisible()
    assert "tokens x 4 heads in" in window.status.message.text()
    assert window.top_bar.sentence_edit.text() == Settings().sentence
    assert "tiny test vectors" in window.top_bar.vectors_label.text()


# ------------------------------------------------------------------------------ controls
def test_temperature_changes_the_heatmaps(window):
    before = mean_image(window)
    window.controls.temperature.setValue(0.05)
    settle(window)
    assert window.state.settings.temperature == pytest.approx(0.05)
    assert not np.allclose(mean_image(window), before)
    window.controls.temperature_slider.setValue(400)  # the slider's top end is T = 100
    settle(window)
    assert window.controls.temperature.value() == pytest.approx(100.0)
    row = window.controller.analysis.query_row
    assert np.ptp(mean_image(window)[row]) < 0.05  # a hot softmax is nearly uniform


def test_a_temperature_change_repaints_the_views_not_the_tabs_around_them(window, qtbot):
    """Only what changed is painted again: the tab widget around the heatmaps is not laid out
    and painted anew (with everything on its page) at every change of a setting."""
    from PySide6.QtCore import QEvent, QObject

    class Paints(QObject):
        count = 0
        rects: list = []  # noqa: RUF012 (one instance per view, reset with count)

        def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
            if event.type() == QEvent.Type.Paint:
                self.count += 1
                self.rects = [*self.rects, event.rect()]
            return False

    tabs, heatmaps = Paints(), Paints()
    window.tabs.installEventFilter(tabs)
    window.heatmaps.canvas.viewport().installEventFilter(heatmaps)
    for _ in range(30):  # until the window's first paints are over: 100 ms without a tab paint
        tabs.count = 0
        qtbot.wait(100)
        if tabs.count == 0:
            break
    assert tabs.count == 0
    window.controls.temperature.setValue(0.5)
    settle(window)
    qtbot.waitUntil(lambda: heatmaps.count > 0, timeout=2000)  # the new weights are drawn
    qtbot.wait(50)
    # A pointer left over the maps by an earlier test reads the new weight under it: only the
    # readout's strip of the page may be painted again, never the page around the views.
    readout = window.heatmaps.hover_label
    strip = readout.rect().translated(readout.mapTo(window.tabs, readout.rect().topLeft()))
    outside = [rect for rect in tabs.rects[len(tabs.rects) - tabs.count:]
               if not strip.contains(rect)]
    assert not outside, f"the tab widget painted {outside}"


def test_number_of_heads_changes_the_number_of_heatmaps(window):
    window.controls.n_heads.setValue(2)
    settle(window)
    assert window.controller.analysis.weights.shape[0] == 2
    assert window.heatmaps.small_heatmap(1).plot.isVisible()
    assert not window.heatmaps.small_heatmap(2).plot.isVisible()
    assert window.controls.selected_head.count() == 3  # mean, head 1, head 2
    assert window.controls.n_heads.maximum() == 8  # the tiny vectors are 8 wide


def choose(combo, name: str) -> None:
    combo.setCurrentIndex(combo.findData(name))


@pytest.mark.parametrize(("control", "value", "field"), [
    ("scoring", "cosine", "scoring"), ("normalization", "sparsemax", "normalization"),
    ("head_strategy", "identity", "head_strategy"), ("oov_policy", "zero", "oov_policy"),
    ("projection", "pca_view", "projection"),
])
def test_each_combo_reaches_the_analysis(window, control, value, field):
    choose(getattr(window.controls, control), value)
    settle(window)
    assert getattr(window.controller.analysis.settings, field) == value


def test_masks_and_head_settings(window):
    window.controls.causal.setChecked(True)
    settle(window)
    w = window.controller.analysis.weights
    assert np.allclose(np.triu(w[:, : w.shape[2], :], k=1), 0.0)  # no token sees the future
    window.controls.causal.setChecked(False)
    window.controls.exclude_self.setChecked(True)
    settle(window)
    w = window.controller.analysis.weights
    assert np.allclose(np.einsum("hii->hi", w[:, : w.shape[2], :]), 0.0)
    before = window.controller.analysis.weights
    window.controls.seed.setValue(5)
    settle(window)
    assert not np.allclose(window.controller.analysis.weights, before)
    window.controls.d_k.setValue(1)
    settle(window)
    assert window.controller.analysis.heads.d_k == 1
    window.controls.d_k.setValue(0)  # "auto"
    settle(window)
    assert window.state.settings.d_k is None


def test_a_head_that_gives_the_query_no_weight_has_no_mix_on_the_map(window):
    """Causal and exclude-self leave the first word nothing to attend to: no head mixes any
    token, so no head's triangle (it would sit where the zero vector projects) or label."""
    first = window.state.settings.sentence.split()[0]
    window.apply(causal=True, exclude_self=True, query=first, query_index=0)
    settle(window)
    a = window.controller.analysis
    assert a.query_row == 0 and a.result.empty_rows[:, 0].all()
    assert "gives no weight" in window.status.message.text()
    assert len(window.latent.head_mixes.getData()[0]) == 0
    window.latent.grab()
    painted = [text for text, _ in window.latent.labels.painted]
    assert not any(text.startswith("h") and text[1:].isdigit() for text in painted), painted
    assert first.lower() in {t.lower() for t in painted} and "output" in painted
    window.apply(exclude_self=False)  # the word sees itself again: every head mixes it
    settle(window)
    x, y = window.latent.head_mixes.getData()
    np.testing.assert_allclose(np.c_[x, y], window.controller.analysis.coords.head_mixes)


def test_head_selector_and_neighbours(window):
    window.controls.selected_head.setCurrentIndex(2)  # head 2
    settle(window)
    assert window.state.settings.selected_head == 1
    window.controls.show_neighbours.setChecked(False)
    settle(window)
    assert window.controller.analysis.coords.neighbours == ()
    assert window.latent.neighbour_labels.texts == []


def test_latent_point_hover_names_the_nearest_words(window, tiny_kv):
    from core.pipeline import NEIGHBOURS
    from core.vectors.load import nearest_neighbours

    tip = window.latent.tokens.opts["tip"]  # what pyqtgraph shows on hovering a word's point
    near = nearest_neighbours(tiny_kv, tiny_kv["sea"], NEIGHBOURS, exclude={"sea"})
    expected = [word for word, _ in near]
    assert tip(0.0, 0.0, "sea") == f"sea\nnearest words: {', '.join(expected)}"
    query_tip = window.latent.query.opts["tip"](0.0, 0.0, "it")
    assert query_tip.startswith("query: it\nnearest words: ")


def test_output_neighbours_settle_after_a_drag(window, qtbot, tiny_kv):
    from core.pipeline import Pipeline

    for t in (0.5, 0.2, 0.05):  # a drag: live updates
        window.controls.temperature.setValue(t)
        settle(window)
    assert window.state.settings.temperature == pytest.approx(0.05)
    qtbot.waitUntil(lambda: window.controller.analysis.coords.neighbours_settled, timeout=2000)
    fresh = Pipeline(tiny_kv).run(window.state.settings)
    assert window.controller.analysis.coords.neighbours == fresh.coords.neighbours
    shown = {w for w, *_ in fresh.coords.neighbours if any(c.isalpha() for c in w)}
    assert set(window.latent.neighbour_labels.texts) == shown


def test_word_axes_for_heads_and_map(window, qtbot):
    choose(window.controls.head_strategy, "axes")
    window.controls.head_axes.clear()
    qtbot.keyClicks(window.controls.head_axes, "wine-food, sea - land")
    choose(window.controls.projection, "axes")
    settle(window)
    assert window.state.settings.head_axes == (("wine", "food"), ("sea", "land"))
    assert window.controller.analysis.coords.axis_labels[0].startswith("drink")


def test_heads_from_a_file_and_ctrl_o(window, monkeypatch, tmp_path):
    d = 8  # the tiny vectors' width; 4 heads x d_k = 2
    path = tmp_path / "heads.npz"
    eye = np.eye(d, dtype=np.float32)
    np.savez(path, w_q=eye, w_k=eye[::-1].copy(), w_v=eye, w_o=eye)
    monkeypatch.setattr(dialogs, "choose_heads_file", lambda _parent: str(path))
    window.controls.heads_file_button.click()
    settle(window)
    assert window.state.settings.heads_file == str(path)
    assert window.controller.analysis.heads.strategy == "file"
    assert window.controls.heads_file_button.text() == "heads.npz"
    asked: list[str] = []
    monkeypatch.setattr(dialogs, "choose_vectors_file", lambda _p, start: asked.append(start))
    assert window.vectors.open_action.shortcut() == QKeySequence(QKeySequence.StandardKey.Open)
    window.vectors.open_action.trigger()
    assert asked == [""] and not window.loader.busy  # cancelled: nothing is loaded


def test_a_data_export_chosen_as_heads_is_read_as_the_heads_it_holds(window, monkeypatch,
                                                                      tmp_path):
    """Its W_Q says nothing of how its columns split into heads; read with the window's 4 heads,
    a 2-head export was silently cut into 4 other heads (the command line refuses that)."""
    from core.files.export_data import export_npz

    window.apply(n_heads=2, head_strategy="random", seed=3)
    settle(window)
    exported = window.controller.analysis
    path = tmp_path / "two_heads.npz"
    export_npz(exported, path)
    window.apply(n_heads=4, head_strategy="identity")
    settle(window)
    monkeypatch.setattr(dialogs, "choose_heads_file", lambda _parent: str(path))
    window.controls.heads_file_button.click()
    settle(window)
    a = window.controller.analysis
    assert window.state.settings.n_heads == 2 and window.controls.n_heads.value() == 2
    assert a.heads.strategy == "file" and a.weights.shape[0] == 2
    np.testing.assert_allclose(a.weights, exported.weights, atol=1e-6)  # the same heads again


def test_set_settings_does_not_echo(window, qtbot):
    with qtbot.assertNotEmitted(window.controls.changed):
        window.controls.set_settings(Settings(n_heads=2, temperature=3.0, causal=True))


# ------------------------------------------------------------------------------ typing
def test_typing_a_sentence_updates_the_tokens(window, qtbot):
    edit = window.top_bar.sentence_edit
    edit.clear()
    qtbot.keyClicks(edit, "the cat sat on the mat")
    qtbot.waitUntil(lambda: not window.controller.pending, timeout=2000)
    assert [c.token.text for c in window.token_strip.chips] == "the cat sat on the mat".split()
    assert window.state.settings.sentence == "the cat sat on the mat"
    assert window.controller.analysis.query.position is None  # "it" is now an outside word


def test_bad_query_marks_the_field_and_keeps_the_views(window, qtbot):
    good = window.controller.analysis
    window.top_bar.query_edit.clear()
    qtbot.keyClicks(window.top_bar.query_edit, "qqq")
    settle(window)
    assert window.controller.analysis is good
    assert "qqq" in window.status.message.text()
    assert "d62728" in window.top_bar.query_edit.styleSheet()
    window.top_bar.query_edit.clear()
    qtbot.keyClicks(window.top_bar.query_edit, "sea")
    settle(window)
    assert window.top_bar.query_edit.styleSheet() == ""


def test_query_completer_suggests_vocabulary_words(window, qtbot):
    edit = window.top_bar.query_edit
    edit.clear()
    qtbot.keyClicks(edit, "s")
    assert {"swimming", "sea", "street"} <= set(window.top_bar.suggestions())
    window.top_bar.completer.activated[str].emit("salmon")
    settle(window)
    assert window.state.settings.query == "salmon" and edit.text() == "salmon"


# ------------------------------------------------------------------------------ clicking
def test_clicks_make_a_token_the_query(window, qtbot):
    click_chip(qtbot, window.token_strip, window.token_strip.used_chips[1])
    settle(window)
    assert window.state.settings.query == "animal"
    assert window.top_bar.query_edit.text() == "animal"
    window.lines.token_clicked.emit(7)
    settle(window)
    assert window.state.settings.query == "sea"
    window.latent.point_clicked.emit(4)
    settle(window)
    assert window.state.settings.query == "swimming"
    window.heatmaps.cell_clicked.emit(13, 2)  # the third "the": repeated words keep their place
    settle(window)
    assert (window.state.settings.query, window.state.settings.query_index) == ("the", 13)
    assert window.controller.analysis.query_row == 13 and window.state.inspected_col == 2
    window.heatmaps.head_selected.emit(3)
    settle(window)
    assert window.state.settings.selected_head == 3
    assert window.controls.selected_head.currentIndex() == 4


# ------------------------------------------------------------------------------ keyboard
def test_arrow_keys_move_the_query_and_the_head(window, qtbot):
    target = window.heatmaps.canvas  # a plot has the focus, as after clicking it
    qtbot.keyClick(target, Qt.Key.Key_Right)
    settle(window)
    assert window.state.settings.query == "was" and window.state.settings.query_index == 10
    qtbot.keyClick(target, Qt.Key.Key_Left)
    qtbot.keyClick(target, Qt.Key.Key_Left)
    settle(window)
    assert window.state.settings.query == "because"
    qtbot.keyClick(window, Qt.Key.Key_Down)
    qtbot.keyClick(window, Qt.Key.Key_Down)
    assert window.state.settings.selected_head == 1
    qtbot.keyClick(window, Qt.Key.Key_Up)
    qtbot.keyClick(window, Qt.Key.Key_Up)
    qtbot.keyClick(window, Qt.Key.Key_Up)  # stops at the mean
    assert window.state.settings.selected_head is None
    qtbot.keyClick(window.top_bar.sentence_edit, Qt.Key.Key_Left)  # a text field keeps its keys
    settle(window)
    assert window.state.settings.query == "because"


# ------------------------------------------------------------------------------ loading
def write_vectors(path: Path, words: list[str], dim: int = 6) -> Path:
    from gensim.models import KeyedVectors

    kv = KeyedVectors(dim)
    kv.add_vectors(words, np.random.default_rng(1).standard_normal((len(words), dim)))
    kv.save_word2vec_format(str(path))
    return path


def test_open_a_good_file_then_a_bad_one(window, qtbot, tmp_path, errors):
    words = "the animal was not swimming in sea because it running on street .".split()
    good = write_vectors(tmp_path / "good.txt", words)
    with qtbot.waitSignal(window.loader.loaded, timeout=20000):
        assert window.load_vectors(str(good))
    settle(window)
    assert window.state.kv.vector_size == 6 and window.controller.analysis.weights.shape[0] == 4
    assert window.state.settings.vectors_path == str(good)
    assert "6 dims" in window.top_bar.vectors_label.text()
    assert window.store.last_vectors() == (str(good), False)
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"\x00\xff garbage \x13\x37" * 50)
    with qtbot.waitSignal(window.loader.failed, timeout=20000):
        window.load_vectors(str(bad))
    assert errors and "bad.txt" in errors[-1]
    assert window.state.kv.vector_size == 6  # the previous vectors stay
    assert window.state.settings.vectors_path == str(good)
    qtbot.waitUntil(lambda: not window.loader._jobs, timeout=5000)


def test_cancel_a_load(window, qtbot, monkeypatch, tiny_kv, tmp_path):
    from core.vectors import load as embeddings

    def slow_load(path, fmt, *, trust_pickle, progress, cancel, cache_dir):  # noqa: ARG001
        progress(0.3)
        while not cancel():
            time.sleep(0.01)
        raise embeddings.LoadCancelled("cancelled")

    monkeypatch.setattr(embeddings, "load_vectors", slow_load)
    with qtbot.waitSignal(window.loader.progress, timeout=5000):
        window.load_vectors(str(tmp_path / "huge.txt"))
    assert window.status.cancel_button.isVisibleTo(window)
    with qtbot.waitSignal(window.loader.cancelled, timeout=5000):
        qtbot.mouseClick(window.status.cancel_button, Qt.MouseButton.LeftButton)
    assert "cancelled" in window.status.message.text().lower()
    assert window.state.kv is tiny_kv and not window.loader.busy


def test_pickled_files_need_trust_and_drops_load(window, qtbot, tmp_path, errors):
    assert not window.load_vectors(str(tmp_path / "model.kv"))  # ask_trust said no
    assert not window.loader.busy
    words = "the animal was it sea".split()
    dropped = write_vectors(tmp_path / "dropped.txt", words)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(dropped))])
    event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime,
                       Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    with qtbot.waitSignal(window.loader.loaded, timeout=20000):
        window.dropEvent(event)
    assert len(window.state.kv.index_to_key) == 5


def test_real_default_vectors_load_in_the_background(qtbot, tmp_path, errors):
    window = make_window(qtbot, tmp_path)
    try:
        with qtbot.waitSignal(window.loader.loaded, timeout=60000):
            window.load_vectors(None)
            assert window.loader.busy  # returned at once: the load runs in the thread
        settle(window)
        a = window.controller.analysis
        assert a.vectors_name == "GloVe 6B 50d" and a.query.text == "it"
        assert "400,000 words" in window.top_bar.vectors_label.text()
        assert "each of the 4 heads mixes all 50 dimensions into d_k = 12" in \
            window.status.message.text()  # random heads: no dimension is left out
        window.top_bar.query_edit.clear()
        qtbot.keyClicks(window.top_bar.query_edit, "swim")
        assert window.top_bar.suggestions()[0] == "swimming"
    finally:
        window.shutdown()
    assert not window.loader._jobs and not window.loader.busy


# ------------------------------------------------------------------------------ remembering
def test_settings_and_layout_are_remembered(qtbot, tmp_path, tiny_kv, errors):
    first = make_window(qtbot, tmp_path, tiny_kv)
    first.controls.temperature.setValue(2.5)
    first.controls.n_heads.setValue(2)
    first.resize(1000, 650)  # the offscreen screen is 800 x 800: only the height fits
    first.main_splitter.setSizes([150, 400])
    splitter = first.main_splitter.sizes()
    first.close()
    store = Store(str(tmp_path / "settings.ini"))
    saved = store.settings()
    assert saved is not None and saved.temperature == 2.5 and saved.n_heads == 2
    assert store.last_vectors() == (None, False)
    second = make_window(qtbot, tmp_path, tiny_kv, saved, resize=False)
    assert second.height() == 650 and second.main_splitter.sizes() == splitter
    assert second.controls.temperature.value() == 2.5
    second.shutdown()


# ------------------------------------------------------------------------------ command line
def test_command_line_errors_are_one_line(capsys):
    import main

    for argv in (["--heads", "0"], ["--temperature", "1000"], ["--scoring", "nope"]):
        with pytest.raises(SystemExit) as exit_info:
            main.main(argv)
        assert exit_info.value.code == 2
        err = capsys.readouterr().err
        assert err.startswith("error: ") and err.count("\n") == 1
    args = main.build_parser().parse_args(["--heads", "2", "--causal", "--query", "sea"])
    assert main.settings_from_args(args) == Settings(n_heads=2, causal=True, query="sea")


def test_screenshot_of_the_window(tmp_path):
    words = "the animal was not swimming in sea because it running on street .".split()
    vectors = write_vectors(tmp_path / "small.txt", words, dim=8)
    out = tmp_path / "window.png"
    env = {"QT_QPA_PLATFORM": "offscreen", "PYQTGRAPH_QT_LIB": "PySide6",
           ENV_VAR: str(tmp_path / "s.ini"), "XDG_CACHE_HOME": str(tmp_path / "cache")}
    result = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "--vectors", str(vectors), "--screenshot",
         str(out), "--size", "1000x640"],
        env={**os.environ, **env}, capture_output=True, text=True, timeout=120, cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    from PySide6.QtGui import QImage

    image = QImage(str(out))
    assert (image.width(), image.height()) == (1000, 640)
