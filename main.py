"""Attention Explorer: see how (multi-head, scaled dot-product) attention works on word vectors.

``python main.py`` opens the window; ``--screenshot out.png`` renders it offscreen and exits.
Qt, pyqtgraph and gensim are imported only when the window starts, so ``--help`` is instant.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from core.settings import NORMALIZATIONS, SCORINGS, Settings, SettingsError

DESCRIPTION = """\
Explore attention on real pretrained word vectors. Type a context sentence, pick a query word and
watch per-head attention heatmaps, the sentence coloured by attention, and a 2D map of the latent
space update live as you change heads, scoring, normalisation, temperature and masks.
Without --vectors the bundled GloVe 6B 50d vectors (400,000 words) are used.
"""
EPILOG = """\
keys: Ctrl+O open vectors, Left/Right move the query along the sentence, Up/Down step through
the heads (mean, 1..h), Ctrl+Q quit. Settings are remembered between runs.
"""
SCREENSHOT_TIMEOUT_MS = 120_000


class _Parser(argparse.ArgumentParser):
    """Reports a bad option as one line, "error: ...", with exit status 2 (no usage dump)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="attention-explorer", description=DESCRIPTION, epilog=EPILOG,
                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--vectors", metavar="PATH",
                   help="word-vector file (word2vec text/binary, GloVe text, fastText .vec/.bin)")
    p.add_argument("--sentence", metavar="TEXT", help="the context sentence")
    p.add_argument("--query", metavar="WORD", help="the query word (a sentence word or any word)")
    p.add_argument("--heads", metavar="N", type=int, help="number of attention heads")
    p.add_argument("--scoring", choices=SCORINGS, help="how a query and a key are compared")
    p.add_argument("--normalization", choices=NORMALIZATIONS,
                   help="how scores become weights")
    p.add_argument("--temperature", type=float, metavar="T",
                   help="logits are divided by T before normalisation (0.01..100)")
    p.add_argument("--causal", action="store_true", help="tokens attend only to earlier ones")
    p.add_argument("--fresh", action="store_true",
                   help="start from the default settings instead of the remembered ones")
    p.add_argument("--screenshot", metavar="PATH.png",
                   help="render the window offscreen once the views are drawn, save it, exit")
    p.add_argument("--size", metavar="WxH", default="1400x900",
                   help="window size for --screenshot (default 1400x900)")
    return p


def settings_from_args(args: argparse.Namespace, base: Settings | None = None) -> Settings:
    """``base`` (default: the defaults) with the options given on the command line applied."""
    changes: dict[str, Any] = {}
    for option, field in (("sentence", "sentence"), ("query", "query"), ("heads", "n_heads"),
                          ("scoring", "scoring"), ("normalization", "normalization"),
                          ("temperature", "temperature")):
        value = getattr(args, option)
        if value is not None:
            changes[field] = value
    if args.causal:
        changes["causal"] = True
    if "query" in changes:
        changes["query_index"] = None
    if args.vectors:
        changes["vectors_path"] = os.path.abspath(args.vectors)
    base = base if base is not None else Settings()
    n_heads = changes.get("n_heads", base.n_heads)
    if base.selected_head is not None and n_heads <= base.selected_head:
        changes["selected_head"] = None  # that head no longer exists: show the mean
    return base.updated(**changes)


def parse_size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(part) for part in text.lower().split("x"))
    except ValueError:
        raise SettingsError(f"--size must look like 1400x900, got {text!r}") from None
    if not (200 <= width <= 8000 and 150 <= height <= 8000):
        raise SettingsError(f"--size {text} is out of range (200x150 to 8000x8000)")
    return width, height


def main(argv: Sequence[str] | None = None) -> int:
    """Run Attention Explorer; returns the process exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings_from_args(args)  # check the options before any window appears
        size = parse_size(args.size)
    except SettingsError as error:
        parser.error(str(error))
    if args.vectors and not os.path.isfile(args.vectors):
        parser.error(f"--vectors {args.vectors}: no such file")
    if args.screenshot:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    return _run_gui(args, size)


def _run_gui(args: argparse.Namespace, size: tuple[int, int]) -> int:
    os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")  # PITFALLS 3
    from PySide6.QtWidgets import QApplication

    from explorer.main_window import MainWindow
    from explorer.persistence import Store

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Attention Explorer")
    # A screenshot is reproducible: defaults + options, and it neither reads nor writes the store.
    store = None if args.screenshot else Store()
    saved = None if store is None or args.fresh else store.settings()
    settings = settings_from_args(args, saved)
    window = MainWindow(settings, store)
    path, trusted = settings.vectors_path, False
    if store is not None and not args.vectors and path is not None:
        remembered, trusted = store.last_vectors()
        trusted = trusted and remembered == path
    if path is not None and not os.path.isfile(path):
        path = None  # the remembered file is gone: the default set rather than an error
    if args.screenshot:
        return _screenshot(app, window, path, args.screenshot, size)
    window.show()
    window.load_vectors(path, trusted=trusted)
    return int(app.exec())


def _screenshot(app: Any, window: Any, path: str | None, out: str, size: tuple[int, int]) -> int:
    """Load, wait for the first drawn result, grab the window, save ``out``."""
    from PySide6.QtCore import QTimer

    outcome = {"status": 1}

    def grab(_update: object = None) -> None:
        window.controller.updated.disconnect(grab)
        QTimer.singleShot(300, save)  # let the views lay out and paint once more

    def save() -> None:
        app.processEvents()
        ok = window.grab().save(out)
        if not ok:
            print(f"error: could not write {out}", file=sys.stderr)
        outcome["status"] = 0 if ok else 1
        window.close()
        app.quit()

    def fail(message: str) -> None:
        print(f"error: {message}", file=sys.stderr)
        window.shutdown()
        app.quit()

    from explorer import dialogs

    # Headless: nobody can answer a dialog. A load error reaches stderr through ``fail`` (the
    # loader's own signal), and a pickled file is never trusted.
    setattr(dialogs, "show_error", lambda parent, title, message: None)  # noqa: B010
    setattr(dialogs, "ask_trust", lambda parent, path: False)  # noqa: B010
    window.resize(*size)
    window.controller.updated.connect(grab)
    window.controller.failed.connect(lambda message, _field: fail(message))
    window.loader.failed.connect(fail)
    window.show()
    if not window.load_vectors(path, trusted=False):
        print(f"error: {path}: a pickled file is not opened for a screenshot", file=sys.stderr)
        return 1
    QTimer.singleShot(SCREENSHOT_TIMEOUT_MS, lambda: fail("timed out waiting for the views"))
    app.exec()
    return outcome["status"]


if __name__ == "__main__":
    sys.exit(main())
