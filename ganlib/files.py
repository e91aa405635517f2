"""Crash-safe file writes: write a temporary file beside the target, then rename it.

A rename within one folder is atomic, so a reader (or a resumed run) sees either the old
complete file or the new complete file, never half of one, whenever the process dies.
"""

import json
import os
import shutil
import tempfile

from ganlib.errors import GanlibError

TEMP_PREFIX = ".tmp-"  # a file named so is an unfinished write


def atomic_write(path, write, suffix="", keep_previous=None):
    """Call `write(temp_path)` and move the result to `path` only once it is complete.

    With `keep_previous`, the file being replaced is first renamed to that path, so the
    last two versions survive (a checkpoint damaged later on disk has a fallback).
    """
    folder = os.path.dirname(os.path.abspath(path))
    temp_path = None
    try:
        handle, temp_path = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=suffix, dir=folder)
        os.close(handle)
        write(temp_path)
        with open(temp_path, "rb") as written:
            os.fsync(written.fileno())
        # mkstemp makes private (0600) files; give the result the usual permissions.
        os.chmod(temp_path, 0o666 & ~_current_umask())
        if keep_previous and os.path.exists(path):
            _keep_as_previous(path, keep_previous, folder)
        os.replace(temp_path, path)
    except OSError as error:
        raise GanlibError(f"cannot write {path}: {error.strerror or error}; free some space "
                          "or choose a writable output location") from None
    finally:
        if temp_path and os.path.exists(temp_path):
            os.remove(temp_path)


def _keep_as_previous(path, previous, folder):
    """Make `previous` a copy of the file at `path` without `path` ever going missing.

    A hard link gives the file a second name, renamed over `previous` in one step; `path`
    itself is only replaced afterwards, so a kill at any moment leaves a file at `path`.
    """
    link = os.path.join(folder, TEMP_PREFIX + "previous-" + os.path.basename(path))
    if os.path.exists(link):
        os.remove(link)
    try:
        os.link(path, link)
    except OSError:  # a file system without hard links: a copy does the same, slower
        shutil.copyfile(path, link)
    os.replace(link, previous)


def remove_partial_writes(folder):
    """Delete the temporary files a killed process left behind (never a finished file)."""
    for parent, _, names in os.walk(folder):
        for name in names:
            if name.startswith(TEMP_PREFIX):
                os.remove(os.path.join(parent, name))


def _current_umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def read_json(path):
    """The JSON object at `path`, or None when there is none or it is unreadable."""
    try:
        with open(path) as file:
            content = json.load(file)
    except (OSError, ValueError):
        return None
    return content if isinstance(content, dict) else None


def write_json(path, content):
    """Write a JSON file atomically (sorted keys, human-readable)."""
    def write(temp_path):
        with open(temp_path, "w") as file:
            json.dump(content, file, indent=2, sort_keys=True)
            file.write("\n")
    atomic_write(path, write, suffix=".json")


def write_bytes(path, data):
    """Write a file's bytes (or, given a str, its text) atomically."""
    def write(temp_path):
        with open(temp_path, "wb") as file:
            file.write(data.encode() if isinstance(data, str) else data)
    atomic_write(path, write, suffix=os.path.splitext(path)[1])


def copy_file(source, path):
    """Copy `source` to `path` atomically: `path` is the old file or the whole new one."""
    atomic_write(path, lambda temp_path: shutil.copyfile(source, temp_path),
                 suffix=os.path.splitext(path)[1])


def ensure_writable_folder(folder):
    """Create `folder` if needed and prove that files can be written in it."""
    try:
        os.makedirs(folder, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        raise GanlibError(f"cannot write to folder {folder}: {error.strerror or error}; "
                          "choose a writable location") from None
