"""One override mechanism: every training command's flags are derived from its config dataclass.

Checks that each leaf key of each workflow's config is reachable from the command line (as
``--section.key``, an alias or ``--set``), that all spellings feed one ordered list (the last flag
given wins), that unknown keys and bad values end in one clear error, and that the seed guide's
flags and KaggleTrainer's keyword arguments build the same config.
"""

from __future__ import annotations

import argparse
import dataclasses

import pytest

from tradelab.cli import build_parser
from tradelab.cli.config_flags import Alias, add_config_arguments, config_from_args
from tradelab.config import ConfigBase, config_fields, config_from_parameters, field_docs
from tradelab.errors import ConfigError
from tradelab.training.curriculum_config import CurriculumRun
from tradelab.training.ppo_config import PPOV3Config
from tradelab.training.sac_config import SACTrainingConfig
from tradelab.training.supervised_config import SupervisedConfig

COMMANDS = {
    ("train", "sac"): SACTrainingConfig,
    ("train", "ppo"): PPOV3Config,
    ("train", "supervised"): SupervisedConfig,
    ("curriculum",): CurriculumRun,
}


def _parse(words: list[str]) -> tuple[argparse.Namespace, type]:
    """The parsed command line and the config class of its command (``train sac`` or ``curriculum``)."""
    cls = COMMANDS.get(tuple(words[:2])) or COMMANDS[tuple(words[:1])]
    return build_parser().parse_args(words), cls


def _config(words: list[str]):
    args, cls = _parse(words)
    return config_from_args(cls, args, config_path=None if cls is CurriculumRun else args.config)


@pytest.mark.parametrize("command", list(COMMANDS), ids=" ".join)
def test_every_config_key_is_a_flag(command):
    """Each leaf key has a flag of its own (``--key`` or an alias): none is reachable by --set only."""
    parser = build_parser()
    sub = parser._subparsers._group_actions[0].choices[command[0]]
    if len(command) == 2:
        sub = sub._subparsers._group_actions[0].choices[command[1]]
    keys = {a.key for a in sub._actions if getattr(a, "key", None)}
    cls = COMMANDS[command]
    skipped = {"sac.seed", "ppo_overrides", "env"}  # sac.seed follows seed; PPO's env mapping has per-key flags
    missing = [f.key for f in config_fields(cls) if f.key not in keys and f.key not in skipped]
    assert not missing, f"config keys without a flag: {missing}"


def test_every_config_field_is_documented():
    """--help reads the field docstrings: every workflow field has one (and the check sees a missing one)."""
    for cls in COMMANDS.values():
        undocumented = [f.key for f in config_fields(cls) if not f.doc]
        assert not undocumented, f"{cls.__name__}: fields without a docstring: {undocumented}"

    @dataclasses.dataclass(frozen=True)
    class Bare(ConfigBase):
        x: int = 1

    assert field_docs(Bare) == {} and config_fields(Bare)[0].doc == ""


def test_last_flag_wins_whatever_its_spelling(tmp_path):
    assert _config(["train", "sac", "--num-episodes", "3", "--set", "num_episodes=5"]).num_episodes == 5
    assert _config(["train", "sac", "--set", "num_episodes=5", "--num-episodes", "3"]).num_episodes == 3
    assert _config(["train", "sac", "--num_episodes", "7", "-o", "num_episodes", "9"]).num_episodes == 9
    cfg = _config(["train", "ppo", "--seed", "4", "--training.seed", "6", "--ppo.n_steps", "64"])
    assert (cfg.training.seed, cfg.ppo.n_steps) == (6, 64)
    cfg = _config(["train", "supervised", "--epochs", "2", "--training_params.epochs", "3", "--batch_size", "8"])
    assert (cfg.training_params.epochs, cfg.data_loader_params.batch_size) == (3, 8)


def test_aliases_reach_nested_keys_and_switches():
    cfg = _config(["train", "sac", "--device", "cpu", "--warmup-steps", "7", "--fresh", "--no-progress",
                   "--resume", "runs/x", "--sac.gamma", "0.5", "--env.window", "4"])
    assert (cfg.sac.device, cfg.sac.warmup_steps, cfg.fresh, cfg.progress) == ("cpu", 7, True, False)
    assert (cfg.resume_from, cfg.sac.gamma, cfg.env.window) == ("runs/x", 0.5, 4)
    cfg = _config(["train", "ppo", "--skip-test", "--resume", "--max-runtime", "90m", "--env.window", "3",
                   "--load-model", "m/x"])
    assert (cfg.training.final_test, cfg.training.resume, cfg.training.max_runtime) == (False, True, "90m")
    assert cfg.env["window"] == 3 and cfg.training.load_model == "m/x"


def test_values_are_typed_by_the_field():
    """Strings stay as typed (an asset named 123), other values are read as YAML, null sets None."""
    cfg = _config(["train", "sac", "--asset", "123", "--env.episode_lengths", "[50, 60]", "--max-runtime", "3600"])
    assert cfg.asset == "123" and tuple(cfg.env.episode_lengths) == (50, 60) and cfg.max_runtime == 3600
    assert _config(["train", "sac", "--asset", "X", "--asset", "null"]).asset is None


@pytest.mark.parametrize("words, match", [
    (["train", "sac", "--set", "nope=1"], "unknown key"),
    (["train", "sac", "--num-episodes", "abc"], "num_episodes"),
    (["train", "sac", "--agent-id", "4"], "agent_id = 4 must be 1"),
    (["train", "ppo", "--set", "ppo.n_stepz=64"], "valid keys"),
    (["train", "supervised", "--model_params.nope", "1"], None),  # argparse: no such flag
])
def test_bad_overrides_end_in_one_clear_error(words, match, capsys):
    if match is None:
        with pytest.raises(SystemExit):
            _parse(words)
        assert "unrecognized arguments" in capsys.readouterr().err
        return
    with pytest.raises(ConfigError, match=match):
        _config(words)


def test_set_needs_key_value(capsys):
    with pytest.raises(SystemExit):
        _parse(["train", "sac", "--set", "num_episodes"])
    assert "expected KEY=VALUE" in capsys.readouterr().err


def test_curriculum_run_settings_and_stage_overrides():
    args, _ = _parse(["curriculum", "--stage", "2", "--seeds", "0", "1", "--smoke", "--set", "ppo.n_steps=64",
                      "--resume", "--n-trials", "3"])
    run = config_from_args(CurriculumRun, args, config_path=None)
    assert (run.stage, run.seeds, run.smoke, run.n_trials) == (2, (0, 1), True, 3)
    cur, overrides = run.curriculum()
    assert overrides["ppo.n_steps"] == 64 and overrides["training.resume"] is True
    assert cur.get(2).timesteps == 256  # smoke budget
    with pytest.raises(SystemExit):
        _parse(["curriculum"])  # --stage is required
    with pytest.raises(ConfigError, match="stage 9 does not exist"):
        config_from_args(CurriculumRun, _parse(["curriculum", "--stage", "9"])[0], config_path=None).curriculum()


def test_alias_to_a_missing_key_is_refused():
    @dataclasses.dataclass(frozen=True)
    class Small(ConfigBase):
        n: int = 1
        """a number"""

    with pytest.raises(ConfigError, match="not a key of Small"):
        add_config_arguments(argparse.ArgumentParser(), Small, aliases=[Alias(("--m",), "m")])


def test_notebook_parameters_resolve_like_flags():
    """A notebook's parameters are config keys or the workflow's short names, as the command's flags."""
    from tradelab.training.sac_config import PARAMETERS

    cfg = config_from_parameters(SACTrainingConfig, None, {"num_episodes": 4, "warmup_steps": 9, "asset": None,
                                                           "sac.gamma": 0.5}, PARAMETERS)
    assert (cfg.num_episodes, cfg.sac.warmup_steps, cfg.asset, cfg.sac.gamma) == (4, 9, None, 0.5)
    with pytest.raises(ConfigError, match=r"unknown parameter\(s\) \['num_episode'\]"):
        config_from_parameters(SACTrainingConfig, None, {"num_episode": 4}, PARAMETERS)


def test_kaggle_trainer_keywords_build_the_cli_config(tmp_path):
    """The seed guide's KaggleTrainer call and its command line give one config (the facade adds nothing)."""
    from tradelab.training.sac_trainer import KaggleTrainer

    h5, out = str(tmp_path / "d.h5"), str(tmp_path / "run")
    trainer = KaggleTrainer(h5_path=h5, output_dir=out, num_episodes=100, eval_frequency=10,
                            checkpoint_frequency=5, agent_id=1, device="auto")
    cli = _config(["train", "sac", "--h5-path", h5, "--output-dir", out, "--num-episodes", "100",
                   "--eval-frequency", "10", "--checkpoint-frequency", "5", "--agent-id", "1", "--device", "auto"])
    assert trainer.config == KaggleTrainer.from_config(cli).config
    assert (trainer.num_episodes, str(trainer.h5_path), str(trainer.output_dir)) == (100, h5, out)
    quick = KaggleTrainer(num_episodes=50, eval_frequency=5, checkpoint_frequency=10)
    assert (quick.config.num_episodes, quick.eval_frequency, quick.checkpoint_frequency) == (50, 5, 10)
    with pytest.raises(ConfigError, match="num_episodes = 0 must be a whole number"):
        KaggleTrainer(num_episodes=0)


def test_notebook_check_refuses_a_parameter_that_is_not_a_config_key(tmp_path):
    """notebooks/02_sac's parameters are SACTrainingConfig keys; a renamed one is reported by the check."""
    import json
    from pathlib import Path

    from tradelab.notebooks.check import check_notebook

    src = Path(__file__).resolve().parents[1] / "notebooks" / "02_sac.ipynb"
    assert check_notebook(src) == []
    nb = json.loads(src.read_text(encoding="utf-8"))
    cell = next(c for c in nb["cells"] if "parameters" in c["metadata"].get("tags", []))
    cell["source"] = [line.replace("num_episodes =", "num_episode =") for line in cell["source"]]
    bad = tmp_path / "02_sac.ipynb"
    bad.write_text(json.dumps(nb, indent=1) + "\n", encoding="utf-8")
    problems = check_notebook(bad)
    assert any("['num_episode'] are not keys of SACTrainingConfig" in p for p in problems), problems


def test_train_dispatches_on_the_config_type():
    from tradelab.workflows import WORKFLOWS, train, workflow_of

    assert workflow_of(SACTrainingConfig()).name == "sac" and workflow_of(CurriculumRun()).name == "curriculum"
    assert {w.notebook for w in WORKFLOWS.values()} == {"01_supervised", "02_sac", "03_ppo", "04_curriculum"}
    with pytest.raises(ConfigError, match="not a workflow config"):
        train({"num_episodes": 1})
