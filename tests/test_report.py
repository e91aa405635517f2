"""The report: rebuilt from trained_models/, it matches the committed one."""

import os
import shutil

import numpy as np
import pytest
from PIL import Image

from conftest import ROOT, assert_clean_error, run_main, run_module


@pytest.fixture(scope="module")
def rebuilt_report(tmp_path_factory):
    """The report as `python -m ganlib.report` builds it now, in a temporary folder."""
    out = tmp_path_factory.mktemp("rebuilt") / "report"
    result = run_module("ganlib.report", "--out", out)
    assert result.returncode == 0, result.stderr[-2000:]
    return out


def test_committed_report_text_matches_a_rebuild(rebuilt_report):
    with open(os.path.join(ROOT, "report", "README.md")) as file:
        committed = file.read()
    with open(rebuilt_report / "README.md") as file:
        rebuilt = file.read()
    # Only the relative links to trained_models/ depend on where the report is built.
    link = os.path.relpath(os.path.join(ROOT, "trained_models"), rebuilt_report)
    assert rebuilt.replace(f"]({link}/", "](../trained_models/") == committed


def test_committed_report_figures_match_a_rebuild(rebuilt_report):
    committed_folder = os.path.join(ROOT, "report", "figures")
    names = sorted(os.listdir(committed_folder))
    assert names == sorted(os.listdir(rebuilt_report / "figures"))
    assert "side_by_side.png" in names
    for name in names:
        committed = np.asarray(Image.open(os.path.join(committed_folder, name)).convert("L"),
                               np.float32)
        rebuilt = np.asarray(Image.open(rebuilt_report / "figures" / name).convert("L"),
                             np.float32)
        assert committed.shape == rebuilt.shape, name
        # Another CPU may round the generators' outputs a little differently.
        assert np.abs(committed - rebuilt).mean() < 2.0, name


def test_every_shipped_generator_and_its_pictures_are_in_the_report(rebuilt_report):
    from ganlib.report import shipped_cards

    with open(rebuilt_report / "README.md") as file:
        text = file.read()
    for card in shipped_cards(os.path.join(ROOT, "trained_models")):
        assert card["train_command"] in text
        for suffix in (".png", ".gif"):
            assert os.path.isfile(os.path.join(ROOT, "trained_models", card["stem"] + suffix))
            assert f"/{card['stem']}{suffix})" in text
        assert os.path.isfile(rebuilt_report / "figures" / f"{card['stem']}_losses.png")


def test_report_refuses_a_folder_without_models_and_keeps_the_old_report(tmp_path):
    out = tmp_path / "report"
    out.mkdir()
    (out / "README.md").write_text("an earlier report")
    empty = tmp_path / "models"
    empty.mkdir()
    assert_clean_error(run_main("ganlib.report", "--out", out, "--models", empty),
                       "no shipped generators")
    assert (out / "README.md").read_text() == "an earlier report"


def test_report_names_a_corrupt_card(tmp_path):
    models = tmp_path / "models"
    shutil.copytree(os.path.join(ROOT, "trained_models"), models,
                    ignore=shutil.ignore_patterns("*.keras", "*.gif"))
    (models / "dcgan_mnist.json").write_text("{ not json")
    assert_clean_error(run_main("ganlib.report", "--out", tmp_path / "report", "--models",
                                  models), "dcgan_mnist.json", "re-ship")


def test_report_never_touches_files_it_does_not_generate(tmp_path):
    """--out on someone else's folder is refused; an earlier report keeps its extra files."""
    models = tmp_path / "models"
    shutil.copytree(os.path.join(ROOT, "trained_models"), models,
                    ignore=shutil.ignore_patterns("*.gif"))
    user_folder = tmp_path / "thesis"
    user_folder.mkdir()
    (user_folder / "chapter1.tex").write_text("my work")
    assert_clean_error(run_main("ganlib.report", "--out", user_folder, "--models", models),
                       "not a report folder")
    assert (user_folder / "chapter1.tex").read_text() == "my work"
    assert sorted(os.listdir(user_folder)) == ["chapter1.tex"]

    a_file = tmp_path / "notes.txt"
    a_file.write_text("keep")
    assert_clean_error(run_main("ganlib.report", "--out", a_file, "--models", models),
                       "is a file")
    assert a_file.read_text() == "keep"

    # `--out .` in a folder of other files (e.g. the repository itself) is refused too.
    assert_clean_error(run_main("ganlib.report", "--out", ".", "--models", models,
                                  cwd=user_folder), "not a report folder")

    report = tmp_path / "report"
    assert run_main("ganlib.report", "--out", report, "--models", models).returncode == 0
    (report / "figures" / "my_sketch.png").write_bytes(b"not ours")
    stale = report / "figures" / "retired_model_losses.png"
    stale.write_bytes(b"from an earlier build")
    assert run_main("ganlib.report", "--out", report, "--models", models).returncode == 0
    assert (report / "figures" / "my_sketch.png").read_bytes() == b"not ours"
    assert not stale.exists()  # loss curves of models no longer shipped go
    assert not [name for name in os.listdir(report) if name.startswith(".tmp-")]


def test_before_and_after_numbers_are_kept_once_and_compared(tmp_path):
    import json

    from ganlib.errors import GanlibError
    from ganlib.report import before_after_section, keep_as_before, shipped_cards

    def path_text(path):
        with open(path) as file:
            return file.read()

    models = tmp_path / "models"
    models.mkdir()
    for stem in ("dcgan_mnist", "cgan_mnist"):
        shutil.copy(os.path.join(ROOT, "trained_models", f"{stem}.json"), models)
    path = keep_as_before(tmp_path, models)
    before = json.loads(path_text(path))
    with pytest.raises(GanlibError, match="already holds the numbers from before"):
        keep_as_before(tmp_path, models)  # a second call must not replace them
    assert json.loads(path_text(path)) == before

    cards = shipped_cards(str(models))
    retrained = next(card for card in cards if card["stem"] == "dcgan_mnist")
    retrained["train_command"] += " --minibatch-discrimination"
    retrained["metrics"] = dict(retrained["metrics"], fcd_over_floor=1.4)
    text = before_after_section(before, cards)
    old = before["dcgan_mnist"]["fcd_over_floor"]
    assert "| dcgan_mnist | " in text and f"{old:.2f} -> 1.40" in text
    assert "| cgan_mnist (not retrained) |" in text


def test_keep_as_before_never_writes_over_the_kept_numbers(tmp_path):
    kept = os.path.join(ROOT, "report", "shipped_before.json")
    with open(kept, "rb") as file:
        before = file.read()
    assert_clean_error(run_main("ganlib.report", "--keep-as-before", "--out", tmp_path / "r"),
                       "already holds the numbers from before")
    with open(kept, "rb") as file:
        assert file.read() == before
    assert not (tmp_path / "r").exists()  # refused before anything was written


def test_real_ceilings_name_each_datasets_real_against_real_scores():
    from ganlib.report import real_ceilings

    def card(dataset, precision, recall):
        return {"dataset": dataset,
                "metrics": {"real_precision": precision, "real_recall": recall}}

    cards = [card("mnist", 0.887, 0.894), card("mnist", 0.887, 0.894),
             card("fashion_mnist", 0.858, 0.864), card("fashion_mnist", 0.861, 0.864),
             {"dataset": "pokemon", "metrics": {"fcd": 1.0}}]  # measured before the ceiling
    assert real_ceilings(cards) == "`fashion_mnist` 0.86 / 0.86, `mnist` 0.89 / 0.89"
    assert real_ceilings(cards[4:]) == ""
