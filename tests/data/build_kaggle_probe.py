"""Write tests/data/kaggle_probe.ipynb: the small notebook the Kaggle loop tests push.

It reads a file of the data dataset, optionally sleeps, resumes a step counter from a previous
run's checkpoint, writes ``progress.json``, optionally raises, then writes ``ckpt/last.ckpt`` +
``metrics.json`` into ``output_dir``.
Run: ``.venv/bin/python tests/data/build_kaggle_probe.py``.
"""

from pathlib import Path

import nbformat

PARAMS = """output_dir = "outputs/kaggle_probe"
smoke = True
data_path = "data/processed/probe.csv"
resume_from = ""
fail = False
sleep_s = 0.0
"""

BODY = """import hashlib
import json
import os
import time

import tradelab

raw = open(data_path, "rb").read()
step = 1
if resume_from:
    step = json.load(open(resume_from))["step"] + 1
time.sleep(sleep_s)
os.makedirs(os.path.join(output_dir, "ckpt"), exist_ok=True)
with open(os.path.join(output_dir, "progress.json"), "w") as fh:  # written before a requested failure
    json.dump({"step": step}, fh)
if fail:
    raise ValueError(f"probe failure requested at step {step}")
with open(os.path.join(output_dir, "ckpt", "last.ckpt"), "w") as fh:
    json.dump({"step": step}, fh)
metrics = {"data_sha256": hashlib.sha256(raw).hexdigest(), "step": step, "smoke": smoke,
           "tradelab_file": tradelab.__file__, "resumed_from": resume_from}
with open(os.path.join(output_dir, "metrics.json"), "w") as fh:
    json.dump(metrics, fh)
print("probe step", step)
"""


def main(path: Path | None = None) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Kaggle probe\nReads the data dataset, writes a checkpoint and `metrics.json`."),
        nbformat.v4.new_code_cell(PARAMS, metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell(BODY),
    ]
    for i, cell in enumerate(nb.cells):
        cell.id = f"probe-{i}"  # stable ids: the committed file is reproducible
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    path = path or Path(__file__).with_name("kaggle_probe.ipynb")
    nbformat.write(nb, path)
    return path


if __name__ == "__main__":
    print(main())
