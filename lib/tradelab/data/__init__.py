"""Market data: embedded real OHLCV, user files, validation, temporal splits, stores.

Only light modules are imported here; ``split``, ``store`` and ``build`` load on first use.
"""

from tradelab.data.sources import EMBEDDED_ASSETS, EmbeddedAsset, canonicalize, load_asset, load_file
from tradelab.data.validate import OHLCV_COLUMNS, require_rows, validate_ohlcv

__all__ = [
    "EMBEDDED_ASSETS",
    "EmbeddedAsset",
    "OHLCV_COLUMNS",
    "canonicalize",
    "load_asset",
    "load_file",
    "require_rows",
    "validate_ohlcv",
]
