"""bench/zoo.py --only: re-running one family keeps the other runs' rows of --out's previous .json (marked
carried, in the table's run order), so `--only began --out docs/RESULTS-families.md` replaces BEGAN's row alone."""
from __future__ import annotations

import json
import sys
from argparse import Namespace
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
zoo = pytest.importorskip("zoo")


def _row(name, fid):
    return {"name": name, "path": f"runs/zoo/{name}.safetensors", "steps": 100, "seconds": 60.0, "reused": False,
            "sampling": "plain", "fid": fid, "precision": 0.5, "recall": 0.5, "density": 0.5, "coverage": 0.5,
            "classes": 10, "class_entropy": 2.2}


def test_only_keeps_the_other_runs_rows_of_the_previous_file(tmp_path):
    out = tmp_path / "fam.md"
    out.with_suffix(".json").write_text(json.dumps([_row(n, 100.0 + i) for i, n in
                                                    enumerate(["progan", "ebgan", "began", "mrgan"])]))
    new = [_row("began", 50.0)]
    rows = zoo._in_order(new + zoo._carried(out, ["began"]))
    assert [r["name"] for r in rows] == ["progan", "ebgan", "began", "mrgan"]
    assert [r["fid"] for r in rows if r["name"] == "began"] == [50.0]               # the old began row is gone
    assert [bool(r.get("carried")) for r in rows] == [True, True, False, True]
    args = Namespace(data="d", minutes=20, jobs=1, n=100, only="began", out=str(out))
    md = zoo._markdown(rows, args, 60.0)
    assert "Rows of progan, ebgan, mrgan: kept from this file's previous run" in md
    assert md.count("| plain |") == 4
    assert zoo._carried(tmp_path / "none.md", ["began"]) == []                      # no previous file: nothing
