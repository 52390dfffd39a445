"""One exception type per family of bad input, each with a message naming the thing and the fix."""

from __future__ import annotations

__all__ = [
    "TradelabError",
    "DataError",
    "ConfigError",
    "CheckpointError",
    "NotebookError",
    "KaggleError",
]


class TradelabError(Exception):
    """Base class: every error tradelab raises on purpose derives from it."""


class DataError(TradelabError):
    """Bad market data: missing file, wrong columns, NaN, unsorted timestamps, too few rows..."""


class ConfigError(TradelabError):
    """A bad configuration value or file: names the field, the value and what is allowed."""


class CheckpointError(TradelabError):
    """A checkpoint or artifact folder that is missing, corrupted or incompatible."""


class NotebookError(TradelabError):
    """A notebook run failed: names the cell, the exception and the executed notebook's path."""


class KaggleError(TradelabError):
    """The Kaggle loop failed: credentials, push, kernel error, missing outputs."""
