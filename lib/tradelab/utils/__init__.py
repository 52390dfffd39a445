"""Small shared helpers: seeding/threads, atomic writes, hashes, run metadata."""

from tradelab.utils.io import atomic_write_bytes, atomic_write_json, atomic_write_text, file_sha256, read_json
from tradelab.utils.runtime import resolve_device, run_metadata, seed_everything, set_threads

__all__ = [
    "atomic_write_bytes",
    "atomic_write_json",
    "atomic_write_text",
    "file_sha256",
    "read_json",
    "resolve_device",
    "run_metadata",
    "seed_everything",
    "set_threads",
]
