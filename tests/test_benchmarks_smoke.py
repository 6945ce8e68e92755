"""The benchmark machinery runs and writes well-formed JSON (tiny sizes; no timing is checked:
figures depend on the machine, so they belong in `make bench`, never in `make test`)."""

from __future__ import annotations

import json

from benchmarks.__main__ import main


def test_core_group_on_a_tiny_size_writes_the_documented_json(tmp_path, capsys):
    out = tmp_path / "results.json"

    assert main(["--tiny", "--only", "core", "--json", str(out)]) == 0

    data = json.loads(out.read_text(encoding="utf-8"))
    assert {"platform", "cpu_count", "python", "numpy"} <= set(data["machine"])
    results = data["results"]
    assert "core_ms.n8_h2_d16" in results and "core_vs_reference.f64_loop" in results
    for entry in results.values():
        assert {"median", "runs", "target", "met"} <= set(entry)
        assert len(entry["runs"]) >= 2 and min(entry["runs"]) <= entry["median"]
    assert results["core_ms.n8_h2_d16"]["agrees_with_reference"] is True
    # torch is skipped at tiny sizes: absent from the results, named as not measured.
    assert "core_vs_reference.torch" in data["not_measured"]
    assert "core_ms.n8_h2_d16" in capsys.readouterr().out  # the printed table


def test_each_update_figure_comes_with_the_machine_yardstick_measured_beside_it(tmp_path):
    """The 12-word update is reported with the plain Qt table repainted after each of its runs,
    and their ratio: the number to compare between machines 2-3x apart in speed."""
    out = tmp_path / "results.json"

    assert main(["--tiny", "--only", "update_ms.n12_h4", "--json", str(out)]) == 0

    results = json.loads(out.read_text(encoding="utf-8"))["results"]
    update, stick = results["update_ms.n12_h4"], results["update_ms.n12_h4.yardstick"]
    assert len(stick["runs"]) == len(update["runs"]) >= 2  # one yardstick per timed update
    assert min(stick["runs"]) > 0
    ratio = results["update_ms.n12_h4.vs_yardstick"]["median"]
    assert abs(ratio - update["median"] / stick["median"]) < 1e-9
