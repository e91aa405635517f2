"""Property-based: every command line, fed generated arguments, exits 0 or 2, never raises,
and never changes a file that existed before.

Hypothesis draws numbers at and past every bound (0, -1, huge, NaN, inf), empty and odd
strings, and missing or wrong paths. The commands run in-process (their `main`, exactly
what `python -m` calls), so TensorFlow starts once. Training is kept small by fixed
size arguments; the benchmark and the comparison, whose valid runs take minutes, only get
values that must be refused.
"""

import contextlib
import hashlib
import io
import os
import shutil

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import ROOT

NUMBERS = st.sampled_from(["0", "-1", "1", "2", "0.5", "1e-9", "1e30", "-1e30", "nan", "inf",
                           "-inf", "", " ", "x", "1,2", "999999999999"])
STRINGS = st.sampled_from(["", " ", "dcgan", "DCGAN", "wgan-gp", "nope", "../..", "\u00e9\u00e8",
                           "a b", "-", "--", "1,4,7", ",", "0,0", "10"])
SETTINGS = dict(deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])


@pytest.fixture
def sandbox(tmp_path, monkeypatch):
    """A working folder with files a user cares about: a generator, a text file, a folder."""
    shutil.copy(os.path.join(ROOT, "trained_models", "dcgan_mnist.keras"), tmp_path / "g.keras")
    (tmp_path / "precious.txt").write_text("do not touch")
    (tmp_path / "a_folder").mkdir()
    (tmp_path / "outputs").mkdir()
    monkeypatch.chdir(tmp_path)
    return tmp_path


PATHS = st.sampled_from(["g.keras", "precious.txt", "a_folder", "missing.keras",
                         "precious.txt/inside.keras", "", "a_folder/"])
OUTPUTS = st.sampled_from(["outputs/s.png", "outputs/s.npy", "outputs/s.jpg", "outputs/",
                           "precious.txt/x.png", "a_folder", "outputs/new/deeper/s.png"])


def _digests(folder):
    digests = {}
    for path in _files(folder):
        with open(path, "rb") as file:
            digests[path] = hashlib.sha256(file.read()).hexdigest()
    return digests


def _files(folder):
    for parent, _, names in os.walk(folder):
        if os.path.basename(parent) != "outputs" and "/outputs/" not in parent + "/":
            yield from (os.path.join(parent, name) for name in names)


def _run(main, argv, folder):
    """Run a command's main; return its exit code, checking that no old file changed."""
    before = _digests(folder)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exit_:  # argparse's own refusals (and --help)
            code = exit_.code
    assert code in (0, 2), (argv, code, err.getvalue()[-500:])
    if code == 2 and "usage:" not in err.getvalue():
        errors = [line for line in err.getvalue().splitlines() if line.startswith("error:")]
        assert len(errors) == 1, (argv, err.getvalue()[-500:])
    after = _digests(folder)
    assert {path: after.get(path) for path in before} == before, argv
    return code


def _options(pairs):
    """A list of (option, value strategy) -> a strategy of argument lists."""
    return st.lists(st.sampled_from(pairs), max_size=3).flatmap(
        lambda chosen: st.tuples(*[strategy.map(lambda value, flag=flag: [flag, value])
                                   for flag, strategy in chosen]))


LATENT_EDITS = st.sampled_from(["3=1", "99=2", "100=1", "-1=1", "3=nan", "3=", "=1", "3",
                                "3=-3:3:9", "3=-3:3:0", "3=1:2:x", "3=1:2:1000", "", ","])


@settings(max_examples=30, **SETTINGS)
@given(variant=STRINGS, options=_options([
    ("--num", NUMBERS), ("--seed", NUMBERS), ("--label", NUMBERS), ("--mean", NUMBERS),
    ("--std", NUMBERS), ("--model", PATHS), ("--out", OUTPUTS), ("--dataset", STRINGS),
    ("--z-set", LATENT_EDITS), ("--sweep", LATENT_EDITS), ("--step", NUMBERS),
    ("--discriminator-plot", OUTPUTS)]))
def test_sample_never_raises(sandbox, variant, options):
    from ganlib import sample

    _run(sample.main, [variant, *[part for pair in options for part in pair]], sandbox)


@settings(max_examples=8, **SETTINGS)
@given(variant=STRINGS, options=_options([
    ("--num", st.sampled_from(["0", "-1", "1", "2", "nan", "999999999", "x"])),
    ("--seed", NUMBERS), ("--model", PATHS), ("--dataset", STRINGS)]))
def test_evaluate_never_raises(sandbox, variant, options):
    from ganlib import evaluate

    _run(evaluate.main, [variant, *[part for pair in options for part in pair]], sandbox)


SMALL_RUN = ["--limit", "64", "--batch-size", "32", "--epochs", "1", "--g-filters", "0.25",
             "--d-filters", "0.25", "--quiet", "--sample-every", "1000"]


@settings(max_examples=10, **SETTINGS)
@given(variant=st.sampled_from(["dcgan", "wgan_gp", "cgan", "nope", ""]), options=_options([
    ("--seed", NUMBERS), ("--label-flip", NUMBERS), ("--critic-steps", NUMBERS),
    ("--gradient-penalty", NUMBERS), ("--weight-clip", NUMBERS), ("--latent-dim", NUMBERS),
    ("--learning-rate", NUMBERS), ("--beta-1", NUMBERS), ("--classes", STRINGS),
    ("--policy", STRINGS), ("--boost-spell", NUMBERS), ("--sleep-discriminator", NUMBERS),
    ("--loss", STRINGS), ("--patience", NUMBERS), ("--data-dir", PATHS),
    ("--dataset", STRINGS), ("--out", OUTPUTS), ("--checkpoint-every", NUMBERS),
    ("--save-generator-every", NUMBERS), ("--notify-command", STRINGS),
    ("--notify-timeout", NUMBERS), ("--distribute", STRINGS)]))
def test_train_never_raises(sandbox, variant, options):
    from ganlib import train

    argv = [variant, *SMALL_RUN, "--out", "outputs/run",
            *[part for pair in options for part in pair]]
    _run(train.main, argv, sandbox)
    shutil.rmtree(sandbox / "outputs" / "run", ignore_errors=True)  # each example starts anew


@settings(max_examples=10, **SETTINGS)
@given(run_folder=PATHS, num=NUMBERS)
def test_ship_never_raises(sandbox, run_folder, num):
    from ganlib import ship

    _run(ship.main, [run_folder, "--num", num], sandbox)


@settings(max_examples=6, **SETTINGS)
@given(out=st.sampled_from([".", "precious.txt", "a_folder/../", "precious.txt/r", ""]),
       models=PATHS)
def test_report_never_raises(sandbox, out, models):
    from ganlib import report

    _run(report.main, ["--out", out, "--models", models], sandbox)


@settings(max_examples=10, **SETTINGS)
@given(steps=st.sampled_from(["0", "-1", "x", "nan"]), variants=STRINGS)
def test_bench_refuses_bad_numbers(sandbox, steps, variants):
    from ganlib import bench

    assert _run(bench.main, ["--steps", steps, "--variants", variants], sandbox) == 2


@settings(max_examples=10, **SETTINGS)
@given(arms=STRINGS.filter(lambda arm: arm not in ("", "-", "--")),
       images=st.sampled_from(["0", "-1", "x", "nan"]), seeds=STRINGS)
def test_compare_refuses_bad_arguments(sandbox, arms, images, seeds):
    from ganlib import compare

    argv = ["--arms", arms + ",nope", "--images", images, "--seeds", seeds,
            "--results", "outputs/r.jsonl"]
    assert _run(compare.main, argv, sandbox) == 2


@settings(max_examples=12, **SETTINGS)
@given(command=st.sampled_from(["list", "delete", "nope", ""]), name=PATHS,
       runs_folder=PATHS, yes=st.booleans())
def test_runs_never_deletes_what_is_not_a_run(sandbox, command, name, runs_folder, yes):
    from ganlib import runs

    argv = ["--runs", runs_folder, command] + ([name] if command == "delete" else [])
    _run(runs.main, argv + (["--yes"] if yes and command == "delete" else []), sandbox)
