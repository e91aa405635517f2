"""A full disk and a read-only folder, for real: a small tmpfs mounted by the test (as root).

Each case must end in one clear line and a non-zero exit, with every file already saved
left exactly as it was.
"""

import hashlib
import os
import subprocess

import pytest

from conftest import TINY, assert_clean_error, run_main, run_module

TRAIN = ["dcgan", "--limit", "128", "--batch-size", "32", "--epochs", "1", *TINY]


@pytest.fixture
def small_disk(tmp_path):
    """A 24 MB tmpfs at tmp_path/disk, unmounted afterwards; skipped where we cannot mount."""
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root (CI runs as root)")
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs",
                              str(mount_point)], capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    yield mount_point
    subprocess.run(["umount", "-l", str(mount_point)], capture_output=True)


def _digests(folder):
    # (.lock only holds the PID of the process training there.)
    return {path: hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(folder.rglob("*")) if path.is_file() and path.name != ".lock"}


def test_a_full_disk_stops_training_and_keeps_every_saved_file(small_disk):
    run = small_disk / "run"
    first = run_module("ganlib.train", *TRAIN, "--out", run)
    assert first.returncode == 0, first.stderr[-2000:]
    # Fill the disk to the last byte, then ask for two more epochs.
    with open(small_disk / "filler", "wb") as filler:
        try:
            while True:
                filler.write(b"\0" * 65536)
                filler.flush()
        except OSError:
            pass
    before = _digests(run)
    result = run_module("ganlib.train", *TRAIN[:-len(TINY) - 2], "--epochs", "3", *TINY,
                        "--out", run)
    error = assert_clean_error(result, "cannot write")
    assert "free some space" in error
    after = _digests(run)
    for path, digest in before.items():
        if path.name != "history.jsonl":  # the log may gain lines; never lose them
            assert after.get(path) == digest, path
    assert not [path for path in run.rglob(".tmp-*")]  # no half-written file left behind


def test_a_read_only_folder_is_refused_and_left_intact(small_disk):
    run = small_disk / "run"
    assert run_module("ganlib.train", *TRAIN, "--out", run).returncode == 0
    before = _digests(run)
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    # In-process (the same main() as the console): both refuse before any work.
    assert_clean_error(run_main("ganlib.train", *TRAIN, "--out", run), "cannot write")
    assert_clean_error(run_main("ganlib.sample", "dcgan", "--out", small_disk / "s.png"),
                       "cannot write")
    assert _digests(run) == before
