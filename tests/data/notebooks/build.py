"""Regenerate the tiny test notebooks: `.venv/bin/python tests/data/notebooks/build.py`."""

from pathlib import Path

from tradelab.notebooks.authoring import write_notebook

HERE = Path(__file__).resolve().parent

write_notebook(
    HERE / "t1_metrics.ipynb",
    "# Test notebook: writes metrics.json from its parameters",
    'output_dir = "outputs/t1"\nsmoke = False\nscale = 2.0\nlabel = "demo"',
    [
        "import json\nfrom pathlib import Path",
        'out = Path(output_dir)\nout.mkdir(parents=True, exist_ok=True)\n'
        'metrics = {"value": scale * 21, "label": label, "smoke": smoke}\n'
        '(out / "metrics.json").write_text(json.dumps(metrics))',
    ],
)

write_notebook(
    HERE / "t2_raises.ipynb",
    "# Test notebook: fails in its third code cell",
    'output_dir = "outputs/t2"\nsmoke = False\nbad_value = -1',
    [
        "x = 1",
        'if bad_value < 0:\n    raise ValueError(f"bad_value must be >= 0, got {bad_value}")',
    ],
)

write_notebook(
    HERE / "t3_plot.ipynb",
    "# Test notebook: one inline matplotlib plot",
    'output_dir = "outputs/t3"\nsmoke = False',
    ["import matplotlib.pyplot as plt\n\nplt.plot([1, 3, 2])\nplt.show()"],
)
