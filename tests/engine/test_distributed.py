"""Data-parallel training under torchrun with 2 CPU processes (gloo)."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from gan_studio.engine.bundle import load_bundle

TORCHRUN = Path(sys.executable).with_name("torchrun")
pytestmark = pytest.mark.skipif(not TORCHRUN.exists() and not shutil.which("torchrun"),
                                reason="torchrun is not installed beside this Python")


def _torchrun(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    exe = str(TORCHRUN if TORCHRUN.exists() else shutil.which("torchrun"))
    env = dict(os.environ, OMP_NUM_THREADS="1")
    return subprocess.run([exe, "--standalone", "--nproc-per-node", "2", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


SYNC_SCRIPT = textwrap.dedent("""
    import json, sys
    import torch, torch.distributed as dist
    from gan_studio.engine.training import distributed
    from gan_studio.engine.training.loop import TrainConfig, batches
    from gan_studio.engine.training.recipes import GANRecipe
    world = distributed.world_from_env()
    torch.set_num_threads(1)
    cfg = TrainConfig(data=sys.argv[1], loss="wgan-gp", batch=8, n_critic=2,
                      arch_config={"width": 8, "z_dim": 16}, options={"ema_beta": 0})
    torch.manual_seed(world.rank)                    # different initial weights on purpose
    recipe = GANRecipe(cfg, torch.device("cpu"))
    distributed.init(world, torch.device("cpu"))
    if sys.argv[2] == "sync":
        distributed.make_data_parallel(recipe, world)
    torch.manual_seed(100 + world.rank)              # different data and noise per rank
    stream = recipe.batches(torch.Generator().manual_seed(100 + world.rank))
    for _ in range(3):
        recipe.train_step(stream)
    sums = torch.tensor([sum(p.detach().double().sum() for p in net.parameters()) for net in (recipe.G, recipe.D)])
    gathered = [torch.zeros_like(sums) for _ in range(world.size)]
    dist.all_gather(gathered, sums)
    if world.rank == 0:
        print("SUMS", json.dumps([g.tolist() for g in gathered]))
    distributed.shutdown(world)
""")


def _rank_sums(tmp_path: Path, dataset: Path, mode: str) -> list[list[float]]:
    script = tmp_path / "sync.py"
    script.write_text(SYNC_SCRIPT)
    r = _torchrun([str(script), str(dataset), mode], tmp_path)
    assert r.returncode == 0, r.stderr[-3000:]
    line = next(ln for ln in r.stdout.splitlines() if ln.startswith("SUMS"))
    return json.loads(line[len("SUMS"):])


def test_data_parallel_ranks_stay_identical(tmp_path, tiny_dataset):
    """With gradient averaging, two ranks that start from different seeds and see different data end
    with identical generator and critic weights; without it they differ (so the check can fail)."""
    synced = _rank_sums(tmp_path, tiny_dataset, "sync")
    assert synced[0] == pytest.approx(synced[1], rel=1e-9, abs=1e-9)
    unsynced = _rank_sums(tmp_path, tiny_dataset, "none")
    assert unsynced[0][0] != pytest.approx(unsynced[1][0], rel=1e-6)


def test_cli_train_with_two_processes_counts_global_steps(tmp_path, tiny_dataset):
    out = tmp_path / "ddp.safetensors"
    gan_studio = Path(sys.executable).with_name("gan-studio")
    r = _torchrun([str(gan_studio), "train", "--loss", "wgan-gp", "--data", str(tiny_dataset), "--steps", "6",
                   "--batch", "16", "--arch-config", '{"width": 8, "z_dim": 16}', "--out", str(out),
                   "--checkpoint-every", "4", "--sample-every", "4", "--threads", "1"], tmp_path)
    assert r.returncode == 0, r.stderr[-3000:]
    assert r.stdout.count(f"wrote {out}") == 1                    # rank 0 alone reports and writes
    training = load_bundle(out).meta["training"]
    assert training["step"] == 6
    assert (training["processes"], training["batch"], training["batch_per_process"]) == (2, 16, 8)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("ddp")) == \
        ["ddp.safetensors", "ddp.samples.png"]


def test_batch_must_split_over_processes(tmp_path, tiny_dataset):
    gan_studio = Path(sys.executable).with_name("gan-studio")
    r = _torchrun([str(gan_studio), "train", "--loss", "ns", "--data", str(tiny_dataset), "--steps", "2",
                   "--batch", "15", "--arch-config", '{"width": 8, "z_dim": 16}',
                   "--out", str(tmp_path / "odd.safetensors")], tmp_path)
    assert r.returncode != 0
    assert "must be divisible by the number of processes (2)" in r.stderr
    assert "gan_studio/" not in r.stderr        # no traceback from our code (torchrun prints its own summary)
