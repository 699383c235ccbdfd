"""Writing files so that readers never see half of one: every model, calibration, image and export goes through
`atomic_write` (`save_npy` for arrays). Depends only on errors.py, so anything in the engine may use it.

A write that fails (a directory in the way, no permission, a read-only or full disk, …) is one `OutputError`
line, "cannot write PATH: REASON": the temporary file is removed and the old file, if any, is left intact.
`check_output_path` makes the cheap checks up front, so that a command fails before it does any work.
"""
from __future__ import annotations

import errno
import os
import re
import stat
import tempfile
from pathlib import Path

from .errors import OutputError, UserError

REASONS = {
    errno.EISDIR: "it is a directory",
    errno.EACCES: "permission denied",
    errno.EPERM: "the operation is not permitted (is the file or its folder immutable?)",
    errno.EROFS: "the file system is read-only",
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is used up",
    errno.ENOTDIR: "a parent is a file, not a folder",
    errno.EEXIST: "a parent is a file, not a folder",        # mkdir(parents=True) meeting a file on the way
    errno.ENAMETOOLONG: "the name is too long",
    errno.EFBIG: "the file is too large for this file system",
    errno.EIO: "an input/output error (a failing disk, or a lost network drive?)",
    errno.ENOENT: "a folder on the way does not exist",
    errno.ELOOP: "too many symbolic links on the way",
}
# errno numbers in the text of exceptions that are not OSErrors: safetensors' "(os error 28)", a Rust
# io::Error's "Os { code: 28, … }", a Python "[Errno 28]"
_ERRNO_IN_TEXT = re.compile(r"os error (\d+)|code: (\d+)|\[Errno (\d+)\]")


def _errno_of(exc: BaseException) -> int | None:
    """The errno behind an exception (itself an OSError, caused by one, or naming one in its text), else None."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, OSError) and exc.errno:
            return exc.errno
        m = _ERRNO_IN_TEXT.search(str(exc))
        if m:
            return int(next(g for g in m.groups() if g))
        for code in (errno.ENOSPC, errno.EACCES, errno.EROFS, errno.EISDIR, errno.ENOTDIR, errno.EDQUOT):
            if os.strerror(code).lower() in str(exc).lower():
                return code
        exc = exc.__cause__ or exc.__context__
    return None


def reason(exc: BaseException) -> str | None:
    """Plain words for the I/O failure behind `exc`, or None when it is no I/O failure."""
    code = _errno_of(exc)
    if code is None:
        return str(exc) if isinstance(exc, OSError) and str(exc) else None
    return REASONS.get(code) or os.strerror(code).lower()


def output_error(path: str | Path, exc: BaseException) -> OutputError | None:
    """The one-line OutputError for a failed write of `path`, or None when `exc` is no I/O failure (a bug)."""
    if isinstance(exc, OutputError):
        return exc
    if isinstance(exc, UserError):               # already one line of its own
        return None
    why = reason(exc)
    return None if why is None else OutputError(f"cannot write {path}: {why}")


def _folder_problem(folder: Path) -> str | None:
    """Why nothing can be created in an existing folder (None: it looks writable)."""
    if os.access(folder, os.W_OK | os.X_OK):
        return None
    try:
        if os.statvfs(folder).f_flag & os.ST_RDONLY:
            return REASONS[errno.EROFS]
    except OSError:
        pass
    return f"permission denied (the folder {folder} is not writable)"


def _destination_problem(path: Path) -> str | None:
    try:
        st = path.stat()
    except FileNotFoundError:
        st = None
    except OSError as exc:
        return reason(exc)
    if st is not None:
        if stat.S_ISDIR(st.st_mode):
            return REASONS[errno.EISDIR]
        if not stat.S_ISREG(st.st_mode):
            return "it is not a regular file (a device, pipe or socket)"
        if not os.access(path, os.W_OK):
            return "it is read-only" if not st.st_mode & 0o222 else "it is write-protected (immutable?)"
    for folder in path.parents:                  # the nearest existing folder: it must be one, and writable
        try:
            st = folder.stat()
        except FileNotFoundError:
            continue
        except OSError as exc:
            return reason(exc)
        if not stat.S_ISDIR(st.st_mode):
            return REASONS[errno.ENOTDIR]
        return _folder_problem(folder)
    return None


def disk_full(folder: str | Path) -> bool:
    """Whether the file system of `folder` (or of its nearest existing parent) has no block left for us. A
    file system with no blocks at all (/proc, /sys: nothing is stored there) is not full; writing there fails
    for its own reason."""
    for f in (Path(folder), *Path(folder).parents):
        try:
            st = os.statvfs(f)
        except FileNotFoundError:
            continue
        except OSError:
            return False
        return st.f_blocks > 0 and (st.f_bavail == 0 or st.f_bavail * st.f_frsize < 4096)
    return False


def check_output_path(path: str | Path) -> Path:
    """`path` as a Path, or an OutputError when it cannot be written, found cheaply before any work: it is a
    directory or not a regular file, it is write-protected, a parent is a file, or its folder is not writable."""
    path = Path(path)
    why = _destination_problem(path)
    if why:
        raise OutputError(f"cannot write {path}: {why}")
    return path


def atomic_write(path: str | Path, write) -> Path:
    """Call write(tmp_path), then rename over `path`: readers never see a half-written file. Any I/O failure
    (from `write` too, e.g. safetensors' SafetensorError on a full disk) is an OutputError; the temporary file
    is removed and the old `path` left as it was."""
    path = check_output_path(path)
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
        os.close(fd)
        write(tmp)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)      # mkstemp makes 0600; a model file is an ordinary file
        os.replace(tmp, path)
    except Exception as exc:
        if not isinstance(exc, UserError) and disk_full(path.parent):   # numpy's and VTK's short writes too
            raise OutputError(f"cannot write {path}: {REASONS[errno.ENOSPC]}") from None
        err = output_error(path, exc)
        if err is None:
            raise
        raise err from None
    finally:
        if tmp is not None and os.path.lexists(tmp):
            try:
                os.unlink(tmp)
            except OSError:
                pass
    return path


def save_npy(path: str | Path, array) -> Path:
    """Write a numeric array as .npy through `atomic_write` (via a file object, which is closed: given a name,
    np.save would append .npy to the temporary file's)."""
    import numpy as np

    def write(tmp: str) -> None:
        with open(tmp, "wb") as fh:
            np.save(fh, array, allow_pickle=False)
    return atomic_write(path, write)
