"""Attention Explorer: see how (multi-head, scaled dot-product) attention works on word vectors.

``python main.py`` opens the window; ``--export FILE`` / ``--export-data FILE`` write a figure
and/or the data headless and exit (explorer/headless.py); ``--screenshot out.png`` renders the
window offscreen and exits. Options are parsed and checked in explorer/cli.py, without Qt,
pyqtgraph or gensim, so ``--help`` and every argument error are instant. Before the window is
made, explorer/display_check.py asks whether it can open here (a display, the system libraries
of Qt's platform plugin): Qt itself would abort the process with a misleading message.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import Any

from explorer.cli import (  # noqa: F401  (build_parser etc. are this module's API too)
    CliError,
    Request,
    build_parser,
    one_line,
    parse_size,
    request_from_args,
    settings_from_args,
)

SCREENSHOT_TIMEOUT_MS = 120_000


def main(argv: Sequence[str] | None = None) -> int:
    """Run Attention Explorer; returns 0, or exits with status 2 and one "error: ..." line."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        request = request_from_args(args)  # every option checked before anything is loaded
        if request.headless:
            from explorer import headless

            if request.figure:
                headless.prepare_qt_environment()  # before anything imports Qt
            return headless.run(request)
        if args.check_display or not args.screenshot:
            check_display()
    except CliError as error:
        parser.error(str(error))
    if args.check_display:
        print("ok: the window can open here")
        return 0
    if args.screenshot:
        return _run_screenshot(args, request)
    return _run_gui(args, request)


def _run_screenshot(args: argparse.Namespace, request: Request) -> int:
    """The window offscreen, once; stderr is an error line, or warning lines (NumPy's, Qt's)."""
    from explorer.run_messages import RunMessages

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")
    messages = RunMessages()
    with messages.python_warnings(), messages.qt_messages():  # before Qt logs anything
        status = _run_gui(args, request)
    if status == 0:
        messages.write()  # on failure the error line alone says what happened
    return status


def check_display() -> None:
    """CliError when the window cannot open here (no display, a library Qt's plugin lacks)."""
    from explorer.display_check import display_problem

    problem = display_problem()
    if problem is not None:
        raise CliError(problem)


def _run_gui(args: argparse.Namespace, request: Request) -> int:
    os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")  # else pyqtgraph tries PyQt6 first
    from PySide6.QtWidgets import QApplication

    from explorer.main_window import MainWindow
    from explorer.persistence import Store

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Attention Explorer")
    collector = collect_garbage_from_the_event_loop()  # noqa: F841 (kept alive until exit)
    # A screenshot is reproducible: defaults + options, and it neither reads nor writes the store.
    store = None if args.screenshot else Store()
    settings = request.settings
    if store is not None and not args.fresh and not args.session:
        settings = settings_from_args(args, store.settings())  # remembered, then the options
    window = MainWindow(settings, store)
    if args.session:
        window.sessions.set_path(os.path.abspath(args.session))  # Ctrl+S saves there
    path, trusted = settings.vectors_path, request.trust_pickle
    if store is not None and not args.vectors and path is not None and not trusted:
        remembered, trusted = store.last_vectors()
        trusted = trusted and remembered == path
    if path is not None and not os.path.isfile(path):
        path = None  # the remembered file is gone: the default set rather than an error
    if args.screenshot:
        return _screenshot(app, window, path, args.screenshot, request)
    window.show()
    if store is not None and store.settings_problem:
        from PySide6.QtCore import QTimer

        problem = store.settings_problem  # the defaults are used: say so once the window is up
        QTimer.singleShot(0, lambda: report_settings_problem(window, problem))
    window.load_vectors(path, settings.vectors_format, trusted=trusted)
    return int(app.exec())


def report_settings_problem(window: Any, problem: str) -> None:
    """Say why the remembered settings were set aside (which file, what was wrong): the window
    started on the defaults, and saving them on exit replaces the broken entry."""
    from explorer.commands import dialogs

    dialogs.show_error(window, "Remembered settings not used",
                       f"{problem} The window starts from the defaults.")


def collect_garbage_from_the_event_loop() -> Any:
    """Python's cycle collector only from a timer in the event loop (pyqtgraph's
    GarbageCollector), never from inside a Qt call.

    An automatic collection can start inside any allocation, e.g. within
    ``QObject::disconnect`` (pyqtgraph disconnects on every update) while Qt holds one of its
    pooled signal-slot locks; freeing a QMenu there (a discarded plot's menu) takes a lock of
    the same pool and the process hangs.
    """
    from pyqtgraph.util.garbage_collector import GarbageCollector

    return GarbageCollector(interval=1.0)


def _screenshot(app: Any, window: Any, path: str | None, out: str, request: Request) -> int:
    """Load, wait for the first drawn result, grab the window, save ``out``; 0, or 2 after one
    ``error:`` line (as every other failure of the command line)."""
    from PySide6.QtCore import QTimer

    from explorer.headless import check_heads_limit

    outcome = {"status": 2}

    def grab(_update: object = None) -> None:
        window.controller.updated.disconnect(grab)
        try:  # the heads the window computed, against those asked for
            check_heads_limit(request.settings, window.controller.analysis)
        except CliError as error:
            message = str(error)  # said once this signal has returned: not inside its emission
            QTimer.singleShot(0, lambda: fail(message))
            return
        QTimer.singleShot(300, save)  # let the views lay out and paint once more

    def save() -> None:
        app.processEvents()
        ok = window.grab().save(out)
        if not ok:
            print(f"error: could not write {out}", file=sys.stderr)
        outcome["status"] = 0 if ok else 2
        window.close()
        app.quit()

    def fail(message: str) -> None:
        print(f"error: {one_line(message)}", file=sys.stderr)
        window.shutdown()
        app.quit()

    _answer_no_dialogs()
    window.resize(*request.size)
    window.controller.updated.connect(grab)
    window.controller.failed.connect(lambda message, _field: fail(message))
    window.loader.failed.connect(fail)
    window.show()
    if not window.load_vectors(path, trusted=False):
        print(f"error: {path}: a pickled file is not opened for a screenshot", file=sys.stderr)
        return 2
    QTimer.singleShot(SCREENSHOT_TIMEOUT_MS, lambda: fail("timed out waiting for the views"))
    app.exec()
    return outcome["status"]


def _answer_no_dialogs() -> None:
    """Headless: nobody can answer a dialog. A load error reaches stderr through the loader's
    own signal, and a pickled file is never trusted."""
    from explorer.commands import dialogs

    setattr(dialogs, "show_error", lambda parent, title, message: None)  # noqa: B010
    setattr(dialogs, "ask_trust", lambda parent, path: False)  # noqa: B010


if __name__ == "__main__":
    sys.exit(main())
