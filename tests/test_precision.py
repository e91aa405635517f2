"""--precision: bfloat16 only where it measured faster than float32; a resumed run keeps its own."""

import json

import numpy as np

from ganlib import precision, train


def test_auto_picks_bfloat16_only_where_it_measured_faster(tmp_path, monkeypatch):
    monkeypatch.delenv(precision.AUTO_OVERRIDE)  # the suite pins float32; look at the CPU
    amd, intel = "AuthenticAMD", "GenuineIntel"
    assert precision.resolve("auto", {"avx2", "fma"}, amd) == "float32"  # emulated: 10x slower
    assert precision.resolve("auto", {"avx512f", "avx512_bf16"}, amd) == "bfloat16"  # Zen 4
    assert precision.resolve("auto", {"avx512_bf16", "amx_bf16", "amx_tile"}, intel) == "bfloat16"
    # AVX512-BF16 without AMX on a Xeon measured 0.61x of float32.
    assert precision.resolve("auto", {"avx512f", "avx512_bf16"}, intel) == "float32"
    assert precision.resolve("float32", {"amx_bf16"}, intel) == "float32"
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nvendor_id\t: AuthenticAMD\n"
                       "flags\t\t: fpu sse2 avx2 avx512_bf16\n")
    assert precision.cpu_flags(str(cpuinfo)) == {"fpu", "sse2", "avx2", "avx512_bf16"}
    assert precision.cpu_vendor(str(cpuinfo)) == amd
    assert precision.cpu_flags(str(tmp_path / "missing")) == set()
    assert precision.cpu_vendor(str(tmp_path / "missing")) == ""


def test_every_family_trains_a_step_in_bfloat16(tmp_path):
    """Mixed precision reaches every layer: AD-GAN's scheduled dropout, minibatch
    discrimination, the Wasserstein critic's penalty."""
    try:
        for variant, options in (("adgan", ["--minibatch-discrimination"]),
                                 ("vanilla", ["--minibatch-discrimination", "--ema", "0.9"]),
                                 ("wgan_gp", [])):
            out = tmp_path / variant
            # Small networks: bfloat16 is emulated, 10x slower, on a CPU without it.
            assert train.main([variant, "--out", str(out), "--limit", "160", "--batch-size",
                               "32", "--epochs", "1", "--latent-dim", "8", "--quiet",
                               "--g-filters", "0.25", "--d-filters", "0.25",
                               "--precision", "bfloat16", *options]) == 0, variant
            history = [json.loads(line) for line in
                       (out / "history.jsonl").read_text().splitlines()]
            assert all(np.isfinite(record["d_loss"]) for record in history), variant
    finally:
        precision.apply("float32")


def test_a_bfloat16_run_trains_records_its_precision_and_resumes_in_it(tmp_path):
    base = ["dcgan", "--out", str(tmp_path / "run"), "--limit", "64", "--batch-size", "32",
            "--g-filters", "0.25", "--d-filters", "0.25", "--latent-dim", "8", "--quiet"]
    try:
        assert train.main([*base, "--epochs", "1", "--precision", "bfloat16"]) == 0
        card = json.loads((tmp_path / "run" / "generator.json").read_text())
        assert card["precision"] == "mixed_bfloat16"
        history = [json.loads(line) for line in
                   (tmp_path / "run" / "history.jsonl").read_text().splitlines()]
        assert all(np.isfinite(record["d_loss"]) for record in history)
        # Resumed with the default (auto) on any machine, it stays in bfloat16.
        assert train.main([*base, "--epochs", "2"]) == 0
        config = json.loads((tmp_path / "run" / "config.json").read_text())
        assert config["precision_used"] == "bfloat16"
        card = json.loads((tmp_path / "run" / "generator.json").read_text())
        assert card["precision"] == "mixed_bfloat16" and card["steps"] == 4
        assert card["xla"] is False and config["xla_used"] is False  # the suite's GANLIB_XLA=0
    finally:
        precision.apply("float32")  # later tests in this process build float32 networks


def test_a_resumed_run_keeps_its_xla_choice_unless_told(tmp_path, monkeypatch):
    """XLA changes the numerics: under auto a resumed run keeps what it started with."""
    monkeypatch.delenv(train.XLA_ENV)  # the suite forces XLA off; look at the choice itself
    config_path = tmp_path / "config.json"
    auto = train.TrainConfig("dcgan", str(tmp_path))
    assert train._xla(auto, str(config_path), "bfloat16") is False  # new run: where it pays
    config_path.write_text(json.dumps({"xla_used": True}))
    assert train._xla(auto, str(config_path), "bfloat16") is True  # resumed: its own
    forced = train.TrainConfig("dcgan", str(tmp_path), xla=False)
    assert train._xla(forced, str(config_path), "bfloat16") is False  # --no-xla wins
    distributed = train.TrainConfig("dcgan", str(tmp_path), distribute="mirrored")
    assert train._xla(distributed, str(config_path), "float32") is False


def test_a_bfloat16_generator_draws_in_float32_where_bfloat16_does_not_pay(monkeypatch):
    """The shipped AD-GAN was trained under mixed_bfloat16: on a CPU where that is emulated,
    load_generator rebuilds it in float32, with the same weights and nearly the same images."""
    import keras

    from ganlib.sample import generate_images, latent_noise, load_generator, shipped_model_path

    path = shipped_model_path("adgan", "mnist")
    as_saved = keras.models.load_model(path, compile=False)
    assert any(layer.compute_dtype == "bfloat16" for layer in as_saved.layers)
    monkeypatch.setenv(precision.AUTO_OVERRIDE, "float32")  # as on an AVX2-only CPU
    rebuilt, card = load_generator(path)
    assert {layer.compute_dtype for layer in rebuilt.layers} == {"float32"}
    assert card["variant"] == "adgan"
    for saved, loaded in zip(as_saved.weights, rebuilt.weights):
        np.testing.assert_array_equal(np.asarray(saved), np.asarray(loaded))
    noise = latent_noise(16, 100, 0)
    difference = np.abs(generate_images(rebuilt, noise) - generate_images(as_saved, noise))
    assert difference.mean() < 0.01  # bfloat16 keeps ~3 significant digits
    # Where bfloat16 pays, the model stays as it was saved.
    monkeypatch.setenv(precision.AUTO_OVERRIDE, "bfloat16")
    kept, _ = load_generator(path)
    assert any(layer.compute_dtype == "bfloat16" for layer in kept.layers)
