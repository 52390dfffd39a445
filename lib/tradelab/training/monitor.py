"""CPU, memory and GPU use of the training process (seed 001 §5), for every trainer.

:class:`ResourceMonitor` samples this process with ``psutil`` (CPU % since the previous sample,
resident memory) and, when a GPU exists, its memory: ``torch.cuda`` when torch is loaded, else
TensorFlow's allocator when TF is loaded, else NVML (``pynvml``) when installed. Each trainer
writes the samples to TensorBoard (``resources/*``), to its training stats and to its progress
bar's postfix:

* Keras: :func:`keras_callback` adds ``cpu_percent``/``rss_mb``/``gpu_mem_mb`` to each epoch's logs
  (the epoch line, Keras' TensorBoard callback) and writes them to ``resources.json`` of the run
  (not to ``history.json``: a seeded run's history repeats exactly, resource use does not);
* SAC: ``KaggleTrainer`` samples once per episode (``stats["episodes"]``);
* PPO and the curriculum: :func:`resource_callback` (SB3) records them every rollout, drives the
  progress bar and writes ``logs/resources.json``.
"""

from __future__ import annotations

import logging
import math
import numbers
import sys
import time
from pathlib import Path
from typing import Any

__all__ = ["RESOURCE_KEYS", "ResourceMonitor", "format_postfix", "keras_callback", "resource_callback"]

#: Keys of one sample, in the order they are shown.
RESOURCE_KEYS = ("cpu_percent", "rss_mb", "gpu_mem_mb")

_MB = 1024.0 * 1024.0
log = logging.getLogger("tradelab.monitor")


class ResourceMonitor:
    """Samples this process: CPU % since the last sample, RSS in MiB, GPU memory in MiB (NaN without a GPU)."""

    def __init__(self) -> None:
        import psutil

        self._process = psutil.Process()
        self._process.cpu_percent(None)  # the first reading is 0 by definition; start the interval now
        self._nvml: Any = None
        self.gpu_source = self._find_gpu()

    def _find_gpu(self) -> str | None:
        torch = sys.modules.get("torch")
        if torch is not None and torch.cuda.is_available():
            return "torch"
        tf = sys.modules.get("tensorflow")
        if tf is not None and tf.config.list_physical_devices("GPU"):
            return "tensorflow"
        try:
            import pynvml

            pynvml.nvmlInit()
            if pynvml.nvmlDeviceGetCount() > 0:
                self._nvml = pynvml.nvmlDeviceGetHandleByIndex(0)
                return "nvml"
        except Exception:  # no pynvml, no driver, no device: a CPU machine
            return None
        return None

    def gpu_memory_mb(self) -> float:
        """Memory held on GPU 0 by this process (torch/TF allocators) or on the device (NVML); NaN without one."""
        try:
            if self.gpu_source == "torch":
                import torch

                return float(torch.cuda.memory_reserved()) / _MB
            if self.gpu_source == "tensorflow":
                import tensorflow as tf

                return float(tf.config.experimental.get_memory_info("GPU:0")["current"]) / _MB
            if self.gpu_source == "nvml":
                import pynvml

                return float(pynvml.nvmlDeviceGetMemoryInfo(self._nvml).used) / _MB
        except Exception as exc:  # a driver hiccup must never stop training
            log.debug("GPU memory unavailable: %s", exc)
        return float("nan")

    def sample(self) -> dict[str, float]:
        """One reading of :data:`RESOURCE_KEYS`."""
        return {
            "cpu_percent": float(self._process.cpu_percent(None)),
            "rss_mb": float(self._process.memory_info().rss) / _MB,
            "gpu_mem_mb": self.gpu_memory_mb(),
        }


def format_postfix(sample: dict[str, float]) -> dict[str, str]:
    """Short progress-bar postfix: ``cpu 97%  rss 812M  gpu 1.2G`` (GPU only when there is one)."""
    out = {"cpu": f"{sample['cpu_percent']:.0f}%", "rss": f"{sample['rss_mb']:.0f}M"}
    gpu = sample.get("gpu_mem_mb", float("nan"))
    if gpu == gpu:
        out["gpu"] = f"{gpu:.0f}M"
    return out


def keras_callback(stats_path: str | Path | None = None) -> Any:
    """Keras callback: adds a resource sample to every epoch's ``logs`` (epoch line, TensorBoard, later
    callbacks) and, at the end of training, writes all samples to ``stats_path`` (JSON) when given."""
    import keras

    class ResourceMonitorCallback(keras.callbacks.Callback):
        def on_train_begin(self, logs: dict | None = None) -> None:
            self.monitor = ResourceMonitor()
            self.samples: dict[str, list[float]] = {"epoch": [], **{k: [] for k in RESOURCE_KEYS}}

        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            sample = self.monitor.sample()
            self.samples["epoch"].append(epoch + 1)
            for key, value in sample.items():
                self.samples[key].append(value)
            if logs is not None:
                logs.update({k: v for k, v in sample.items() if not math.isnan(v)})

        def on_train_end(self, logs: dict | None = None) -> None:
            if stats_path is not None:
                from tradelab.utils import atomic_write_json

                atomic_write_json(stats_path, self.samples)

    return ResourceMonitorCallback()


def resource_callback(stats_path: str | Path | None = None, progress: bool = False, desc: str = "PPO") -> Any:
    """SB3 callback: every rollout, record ``resources/*`` (TensorBoard, W&B when a run is active), log
    one line, update the progress bar's postfix; at the end write the samples to ``stats_path``.

    :param stats_path: JSON file of all samples (``logs/resources.json`` of the run), None: not written.
    :param progress: show a tqdm bar over timesteps with the resources as postfix (use instead of SB3's bar).
    """
    from stable_baselines3.common.callbacks import BaseCallback

    class ResourceCallback(BaseCallback):
        def __init__(self) -> None:
            super().__init__(0)
            self.stats_path = Path(stats_path) if stats_path else None
            self.samples: dict[str, list[float]] = {"timesteps": [], "wall_s": [], **{k: [] for k in RESOURCE_KEYS}}
            self._bar: Any = None
            self._last = 0

        def _on_training_start(self) -> None:
            self.monitor = ResourceMonitor()
            self._t0 = time.perf_counter()
            self._last = int(self.model.num_timesteps)
            if progress:
                from tqdm.auto import tqdm

                self._bar = tqdm(total=self.locals.get("total_timesteps"), initial=self._last, desc=desc,
                                 unit="step", dynamic_ncols=True)

        def _on_step(self) -> bool:
            return True

        def _logged(self) -> dict[str, float]:
            return {k: float(v) for k, v in self.logger.name_to_value.items()
                    if isinstance(v, numbers.Real) and not k.startswith("resources/")}

        def _on_rollout_start(self) -> None:
            # train/* of the update that just ran: an EvalCallback dump during the rollout would clear them
            self._train = {k: v for k, v in self._logged().items() if k.startswith("train/")}

        def _on_rollout_end(self) -> None:
            sample = self.monitor.sample()
            steps = int(self.model.num_timesteps)
            self.samples["timesteps"].append(steps)
            self.samples["wall_s"].append(time.perf_counter() - self._t0)
            for key, value in sample.items():
                self.samples[key].append(value)
                if not math.isnan(value):
                    self.logger.record(f"resources/{key}", value)
            logged = {**getattr(self, "_train", {}), **self._logged()}
            log.info("step %d: %s", steps, ", ".join(f"{k}={v:.4g}" for k, v in {**logged, **sample}.items()))
            if self._bar is not None:
                self._bar.update(steps - self._last)
                self._bar.set_postfix(format_postfix(sample), refresh=False)
            self._last = steps

        def _on_training_end(self) -> None:
            last = {k: v for k, v in self._logged().items() if k.startswith("train/")}
            if last:
                log.info("end at step %d: %s", self.model.num_timesteps, ", ".join(f"{k}={v:.4g}" for k, v in last.items()))
            if self._bar is not None:
                self._bar.update(int(self.model.num_timesteps) - self._last)
                self._bar.close()
            if self.stats_path is not None:
                from tradelab.utils import atomic_write_json

                atomic_write_json(self.stats_path, self.samples)

    return ResourceCallback()
