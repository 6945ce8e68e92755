"""The attention core alone: ``multi_head_attention`` in float32 against two references.

Keys: ``core_ms.n{n}_h{h}_d{d}`` (our function), ``core_ms.reference_f64_loop`` and
``core_ms.torch_sdpa`` (the references), ``core_vs_reference.f64_loop`` and
``core_vs_reference.torch`` (ours / reference, per interleaved pair, then the median).

The references do the same maths as ours (project, scaled dot-product, softmax, weights @ V,
concatenate, W_O) so the ratio measures how it is done, not what: a straightforward float64 loop
over heads (what a first NumPy version looks like) and torch's fused
``scaled_dot_product_attention`` (the speed a tuned library gets on this CPU). Ours also keeps
every intermediate (scores, logits, weights) for the views, which torch's fused kernel does not
materialise, so the torch ratio is a demanding target.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from benchmarks.timing import Config, Result, Target, paired_ratios, repeat

TORCH_TARGET = Target("<=", 1.3)


def _inputs(n: int, h: int, d: int) -> tuple[np.ndarray, Any]:
    """A random float32 sentence of n tokens and seeded random head projections."""
    from core.maths.heads import build_heads

    x = np.random.default_rng(0).standard_normal((n, d)).astype(np.float32)  # (n, d)
    return x, build_heads("random", d, h, seed=0, dtype=np.float32)


def reference_loop(x: np.ndarray, heads: Any) -> np.ndarray:
    """Multi-head self-attention the plain way: float64, one Python iteration per head."""
    x64 = x.astype(np.float64)
    d_k, d_v = heads.d_k, heads.d_v
    outputs = []
    for i in range(heads.n_heads):
        q = x64 @ heads.w_q[:, i * d_k:(i + 1) * d_k].astype(np.float64)  # (n, d_k)
        k = x64 @ heads.w_k[:, i * d_k:(i + 1) * d_k].astype(np.float64)  # (n, d_k)
        v = x64 @ heads.w_v[:, i * d_v:(i + 1) * d_v].astype(np.float64)  # (n, d_v)
        scores = q @ k.T / np.sqrt(d_k)  # (n, n)
        e = np.exp(scores - scores.max(axis=1, keepdims=True))
        weights = e / e.sum(axis=1, keepdims=True)  # (n, n)
        outputs.append(weights @ v)  # (n, d_v)
    return np.concatenate(outputs, axis=1) @ heads.w_o.astype(np.float64)  # (n, d)


def torch_attention(heads: Any) -> Callable[[np.ndarray], np.ndarray] | None:
    """The same computation with torch's fused kernel, or None when torch is not importable."""
    try:
        import torch
        import torch.nn.functional as F  # noqa: N812 (torch's own convention)
    except ImportError:
        return None
    # Copies: torch refuses to share the read-only arrays HeadProjections hands out.
    w_q, w_k, w_v, w_o = (torch.from_numpy(np.array(w)) for w in
                          (heads.w_q, heads.w_k, heads.w_v, heads.w_o))
    h = heads.n_heads

    def run(x: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            t = torch.from_numpy(x)  # (n, d), shares memory: no copy in the timing
            n = t.shape[0]
            q = (t @ w_q).view(n, h, -1).transpose(0, 1)  # (h, n, d_k)
            k = (t @ w_k).view(n, h, -1).transpose(0, 1)  # (h, n, d_k)
            v = (t @ w_v).view(n, h, -1).transpose(0, 1)  # (h, n, d_v)
            out = F.scaled_dot_product_attention(q, k, v)  # (h, n, d_v)
            return (out.transpose(0, 1).reshape(n, -1) @ w_o).numpy()  # (n, d)

    return run


def sizes(cfg: Config) -> tuple[int, int, int]:
    return (8, 2, 16) if cfg.tiny else (512, 12, 300)


def run(cfg: Config) -> list[Result]:
    from core.maths.attention import multi_head_attention

    n, h, d = sizes(cfg)
    x, heads = _inputs(n, h, d)
    runs = cfg.repeats(full=30, quick=10)

    def ours() -> np.ndarray:
        return multi_head_attention(x, x, heads.w_q, heads.w_k, heads.w_v, heads.w_o, h).output

    # Same maths, or the ratio would compare different work.
    agree = bool(np.allclose(ours(), reference_loop(x, heads), rtol=1e-3, atol=1e-4))
    size = {"n": n, "h": h, "d": d, "dtype": "float32"}
    results = [Result(f"core_ms.n{n}_h{h}_d{d}", repeat(ours, runs, scale=1e3), unit="ms",
                      extra={"size": size, "agrees_with_reference": agree})]
    ours_t, ref_t, ratios = paired_ratios(ours, lambda: reference_loop(x, heads), runs, 1e3)
    results += [
        Result("core_ms.reference_f64_loop", ref_t, unit="ms", note="float64, loop over heads"),
        Result("core_vs_reference.f64_loop", ratios, unit="x",
               note="ours / float64 loop, interleaved pairs"),
    ]
    torch_run = torch_attention(heads) if cfg.use_torch and not cfg.tiny else None
    if torch_run is None:
        results.append(Result("core_vs_reference.torch", [], TORCH_TARGET, unit="x",
                              note="torch not importable: not measured"))
        return results
    _, torch_t, ratios = paired_ratios(ours, lambda: torch_run(x), runs, 1e3)
    results += [
        Result("core_ms.torch_sdpa", torch_t, unit="ms",
               note="torch scaled_dot_product_attention, float32"),
        Result("core_vs_reference.torch", ratios, TORCH_TARGET, unit="x",
               note="ours / torch, interleaved pairs"),
    ]
    return results
