"""Package data mapping: configs/, notebooks/ and kaggle/specs/ ship inside the wheel.

Everything else about the package is in pyproject.toml. The three folders stay where researchers
edit them (the repository root); setuptools maps them to ``tradelab/resources/*`` when it builds a
wheel, so a non-editable ``pip install .`` carries them without a second committed copy.
``tradelab.project`` finds them: the checkout's folders first, these packaged copies otherwise.
"""

from setuptools import find_packages, setup

RESOURCES = {  # package inside the wheel -> (folder in the repository, files)
    "tradelab.resources.configs": ("configs", ["*.yaml"]),
    "tradelab.resources.notebooks": ("notebooks", ["*.ipynb"]),
    "tradelab.resources.kaggle_specs": ("kaggle/specs", ["*.yaml"]),
}

setup(
    packages=[*find_packages("lib"), *RESOURCES],
    package_dir={"": "lib", **{pkg: folder for pkg, (folder, _) in RESOURCES.items()}},
    package_data={"tradelab": ["py.typed"], **{pkg: files for pkg, (_, files) in RESOURCES.items()}},
)
