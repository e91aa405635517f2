"""The command-line features a run folder offers: generator snapshots and `--step`, latent
edits (`--z-set`, `--sweep`), GIF output, the discriminator's verdict, progress
notifications, `ganlib.runs list/delete`, and the installed console commands."""

import contextlib
import io
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image, ImageSequence

from conftest import ROOT

NOTIFY_SCRIPT = """#!/bin/sh
echo "$GANLIB_EPOCH $GANLIB_EPOCHS $GANLIB_STEP $GANLIB_D_LOSS $GANLIB_G_LOSS" \\
     "$GANLIB_GRID $GANLIB_RUN" >> "$1"
"""


def _main(module, argv):
    """Run a command's main in-process; return (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = module.main([str(part) for part in argv])
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def snapshot_run(tmp_path_factory):
    """A small DCGAN run keeping a generator every 4 steps and notifying a script per epoch."""
    from ganlib import train

    folder = tmp_path_factory.mktemp("runs")
    script = folder / "notify.sh"
    script.write_text(NOTIFY_SCRIPT)
    script.chmod(0o755)
    log = folder / "notified.txt"
    out = folder / "runs" / "dcgan-snap"
    code, _, err = _main(train, [
        "dcgan", "--out", out, "--limit", "256", "--epochs", "2", "--batch-size", "32",
        "--g-filters", "0.25", "--d-filters", "0.25", "--latent-dim", "16", "--quiet",
        "--sample-every", "4", "--save-generator-every", "4",
        "--notify-command", f"{script} {log}"])
    assert code == 0, err
    return out, log


def test_snapshots_are_kept_with_cards_and_sampled_by_step(snapshot_run, tmp_path):
    from ganlib import sample

    run, _ = snapshot_run
    assert sample.snapshot_steps(run) == [4, 8, 12, 16]  # 8 steps per epoch, 2 epochs
    card = json.loads((run / "generators" / "step_0000012.json").read_text())
    assert card["steps"] == 12 and card["latent_dim"] == 16
    # --step 10 takes the nearest snapshot before it (step 8), so it equals --step 8 ...
    for step in (8, 10, 16):
        code, _, err = _main(sample, ["dcgan", "--model", run, "--step", step, "--num", 8,
                                      "--out", tmp_path / f"s{step}.npy"])
        assert code == 0, err
    assert np.array_equal(np.load(tmp_path / "s8.npy"), np.load(tmp_path / "s10.npy"))
    # ... and a later snapshot (a generator that trained on) draws other images.
    assert not np.array_equal(np.load(tmp_path / "s8.npy"), np.load(tmp_path / "s16.npy"))
    # A run folder as --model means its final generator.
    code, _, _ = _main(sample, ["dcgan", "--model", run, "--num", 8, "--out", tmp_path / "f.npy"])
    final = sample.generate_images(*_load(run / "generator.keras"))
    assert code == 0 and np.array_equal(np.load(tmp_path / "f.npy"),
                                        sample.to_uint8(final)[..., 0])


def _load(path):
    from ganlib.sample import latent_noise, load_generator

    generator, card = load_generator(str(path))
    return generator, latent_noise(8, card["latent_dim"], 0)


@pytest.mark.parametrize("argv, phrases", [
    (["--step", "17"], ["past the last snapshot", "16"]),
    (["--step", "3"], ["no snapshot", "first is at step 4"]),
])
def test_bad_steps(snapshot_run, tmp_path, argv, phrases):
    run, _ = snapshot_run
    from ganlib import sample

    code, _, err = _main(sample, ["dcgan", "--model", run, *argv, "--out", tmp_path / "x.png"])
    assert code == 2 and not (tmp_path / "x.png").exists()
    (line,) = [line for line in err.splitlines() if line.startswith("error:")]
    assert all(phrase in line for phrase in phrases), line


def test_step_needs_snapshots_and_a_run_folder(tmp_path):
    from ganlib import sample

    run = tmp_path / "plain"
    shutil.copytree(os.path.join(ROOT, "trained_models"), run,
                    ignore=lambda folder, names: [n for n in names if n != "dcgan_mnist.keras"])
    os.rename(run / "dcgan_mnist.keras", run / "generator.keras")
    for argv, phrase in ((["--model", run, "--step", 5], "has no generator snapshots"),
                         (["--step", 5], "pass it with --model")):
        code, _, err = _main(sample, ["dcgan", *argv, "--out", tmp_path / "x.png"])
        assert code == 2 and phrase in err, err


def test_z_set_fixes_coordinates_and_sweep_moves_one(tmp_path):
    from ganlib import sample

    code, _, err = _main(sample, ["dcgan", "--z-set", "3=2.5,7=-1", "--seed", 4, "--num", 8,
                                  "--out", tmp_path / "z.npy"])
    assert code == 0, err
    noise = sample.latent_noise(8, 100, 4)
    noise[:, 3], noise[:, 7] = 2.5, -1.0
    generator, _ = sample.load_generator(sample.shipped_model_path("dcgan"))
    expected = sample.to_uint8(sample.generate_images(generator, noise))[..., 0]
    assert np.array_equal(np.load(tmp_path / "z.npy"), expected)

    code, _, err = _main(sample, ["dcgan", "--sweep", "3=-3:3:5", "--num", 4,
                                  "--out", tmp_path / "sweep.npy"])
    assert code == 0, err
    rows = np.load(tmp_path / "sweep.npy").reshape(5, 4, 28, 28)  # one row per value
    edited = sample.edit_latent(sample.latent_noise(4, 100, 0), sweep=(3, np.linspace(-3, 3, 5)))
    assert np.allclose(edited[:, 3], np.repeat(np.linspace(-3, 3, 5), 4))
    assert np.allclose(np.delete(edited, 3, axis=1), np.tile(
        np.delete(sample.latent_noise(4, 100, 0), 3, axis=1), (5, 1)))
    assert not np.array_equal(rows[0], rows[-1])  # moving z[3] changes the images


@pytest.mark.parametrize("argv, phrase", [
    (["--z-set", "100=1"], "coordinate 100 does not exist"),
    (["--z-set", "3=abc"], "not a finite number"),
    (["--z-set", "x=1"], "INDEX=VALUE"),
    (["--sweep", "3=-3:3:0"], "between 1 and 100 points"),
    (["--sweep", "3=-3:3"], "INDEX=START:STOP:POINTS"),
    (["--sweep", "3=-3:inf:4"], "not a finite number"),
    (["--out", "x.jpg"], "must end in .png"),
])
def test_bad_latent_edits(tmp_path, argv, phrase):
    from ganlib import sample

    code, _, err = _main(sample, ["dcgan", "--out", tmp_path / "x.png", *argv])
    assert code == 2 and phrase in err and not (tmp_path / "x.png").exists(), err


def test_gif_output_has_one_frame_per_sample(tmp_path):
    from ganlib import sample

    code, _, err = _main(sample, ["dcgan", "--num", 6, "--out", tmp_path / "s.gif"])
    assert code == 0, err
    with Image.open(tmp_path / "s.gif") as gif:
        frames = [np.asarray(frame.convert("L")) for frame in ImageSequence.Iterator(gif)]
    assert len(frames) == 6 and frames[0].shape == (112, 112)  # 28 px, scaled 4x
    assert not np.array_equal(frames[0], frames[1])


def test_discriminator_plot_of_a_run(snapshot_run, tmp_path):
    from ganlib import sample

    run, _ = snapshot_run
    assert (run / "discriminator.keras").is_file()
    code, out, err = _main(sample, ["dcgan", "--model", run, "--num", 8, "--out",
                                    tmp_path / "s.png", "--discriminator-plot", tmp_path / "d.png"])
    assert code == 0, err
    with Image.open(tmp_path / "d.png") as plot:
        assert plot.width > 600 and plot.height > 200
    generator, card = sample.load_generator(str(run / "generator.keras"))
    discriminator = sample.load_discriminator(
        sample.discriminator_path(str(run / "generator.keras")))
    images = sample.generate_images(generator, sample.latent_noise(8, 16, 0))
    scores, name = sample.discriminator_scores(discriminator, images, None, card)
    assert name == "P(real)" and scores.shape == (8,) and np.all((scores > 0) & (scores < 1))
    # A snapshot's discriminator is the run's.
    assert sample.discriminator_path(str(run / "generators" / "step_0000004.keras")) == \
        str(run / "discriminator.keras")


def test_discriminator_plot_needs_a_discriminator(tmp_path):
    from ganlib import sample

    shutil.copy(os.path.join(ROOT, "trained_models", "dcgan_mnist.keras"), tmp_path / "g.keras")
    code, _, err = _main(sample, ["dcgan", "--model", tmp_path / "g.keras",
                                  "--discriminator-plot", tmp_path / "d.png",
                                  "--out", tmp_path / "s.png"])
    assert code == 2 and "no discriminator" in err and not (tmp_path / "s.png").exists()


def test_notify_command_gets_the_progress_each_epoch(snapshot_run):
    run, log = snapshot_run
    lines = [line.split() for line in log.read_text().splitlines()]
    assert [line[:3] for line in lines] == [["1", "2", "8"], ["2", "2", "16"]]
    assert all(float(line[3]) > 0 and float(line[4]) > 0 for line in lines)  # d and g loss
    assert lines[-1][5].endswith("samples/step_0000016.png") and os.path.isfile(lines[-1][5])
    assert lines[-1][6] == str(run)


def test_failing_and_hanging_notify_commands_never_stop_training(tmp_path):
    from ganlib import train

    base = ["dcgan", "--limit", "64", "--epochs", "2", "--batch-size", "32", "--g-filters",
            "0.25", "--d-filters", "0.25", "--latent-dim", "16", "--quiet"]
    code, out, _ = _main(train, [*base, "--out", tmp_path / "fails",
                                 "--notify-command", "sh -c 'echo no network >&2; exit 3'"])
    assert code == 0 and (tmp_path / "fails" / "generator.keras").is_file()
    assert out.count("--notify-command exited with 3: no network") == 1  # reported once
    assert "failed at 2 epoch ends" in out
    code, out, _ = _main(train, [*base, "--out", tmp_path / "hangs", "--notify-command",
                                 "sleep 30", "--notify-timeout", "0.5"])
    assert code == 0 and "did not finish within 0.5 s" in out
    assert (tmp_path / "hangs" / "generator.keras").is_file()


@pytest.mark.parametrize("argv, phrase", [
    (["--notify-command", "no-such-messenger --to me"], "'no-such-messenger' is not a command"),
    (["--notify-command", "echo 'unclosed"], "check its quotes"),
    (["--notify-command", "echo hi", "--notify-timeout", "0"], "--notify-timeout"),
    (["--save-generator-every", "0"], "--save-generator-every must be at least 1"),
])
def test_bad_new_train_options_are_refused_before_training(tmp_path, argv, phrase):
    from ganlib import train

    code, _, err = _main(train, ["dcgan", "--out", tmp_path / "run", *argv])
    assert code == 2 and phrase in err, err
    assert not (tmp_path / "run").exists()


def test_runs_list_and_delete(snapshot_run, tmp_path, monkeypatch):
    from ganlib import runs

    run, _ = snapshot_run
    workspace = tmp_path / "work"
    shutil.copytree(run.parent, workspace / "runs")
    (workspace / "runs" / "not-a-run").mkdir()
    (workspace / "keep.txt").write_text("mine")
    monkeypatch.chdir(workspace)
    code, out, _ = _main(runs, ["list"])
    (row,) = [line for line in out.splitlines() if "dcgan-snap" in line]
    assert code == 0 and row.split()[1:6] == ["dcgan", "mnist", "16", "512", "finished"]
    assert "not-a-run" not in out

    for name, phrase in (("../keep.txt", "no run named"), ("..", "not inside runs/"),
                         ("not-a-run", "not a run folder"), ("/tmp", "not inside runs/")):
        code, _, err = _main(runs, ["delete", name, "--yes"])
        assert code == 2 and phrase in err, (name, err)
    code, _, err = _main(runs, ["delete", "dcgan-snap"])  # no terminal to ask: refused
    assert code == 2 and "--yes" in err and (workspace / "runs" / "dcgan-snap").is_dir()
    code, out, _ = _main(runs, ["delete", "runs/dcgan-snap", "--yes"])
    assert code == 0 and not (workspace / "runs" / "dcgan-snap").exists()
    assert (workspace / "keep.txt").read_text() == "mine"
    assert (workspace / "runs" / "not-a-run").is_dir()


def test_runs_delete_asks_and_respects_no(snapshot_run, tmp_path, monkeypatch):
    from ganlib import runs

    run, _ = snapshot_run
    shutil.copytree(run, tmp_path / "runs" / "r")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True)
    questions = []
    assert runs.delete_run("r", ask=lambda q: questions.append(q) or "n") is False
    assert (tmp_path / "runs" / "r").is_dir() and "delete runs/r" in questions[0]
    assert runs.delete_run("r", ask=lambda q: "y") is True
    assert not (tmp_path / "runs" / "r").exists()


def test_console_commands_and_import_from_any_folder(tmp_path):
    """The set-up command installs ganlib: `ganlib-sample` works, and from any folder."""
    command = shutil.which("ganlib-sample")
    assert command, "ganlib-sample is not installed: run python -m pip install -r requirements.txt"
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    result = subprocess.run([command, "dcgan", "--num", "4", "--out", "four.npy"],
                            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert np.load(tmp_path / "four.npy").shape == (4, 28, 28)
    found = subprocess.run([sys.executable, "-c", "import ganlib; print(ganlib.__file__)"],
                           cwd=tmp_path, env=env, capture_output=True, text=True)
    assert os.path.dirname(found.stdout.strip()) == os.path.join(ROOT, "ganlib")


def test_training_video_and_gif_frames_carry_the_step(snapshot_run):
    import imageio.v3 as iio

    run, _ = snapshot_run
    grids = sorted(os.listdir(run / "samples"))
    assert grids == [f"step_{step:07d}.png" for step in (0, 4, 8, 12, 16)]
    video = iio.imread(run / "progress.mp4")
    assert video.shape[0] >= len(grids) and video.shape[-1] == 3  # (+ the held last frame)
    with Image.open(run / "progress.gif") as gif:
        frames = [np.asarray(frame.convert("L")) for frame in ImageSequence.Iterator(gif)]
    assert len(frames) == len(grids)
    with Image.open(run / "samples" / grids[0]) as grid:
        band = frames[0].shape[0] - grid.height  # the caption band above the grid
    assert band > 8
    captions = [frame[:band] for frame in frames]
    assert all((caption < 128).any() for caption in captions)  # dark text on white
    assert not np.array_equal(captions[0], captions[-1])  # "step 0" is not "step 16"


def test_latent_walk_video(tmp_path):
    import imageio.v3 as iio

    from ganlib import sample

    code, _, err = _main(sample, ["dcgan", "--interpolate", 3, "--num", 4, "--out",
                                  tmp_path / "walk.mp4"])
    assert code == 0, err
    video = iio.imread(tmp_path / "walk.mp4")
    assert video.shape[0] == 3 * 12  # 12 frames between each pair of points, looping
    # Neighbouring frames are close (a smooth walk), far frames differ.
    step = np.abs(video[1].astype(int) - video[0]).mean()
    far = np.abs(video[18].astype(int) - video[0]).mean()
    assert step < far
    noise = sample.latent_walk(np.random.default_rng(0).normal(size=(3, 2, 8)), 4)
    assert noise.shape == (12, 2, 8)
    norms = np.linalg.norm(noise, axis=-1)  # slerp keeps the vectors' length roughly
    assert norms.min() > 0.5 * np.linalg.norm(np.random.default_rng(0).normal(size=(3, 2, 8)),
                                              axis=-1).min()
    for argv, phrase in ((["--interpolate", 1, "--out", tmp_path / "w.mp4"], "between 2 and"),
                         (["--interpolate", 3, "--out", tmp_path / "w.png"], "must end in .mp4"),
                         (["--interpolate", 3, "--sweep", "1=0:1:3", "--out",
                           tmp_path / "w.mp4"], "use one")):
        code, _, err = _main(sample, ["dcgan", *argv])
        assert code == 2 and phrase in err, err


def test_xla_is_auto_by_default_forced_on_request_and_reaches_the_compiled_step(monkeypatch):
    from ganlib import train
    from ganlib.knobs import Knobs
    from ganlib.optimizers import OptimizerSettings, compile_gan
    from ganlib.precision import xla_pays
    from ganlib.variants import build_gan, get_variant

    monkeypatch.delenv(train.XLA_ENV, raising=False)  # the suite sets GANLIB_XLA=0
    assert train.parse_args(["dcgan"])[0].xla is None  # auto: from precision and CPU
    assert train.TrainConfig("dcgan", "x").xla is None
    assert train.parse_args(["dcgan", "--no-xla"])[0].xla is False
    # Where each choice measured faster (ganlib.precision's table).
    assert xla_pays("float32", {"avx2", "fma"}) is True
    assert xla_pays("float32", {"avx2", "avx512f"}) is False
    assert xla_pays("bfloat16", {"avx512f", "avx512_bf16", "amx_bf16"}) is False
    monkeypatch.setenv(train.XLA_ENV, "0")
    assert train.parse_args(["dcgan"])[0].xla is False
    assert train.parse_args(["dcgan", "--xla"])[0].xla is True
    variant = get_variant("dcgan")
    for xla in (True, False):
        gan = compile_gan(build_gan(variant, (28, 28, 1), 10, Knobs(g_filters=0.25,
                                                                      d_filters=0.25)),
                          OptimizerSettings.for_variant(variant), xla=xla)
        assert gan.jit_compile is xla


def test_xla_takes_no_value_and_a_value_is_refused_in_one_line(tmp_path):
    from conftest import run_main

    result = run_main("ganlib.train", "dcgan", "--xla=yes", "--out", tmp_path / "r")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1 and "--xla" in errors[0], result.stderr
    assert not (tmp_path / "r").exists()
