"""Supervised model and tf.data loader: named heads, windows inside their split, no (N, W, F) tensor."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tradelab.data.synthetic import regime_switching_gbm
from tradelab.errors import ConfigError, DataError
from tradelab.models.hybrid import HEADS, REGIME_HEAD, SIGNAL_HEAD, VOLATILITY_HEAD

tf = pytest.importorskip("tensorflow")


def build_synthetic_processed(out_dir: Path, n_bars: int = 1200, seed: int = 7, name: str = "syn") -> Path:
    """Synthetic OHLCV (tests only) → CSV → the real ``build_processed`` → ``{name}_final.parquet``."""
    from tradelab.data.build import build_processed

    csv = out_dir / f"{name}.csv"
    out_dir.mkdir(parents=True, exist_ok=True)
    regime_switching_gbm(n_bars=n_bars, seed=seed).to_csv(csv)
    build_processed(csv=[(str(csv), name)], out_dir=out_dir / "processed")
    return out_dir / "processed"


@pytest.fixture(scope="module")
def processed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_synthetic_processed(tmp_path_factory.mktemp("sup_data"))


@pytest.fixture(scope="module")
def split_data(processed: Path):
    from tradelab.training.supervised_data import load_and_split_data

    return load_and_split_data("syn", processed)


def test_model_has_three_named_heads_with_valid_outputs() -> None:
    from tradelab import build_enhanced_hybrid_model

    for attention in (False, True):
        model = build_enhanced_hybrid_model((12, 5), 3, 4, cnn_filters=(4,), lstm_units=(6,), dense_units=4,
                                            use_attention=attention, volatility_init=0.01)
        out = model.predict(np.random.default_rng(0).normal(size=(7, 12, 5)).astype("float32"), verbose=0)
        assert set(out) == set(HEADS) == set(model.output_names)
        assert out[SIGNAL_HEAD].shape == (7, 3) and out[REGIME_HEAD].shape == (7, 4)
        np.testing.assert_allclose(out[SIGNAL_HEAD].sum(axis=1), 1.0, rtol=1e-5)
        np.testing.assert_allclose(out[REGIME_HEAD].sum(axis=1), 1.0, rtol=1e-5)
        assert out[VOLATILITY_HEAD].shape == (7, 1) and (out[VOLATILITY_HEAD] >= 0).all()


def test_missing_parquet_names_path_and_build_command(tmp_path: Path) -> None:
    from tradelab.training.supervised_data import load_and_split_data

    with pytest.raises(DataError) as err:
        load_and_split_data("nosuchasset", tmp_path)
    msg = str(err.value)
    assert str(tmp_path / "nosuchasset_final.parquet") in msg and "tradelab data build" in msg


def test_scaler_is_fitted_on_train_rows_only(split_data) -> None:
    names = split_data.feature_names
    train = split_data.scaled("train")
    # standardised on train: train columns have mean ~0; the full history's mean would not give that
    non_constant = split_data.frames["train"][names].std().to_numpy() > 0
    assert np.abs(train.mean(axis=0)[non_constant]).max() < 0.2
    full = pd.concat(split_data.frames.values())[names]
    refit = type(split_data.scaler).fit(full, columns=names)
    assert not np.allclose(refit.transform_array(full.to_numpy()), split_data.scaler.transform_array(full.to_numpy()))


def _row_id_loader(split_data, window: int, batch: int):
    """A loader whose feature matrix holds each row's global position, to trace what a window spans."""
    from tradelab.training.supervised_data import DataLoader

    loader = DataLoader(split_data, time_window=window, batch_size=batch, seed=3)
    start = 0
    for split in ("train", "val", "test"):
        n = len(split_data.frames[split])
        split_data._scaled[split] = np.repeat(np.arange(start, start + n, dtype=np.float32)[:, None], len(split_data.feature_names), axis=1)
        start += n + 1000  # a jump between splits: a window across a boundary would not be consecutive
    return loader


def test_windows_never_span_split_boundaries(processed: Path) -> None:
    from tradelab.training.supervised_data import load_and_split_data

    data = load_and_split_data("syn", processed)
    window, loader = 20, _row_id_loader(data, 20, 64)
    offset = 0
    for split in ("train", "val", "test"):
        n = len(data.frames[split])
        ids, signals = [], []
        for x, y, *_ in loader.dataset(split):
            x = x.numpy()[:, :, 0].astype(np.int64)
            assert (np.diff(x, axis=1) == 1).all(), f"{split}: a window is not a run of consecutive rows"
            ids.append(x)
            signals.append(y[SIGNAL_HEAD].numpy())
        ids, signals = np.concatenate(ids), np.concatenate(signals)
        assert ids.min() >= offset and ids.max() < offset + n, f"{split}: a window left its split"
        assert len(ids) == n - window + 1 == loader.n_windows(split)
        assert len(np.unique(ids[:, -1])) == len(ids)  # each end row once (shuffled for train)
        # the label is the one of the window's last row
        np.testing.assert_array_equal(signals, data.labels(split)[SIGNAL_HEAD][ids[:, -1] - offset])
        offset += n + 1000


def test_loader_yields_batches_not_a_window_tensor(split_data) -> None:
    from tradelab.training.supervised_data import DataLoader

    loader = DataLoader(split_data, time_window=16, batch_size=32)
    ds = loader.dataset("train")
    assert isinstance(ds, tf.data.Dataset)
    assert tuple(ds.element_spec[0].shape) == (None, 16, len(split_data.feature_names))
    held = [v for obj in (loader, split_data) for v in vars(obj).values()]
    held += list(split_data._scaled.values())
    assert not any(isinstance(v, np.ndarray) and v.ndim >= 3 for v in held)
    x, y, sw = next(iter(ds))
    assert x.shape[0] <= 32 and set(y) == set(sw) == set(HEADS)


def _peak_rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM"):
            return int(line.split()[1])
    raise RuntimeError("no VmHWM")


@pytest.mark.skipif(not Path("/proc/self/clear_refs").exists(), reason="needs Linux /proc peak-RSS reset")
def test_loader_memory_stays_far_below_the_full_window_tensor() -> None:
    from tradelab.features.scaling import FeatureScaler
    from tradelab.training.supervised_data import DataLoader, SplitData

    rows, feats, window = 24_000, 48, 64  # full window tensor: 24000*64*48*4 B = 295 MB
    rng = np.random.default_rng(0)
    names = [f"f{i}" for i in range(feats)]
    frame = pd.DataFrame(rng.normal(size=(rows, feats)), columns=names)
    frame["label_signal"], frame["label_regime"] = rng.integers(0, 3, rows), rng.integers(0, 3, rows)
    frame["label_volatility"] = rng.random(rows)
    frames = {"train": frame, "val": frame.iloc[:200], "test": frame.iloc[:200]}
    data = SplitData("mem", Path("mem"), names, frames, FeatureScaler.fit(frame[names], columns=names))
    loader = DataLoader(data, time_window=window, batch_size=256)
    data.scaled("train")
    full_mb = rows * window * feats * 4 / 2**20
    Path("/proc/self/clear_refs").write_text("5")
    before = _peak_rss_kb()
    n = sum(int(x.shape[0]) for x, *_ in loader.dataset("train"))
    grown_mb = (_peak_rss_kb() - before) / 1024
    assert n == rows - window + 1
    assert grown_mb < full_mb / 4, f"peak RSS grew {grown_mb:.0f} MB while iterating; full tensor is {full_mb:.0f} MB"


def test_balanced_sample_weights_equalise_classes(split_data) -> None:
    from tradelab.training.supervised_data import DataLoader

    loader = DataLoader(split_data, time_window=16, batch_size=128, class_weighting="balanced")
    ys, ws = [], []
    for _, y, sw in loader.dataset("train"):
        ys.append(y[SIGNAL_HEAD].numpy())
        ws.append(sw[SIGNAL_HEAD].numpy())
    y, w = np.concatenate(ys), np.concatenate(ws)
    totals = [w[y == c].sum() for c in np.unique(y)]
    counts = np.bincount(y)
    assert counts.max() > counts[counts > 0].min()  # imbalanced to begin with
    # weights were fitted on all train rows; window ends skip the first rows, so near-equal
    np.testing.assert_allclose(totals, np.mean(totals), rtol=0.05)
    unweighted = DataLoader(split_data, time_window=16, batch_size=128, class_weighting="none")
    assert len(next(iter(unweighted.dataset("train")))) == 2
    with pytest.raises(ConfigError, match="class_weighting"):
        DataLoader(split_data, class_weighting="inverse")


def test_val_split_resplits_with_purge_gap(processed: Path) -> None:
    from tradelab.training.supervised_data import load_and_split_data

    data = load_and_split_data("syn", processed, val_split=0.25, purge_gap=7)
    base = load_and_split_data("syn", processed)
    pool = len(base.frames["train"]) + len(base.frames["val"])
    assert len(data.frames["val"]) == round(0.25 * pool)
    assert len(data.frames["train"]) + len(data.frames["val"]) + 7 == pool
    assert data.frames["train"].index.max() < data.frames["val"].index.min()
    pd.testing.assert_frame_equal(data.frames["test"], base.frames["test"])
    with pytest.raises(ConfigError, match="val_split"):
        load_and_split_data("syn", processed, val_split=1.5)


def test_train_shuffle_is_seeded_and_reshuffles_every_epoch(split_data) -> None:
    from tradelab.training.supervised_data import DataLoader

    def epoch_order(ds) -> np.ndarray:
        return np.concatenate([x.numpy()[:, -1, 0] for x, _, _ in ds])  # last row's first feature

    ds = DataLoader(split_data, time_window=16, batch_size=64, seed=1).dataset("train")
    first, second = epoch_order(ds), epoch_order(ds)
    again = epoch_order(DataLoader(split_data, time_window=16, batch_size=64, seed=1).dataset("train"))
    other = epoch_order(DataLoader(split_data, time_window=16, batch_size=64, seed=2).dataset("train"))
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, second) and not np.array_equal(first, other)
    np.testing.assert_array_equal(np.sort(first), np.sort(second))  # same windows, new order
