"""The README's Python example runs as written and says what it claims."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_python_example_runs():
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    assert blocks, "the README has a Python example"
    namespace: dict = {}
    exec(compile(blocks[0], "README.md", "exec"), namespace)  # noqa: S102 (our own README)
    r = namespace["r"]
    np.testing.assert_allclose(r.scores, [4, 10, 16])  # as its comment says
    assert namespace["mh"].weights.shape == (4, 7, 7)
    assert namespace["kv"].vector_size == 50 and len(namespace["kv"].index_to_key) == 400_000


def test_readme_trained_model_example_runs_and_says_what_it_claims(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))  # the model is extracted here, not ~
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    namespace: dict = {}
    exec(compile(blocks[1], "README.md", "exec"), namespace)  # noqa: S102 (our own README)
    run, it, animal = namespace["run"], namespace["it"], namespace["animal"]
    assert run.attentions.shape == (6, 12, 18, 18) and run.hidden_states.shape == (7, 18, 384)
    assert run.queries.shape == (6, 12, 18, 32) and run.tokens[0] == "[CLS]"
    assert abs(run.attentions[5, 11, it, animal] - 0.678) < 0.001  # as its comment says
    ablated = namespace["ablated"].hidden_states
    np.testing.assert_array_equal(ablated[:6], run.hidden_states[:6])  # before layer 6: the same
    assert np.abs(ablated[6] - run.hidden_states[6]).max() > 1e-3
