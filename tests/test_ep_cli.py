"""``logdomain ep gradcheck`` and ``logdomain ep train``: JSON contract (DESIGN.md §7) and the report files."""

from __future__ import annotations

import json

import pytest

from logdomain.cli import main

pytestmark = pytest.mark.spice


def test_gradcheck_json_has_the_contract_keys(capsys):
    assert main(["ep", "gradcheck", "--seed", "11", "--circuits", "1", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    (circuit,) = out["circuits"]
    for key in ("cosine_weights", "cosine_inputs", "magnitude_rel_error"):
        assert key in circuit
    assert circuit["seed"] == 11
    assert circuit["cosine_weights"] >= 0.99 and circuit["cosine_inputs"] >= 0.99
    assert circuit["magnitude_rel_error"] <= 0.05
    assert out["max_magnitude_rel_error"] == circuit["magnitude_rel_error"]


def test_train_json_and_report(capsys, tmp_path):
    out_dir = tmp_path / "rep"
    assert main(["ep", "train", "--data", "wine", "--epochs", "3", "--json", "--out", str(out_dir)]) == 0
    out = json.loads(capsys.readouterr().out)
    for key in ("test_accuracy", "baseline_test_accuracy", "blocks"):
        assert key in out
    assert len(out["blocks"]) == 1 and out["blocks"][0]["n_in"] == 8 and out["blocks"][0]["n_out"] == 6
    assert sorted(p.name for p in out_dir.iterdir()) == ["learning_curves.png", "report.md", "summary.json"]
    assert json.loads((out_dir / "summary.json").read_text())["test_accuracy"] == out["test_accuracy"]
    assert "EP vs exact gradients" in (out_dir / "report.md").read_text()


@pytest.mark.parametrize(("argv", "message"), [
    (["ep", "train", "--data", "wine", "--point-timeout", "5"],
     "--point-timeout does not apply to --backend behavioural (only to --backend spice)"),
    (["ep", "train", "--data", "digits", "--backend", "spice"], "--backend spice trains on at most 400 samples"),
    (["ep", "train", "--data", "wine", "--subset", "179"], "--subset must be at most 178 for --data wine"),
    (["ep", "gradcheck", "--circuits", "21"], "--circuits must be an integer in [1, 20], got '21'"),
])
def test_bad_options_exit_2_naming_the_option(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]


def test_netlist_command_prints_the_block(capsys):
    assert main(["netlist", "ebm", "--tech", "sky130", "--set", "n_in=2", "--set", "n_out=3"]) == 0
    text = capsys.readouterr().out
    assert text.count("sky130_fd_pr__nfet_01v8 w=20 l=0.5") == 3 and "rl_1_2 o_1 o_2" in text
    assert main(["netlist", "ebm", "--set", "lateral=some"]) == 2
    assert "EbmBlockParams.lateral must be one of all, none" in capsys.readouterr().err
