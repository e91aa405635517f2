"""The tricks comparison: its arms, its fixed budget, and how the report summarises it."""

import json

import pytest

from conftest import assert_clean_error, run_main
from ganlib import compare
from ganlib.report import comparison_section


def test_every_arm_is_a_valid_training_command():
    from ganlib.train import parse_args

    for arm in compare.ARMS:
        config = parse_args(compare.train_arguments(arm, 1, 50_000, "runs/compare"))[0]
        resolved = config.resolved()
        # The same budget of real images shown to D, whatever the family.
        images = resolved.epochs * (5000 // resolved.images_per_step) * resolved.images_per_step
        assert abs(images - 50_000) <= 2_500, arm
        assert resolved.seed == 1 and resolved.split == "all"
        # float32 on every machine (auto would pick bfloat16 on some), unless asked.
        assert resolved.precision == "float32"
    asked = compare.train_arguments("baseline", 1, 50_000, "runs/x", precision="bfloat16")
    assert parse_args(asked)[0].precision == "bfloat16"


def test_the_report_summarises_the_recorded_runs(tmp_path):
    path = tmp_path / "results.jsonl"
    lines = [dict(arm=arm, seed=seed, budget_images=50_000, images_seen=49_920,
                  fcd_over_floor=value, classifier_score=8.0, classes_covered=10)
             for arm, seed, value in [("baseline", 0, 5.0), ("baseline", 1, 6.0),
                                      ("wgan_gp", 0, 3.0), ("wgan_gp", 1, 3.2),
                                      ("hinge", 0, 5.4), ("hinge", 1, 6.6)]]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines) + '{"arm": "cut sh')
    summary = compare.summary(compare.recorded(path))  # a cut-off last line is skipped
    assert summary["baseline"]["fcd_over_floor"] == pytest.approx((5.5, 0.5))
    text = comparison_section(path)
    assert "| baseline | the DCGAN as it is | 2 | 49,920 | 5.50 +- 0.50 |" in text
    assert "| wgan_gp | the `wgan_gp` variant | 2 |" in text
    assert "beats the baseline by more than both spreads: `wgan_gp`." in text
    assert "python -m ganlib.compare --images 50000" in text
    assert comparison_section(tmp_path / "none.jsonl") is None


def test_bad_arguments_are_refused(tmp_path):
    results = tmp_path / "r.jsonl"
    for arguments, phrase in ((["--arms", "baseline,magic"], "unknown arm 'magic'"),
                              (["--seeds", "one"], "--seeds"), (["--images", "0"], "--images")):
        # In-process: the command's own parse and checks, before any training.
        assert_clean_error(run_main("ganlib.compare", *arguments, "--results", results),
                           phrase)
    # A precision it does not know: argparse's one line (after the usage), exit 2.
    result = run_main("ganlib.compare", "--precision", "float16", "--results", results)
    errors = [line for line in result.stderr.splitlines() if "error:" in line]
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert len(errors) == 1 and "--precision" in errors[0], result.stderr
    assert not results.exists()


def test_sigterm_ends_the_comparison_with_143_and_records_no_unfinished_run(tmp_path,
                                                                             monkeypatch,
                                                                             capsys):
    """SIGTERM sets the flag that `ganlib.train` obeys (its tests kill real runs): the run
    in progress checkpoints and stops, and the comparison says how to go on, exit 143."""
    import os
    import signal

    from ganlib import train

    def run_interrupted_by_sigterm(arm, seed, images, runs_folder, results_path, precision):
        os.kill(os.getpid(), signal.SIGTERM)  # as a scheduler would, mid-run
        assert train.STOP_REQUESTED.is_set()  # the handler asked training to stop ...
        raise train.TrainingStopped(42)       # ... which it does after its step

    monkeypatch.setattr(compare, "run_arm", run_interrupted_by_sigterm)
    results = tmp_path / "results.jsonl"
    previous = signal.getsignal(signal.SIGTERM)
    try:
        code = compare.main(["--arms", "baseline", "--seeds", "0", "--results", str(results)])
    finally:
        signal.signal(signal.SIGTERM, previous)
        train.STOP_REQUESTED.clear()
    assert code == 143 and not results.exists()
    assert "checkpoint written at step 42; run the same command again" in capsys.readouterr().err


def test_experiment_verdicts_are_only_as_strong_as_the_spread_between_seeds():
    from ganlib import experiments

    def lines(values_by_arm):
        return [dict(arm=arm, seed=seed, budget_images=100_000, images_seen=99_840,
                     fcd_over_floor=value, classifier_score=6.0, classes_covered=10)
                for arm, values in values_by_arm.items() for seed, value in enumerate(values)]

    clear = experiments.table(experiments.DROPOUT, lines(
        {"baseline": [16, 17, 18], "adgan": [4, 5, 6], "no_dropout": [15, 19, 23]})).data
    assert "AD-GAN, dropout 0.5 -> 0 beats DCGAN, dropout 0.3 by more than both spreads" in clear
    assert "DCGAN, dropout 0.3 vs DCGAN, no dropout: no difference" in clear
    single = experiments.table(experiments.DROPOUT, lines({"baseline": [16], "adgan": [5]})).data
    assert "a hint, not a result" in single and "one seed: no spread yet" in single


def test_one_seed_is_never_clearly_better_however_large_the_gap():
    from ganlib.compare import clearly_better

    one_seed = {"seeds": 1, "fcd_over_floor": (3.0, 0.0)}
    baseline_one = {"seeds": 1, "fcd_over_floor": (30.0, 0.0)}
    assert not clearly_better(one_seed, baseline_one)
    three = {"seeds": 3, "fcd_over_floor": (3.0, 0.5)}
    baseline_three = {"seeds": 3, "fcd_over_floor": (10.0, 2.0)}
    assert clearly_better(three, baseline_three)
    assert not clearly_better(baseline_three, three)
    overlapping = {"seeds": 3, "fcd_over_floor": (9.0, 1.5)}
    assert not clearly_better(overlapping, baseline_three)


def _recorded_line(arm, seed, **numbers):
    return dict(arm=arm, seed=seed, budget_images=100_000, images_seen=99_840,
                classifier_score=6.0, classes_covered=10, **numbers)


def test_rescore_scores_old_lines_again_with_todays_judge_and_loses_no_line(tmp_path,
                                                                           monkeypatch):
    """A line scored by an earlier judge is scored again from its run's generator (here the
    shipped DCGAN), a line appended meanwhile by a running comparison survives the rewrite,
    and a line whose run folder is gone keeps its numbers."""
    import shutil

    from ganlib.classifier import judge_fingerprint
    from ganlib.sample import TRAINED_MODELS

    runs = tmp_path / "runs"
    (runs / "baseline-seed0").mkdir(parents=True)
    for suffix in (".keras", ".json"):  # a run folder holds the generator and its card
        shutil.copy(f"{TRAINED_MODELS}/dcgan_mnist{suffix}",
                    runs / "baseline-seed0" / f"generator{suffix}")
    with open(f"{TRAINED_MODELS}/dcgan_mnist.json") as file:
        shipped = json.load(file)["metrics"]
    results = tmp_path / "results.jsonl"
    with open(f"{TRAINED_MODELS}/dcgan_mnist.json") as file:
        images_seen = json.load(file)["images_seen"]
    old = [dict(_recorded_line("baseline", 0, fcd_over_floor=99.0, judge="an-old-judge"),
                images_seen=images_seen),
           _recorded_line("hinge", 0, fcd_over_floor=42.0, judge="an-old-judge")]
    results.write_text("".join(json.dumps(line) + "\n" for line in old))

    real_scores = compare._scores

    def scores_while_a_comparison_appends(generator, card):
        with compare._locked(str(results)) as file:  # another run finishing meanwhile
            file.write(json.dumps(_recorded_line("ema", 1, fcd_over_floor=7.0)) + "\n")
        return real_scores(generator, card)

    monkeypatch.setattr(compare, "_scores", scores_while_a_comparison_appends)
    assert compare.main(["--rescore", "--runs", str(runs), "--results", str(results)]) == 0
    lines = {line["arm"]: line for line in compare.recorded(results)}
    assert set(lines) == {"baseline", "hinge", "ema"}
    # The shipped card was measured by the same judge, same N and seed: the same numbers, up
    # to the arithmetic of the CPU (oneDNN picks other kernels with and without AVX-512:
    # 2.30x on the EPYC that shipped it, 2.33x on an AVX2-only one).
    assert lines["baseline"]["fcd_over_floor"] == pytest.approx(shipped["fcd_over_floor"],
                                                                rel=0.03)
    assert lines["baseline"]["fcd"] == pytest.approx(shipped["fcd"], rel=0.03)
    assert 0 < lines["baseline"]["precision"] <= 1
    assert lines["baseline"]["judge"] == judge_fingerprint("mnist")
    assert lines["hinge"]["fcd_over_floor"] == 42.0 and lines["hinge"]["judge"] == "an-old-judge"
    # The report says that one line is still the earlier judge's.
    assert "runs were scored by an earlier judge" in comparison_section(results)


def test_the_improved_recipe_is_a_valid_command_for_every_family():
    from ganlib.recipes import improved_options
    from ganlib.train import parse_args
    from ganlib.variants import VARIANTS

    for name, variant in VARIANTS.items():
        knobs = parse_args([name, "--out", "runs/x", *improved_options(name)])[0].resolved().knobs
        assert knobs.ema == 0.999, name
        # A gradient penalty treats samples one by one: no layer that compares them; and
        # an MLP discriminator wins at once with the default layer, so it gets a small one.
        # The cGAN's labels keep every class in play; it adds the projection instead.
        assert knobs.minibatch_discrimination == (
            not variant.gradient_penalty and name != "cgan"), name
        assert knobs.projection == (name in ("cgan", "cdcgan")), name
        if variant.convolutional:
            assert (knobs.minibatch_kernels, knobs.minibatch_kernel_dim) == (50, 5), name
        elif knobs.minibatch_discrimination:
            assert (knobs.minibatch_kernels, knobs.minibatch_kernel_dim) == (10, 3), name


def test_the_report_sets_bfloat16_runs_beside_float32_ones(tmp_path):
    from ganlib.report import precision_section

    def write(path, values, **extra):
        path.write_text("".join(json.dumps(dict(arm="ema", seed=seed, budget_images=50_000,
                                                images_seen=49_920, fcd_over_floor=value,
                                                **extra)) + "\n"
                                for seed, value in enumerate(values)))

    float32, bfloat16 = tmp_path / "f32.jsonl", tmp_path / "bf16.jsonl"
    write(float32, [5.0, 5.2, 5.1], dtype_policy="float32")
    write(bfloat16, [5.1, 5.0], dtype_policy="mixed_bfloat16")
    text = precision_section(bfloat16, float32)
    assert "| ema | 2 | 5.10 | - |" in text and "| ema | 0 | 5.00 | 5.10 |" in text
    assert "| ema | mean +- std | 5.10 +- 0.08 | 5.05 +- 0.05 |" in text
    assert "`ema`: no difference larger than the spread between seeds" in text
    write(bfloat16, [9.0, 9.5])
    assert "`ema`: float32 beats bfloat16 by more than both spreads" in \
        precision_section(bfloat16, float32)
    assert precision_section(tmp_path / "none.jsonl", float32) is None


def test_writing_missing_grids_from_a_damaged_run_is_one_error_line(tmp_path):
    # --grids loads each recorded run's generator; a damaged file used to escape as a
    # traceback, since only the training path turned ganlib's errors into one line.
    results = tmp_path / "results.jsonl"
    results.write_text(json.dumps(dict(arm="baseline", seed=0, budget_images=50_000)) + "\n")
    run = tmp_path / "runs" / "baseline-seed0"
    run.mkdir(parents=True)
    (run / "generator.keras").write_bytes(b"PK\x03\x04 cut short")
    result = run_main("ganlib.compare", "--grids", "--runs", tmp_path / "runs",
                      "--results", results)
    assert_clean_error(result, "generator.keras")
    assert result.returncode == 2
    assert (run / "generator.keras").read_bytes() == b"PK\x03\x04 cut short"
