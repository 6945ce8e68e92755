"""Our NumPy forward pass against transformers' own (torch, eager attention), case by case.

The references were made once by tests/reference/make_transformer_reference.py in a scratch venv
with torch and transformers; the tests read only the committed arrays, never torch.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from core.transformer import load_model

DATA = Path(__file__).parent / "data" / "transformer"
CASES = json.loads((DATA / "reference_cases.json").read_text("utf-8"))
TOL = {"f32": CASES["tolerances"]["float32"]["max_abs"],  # 2e-5
       "f64": CASES["tolerances"]["float64"]["max_abs"]}  # 1e-9
DTYPE = {"f32": "float32", "f64": "float64"}
FOLDERS = {"minilm": None, "tiny-bert": DATA / "tiny-bert", "tiny-gpt2": DATA / "tiny-gpt2"}


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    cache = tmp_path_factory.mktemp("cache")
    return {key: load_model(path, cache_dir=str(cache)) for key, path in FOLDERS.items()}


def _cases():
    for key, info in CASES["models"].items():
        for case in info["cases"]:
            for prec in case["stored_precisions"]:
                yield pytest.param(key, case, prec, id=f"{key}-{case['name']}-{prec}")


def _reference(key: str) -> dict[str, np.ndarray]:
    with np.load(DATA / CASES["models"][key]["npz"], allow_pickle=False) as z:
        return {name: z[name] for name in z.files}


REFERENCES = {key: _reference(key) for key in CASES["models"]}


def _heads_joined(a: np.ndarray) -> np.ndarray:
    """(layers, heads, n, d_k) -> (layers, n, heads*d_k): the reference's layout."""
    layers, heads, n, d_k = a.shape
    return a.transpose(0, 2, 1, 3).reshape(layers, n, heads * d_k)


@pytest.mark.parametrize(("key", "case"), [
    pytest.param(key, case, id=f"{key}-{case['name']}")
    for key, info in CASES["models"].items() for case in info["cases"]])
def test_tokens_match_the_tokenizer_transformers_was_fed(models, key, case):
    ref, name = REFERENCES[key], case["name"]
    enc = models[key].encode(case["text"], case["pair"], case.get("truncation_max_length"))
    np.testing.assert_array_equal(enc.ids, ref[f"{name}.input_ids"])
    np.testing.assert_array_equal(enc.type_ids, ref[f"{name}.token_type_ids"])
    assert list(enc.tokens) == case["tokens"]
    assert enc.truncated == case["truncated_by_tokenizer"]


@pytest.mark.parametrize(("key", "case", "prec"), list(_cases()))
def test_every_layer_and_head_matches_transformers(models, key, case, prec):
    ref, name = REFERENCES[key], case["name"]
    run = models[key].run(case["text"], case["pair"], dtype=DTYPE[prec],
                          max_length=case.get("truncation_max_length"))
    rows = ref.get(f"{name}.rows", slice(None))
    tol = TOL[prec]
    assert run.attentions.dtype == np.dtype(DTYPE[prec])
    np.testing.assert_allclose(run.attentions[:, :, rows], ref[f"{name}.attentions_{prec}"],
                               rtol=0, atol=tol)
    np.testing.assert_allclose(run.hidden_states[:, rows], ref[f"{name}.hidden_states_{prec}"],
                               rtol=0, atol=tol)
    for field in ("queries", "keys", "values"):
        if f"{name}.{field}_{prec}" in ref:
            np.testing.assert_allclose(_heads_joined(getattr(run, field)),
                                       ref[f"{name}.{field}_{prec}"], rtol=0, atol=tol)


def test_it_attends_to_animal_in_the_heads_the_issue_names(models):
    """The headline numbers: layer 6 head 12 ~0.68, layer 4 head 2 ~0.63 (counted from 1)."""
    facts = CASES["models"]["minilm"]["it_animal"]
    case = next(c for c in CASES["models"]["minilm"]["cases"] if c["name"] == facts["case"])
    run = models["minilm"].run(case["text"])
    i, j = facts["query_token_index"], facts["key_token_index"]
    assert (run.tokens[i], run.tokens[j]) == ("it", "animal")
    for head in facts["heads"]:
        ours = run.attentions[head["layer"] - 1, head["head"] - 1, i, j]
        assert abs(ours - head["weight_f32"]) < 2e-5


def test_sentence_embeddings_are_mean_pooled_and_match(models):
    facts = CASES["models"]["minilm"]["sentence_embeddings"]
    ref = REFERENCES["minilm"]
    for dtype, prec in (("float32", "f32"), ("float64", "f64")):
        embeddings = []
        for text in facts["sentences"]:
            last = models["minilm"].run(text, dtype=dtype).hidden_states[-1]  # (n, d)
            mean = last.mean(axis=0)
            embeddings.append(mean / np.linalg.norm(mean))
        np.testing.assert_allclose(np.array(embeddings), ref[f"sentence_embeddings_{prec}"],
                                   rtol=0, atol=TOL[prec])


def test_rows_of_every_attention_sum_to_one_and_gpt2_never_looks_ahead(models):
    run = models["tiny-gpt2"].run("The animal was not swimming in the sea.")
    np.testing.assert_allclose(run.attentions.sum(axis=-1), 1, atol=1e-6)
    upper = np.triu(np.ones(run.attentions.shape[-2:], bool), k=1)
    assert np.all(run.attentions[..., upper] == 0)


def test_the_persons_own_text_is_kept_for_display(models):
    run = models["minilm"].run("Naïve café")
    assert run.tokens[1:3] == ["naive", "cafe"]  # what the model reads: accents stripped
    assert run.token_texts[1:3] == ("Naïve", "café")  # what the person typed
    assert run.token_texts[0] == "[CLS]" and run.special.tolist()[0] is True
