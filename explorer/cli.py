"""The command line: options -> :class:`~core.settings.Settings`, checked before anything starts.

Nothing here imports Qt, pyqtgraph or gensim, so ``--help`` and every argument error are instant.
The window and a headless export take the same options and the same defaults: the defaults of
:class:`Settings`, then a ``--session`` file if given, then the options typed on the command line.

Every problem is a :class:`CliError` (or argparse's own error) reported as one line,
``error: ...``, with exit status 2.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, NoReturn

from core.files.exported_heads import exported_head_count
from core.files.session import SessionError, load_session, referenced_file_problem
from core.maths.attention import NORMALIZATIONS, SCORINGS
from core.maths.heads import HEAD_STRATEGIES
from core.model_settings import ModelSettings, ModelSettingsError
from core.settings import MAX_HEADS, Settings, SettingsError
from explorer.output_paths import SCREENSHOT_SUFFIXES, output_problem

FIGURE_SUFFIXES = (".png", ".svg", ".pdf")  # as explorer.export (which imports Qt)
DATA_SUFFIXES = (".json", ".csv", ".npz")  # as core.files.export_data
VECTOR_FORMATS = ("auto", "word2vec_text", "word2vec_binary", "glove_text", "fasttext_text",
                  "fasttext_bin", "gensim_kv")  # as core.vectors.text_files (which imports pyarrow)
DEFAULT_SIZE = "1400x900"
ACROSS_LAYERS = ModelSettings.ACROSS_LAYERS

DESCRIPTION = """\
Explore attention on real pretrained word vectors. Type a context sentence, pick a query word and
watch per-head attention heatmaps, the sentence coloured by attention, and a 2D map of the latent
space update live as you change heads, scoring, normalisation, temperature and masks.
Without --vectors the bundled GloVe 6B 50d vectors (400,000 words) are used.

With --export and/or --export-data nothing is shown: the figure (tokens, heatmaps and latent map
with a caption stating the settings) and/or the data are written and the program exits.
"""
EPILOG = """\
examples:
  attention-explorer --sentence "the cat sat on the mat" --query sat --heads 2
  attention-explorer --query it --export it.png --size 1600x1000
  attention-explorer --session lesson.aexp.json --temperature 1 --export fig.pdf \\
                     --export-data weights.csv

keys: Ctrl+O open vectors, Ctrl+E export a figure, Ctrl+S save the session, Ctrl+Shift+O open
a session, Left/Right move the query along the sentence, Up/Down step through the heads (mean,
1..h), Page Up/Page Down the trained model's layers, Ctrl+Q quit. Settings are remembered
between runs (not by --export).

The window needs a display (X11 or Wayland) and, on X11, system libraries of Qt's xcb plugin
that pip cannot install; without them it says what is missing and the install line for this
system (--check-display asks only that). Headless runs need neither.

exit status: 0 on success, 2 with one "error: ..." line on stderr for any bad option or input;
a headless run's other stderr lines start with "warning: ".
"""


class CliError(Exception):
    """A bad option or input; the message is the one line printed after "error: "."""


class _Parser(argparse.ArgumentParser):
    """Reports a bad option as one line, "error: ...", with exit status 2 (no usage dump)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"error: {one_line(message)}\n")


class _StoreOnce(argparse.Action):
    """argparse's plain "store", refusing an output option given twice: argparse keeps the last
    value silently, so ``--export-data a.csv --export-data b.npz`` wrote only b.npz. (A setting
    given twice keeps the usual rule, the last one wins: scripts append their overrides.)"""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: Any, option_string: str | None = None) -> None:
        given: dict[str, Any] = namespace.__dict__.setdefault("_given_once", {})
        if self.dest in given:
            parser.error(f"{option_string} was given twice ({given[self.dest]}, then {values}): "
                         "give it once")
        given[self.dest] = values
        setattr(namespace, self.dest, values)


def one_line(message: str) -> str:
    """``message`` with every run of whitespace (newlines too) collapsed to one space."""
    return " ".join(str(message).split()) or "unknown error"


def build_parser() -> argparse.ArgumentParser:
    """The parser of ``main.py``; every settings option defaults to None ("not given")."""
    p = _Parser(prog="attention-explorer", description=DESCRIPTION, epilog=EPILOG,
                formatter_class=argparse.RawDescriptionHelpFormatter)
    inputs = p.add_argument_group("vectors and text")
    inputs.add_argument("--vectors", metavar="PATH",
                        help="word-vector file (word2vec text/binary, GloVe text, fastText "
                             ".vec/.bin, gensim .kv); default: the bundled GloVe 6B 50d")
    inputs.add_argument("--format", choices=VECTOR_FORMATS, metavar="FMT",
                        help=f"format of --vectors (default auto): {', '.join(VECTOR_FORMATS)}")
    inputs.add_argument("--trust-pickle", action="store_true",
                        help="allow a pickled .kv/.model file (it can run code: only yours)")
    inputs.add_argument("--sentence", metavar="TEXT", help="the context sentence")
    inputs.add_argument("--query", metavar="WORD",
                        help="the query word (a sentence word or any word the vectors know)")
    core = p.add_argument_group("attention")
    core.add_argument("--heads", metavar="N", type=int,
                      help=f"number of attention heads: at most {MAX_HEADS}, and at most the "
                           "vectors' dimension (one dimension per head at least)")
    core.add_argument("--head-strategy", metavar="S", choices=HEAD_STRATEGIES,
                      help=f"how head projections are made: {', '.join(HEAD_STRATEGIES)}")
    core.add_argument("--heads-file", metavar="PATH",
                      help="the .npz of W_Q, W_K, W_V, W_O for --head-strategy file (a data "
                           "export's .npz is one); implies that strategy")
    core.add_argument("--seed", metavar="N", type=int, help="seed of the random projections")
    core.add_argument("--scoring", metavar="S", choices=SCORINGS,
                      help=f"how a query and a key are compared: {', '.join(SCORINGS)}")
    core.add_argument("--normalization", metavar="S", choices=NORMALIZATIONS,
                      help=f"how scores become weights: {', '.join(NORMALIZATIONS)}")
    core.add_argument("--temperature", type=float, metavar="T",
                      help="logits are divided by T before normalisation (0.01..100)")
    core.add_argument("--causal", action="store_true", help="tokens attend only to earlier ones")
    core.add_argument("--head", metavar="N|mean",
                      help="the head shown, from 1 (or 'mean': the mean of the heads)")
    _add_model_options(p)
    _add_run_options(p)
    return p


def _add_model_options(p: argparse.ArgumentParser) -> None:
    """--model, --layer, --across, --hide-special, --ablate."""
    model = p.add_argument_group("trained model")
    model.add_argument("--model", metavar="minilm|PATH",
                       help="a trained transformer instead of word vectors: 'minilm' (the bundled "
                            "all-MiniLM-L6-v2) or a BERT/GPT-2 checkpoint folder")
    model.add_argument("--layer", metavar="N", type=int,
                       help="the layer shown, from 1 (default: the last)")
    model.add_argument("--across", choices=ACROSS_LAYERS, metavar="S",
                       help="rollout or flow through the layers; with --export, that view is "
                            "the figure")
    model.add_argument("--hide-special", action="store_true",
                       help="leave [CLS], [SEP] and other special tokens out of the maps")
    model.add_argument("--ablate", metavar="L:H", action="append", default=None,
                       help="remove head H of layer L (from 1); may be given more than once")


def _add_run_options(p: argparse.ArgumentParser) -> None:
    """--session, --export, --export-data, --size, --fresh, --screenshot."""
    run = p.add_argument_group("sessions, export and window")
    run.add_argument("--session", metavar="FILE",
                     help="start from a saved session; the options above override it")
    run.add_argument("--export", metavar="FILE", action=_StoreOnce,
                     help="write the explorer view as a figure (.png, .svg, .pdf) and exit")
    run.add_argument("--export-data", metavar="FILE", action=_StoreOnce,
                     help="write the attention data (.json, .csv, .npz) and exit")
    run.add_argument("--size", metavar="WxH", default=None,
                     help=f"figure or screenshot size in pixels (default {DEFAULT_SIZE})")
    run.add_argument("--fresh", action="store_true",
                     help="start the window from the defaults instead of the remembered settings")
    run.add_argument("--screenshot", metavar="PATH.png", action=_StoreOnce,
                     help="render the window offscreen once the views are drawn, save it, exit")
    run.add_argument("--check-display", action="store_true",
                     help="check that the window can open on this desktop (a display, the "
                          "system libraries Qt needs), say what is missing, exit")


_OPTION_FIELDS = (("sentence", "sentence"), ("query", "query"), ("heads", "n_heads"),
                  ("head_strategy", "head_strategy"), ("seed", "seed"), ("scoring", "scoring"),
                  ("normalization", "normalization"), ("temperature", "temperature"),
                  ("format", "vectors_format"))


def settings_from_args(args: argparse.Namespace, base: Settings | None = None) -> Settings:
    """``base`` (default: the defaults) with the options given on the command line applied.

    Raises
    ------
    SettingsError
        An option value the settings reject (heads 0, temperature 1000, ...).
    """
    changes: dict[str, Any] = {}
    for option, field in _OPTION_FIELDS:
        value = getattr(args, option, None)
        if value is not None:
            changes[field] = value
    if getattr(args, "causal", False):
        changes["causal"] = True
    if "query" in changes:
        changes["query_index"] = None  # a new word: its first occurrence (or outside)
    if getattr(args, "vectors", None):
        changes["vectors_path"] = os.path.abspath(args.vectors)
    if getattr(args, "heads_file", None):
        changes["heads_file"] = os.path.abspath(args.heads_file)
        changes.setdefault("head_strategy", "file")  # what else would the file be for
    base = base if base is not None else Settings()
    changes.update(_model_changes(args, base))
    head = getattr(args, "head", None)
    if head is not None:
        changes["selected_head"] = _head(head)
        if changes["selected_head"] is not None and base.source != "model" and \
                changes.get("source") != "model":
            n_heads = changes.get("n_heads", base.n_heads)
            if changes["selected_head"] >= n_heads:
                raise SettingsError(f"--head {head}: there are {n_heads} heads")
    n_heads = changes.get("n_heads", base.n_heads)
    selected = changes.get("selected_head", base.selected_head)
    if selected is not None and isinstance(n_heads, int) and n_heads <= selected:
        changes["selected_head"] = None  # that head no longer exists: show the mean
    return base.updated(**changes)


def _head(text: str) -> int | None:
    if text.strip().lower() == "mean":
        return None
    try:
        head = int(text)
    except ValueError:
        raise SettingsError(f"--head must be a number from 1, or 'mean'; got {text!r}") from None
    if head < 1:
        raise SettingsError(f"--head counts from 1; got {head}")
    return head - 1


_MADE_UP_HEADS = ("heads", "head_strategy", "heads_file", "seed")
"""Options that build head projections for word vectors: meaningless with --model."""


def _model_changes(args: argparse.Namespace, base: Settings) -> dict[str, Any]:
    """--model and the options that only mean something with it (layers count from 1)."""
    model_only = [name for name in ("layer", "across", "ablate")
                  if getattr(args, name, None) is not None] + \
        (["hide-special"] if getattr(args, "hide_special", False) else [])
    chosen = getattr(args, "model", None)
    if chosen is None and base.source != "model":
        if model_only:
            raise SettingsError(f"--{model_only[0].replace('_', '-')} needs --model")
        return {}
    made_up = [name for name in _MADE_UP_HEADS if getattr(args, name, None) is not None]
    if made_up:  # they were quietly ignored: the model's heads are its own
        raise SettingsError(f"--{made_up[0].replace('_', '-')} is for word vectors' made-up "
                            "heads; a trained model has its own heads (leave it out)")
    model = base.model
    updates: dict[str, Any] = {}
    if chosen is not None:
        updates["path"] = None if chosen.lower() == "minilm" else os.path.abspath(chosen)
    if args.layer is not None:
        if args.layer < 1:
            raise SettingsError(f"--layer counts from 1; got {args.layer}")
        updates["layer"] = args.layer - 1
    if args.across is not None:
        updates["across_layers"] = args.across
    if getattr(args, "hide_special", False):
        updates["hide_special"] = True
    if args.ablate:
        updates["ablated"] = tuple(_layer_head(text) for text in args.ablate)
    try:
        model = replace(model, **updates)
    except ModelSettingsError as error:
        raise SettingsError(str(error)) from None
    # The model's own head count is known once it is open; until then every head is allowed.
    return {"source": "model", "model": model, "n_heads": MAX_HEADS}


def _layer_head(text: str) -> tuple[int, int]:
    try:
        layer, head = (int(part) for part in text.split(":"))
    except ValueError:
        raise SettingsError(f"--ablate wants LAYER:HEAD counted from 1 (e.g. 6:12); got "
                            f"{text!r}") from None
    if layer < 1 or head < 1:
        raise SettingsError(f"--ablate {text}: layers and heads count from 1")
    return layer - 1, head - 1


def _name_the_option(message: str) -> str:
    """"n_heads must be ..." -> "--heads must be ...": say it in the words that were typed."""
    for option, field in _OPTION_FIELDS:
        if message.startswith(field + " "):
            return f"--{option.replace('_', '-')}{message[len(field):]}"
    return message


def parse_size(text: str) -> tuple[int, int]:
    """``"1400x900"`` -> (1400, 900); SettingsError when malformed or out of range."""
    try:
        width, height = (int(part) for part in text.lower().split("x"))
    except ValueError:
        raise SettingsError(f"--size must look like 1400x900, got {text!r}") from None
    if not (200 <= width <= 8000 and 150 <= height <= 8000):
        raise SettingsError(f"--size {text} is out of range (200x150 to 8000x8000)")
    return width, height


@dataclass(frozen=True)
class Request:
    """A checked command line: what to compute and where to write it."""

    settings: Settings
    size: tuple[int, int]
    session: str | None = None
    figure: str | None = None  # --export
    data: str | None = None  # --export-data
    trust_pickle: bool = False

    @property
    def headless(self) -> bool:
        return bool(self.figure or self.data)


_VALUED_OPTIONS = ("vectors", "query", "head", "model", "ablate", "session", "export",
                   "export_data", "size", "screenshot", "heads_file")
"""Options whose value is text: an empty one is a mistake (a shell variable that was not set),
never "use the default". Choices and numbers are rejected by argparse itself; an empty
--sentence is answered by the pipeline ("None of the sentence's words is in these vectors")."""


def check_no_empty_values(args: argparse.Namespace) -> None:
    """CliError for the first option given an empty (or blank) value."""
    for name in _VALUED_OPTIONS:
        value = getattr(args, name, None)
        values = value if isinstance(value, list) else [value]
        if any(v is not None and not v.strip() for v in values):
            raise CliError(f"--{name.replace('_', '-')} needs a value; got an empty one")


def request_from_args(args: argparse.Namespace) -> Request:
    """Check every option (files too) before anything is loaded; CliError on the first problem."""
    check_no_empty_values(args)
    base = None
    if args.session:
        try:
            base, _view = load_session(args.session)
        except SessionError as error:
            raise CliError(f"--session: {error}") from None
    try:
        settings = settings_from_args(args, base)
        size = parse_size(args.size or DEFAULT_SIZE)
    except SettingsError as error:
        raise CliError(_name_the_option(str(error))) from None
    if args.vectors:
        check_vector_file(args.vectors, "--vectors")
    if args.session:  # the files it names, with its name and the field
        problem = referenced_file_problem(settings, os.path.basename(args.session),
                                          vectors_loaded=bool(args.vectors))
        if problem is not None:
            raise CliError(f"--session: {one_line(problem)}")
    if args.model and args.model.lower() != "minilm" and not os.path.isdir(args.model):
        what = "is not a folder (a checkpoint is a folder)" if os.path.exists(args.model) \
            else "does not exist"
        raise CliError(f"--model {args.model}: {what}")
    settings = _check_heads_file(args, settings)
    if args.screenshot and (args.export or args.export_data):
        raise CliError("--screenshot cannot be combined with --export or --export-data")
    for option, path, suffixes in (("--export", args.export, FIGURE_SUFFIXES),
                                   ("--export-data", args.export_data, DATA_SUFFIXES),
                                   ("--screenshot", args.screenshot, SCREENSHOT_SUFFIXES)):
        if path:
            check_output(path, suffixes, option)
    return Request(settings, size, args.session, args.export, args.export_data,
                   bool(args.trust_pickle))


def check_vector_file(path: str, what: str) -> None:
    """CliError unless ``path`` is a readable regular file: a folder, a FIFO or a device is
    said to be one (a FIFO is never opened, since that blocks), not "no such file"."""
    from core.vectors.detect import file_problem

    if not os.path.lexists(path):
        raise CliError(f"{what} {path}: no such file")
    problem = file_problem(path)
    if problem is not None:
        raise CliError(one_line(problem))  # it names the file, as a load error does


def _check_heads_file(args: argparse.Namespace, settings: Settings) -> Settings:
    """--head-strategy file needs its .npz; --heads-file goes with no other strategy; a data
    export's .npz is read as the heads it holds. The settings, with that head count."""
    if args.heads_file and settings.head_strategy != "file":
        raise CliError(f"--heads-file is for --head-strategy file, not "
                       f"{settings.head_strategy}: leave one of them out")
    if settings.head_strategy != "file" or settings.source == "model":
        return settings
    if settings.heads_file is None:
        raise CliError("--head-strategy file needs --heads-file PATH: an .npz with w_q, w_k, "
                       "w_v and w_o (a data export's .npz is one)")
    given = args.heads_file or settings.heads_file
    if not os.path.isfile(settings.heads_file):
        raise CliError(f"--heads-file {given}: no such file")
    heads = exported_head_count(settings.heads_file)
    if heads is None or heads == settings.n_heads:
        return settings  # a plain heads file: its columns split into the heads asked for
    if args.heads is not None:  # regrouping its heads would show heads nobody made
        raise CliError(f"--heads {args.heads}: --heads-file {given} is a data export of "
                       f"{heads} heads; leave --heads out or give --heads {heads}")
    selected = settings.selected_head
    return settings.updated(n_heads=heads,
                            selected_head=selected if selected is None or selected < heads
                            else None)


def check_output(path: str, suffixes: Sequence[str], option: str) -> None:
    """A known suffix and a folder that takes new files, or CliError saying what is wrong."""
    problem = output_problem(path, suffixes)
    if problem is not None:
        raise CliError(f"{option} {path}: {problem}")
