"""Kaggle loop pieces that need no server: specs, dataset hashing, kernel folder, bootstrap cell."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from tradelab.errors import KaggleError
from tradelab.kaggle import KaggleSpec, load_spec, slugify
from tradelab.kaggle.cli_driver import _STATUS_RE
from tradelab.kaggle.datasets import build_code_dataset, build_data_dataset, content_hash
from tradelab.kaggle.kernel import build_kernel_folder
from tradelab.kaggle.spec import SPEC_DIR

REPO = Path(__file__).resolve().parents[1]
PROBE = REPO / "tests" / "data" / "kaggle_probe.ipynb"


def probe_spec(**kw) -> KaggleSpec:
    base = dict(workflow="kaggle_probe", notebook=str(PROBE), data_files=["probe.csv"],
                path_parameters={"data_path": "data:probe.csv"}, resume_glob="**/*.ckpt")
    return KaggleSpec.from_dict({**base, **kw})


def test_committed_probe_notebook_matches_its_builder(tmp_path):
    import importlib.util

    loader = importlib.util.spec_from_file_location("build_kaggle_probe", REPO / "tests" / "data" / "build_kaggle_probe.py")
    module = importlib.util.module_from_spec(loader)
    loader.loader.exec_module(module)
    assert module.main(tmp_path / "probe.ipynb").read_text() == PROBE.read_text()


def test_shipped_specs_load_and_keep_title_slug_consistent():
    specs = sorted(SPEC_DIR.glob("*.yaml"))
    assert specs, f"no specs in {SPEC_DIR}"
    for path in specs:
        spec = load_spec(path.stem)
        assert spec.workflow == path.stem
        assert spec.machine_shape == "NvidiaTeslaT4"


def test_each_data_dataset_slug_carries_one_file_set():
    """Item 6: workflows shipping different data files never share (and re-version) one slug."""
    seen: dict[str, tuple[str, list[str]]] = {}
    for path in sorted(SPEC_DIR.glob("*.yaml")):
        spec = load_spec(path.stem)
        if not spec.data_dataset:
            continue
        files = sorted(spec.data_files)
        other = seen.setdefault(spec.data_dataset, (spec.workflow, files))
        assert other[1] == files, (
            f"{other[0]} and {spec.workflow} both push {spec.data_dataset} with {other[1]} vs {files}"
        )
    assert len(seen) >= 2


def test_bad_spec_values_raise_kaggle_error():
    with pytest.raises(KaggleError, match="slug"):
        KaggleSpec.from_dict({"workflow": "x", "slug": "Bad Slug"})
    with pytest.raises(KaggleError, match="path_parameters.data_path"):
        KaggleSpec.from_dict({"workflow": "02_sac", "path_parameters": {"data_path": "disk:/x"}})


@pytest.mark.parametrize("text", ['o/s has status "KernelWorkerStatus.COMPLETE"', 'o/s has status "complete"'])
def test_status_word_is_parsed_case_insensitively(text):
    assert _STATUS_RE.search(text).group(1).upper() == "COMPLETE"


def test_dataset_hash_changes_only_with_content(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "probe.csv").write_text("a\n1\n")
    first = build_data_dataset("me/tradelab-data", tmp_path / "ds", data, ["*.csv"])
    again = build_data_dataset("me/tradelab-data", tmp_path / "ds", data, ["*.csv"])
    assert first.content_hash == again.content_hash == content_hash(again.path)
    meta = json.loads((again.path / "dataset-metadata.json").read_text())
    assert first.content_hash in meta["description"] and len(meta["licenses"]) == 1
    assert 6 <= len(meta["title"]) <= 50
    (data / "probe.csv").write_text("a\n2\n")
    assert build_data_dataset("me/tradelab-data", tmp_path / "ds", data, ["*.csv"]).content_hash != first.content_hash
    with pytest.raises(KaggleError, match="tradelab data build"):
        build_data_dataset("me/tradelab-data", tmp_path / "ds", data, ["*.h5"])


def test_code_dataset_carries_package_without_caches(tmp_path):
    ds = build_code_dataset("me/tradelab-code", tmp_path, REPO)
    assert (ds.path / "lib" / "tradelab" / "kaggle" / "bootstrap.py").is_file()
    assert not list(ds.path.rglob("__pycache__"))
    assert "lib.zip" in ds.expected_names()  # subfolders travel zipped (-r zip)


def test_kernel_folder_injects_parameters_and_runtime_paths(tmp_path):
    spec = probe_spec()
    folder = build_kernel_folder(
        spec, "me", {"smoke": False, "sleep_s": 0.5}, tmp_path / "push",
        dataset_refs={"code": "me/tradelab-code", "data": "me/tradelab-data"},
        kernel_sources=("me/tradelab-kaggle-probe",), resume_slug="tradelab-kaggle-probe",
    )
    meta = json.loads((folder.path / "kernel-metadata.json").read_text())
    assert meta["id"] == "me/tradelab-kaggle-probe" and slugify(meta["title"]) == "tradelab-kaggle-probe"
    assert meta["kernel_type"] == "notebook" and meta["is_private"] is True and meta["language"] == "python"
    assert meta["enable_internet"] is True and meta["machine_shape"] == "NvidiaTeslaT4"
    assert meta["dataset_sources"] == ["me/tradelab-code", "me/tradelab-data"]
    assert meta["kernel_sources"] == ["me/tradelab-kaggle-probe"]
    nb = nbformat.read(folder.path / meta["code_file"], as_version=4)
    code_cells = [c for c in nb.cells if c.cell_type == "code"]
    assert nb.cells[0].cell_type == "markdown" and "tradelab-bootstrap" in code_cells[0].metadata["tags"]
    injected = next(c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", []))
    assert "smoke = False" in injected.source and "sleep_s = 0.5" in injected.source
    assert "data_path = _tl_input('tradelab-data', 'probe.csv')" in injected.source
    assert "output_dir = _tl_working()" in injected.source
    assert "resume_from = _tl_latest('tradelab-kaggle-probe', '**/*.ckpt')" in injected.source
    with pytest.raises(KaggleError, match="unknown parameter"):
        build_kernel_folder(spec, "me", {"nope": 1}, tmp_path / "bad", dataset_refs={"code": "me/tradelab-code"})


def test_bootstrap_cell_finds_inputs_in_new_layout(tmp_path, layout="new"):
    """Run the bootstrap + injected cells as plain Python against a fake /kaggle tree.

    (The emulator tests run whole kernels in both layouts.)"""
    code = build_code_dataset("me/tradelab-code", tmp_path / "ds", REPO)
    parent = tmp_path / "kaggle" / "input" / ("datasets/me" if layout == "new" else "")
    (parent / "tradelab-data").mkdir(parents=True)
    (parent / "tradelab-data" / "probe.csv").write_text("x\n")
    subprocess.run(["cp", "-r", str(code.path), str(parent / "tradelab-code")], check=True)
    folder = build_kernel_folder(probe_spec(), "me", {}, tmp_path / "push",
                                 dataset_refs={"code": "me/tradelab-code", "data": "me/tradelab-data"})
    nb = nbformat.read(folder.path / folder.metadata["code_file"], as_version=4)
    cells = [c.source for c in nb.cells if c.cell_type == "code"][:3]
    script = "\n".join(cells[:1] + cells[2:3]) + "\nprint(data_path); print(output_dir); print(tradelab.__file__)"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(TRADELAB_KAGGLE_ROOT=str(tmp_path / "kaggle"), TMPDIR=str(tmp_path))
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
    lines = out.stdout.strip().splitlines()
    assert lines[-3] == str(parent / "tradelab-data" / "probe.csv")
    assert lines[-2] == str(tmp_path / "kaggle" / "working")
    assert lines[-1].startswith(str(tmp_path / "tradelab_code"))
