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
