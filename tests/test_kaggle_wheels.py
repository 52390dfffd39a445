"""Item 3: the offline wheels dataset is built for Kaggle's CPython 3.12 manylinux x86_64.

The wheelhouse is downloaded once (``pip download --only-binary=:all: --platform
manylinux2014_x86_64 --python-version 3.12 --implementation cp``) into a gitignored cache; the
emulator tests then install it offline in a kernel (test_kaggle_loop.py).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from kaggle_emulator import wheelhouse
from packaging.tags import compatible_tags, cpython_tags
from packaging.utils import canonicalize_name, parse_wheel_filename

from tradelab.errors import KaggleError
from tradelab.kaggle.datasets import build_wheels_dataset
from tradelab.kaggle.spec import KAGGLE_MISSING, KaggleSpec
from tradelab.kaggle.wheels import check_wheels

REPO = Path(__file__).resolve().parents[1]
# written out here, independently of tradelab.kaggle.wheels: what pip on Kaggle's image accepts
CP312_MANYLINUX = [f"manylinux_2_{m}_x86_64" for m in range(35, 4, -1)] + ["manylinux2014_x86_64", "manylinux1_x86_64"]
SUPPORTED = set(cpython_tags((3, 12), platforms=CP312_MANYLINUX)) | set(compatible_tags((3, 12), "cp312", CP312_MANYLINUX))


@pytest.fixture(scope="module")
def wheels(tmp_path_factory):
    try:
        return build_wheels_dataset("me/tradelab-wheels", tmp_path_factory.mktemp("ds"), list(KAGGLE_MISSING),
                                    wheelhouse(REPO))
    except KaggleError as exc:
        pytest.skip(f"cannot build the cp312 wheelhouse once (package index unreachable?): {exc}")


def test_every_wheel_installs_on_cp312_manylinux_x86_64(wheels):
    files = sorted(wheels.path.glob("*.whl"))
    names = {parse_wheel_filename(p.name)[0] for p in files}
    assert names == {canonicalize_name(r.split("==")[0]) for r in KAGGLE_MISSING}
    for path in files:
        assert parse_wheel_filename(path.name)[3] & SUPPORTED, f"{path.name} does not install on Kaggle"
    assert not names & {"torch", "tensorflow", "tensorflow-cpu", "keras"}  # the image's CUDA builds stay
    compiled = [p.name for p in files if "cp312" in p.name]
    assert any(n.startswith("arch-") for n in compiled) and any(n.startswith("hmmlearn-") for n in compiled)


def test_install_order_puts_dependencies_first(wheels):
    order = [canonicalize_name(r.split("==")[0]) for r in check_wheels(wheels.path, list(reversed(KAGGLE_MISSING)))]
    assert order.index("farama-notifications") < order.index("gymnasium") < order.index("stable-baselines3")


def test_wrong_python_or_missing_dependency_is_refused(wheels, tmp_path):
    """Teeth: a cp311 wheel (what `pip wheel` on this machine builds) and an open closure fail."""
    folder = tmp_path / "w"
    shutil.copytree(wheels.path, folder)
    arch = next(folder.glob("arch-*.whl"))
    arch.rename(folder / "arch-8.0.0-cp311-cp311-manylinux2014_x86_64.whl")
    with pytest.raises(KaggleError, match="cp311.*cannot install"):
        check_wheels(folder, list(KAGGLE_MISSING))
    shutil.rmtree(folder)
    shutil.copytree(wheels.path, folder)
    next(folder.glob("farama_notifications-*.whl")).unlink()
    with pytest.raises(KaggleError, match="gymnasium.*requires farama-notifications"):
        check_wheels(folder, [r for r in KAGGLE_MISSING if not r.startswith("farama")])


def test_spec_refuses_to_install_over_the_image():
    with pytest.raises(KaggleError, match="torch"):
        KaggleSpec.from_dict({"workflow": "02_sac", "requirements": ["torch==2.13.0", "ta==0.11.0"]})
