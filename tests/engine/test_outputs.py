"""Issue 22, class 5: every output that cannot be written is one OutputError line ("cannot write PATH: REASON"),
found before the work where that is cheap; the temporary file is removed and an old file is left as it was.

The full-disk cases run twice: with the failure injected (always), and on a real 64 KiB tmpfs (`tiny_fs`, where
this process may mount one: root on Linux; skipped elsewhere with the reason)."""
from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import numpy as np
import pytest
import torch

from gan_studio.engine import files
from gan_studio.engine.bundle import load_bundle
from gan_studio.engine.errors import OutputError
from gan_studio.engine.export import export_frames
from gan_studio.engine.files import atomic_write, check_output_path, output_error, save_npy
from gan_studio.engine.training.loop import TrainConfig, train

ROOT_USER = hasattr(os, "geteuid") and os.geteuid() == 0


def _no_temporaries(folder: Path, name: str) -> None:
    left = [p.name for p in folder.iterdir() if p.name.startswith((name + ".", "." + Path(name).stem + ".partial"))]
    assert not left, left


# ------------------------------------------------------------ cheap checks before any work

def test_a_directory_in_the_way(tmp_path):
    (tmp_path / "out.npy").mkdir()
    with pytest.raises(OutputError, match=r"cannot write .*out\.npy: it is a directory"):
        save_npy(tmp_path / "out.npy", np.zeros(3))


def test_a_parent_that_is_a_file(tmp_path):
    (tmp_path / "afile").write_text("x")
    with pytest.raises(OutputError, match="a parent is a file, not a folder"):
        check_output_path(tmp_path / "afile" / "sub" / "x.npy")
    with pytest.raises(OutputError, match="a parent is a file, not a folder"):
        save_npy(tmp_path / "afile" / "x.npy", np.zeros(3))


def test_not_a_regular_file():
    with pytest.raises(OutputError, match="not a regular file"):
        check_output_path("/dev/null")


def test_missing_folders_are_fine_and_made(tmp_path):
    out = tmp_path / "a" / "b" / "x.npy"
    assert check_output_path(out) == out
    save_npy(out, np.arange(4))
    assert np.load(out).tolist() == [0, 1, 2, 3]


@pytest.mark.skipif(ROOT_USER, reason="root writes read-only files and folders anyway")
def test_read_only_file_and_folder(tmp_path):
    ro = tmp_path / "ro.npy"
    save_npy(ro, np.zeros(2))
    ro.chmod(0o444)
    with pytest.raises(OutputError, match="read-only"):
        save_npy(ro, np.ones(2))
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        with pytest.raises(OutputError, match="permission denied"):
            save_npy(folder / "x.npy", np.ones(2))
    finally:
        folder.chmod(0o755)


def test_an_immutable_file_is_left_as_it_was(tmp_path):
    path = tmp_path / "imm.npy"
    save_npy(path, np.arange(3))
    if not shutil.which("chattr") or subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode:
        pytest.skip("chattr +i is not possible here (needs root and a file system with attributes)")
    try:
        with pytest.raises(OutputError, match="write-protected"):
            save_npy(path, np.ones(3))
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)
    assert np.load(path).tolist() == [0, 1, 2]


# ------------------------------------------------------------ failures during the write

@pytest.mark.parametrize("exc,words", [
    (OSError(errno.ENOSPC, "No space left on device"), "the disk is full"),
    (RuntimeError("Error while serializing: IoError(Os { code: 28, kind: StorageFull })"), "the disk is full"),
    (RuntimeError("SafetensorError: (os error 13)"), "permission denied"),
    (OSError(errno.EIO, "Input/output error"), "input/output error"),
    (OSError(errno.EROFS, "Read-only file system"), "read-only"),
])
def test_a_failed_write_is_one_line_and_the_old_file_stays(tmp_path, monkeypatch, exc, words):
    monkeypatch.setattr(files, "disk_full", lambda folder: False)        # the reason from the error alone
    path = tmp_path / "model.bin"
    path.write_bytes(b"old")

    def write(tmp):
        Path(tmp).write_bytes(b"half")
        raise exc
    with pytest.raises(OutputError) as err:
        atomic_write(path, write)
    assert str(err.value).startswith(f"cannot write {path}: ") and words in str(err.value)
    assert "\n" not in str(err.value)
    assert path.read_bytes() == b"old"
    _no_temporaries(tmp_path, "model.bin")


def test_a_bug_is_not_dressed_up_as_an_output_error(tmp_path, monkeypatch):
    monkeypatch.setattr(files, "disk_full", lambda folder: False)
    with pytest.raises(ZeroDivisionError):
        atomic_write(tmp_path / "x.bin", lambda tmp: 1 / 0)
    assert output_error(tmp_path, ValueError("bad value")) is None
    _no_temporaries(tmp_path, "x.bin")


def test_a_short_write_on_a_full_disk_says_so(tmp_path, monkeypatch):
    """numpy's "N requested and M written" (a ValueError, no errno) on a disk that is now full."""
    monkeypatch.setattr(files, "disk_full", lambda folder: True)

    def write(tmp):
        raise ValueError("204800 requested and 16352 written")
    with pytest.raises(OutputError, match="the disk is full"):
        atomic_write(tmp_path / "x.npy", write)


def test_training_that_cannot_write_its_checkpoint_stops_with_the_previous_one_intact(tmp_path, monkeypatch,
                                                                                     tiny_dataset):
    from gan_studio.engine.training import loop
    real_save, calls = loop.save_bundle, []

    def save(path, nets, meta):
        calls.append(meta["training"]["step"])
        if len(calls) == 2:
            raise OutputError(f"cannot write {path}: the disk is full")
        return real_save(path, nets, meta)
    monkeypatch.setattr(loop, "save_bundle", save)
    out = tmp_path / "m.safetensors"
    cfg = TrainConfig(data=str(tiny_dataset), arch_config={"width": 4, "z_dim": 8}, loss="ns", steps=6, batch=16,
                      checkpoint_every=2, sample_every=100, threads=1, device="cpu")
    with pytest.raises(OutputError) as err:
        list(train(cfg, out))
    msg = str(err.value)
    assert "the disk is full" in msg and "training stopped at step 4" in msg and "is intact" in msg, msg
    assert load_bundle(out).meta["training"]["step"] == 2


def test_training_refuses_an_unwritable_out_before_it_starts(tmp_path, tiny_dataset):
    (tmp_path / "m.safetensors").mkdir()
    cfg = TrainConfig(data=str(tiny_dataset), arch_config={"width": 4, "z_dim": 8}, loss="ns", steps=2, batch=16,
                      threads=1, device="cpu")
    with pytest.raises(OutputError, match="it is a directory"):
        next(train(cfg, tmp_path / "m.safetensors"))


# ------------------------------------------------------------ a real full disk

@pytest.fixture
def tiny_fs(tmp_path):
    """A 64 KiB tmpfs, or a skip saying why there is none."""
    if not sys.platform.startswith("linux") or not ROOT_USER or not shutil.which("mount"):
        pytest.skip("a tiny file system needs root on Linux (mount -t tmpfs)")
    mnt = tmp_path / f"fs-{uuid.uuid4().hex[:6]}"
    mnt.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mnt)], capture_output=True, text=True)
    if r.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {r.stderr.strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_real_full_disk_npy(tiny_fs):
    with pytest.raises(OutputError, match="the disk is full"):
        save_npy(tiny_fs / "big.npy", np.zeros(100_000, np.float32))      # 400 KB into 64 KiB
    assert list(tiny_fs.iterdir()) == []


@pytest.mark.parametrize("suffix", [".gif", ".mp4"])
def test_real_full_disk_video_leaves_nothing_and_prints_nothing(tiny_fs, capfd, suffix):
    frames = torch.rand(80, 1, 28, 28) * 2 - 1                             # noise: ~100 KB even as H.264
    with pytest.raises(OutputError, match="the disk is full"):
        list(export_frames(frames, 80, tiny_fs / f"walk{suffix}", scale=4))
    import gc
    gc.collect()                                                           # a writer's __del__ would print now
    out, err = capfd.readouterr()
    assert "Exception ignored" not in err and "Traceback" not in err and "No space" not in err, err
    assert list(tiny_fs.iterdir()) == []


@pytest.mark.parametrize("suffix", [".stl", ".ply", ".obj"])
def test_real_full_disk_mesh_is_one_line(tiny_fs, capfd, suffix):
    from gan_studio.engine.voxels_mesh import export_voxels
    rng = np.random.default_rng(0)
    grid = rng.random((32, 32, 32)) > 0.6                                  # thousands of faces
    with pytest.raises(OutputError, match="the disk is full"):
        export_voxels(grid, tiny_fs / f"shape{suffix}")
    _, err = capfd.readouterr()
    assert "vtk" not in err.lower() and "ERROR" not in err, err
    assert list(tiny_fs.iterdir()) == []


def test_real_full_disk_training_keeps_the_samples_line(tiny_fs, tiny_dataset):
    cfg = TrainConfig(data=str(tiny_dataset), arch_config={"width": 64, "z_dim": 64}, loss="ns", steps=4, batch=16,
                      checkpoint_every=2, sample_every=100, threads=1, device="cpu")
    with pytest.raises(OutputError) as err:
        list(train(cfg, tiny_fs / "m.safetensors"))
    assert "the disk is full" in str(err.value) and "training stopped at step" in str(err.value)
    assert not [p for p in tiny_fs.iterdir() if p.suffix == ".tmp"]


def test_the_cli_gives_one_line_for_an_unwritable_output(tmp_path, capsys, tiny_model):
    from gan_studio.cli.main import main
    (tmp_path / "d.npy").mkdir()
    code = main(["sample", "--model", str(tiny_model), "--seed", "0", "--n", "2", "--out", str(tmp_path / "d.npy")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "it is a directory" in err[0], err
    json.dumps(err)                                                        # plain text


class _Vfs:
    def __init__(self, blocks, avail):
        self.f_blocks, self.f_bavail, self.f_frsize, self.f_flag = blocks, avail, 4096, 0


@pytest.mark.parametrize("blocks,avail,full", [(1000, 0, True), (1000, 500, False), (0, 0, False)])
def test_disk_full_reads_free_blocks_and_a_virtual_file_system_is_never_full(tmp_path, monkeypatch, blocks, avail,
                                                                             full):
    monkeypatch.setattr(files.os, "statvfs", lambda folder: _Vfs(blocks, avail))
    assert files.disk_full(tmp_path) is full


@pytest.mark.skipif(not Path("/proc/self").is_dir() or os.geteuid() != 0,
                    reason="needs Linux /proc, written to as root (a non-root user is refused up front)")
def test_writing_under_proc_as_root_gives_the_real_reason_not_a_full_disk():
    """/proc has no blocks, so statvfs says 0 free: that once read as "the disk is full"."""
    with pytest.raises(OutputError) as err:
        atomic_write("/proc/no-such-folder/x.png", lambda tmp: Path(tmp).write_bytes(b"x"))
    assert "disk is full" not in str(err.value) and "does not exist" in str(err.value)
