"""`tradelab kaggle push|wait|pull|run|status|resume|tune`: the Kaggle loop over the real kaggle CLI."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from tradelab.training.study_storage import STORAGE_ENV

HELP = "train on Kaggle: push datasets + a parameter-injected kernel, wait, pull outputs, resume"
DESCRIPTION = (
    "Push the workflow notebook (notebooks/WORKFLOW.ipynb) as a Kaggle kernel with its datasets "
    "(code, processed data, optional offline wheels), wait for it, pull its outputs into "
    "outputs/kaggle/SLUG/vN/ and chain resumes past the 12-hour limit. Uses the `kaggle` CLI and its "
    "credentials (an API token: KAGGLE_API_TOKEN or ~/.kaggle/access_token; or ~/.kaggle/kaggle.json or "
    "KAGGLE_USERNAME/KAGGLE_KEY); --dry-run needs none. See kaggle/README.md."
)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", type=Path, default=Path("outputs/kaggle"), help="local folder for kernels/datasets/outputs")
    p.add_argument("--owner", help="Kaggle user name (default: KAGGLE_USERNAME, kaggle.json or the token's user)")


def _pushing(p: argparse.ArgumentParser, what: str) -> None:
    p.add_argument(
        "-p", "--parameter", nargs=2, action="append", default=[], metavar=("KEY", "VALUE"),
        help="notebook parameter (value parsed as YAML), repeatable",
    )
    p.add_argument("--root", type=Path, default=Path("."), help="repository root (source tree, data dir)")
    if what == "workflow":
        p.add_argument("workflow", help="notebook stem (02_sac) or a spec YAML path")
        p.add_argument("--spec-dir", type=Path, help="folder of <workflow>.yaml specs (default kaggle/specs)")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="kaggle_command", metavar="ACTION", required=True)
    fmt = argparse.ArgumentDefaultsHelpFormatter
    push = sub.add_parser("push", help="push datasets (when changed) and the kernel", formatter_class=fmt)
    _pushing(push, "workflow")
    push.add_argument("--dry-run", action="store_true", help="build the folders, print their paths, push nothing")
    run = sub.add_parser("run", help="push + wait + pull", formatter_class=fmt)
    _pushing(run, "workflow")
    wait = sub.add_parser("wait", help="poll until the kernel ends (Ctrl-C leaves it running)", formatter_class=fmt)
    wait.add_argument("slug")
    wait.add_argument("--timeout", type=float, help="seconds (default: the spec's timeout_s)")
    wait.add_argument("--poll", type=float, help="first poll interval in seconds (default: the spec's poll_s)")
    pull = sub.add_parser(
        "pull", help="download outputs into OUT/SLUG/vN/ with a manifest (after ERROR too: recovers what was written)",
        formatter_class=fmt,
    )
    pull.add_argument("slug")
    pull.add_argument("--version", type=int, help="version folder name (default: the last pushed version)")
    status = sub.add_parser("status", help="print the kernel's status", formatter_class=fmt)
    status.add_argument("slug")
    resume = sub.add_parser("resume", help="push a continuation kernel from SLUG's last checkpoint", formatter_class=fmt)
    resume.add_argument("slug")
    _pushing(resume, "resume")
    resume.add_argument("--dry-run", action="store_true", help="build the folders, print their paths, push nothing")
    tune = sub.add_parser(
        "tune",
        help="push N kernels that join one Optuna study on a shared server, wait for all, print the best trial",
        description="Push --workers kernels (notebooks/06_tune_worker.ipynb) that each add trials to --study on "
                    "--storage, with internet on, while local `tradelab tune --study NAME --storage URL` workers "
                    "may join too; wait for all, pull their outputs, print the study's best trial and where its "
                    "model is. The URL travels as a private dataset (or a Kaggle secret you added: --storage-via "
                    "secret), never in the notebook, metadata, logs or outputs. See kaggle/README.md.")
    tune.add_argument("--study", required=True, help="Optuna study name (shared with the local workers)")
    tune.add_argument("--storage", default=os.environ.get(STORAGE_ENV),
                      help="storage URL every worker reaches, e.g. postgresql://user:password@host:5432/db "
                           f"(default: ${STORAGE_ENV}, which keeps the password out of `ps`)")
    tune.add_argument("--workers", type=int, default=2, help="kernels to push (mind your concurrent GPU sessions)")
    tune.add_argument("--stage", type=int, default=1, help="curriculum stage whose config is tuned")
    tune.add_argument("--add-trials", type=int, default=2, help="trials each kernel adds")
    tune.add_argument("--timesteps", type=int, help="training steps per trial (default: the stage's tune_timesteps)")
    tune.add_argument("--heartbeat", type=int, default=60, metavar="SECONDS",
                      help="a trial silent for 3 beats (its kernel died) is failed and its parameters retried")
    tune.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                      help="PPO V3 override, the same as the local workers' --set")
    tune.add_argument("--storage-via", choices=("dataset", "secret"), default="dataset",
                      help="how kernels get the URL: a private dataset pushed now, or your Kaggle secret")
    tune.add_argument("--secret-label", default="TRADELAB_OPTUNA_STORAGE", help="label of that Kaggle secret")
    tune.add_argument("--no-gpu", action="store_true", help="CPU kernels (no GPU session used)")
    _pushing(tune, "tune")
    tune.add_argument("--spec-dir", type=Path, help="folder of 06_tune_worker.yaml (default kaggle/specs)")
    for p in (push, run, wait, pull, status, resume, tune):
        _common(p)


def _params(args: argparse.Namespace) -> dict:
    from tradelab.config import parse_value

    return {key: parse_value(value) for key, value in args.parameter}


def _print_pulled(dest: Path) -> None:
    import json

    manifest = json.loads((dest / "manifest.json").read_text(encoding="utf-8"))
    files = manifest["files"]
    print(f"pulled {len(files)} file(s) of {manifest['ref']} (status {manifest.get('status')}) into {dest}:")
    for name, info in files.items():
        print(f"  {name}  {info['size']} bytes")
    if manifest.get("missing"):
        print(f"missing (the kernel did not write them): {manifest['missing']}")


def _print_push(result, dry_run: bool) -> None:
    for note in result.notes:
        print(f"note: {note}")
    print(f"kernel folder: {result.kernel.path}")
    for role, ds in result.datasets.items():
        action = result.actions.get(role, "built")
        print(f"dataset {role}: {ds.path} ({ds.ref}, {action}, sha256 {ds.content_hash[:12]})")
    if dry_run:
        print("dry run: nothing was pushed; inspect the folders above, then run without --dry-run")
    else:
        print(f"pushed {result.kernel.ref} version {result.version}; next: tradelab kaggle wait {result.slug}")


def _timing(args: argparse.Namespace) -> dict:
    from tradelab.errors import TradelabError
    from tradelab.kaggle import KaggleSpec, load_state

    try:
        spec = KaggleSpec.from_dict(load_state(args.slug, args.out)["spec"])
    except TradelabError:  # no local state: the defaults
        spec = KaggleSpec(workflow="unknown")
    return {
        "timeout_s": args.timeout or spec.timeout_s,
        "poll_s": args.poll or spec.poll_s,
        "max_poll_s": max(spec.max_poll_s, args.poll or 0),
    }


def main(args: argparse.Namespace) -> int:
    from tradelab import kaggle as tk

    action = args.kaggle_command
    if action == "tune":
        return _tune(args)
    if action in ("push", "run"):
        spec = tk.load_spec(args.workflow, args.spec_dir)
        kwargs = {"owner": args.owner, "out_root": args.out, "root": args.root}
        if action == "run":
            result, dest = tk.run(spec, _params(args), **kwargs)
            _print_pulled(dest)
            print(f"outputs of {result.kernel.ref} v{result.version}: {dest} (manifest.json lists sizes and sha256)")
            return 0
        result = tk.push(spec, _params(args), dry_run=args.dry_run, **kwargs)
        _print_push(result, args.dry_run)
    elif action == "resume":
        result = tk.resume(args.slug, _params(args), out_root=args.out, dry_run=args.dry_run, root=args.root)
        _print_push(result, args.dry_run)
    elif action == "wait":
        status = tk.wait(args.slug, out_root=args.out, **_timing(args))
        print(f"{args.slug}: {status.state}; next: tradelab kaggle pull {args.slug.split('/')[-1]}")
    elif action == "pull":
        dest = tk.pull(args.slug, version=args.version, out_root=args.out)
        _print_pulled(dest)
        print(f"outputs in {dest} (manifest.json lists sizes and sha256)")
    elif action == "status":
        from tradelab.kaggle.loop import kernel_ref

        status = tk.KaggleCLI().kernel_status(kernel_ref(args.slug, args.out))
        print(status.state + (f": {status.failure_message}" if status.failure_message else ""))
    return 0


def _tune(args: argparse.Namespace) -> int:
    from tradelab.kaggle import load_spec
    from tradelab.kaggle.tune_workers import WORKFLOW, tune_on_kaggle

    if not args.storage:
        from tradelab.errors import ConfigError

        raise ConfigError(f"no storage: pass --storage postgresql://user:password@host:5432/db or set {STORAGE_ENV}")
    spec = load_spec(WORKFLOW, args.spec_dir, **({"enable_gpu": False} if args.no_gpu else {}))
    params = {"stage": args.stage, "add_trials": args.add_trials, "timesteps": args.timesteps,
              "heartbeat": args.heartbeat, "sets": list(args.set), **_params(args)}
    s = tune_on_kaggle(spec, args.storage, args.study, args.workers, params, via=args.storage_via,
                       secret=args.secret_label, owner=args.owner, out_root=args.out, root=args.root)
    print(f"study {s['study']}: {s['n_trials']} trials; per worker:")
    for worker, states in sorted(s["trials_per_worker"].items()):
        print(f"  {worker}: {', '.join(f'{n} {state}' for state, n in sorted(states.items()))}")
    for ref, state in s["kernels"].items():
        print(f"kernel {ref}: {state}, outputs in {s['pulled'].get(ref, '(not pulled)')}")
    print(f"best trial {s['best_trial']}: validation Sharpe {s['best_value']:.3f} with {s['best_params']} "
          f"(worker {s['best_worker']}); its model: {s['best_model']}")
    return 0 if all(state == "COMPLETE" for state in s["kernels"].values()) else 1
