"""50+ causal technical features: `ta` indicators where `ta` has them, the rest in
:mod:`tradelab.features.custom`.

Levels that would not generalise across assets (moving averages, bands, MACD, OBV...) are
expressed relative to price or volume. The first ``WARMUP_BARS`` rows are NaN (never
back-filled); after the warm-up, values that are undefined on that bar (zero volume, zero
range) are 0. Excluded on purpose: `ta`'s Ichimoku spans (visual mode fills the shifted span
with the whole-series mean, i.e. future data; tests show the truncation check catching it) and
PSAR/NVI/KAMA (per-bar Python loops, too slow at 1M bars). `ta`'s DPO shifts backwards here
(causal in ta 0.11), so it is kept.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from tradelab.features import custom

__all__ = ["compute_features", "feature_names", "FEATURE_GROUPS", "WARMUP_BARS"]

#: Leading rows that are NaN in every feature (the 252-bar high/low needs 252 bars).
WARMUP_BARS: int = custom.EXTREME_WINDOW


def _trend(h: pd.Series, low: pd.Series, c: pd.Series) -> dict[str, pd.Series]:
    from ta import trend

    macd = trend.MACD(c, window_slow=26, window_fast=12, window_sign=9)
    adx = trend.ADXIndicator(h, low, c, window=14)
    out = {f"sma_{w}_rel": c / trend.SMAIndicator(c, window=w).sma_indicator() - 1.0 for w in (10, 20, 50)}
    out.update({f"ema_{w}_rel": c / trend.EMAIndicator(c, window=w).ema_indicator() - 1.0 for w in (10, 20)})
    out.update({
        "macd_rel": macd.macd() / c,
        "macd_signal_rel": macd.macd_signal() / c,
        "macd_diff_rel": macd.macd_diff() / c,
        "adx_14": adx.adx(),
        "adx_pos_14": adx.adx_pos(),
        "adx_neg_14": adx.adx_neg(),
        "cci_20": trend.CCIIndicator(h, low, c, window=20).cci(),
        "trix_15": trend.TRIXIndicator(c, window=15).trix(),
        "dpo_20_rel": trend.DPOIndicator(c, window=20).dpo() / c,
    })
    return out


def _momentum(h: pd.Series, low: pd.Series, c: pd.Series, v: pd.Series) -> dict[str, pd.Series]:
    from ta import momentum, volume

    stoch = momentum.StochasticOscillator(h, low, c, window=14, smooth_window=3)
    out = {f"rsi_{w}": momentum.RSIIndicator(c, window=w).rsi() for w in (7, 14)}
    out.update({"stoch_k": stoch.stoch(), "stoch_d": stoch.stoch_signal()})
    out.update({f"roc_{w}": momentum.ROCIndicator(c, window=w).roc() for w in (10, 20)})
    out.update({
        "williams_r_14": momentum.WilliamsRIndicator(h, low, c, lbp=14).williams_r(),
        "tsi": momentum.TSIIndicator(c, window_slow=25, window_fast=13).tsi(),
        "ultimate_osc": momentum.UltimateOscillator(h, low, c).ultimate_oscillator(),
        "awesome_osc_rel": momentum.AwesomeOscillatorIndicator(h, low).awesome_oscillator() / c,
        "ppo": momentum.PercentagePriceOscillator(c).ppo(),
        "stoch_rsi": momentum.StochRSIIndicator(c).stochrsi(),
        "mfi_14": volume.MFIIndicator(h, low, c, v, window=14).money_flow_index(),
    })
    return out


def _volatility(h: pd.Series, low: pd.Series, c: pd.Series) -> dict[str, pd.Series]:
    from ta import volatility

    bb = volatility.BollingerBands(c, window=20, window_dev=2)
    kc = volatility.KeltnerChannel(h, low, c, window=20, window_atr=10, original_version=True)
    dc = volatility.DonchianChannel(h, low, c, window=20)
    return {
        "bb_high_rel": bb.bollinger_hband() / c - 1.0,
        "bb_low_rel": bb.bollinger_lband() / c - 1.0,
        "bb_width": bb.bollinger_wband(),
        "bb_pct_b": bb.bollinger_pband(),
        "atr_14_rel": volatility.AverageTrueRange(h, low, c, window=14).average_true_range() / c,
        "kc_high_rel": kc.keltner_channel_hband() / c - 1.0,
        "kc_low_rel": kc.keltner_channel_lband() / c - 1.0,
        "kc_pct": kc.keltner_channel_pband(),
        "donchian_pct_20": dc.donchian_channel_pband(),
        "donchian_width_20": dc.donchian_channel_wband(),
        "ulcer_index_14": volatility.UlcerIndex(c, window=14).ulcer_index(),
    }


def _volume(h: pd.Series, low: pd.Series, c: pd.Series, v: pd.Series) -> dict[str, pd.Series]:
    from ta import volume

    vol_sum20 = v.rolling(20).sum()
    vol_mean20 = v.rolling(20).mean()
    obv = volume.OnBalanceVolumeIndicator(c, v).on_balance_volume()
    vpt = volume.VolumePriceTrendIndicator(c, v).volume_price_trend()
    eom = volume.EaseOfMovementIndicator(h, low, v, window=14).sma_ease_of_movement()
    vwap = volume.VolumeWeightedAveragePrice(h, low, c, v, window=14).volume_weighted_average_price()
    return {
        # cumulative OBV/VPT levels depend on where the series starts: use their 20-bar change
        "obv_slope_20": obv.diff(20) / vol_sum20,
        "vpt_slope_20": vpt.diff(20) / vol_sum20,
        "cmf_20": volume.ChaikinMoneyFlowIndicator(h, low, c, v, window=20).chaikin_money_flow(),
        "force_index_13_rel": volume.ForceIndexIndicator(c, v, window=13).force_index() / (c * vol_mean20),
        "eom_14_rel": eom * vol_mean20 / (c * c) / 1e8,  # ta scales EoM by 1e8 / volume
        "volume_ratio_20": v / vol_mean20,
        "vwap_14_rel": c / vwap - 1.0,
    }


_GROUPS: dict[str, tuple[str, ...]] = {
    "trend": ("sma_10_rel", "sma_20_rel", "sma_50_rel", "ema_10_rel", "ema_20_rel", "macd_rel", "macd_signal_rel",
              "macd_diff_rel", "adx_14", "adx_pos_14", "adx_neg_14", "cci_20", "trix_15", "dpo_20_rel"),
    "momentum": ("rsi_7", "rsi_14", "stoch_k", "stoch_d", "roc_10", "roc_20", "williams_r_14", "tsi",
                 "ultimate_osc", "awesome_osc_rel", "ppo", "stoch_rsi", "mfi_14"),
    "volatility": ("bb_high_rel", "bb_low_rel", "bb_width", "bb_pct_b", "atr_14_rel", "kc_high_rel", "kc_low_rel",
                   "kc_pct", "donchian_pct_20", "donchian_width_20", "ulcer_index_14"),
    "volume": ("obv_slope_20", "vpt_slope_20", "cmf_20", "force_index_13_rel", "eom_14_rel", "volume_ratio_20",
               "vwap_14_rel"),
    "support_resistance": ("pivot_rel", "pivot_r1_rel", "pivot_r2_rel", "pivot_s1_rel", "pivot_s2_rel",
                           f"high_{custom.EXTREME_WINDOW}_rel", f"low_{custom.EXTREME_WINDOW}_rel"),
    "statistical": ("log_ret_1", "ret_mean_20", "ret_std_20", "ret_std_60", "ret_skew_60", "ret_kurt_60",
                    "zscore_20", "autocorr_1_60", f"hurst_{custom.HURST_WINDOW}",
                    f"variance_ratio_{custom.VR_LAG}_{custom.VR_WINDOW}"),
    "price_action": ("body_rel", "upper_shadow_rel", "lower_shadow_rel", "gap_rel", "true_range_rel", "range_rel",
                     "close_location"),
}

#: feature name → group, in output column order.
FEATURE_GROUPS: dict[str, str] = {name: group for group, names in _GROUPS.items() for name in names}


def _builders(ohlcv: pd.DataFrame) -> dict[str, Callable[[], dict[str, pd.Series]]]:
    o, h, low, c, v = (ohlcv[k].astype("float64") for k in ("open", "high", "low", "close", "volume"))
    return {
        "trend": lambda: _trend(h, low, c),
        "momentum": lambda: _momentum(h, low, c, v),
        "volatility": lambda: _volatility(h, low, c),
        "volume": lambda: _volume(h, low, c, v),
        "support_resistance": lambda: custom.support_resistance(o, h, low, c),
        "statistical": lambda: custom.statistical(c),
        "price_action": lambda: custom.price_action(o, h, low, c),
    }


def _all_groups(ohlcv: pd.DataFrame) -> dict[str, dict[str, pd.Series]]:
    """Every group's series at once (tests, benchmarks); compute_features streams them instead."""
    return {group: build() for group, build in _builders(ohlcv).items()}


def feature_names() -> list[str]:
    """The feature columns :func:`compute_features` returns, in order."""
    return list(FEATURE_GROUPS)


def compute_features(ohlcv: pd.DataFrame) -> pd.DataFrame:
    """All causal features for a canonical OHLCV frame (same index; warm-up rows NaN)."""
    names = feature_names()
    column = {name: i for i, name in enumerate(names)}
    values = np.full((len(ohlcv), len(names)), np.nan)
    for build in _builders(ohlcv).values():  # one group alive at a time keeps peak memory down
        for name, series in build().items():
            values[:, column[name]] = series.to_numpy(dtype="float64", na_value=np.nan)
    values[~np.isfinite(values)] = np.nan
    values[:WARMUP_BARS] = np.nan
    tail = values[WARMUP_BARS:]
    tail[np.isnan(tail)] = 0.0
    return pd.DataFrame(values, index=ohlcv.index, columns=names, copy=False)
