"""Writing files so that readers never see half of one: every model, calibration, image and export goes through
`atomic_write` (`save_npy` for arrays). A leaf module (no project imports), so anything in the engine may use it."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path


def atomic_write(path: str | Path, write) -> Path:
    """Call write(tmp_path), then rename over `path`: readers never see a half-written file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)      # mkstemp makes 0600; a model file is an ordinary file
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def save_npy(path: str | Path, array) -> Path:
    """Write a numeric array as .npy through `atomic_write` (via a file object, which is closed: given a name,
    np.save would append .npy to the temporary file's)."""
    import numpy as np

    def write(tmp: str) -> None:
        with open(tmp, "wb") as fh:
            np.save(fh, array, allow_pickle=False)
    return atomic_write(path, write)
