"""See and tidy the run folders that `ganlib.train` writes under runs/.

    python -m ganlib.runs list                      # every run: variant, data, progress, size
    python -m ganlib.runs delete dcgan-mnist        # asks first; --yes to skip the question

A run is a folder holding the `config.json` that `ganlib.train` writes (see
`ganlib.run_folder`). `delete` only ever removes such a folder, only inside the runs
folder, and never one that is being trained right now.
"""

import argparse
import fcntl
import json
import os
import shutil
import sys

import numpy as np

from ganlib import cli
from ganlib.checkpoints import previous_path
from ganlib.errors import GanlibError
from ganlib.run_folder import LOCK_FILE, run_paths

RUNS = "runs"


def find_runs(root=RUNS):
    """The run folders under `root` (nested ones too), sorted by name."""
    found = []
    for parent, folders, files in os.walk(root):
        if "config.json" in files and read_config(parent) is not None:
            found.append(parent)
            folders[:] = [f for f in folders if f not in ("samples", "generators")]
    return sorted(found)


def read_config(folder):
    """A run folder's options (dict), or None when it holds no readable run."""
    try:
        with open(run_paths(folder)["config"]) as file:
            config = json.load(file)
    except (OSError, ValueError):
        return None
    return config if isinstance(config, dict) and "variant" in config else None


def checkpoint_progress(folder):
    """(step, images seen) of a run's newest readable checkpoint, or (0, 0) without one."""
    checkpoint = run_paths(folder)["checkpoint"]
    for path in (checkpoint, previous_path(checkpoint)):
        try:
            with np.load(path) as stored:  # reads only the small `state` entry
                state = json.loads(str(stored["state"]))
            return int(state["step"]), int(state["images_seen"])
        except Exception:  # missing or damaged: try the previous one, else nothing
            continue
    return 0, 0


def folder_size(folder):
    """Bytes on disk of every file under `folder`."""
    return sum(os.path.getsize(os.path.join(parent, name))
               for parent, _, names in os.walk(folder) for name in names
               if not os.path.islink(os.path.join(parent, name)))


def is_training(folder):
    """True while a `ganlib.train` process holds the run folder's lock."""
    path = os.path.join(folder, LOCK_FILE)
    if not os.path.exists(path):
        return False
    with open(path) as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
    return False


def run_status(folder):
    """One run's summary: what it trains, how far it got, whether it finished."""
    config = read_config(folder)
    step, images = checkpoint_progress(folder)
    card = {}
    try:
        with open(run_paths(folder)["card"]) as file:
            card = json.load(file)
    except (OSError, ValueError):
        pass
    # Finished: a final generator whose card is as far as the newest checkpoint.
    finished = (os.path.isfile(run_paths(folder)["generator"]) and isinstance(card, dict)
                and card.get("steps", -1) >= step)
    state = "training" if is_training(folder) else ("finished" if finished else "stopped")
    return {"name": folder, "variant": config["variant"], "dataset": config.get("dataset", "?"),
            "steps": step, "images_seen": images, "state": state,
            "megabytes": folder_size(folder) / 2 ** 20}


def list_runs(root=RUNS):
    """Print a table of the runs under `root`."""
    runs = [run_status(folder) for folder in find_runs(root)]
    if not runs:
        print(f"no runs under {root}/; start one with `python -m ganlib.train dcgan`")
        return
    width = max(len(run["name"]) for run in runs)
    print(f"{'run':<{width}}  {'variant':<9} {'dataset':<14} {'steps':>8} {'images':>11} "
          f"{'state':<9} {'size':>9}")
    for run in runs:
        print(f"{run['name']:<{width}}  {run['variant']:<9} {run['dataset']:<14} "
              f"{run['steps']:>8,} {run['images_seen']:>11,} {run['state']:<9} "
              f"{run['megabytes']:>6.1f} MB")


def resolve_run(name, root=RUNS):
    """The run folder `name` (a name under `root`, or a path), checked to be safe to delete."""
    candidates = [name, os.path.join(root, name)]
    folder = next((c for c in candidates if os.path.isdir(c)), None)
    if folder is None:
        raise GanlibError(f"no run named '{name}' under {root}/; "
                          "see `python -m ganlib.runs list`")
    real, real_root = os.path.realpath(folder), os.path.realpath(root)
    if os.path.commonpath([real, real_root]) != real_root or real == real_root:
        raise GanlibError(f"{folder} is not inside {root}/; only runs under {root}/ are "
                          "deleted (remove other folders yourself)")
    if read_config(folder) is None:
        raise GanlibError(f"{folder} is not a run folder (no readable config.json); "
                          "nothing was deleted")
    if is_training(folder):
        raise GanlibError(f"{folder} is being trained right now; stop that training first")
    return folder


def delete_run(name, root=RUNS, yes=False, ask=input):
    """Delete one run folder after confirmation; returns True if it was deleted."""
    folder = resolve_run(name, root)
    size = folder_size(folder) / 2 ** 20
    if not yes:
        if not sys.stdin.isatty():
            raise GanlibError(f"not deleting {folder} without confirmation; add --yes to "
                              "delete it from a script")
        answer = ask(f"delete {folder} ({size:.1f} MB)? [y/N] ").strip().lower()
        if answer not in ("y", "yes"):
            print("nothing deleted")
            return False
    try:
        shutil.rmtree(folder)
    except OSError as error:
        raise GanlibError(f"could not delete all of {folder}: {error.strerror or error}; "
                          "check its permissions") from None
    print(f"deleted {folder} ({size:.1f} MB)")
    return True


@cli.reports_errors
def main(argv=None):
    """Command-line entry point; returns the process exit code."""
    parser = argparse.ArgumentParser(prog="python -m ganlib.runs", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", default=RUNS, help="the runs folder (default runs)")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="one line per run")
    delete = commands.add_parser("delete", help="delete one run folder")
    delete.add_argument("name", help="the run's name as `list` shows it, e.g. dcgan-mnist")
    delete.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    args = parser.parse_args(argv)
    try:
        if args.command == "list":
            list_runs(args.runs)
        else:
            delete_run(args.name, args.runs, args.yes)
    except (KeyboardInterrupt, EOFError):
        print("\nnothing deleted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    cli.run(main)
