"""No hidden global state: importing tradelab changes nothing process-wide; entry points say what they set.

Process-wide settings (the TensorBoard-without-TensorFlow marker, a notebook's working directory)
belong to the entry points: the CLI's ``main``, a notebook's ``setup_kernel()`` cell, the benchmark
scripts and this test suite's conftest. Shipped files resolve to the checkout's folders first, the
packaged copies of a non-editable install second.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tradelab import project
from tradelab.errors import ConfigError
from tradelab.notebooks.kernel_setup import notebook_workdir, setup_kernel
from tradelab.notebooks.runner import PROJECT_KERNEL, kernel_options

REPO = Path(__file__).resolve().parents[1]
MARKER = "tensorboard.compat.notf"


def _python(code: str) -> str:
    env = os.environ | {"PYTHONPATH": str(REPO / "lib")}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=REPO, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout.strip()


def test_importing_tradelab_and_a_trainer_module_changes_no_process_state():
    out = _python(
        "import os, sys, warnings\nimport numpy, pandas  # their own import-time filters\n"
        "cwd, filters = os.getcwd(), list(warnings.filters)\n"
        "import tradelab, tradelab.training.ppo, tradelab.notebooks.report, tradelab.notebooks\n"
        f"print({MARKER!r} in sys.modules, 'matplotlib' in sys.modules, os.getcwd() == cwd, "
        "warnings.filters == filters)"
    )
    assert out == "False False True True"


def test_the_cli_entry_point_sets_the_tensorboard_marker():
    out = _python(
        "import sys\nfrom tradelab.cli import main\n"
        f"before = {MARKER!r} in sys.modules\n"
        "try:\n    main(['--version'])\nexcept SystemExit:\n    pass\n"
        f"print(before, {MARKER!r} in sys.modules)"
    )
    assert out.splitlines()[-1] == "False True"


def test_training_curves_draw_without_pyplot_or_a_backend_switch(tmp_path):
    stage = tmp_path / "stage"
    out = _python(
        "import matplotlib\nmatplotlib.use('svg')  # the caller's choice, which tradelab must keep\n"
        "from tradelab.utils.tensorboard import skip_tensorflow\nskip_tensorflow()  # as an entry point would\n"
        "from torch.utils.tensorboard import SummaryWriter\n"
        "from tradelab.notebooks.report import training_curves\n"
        f"w = SummaryWriter({str(stage / 'tensorboard')!r})\n"
        "for s in range(3): w.add_scalar('train/value_loss', 1.0 / (s + 1), s)\n"
        "w.close()\n"
        "backend = matplotlib.get_backend()\n"
        f"png = training_curves(__import__('pathlib').Path({str(stage)!r}))\n"
        "import matplotlib.pyplot as plt\n"
        "print(png.name, backend, matplotlib.get_backend(), plt.get_fignums())"
    )
    assert out.splitlines()[-1] == "training_curves.png svg svg []"
    assert (stage / "training_curves.png").read_bytes()[:4] == b"\x89PNG"


def test_setup_kernel_moves_only_a_checkout_notebooks_folder_to_the_root(tmp_path, monkeypatch):
    (tmp_path / "lib" / "tradelab").mkdir(parents=True)
    (tmp_path / "notebooks").mkdir()
    assert notebook_workdir(tmp_path / "notebooks") == tmp_path
    assert notebook_workdir(tmp_path) == tmp_path
    (tmp_path / "other" / "notebooks").mkdir(parents=True)
    assert notebook_workdir(tmp_path / "other" / "notebooks") == tmp_path / "other" / "notebooks"
    monkeypatch.chdir(tmp_path / "notebooks")
    assert setup_kernel() == tmp_path and Path.cwd() == tmp_path
    assert MARKER in sys.modules
    monkeypatch.chdir(tmp_path / "other")
    assert setup_kernel() == tmp_path / "other" and Path.cwd() == tmp_path / "other"


def test_shipped_files_come_from_the_checkout_first(monkeypatch):
    assert project.checkout_root() == REPO
    assert project.resource_dir("configs") == REPO / "configs"
    assert project.resource_dir("notebooks") == REPO / "notebooks"
    assert project.resource_dir("kaggle_specs") == REPO / "kaggle" / "specs"
    packaged = project.resource_dirs("configs")[-1]
    assert packaged.parts[-3:] == ("tradelab", "resources", "configs")
    monkeypatch.setattr(project, "checkout_root", lambda: None)  # as in a non-editable install
    assert project.resource_dirs("notebooks") == [packaged.parent / "notebooks"]
    with pytest.raises(ValueError, match="unknown resource kind"):
        project.resource_dirs("datasets")


def test_a_missing_config_folder_names_every_place_looked(monkeypatch, tmp_path):
    from tradelab.config import load_yaml

    monkeypatch.setattr(project, "checkout_root", lambda: tmp_path)  # a checkout without configs/
    monkeypatch.setattr(project.importlib.resources, "files", lambda _pkg: tmp_path / "site" / "tradelab")
    with pytest.raises(ConfigError) as err:
        load_yaml(tmp_path / "sac.yaml")
    message = str(err.value)
    assert str(tmp_path / "configs") in message and str(tmp_path / "site" / "tradelab" / "resources" / "configs") in message
    assert "pip install ." in message


def test_the_project_kernel_falls_back_to_this_interpreter(monkeypatch):
    from tradelab.notebooks import runner

    assert kernel_options("some-other-kernel") == {"kernel_name": "some-other-kernel"}
    monkeypatch.setattr(runner, "_runs_this_python", lambda name: False)  # no kernelspec, or another Python's
    options = kernel_options(PROJECT_KERNEL)
    manager = options["kernel_manager_class"](kernel_name=PROJECT_KERNEL)
    assert options["kernel_name"] == PROJECT_KERNEL and manager.kernel_spec.argv[0] == sys.executable


@pytest.mark.slow
def test_a_notebook_runs_on_this_interpreter_when_the_project_kernel_is_not_ours(tmp_path, monkeypatch):
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

    from tradelab.notebooks import runner

    nb = new_notebook(cells=[
        new_markdown_cell("# Which Python"),
        new_code_cell('output_dir = "o"\nsmoke = False', metadata={"tags": ["parameters"]}),
        new_code_cell("import json, pathlib, sys\n"
                      "pathlib.Path(output_dir, 'metrics.json').write_text(json.dumps({'python': sys.executable}))"),
    ])
    nb.metadata["kernelspec"] = {"name": PROJECT_KERNEL, "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, tmp_path / "which.ipynb")
    monkeypatch.setattr(runner, "_runs_this_python", lambda name: False)
    result = runner.run(tmp_path / "which.ipynb", {}, tmp_path / "out", progress_bar=False)
    assert result.metrics == {"python": sys.executable}
