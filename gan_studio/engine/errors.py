"""Errors a user can cause. The CLI prints their message on one line; the GUI shows it."""
from pathlib import Path


class UserError(Exception):
    """Something the user can fix: a bad file, a bad path, a wrong model kind, a bad argument."""


class ModelFileError(UserError):
    """A model file that cannot be loaded safely or does not fit its architecture."""


class DataError(UserError):
    """A dataset path that cannot be read."""


class TrainingDiverged(UserError):
    """Training produced a non-finite loss; the last good checkpoint was kept."""


class OutputError(UserError):
    """A file that cannot be written (a directory in the way, no permission, a full disk, …): one line,
    "cannot write PATH: REASON"; whatever was there before is left as it was."""


def not_a_file(path) -> str:
    """Why `path` is no file to read, in a few words: "PATH: no such file", or "PATH is a folder, not a file"."""
    p = Path(path)
    return f"{p} is a folder, not a file" if p.is_dir() else f"{p}: no such file"
