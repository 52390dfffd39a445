"""`tradelab pipeline demo --smoke`: every notebook runs through papermill on tiny real budgets.

One run of the six notebooks (00 → 01 → 02 → 03 → 04 stage 1 → 05) into a temp run folder is
the notebook smoke test of the whole workspace; the assertions read what the notebooks wrote.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

from tradelab.cli import main as cli_main
from tradelab.results import RunResult

pytestmark = pytest.mark.slow

NOTEBOOKS = ["00_data", "01_supervised", "02_sac", "03_ppo", "04_curriculum", "05_inference"]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo") / "run"
    assert cli_main(["pipeline", "demo", "--smoke", "--output-dir", str(out), "--seed", "0", "--quiet"]) == 0
    return out


def test_every_notebook_executed_and_wrote_metrics(run_dir):
    info = json.loads((run_dir / "pipeline.json").read_text())
    assert info["status"] == "ok" and [s["name"] for s in info["stages"]] == NOTEBOOKS
    for name in NOTEBOOKS:
        assert (run_dir / name / f"{name}.ipynb").is_file(), name
        assert (run_dir / name / "metrics.json").is_file(), name
    results = {s["name"]: s["results"] for s in info["stages"]}
    assert results["03_ppo"] == ["03_ppo/metrics.json", "03_ppo/test/metrics.json"]
    assert results["04_curriculum"] == ["04_curriculum/metrics.json", "04_curriculum/stage1_test/metrics.json"]
    assert results["02_sac"] == ["02_sac/metrics.json"]
    workflows = [RunResult.read(run_dir / rel).workflow for s in info["stages"] for rel in s["results"]]
    assert workflows == ["data", "supervised", "sac", "ppo", "ppo", "curriculum", "curriculum", "inference"]
    data = RunResult.read(run_dir / "00_data")
    assert data.meta["data_hash"] and RunResult.read(run_dir / "02_sac").meta["data_hash"] == data.meta["data_hash"]


def test_run_folder_holds_the_models(run_dir):
    assert (run_dir / "02_sac" / "agent_1_best.pt").is_file()
    assert (run_dir / "01_supervised" / "model.keras").is_file()
    assert (run_dir / "04_curriculum" / "models" / "stage1_final.zip").is_file()
    assert (run_dir / "03_ppo" / "final_model.zip").is_file()


def test_inference_of_the_lone_pt_matches_the_data_it_traded(run_dir):
    metrics = RunResult.read(run_dir / "05_inference").meta
    assert metrics["inference"]["checkpoint"] == str(run_dir / "02_sac" / "agent_1_best.pt")
    actions = pd.read_csv(run_dir / "05_inference" / "actions.csv", index_col=0)
    assert len(actions) == metrics["inference"]["n_bars"] - 1  # no decision on the last bar


def test_report_has_one_table_with_baselines_and_verdicts(run_dir):
    report = (run_dir / "report.md").read_text()
    assert report.count("| model | asset | test period | strategy |") == 1
    lines = report.splitlines()
    start = lines.index(next(line for line in lines if line.startswith("| model | asset | test period")))
    table = lines[start + 2 : lines.index("", start)]
    models = {line.split(" | ")[0].strip("| ") for line in table}
    assert {"02_sac", "03_ppo", "04_curriculum", "05_inference"} <= models
    strategies = {line.split(" | ")[3] for line in table}
    assert {"buy and hold", "flat", "sma crossover", "sac agent 1"} <= strategies
    sac = RunResult.read(run_dir / "02_sac")
    two_x = sac.cost(2)["sac_agent_1"]["total_return"]
    assert f"| {100 * two_x:.2f}% |" in report
    bh, agent = sac.strategies["buy_and_hold"]["total_return"], sac.agent["total_return"]
    ppo_rows = [line for line in table if line.startswith("| 03_ppo |")]
    assert len(ppo_rows) == len({line.split(" | ")[3] for line in ppo_rows})  # the test rows once, not twice
    assert "morningstar" not in "\n".join(table) and "Missing results" not in report
    # either verdict ("did not beat buy-and-hold" / "... on return" when its Sharpe is higher)
    assert ("**02_sac (sac_agent_1) did not beat buy-and-hold" in report) == (agent <= bh)
    assert "## Supervised model, test split" in report and "confusion_signal.png" in report
    assert (run_dir / "report.html").is_file()
