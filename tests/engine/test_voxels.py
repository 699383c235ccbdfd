"""The 3D model: network shapes and ranges, the gradient penalty, voxel data, the training recipe, meshes."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from gan_studio.engine.bundle import load_bundle
from gan_studio.engine.errors import DataError, UserError
from gan_studio.engine.models import build
from gan_studio.engine.models.voxel_iwgan import kl_divergence, reparameterize
from gan_studio.engine.registry import ARCHITECTURES
from gan_studio.engine.training.regularizers import gradient_penalty
from tests.engine.voxel_toys import TINY_ARCH

SMALL = {"z_dim": 200, "g_width": 4, "d_width": 4, "e_width": 4, "image_size": 64}


# ------------------------------------------------------------------ networks

def test_family_is_registered_with_its_roles():
    fam = ARCHITECTURES.get("voxel-iwgan")
    assert fam.kind == "voxel-model" and set(fam.roles) == {"generator", "generator_recon", "critic", "encoder",
                                                            "generator_live", "encoder_live",
                                                            "generator_recon_live", "latent_prior"}
    with pytest.raises(UserError, match="image_size"):
        build("voxel-iwgan", "generator", {"image_size": 50})
    with pytest.raises(UserError, match="unknown key"):
        build("voxel-iwgan", "generator", {"widht": 3})


def test_generator_critic_encoder_shapes_and_ranges():
    torch.manual_seed(0)
    G, D, E = (build("voxel-iwgan", r, SMALL) for r in ("generator", "critic", "encoder"))
    G.train()
    z = torch.randn(3, 200)
    x = G(z)
    assert x.shape == (3, 1, 32, 32, 32) and x.min() >= 0 and x.max() <= 1
    assert torch.allclose(torch.sigmoid(G.logits(z)), x)
    assert D(x).shape == (3,) and D(x).dtype == torch.float32
    assert not any(isinstance(m, torch.nn.modules.batchnorm._BatchNorm) for m in D.modules())
    mean, logvar = E(torch.rand(3, 1, 64, 64))
    assert mean.shape == logvar.shape == (3, 200) and torch.isfinite(logvar).all()
    assert reparameterize(mean, logvar).shape == (3, 200)


def test_authors_widths_are_the_defaults():
    G = build("voxel-iwgan", "generator", {})
    convs = [m for m in G.net if isinstance(m, torch.nn.ConvTranspose3d)]
    assert G.fc[0].out_features == 256 * 8
    assert [c.out_channels for c in convs] == [128, 64, 32, 1]
    assert all(c.kernel_size == (4, 4, 4) and c.stride == (2, 2, 2) for c in convs)


def test_kl_is_zero_at_the_prior_and_positive_elsewhere():
    zeros = torch.zeros(4, 10)
    assert kl_divergence(zeros, zeros).item() == pytest.approx(0.0)
    assert kl_divergence(torch.ones(4, 10), zeros).item() == pytest.approx(0.5)


# ------------------------------------------------------------------ gradient penalty

def test_gradient_penalty_on_a_linear_critic_is_exact():
    w = torch.randn(1, 1, 4, 4, 4)

    def critic(x):                      # D(x) = <w, x> per sample: gradient w everywhere
        return (x * w).flatten(1).sum(1)
    real, fake = torch.rand(5, 1, 4, 4, 4), torch.rand(5, 1, 4, 4, 4)
    gp = gradient_penalty(critic, real, fake, 10.0)
    assert gp.item() == pytest.approx(10.0 * (w.norm().item() - 1) ** 2, rel=1e-4)
    unit = w / w.norm()
    assert gradient_penalty(lambda x: (x * unit).flatten(1).sum(1), real, fake, 10.0).item() < 1e-6


def test_gradient_penalty_norm_is_per_sample_over_all_voxels():
    torch.manual_seed(1)
    real, fake = torch.rand(4, 1, 3, 3, 3), torch.rand(4, 1, 3, 3, 3)

    def critic(x):                      # gradient x: per-sample norms differ
        return 0.5 * x.pow(2).flatten(1).sum(1)
    torch.manual_seed(2)
    gp = gradient_penalty(critic, real, fake, 1.0)
    torch.manual_seed(2)
    eps = torch.rand(4, 1, 1, 1, 1)
    x_hat = eps * real + (1 - eps) * fake
    expected = (x_hat.flatten(1).norm(dim=1) - 1).pow(2).mean()
    assert gp.item() == pytest.approx(expected.item(), rel=1e-5)


# ------------------------------------------------------------------ data

def test_load_voxels_skips_empty_grids_and_stores_uint8(voxel_npz):
    from gan_studio.engine.data.voxels import class_counts, load_voxels
    ds = load_voxels(voxel_npz, "train")
    assert len(ds) == 35 and ds.info["skipped_empty"] == 1
    assert ds.voxels.dtype == torch.uint8 and ds.voxels.shape[1:] == (32, 32, 32) and ds.voxels.max() == 1
    assert ds.classes[0] == "bathtub" and sum(class_counts(ds).values()) == 35
    assert len(load_voxels(voxel_npz, "test")) == 11


def test_load_voxels_errors_are_data_errors(tmp_path):
    from gan_studio.engine.data.voxels import load_voxels
    with pytest.raises(DataError, match="not found"):
        load_voxels(tmp_path / "nope.npz")
    bad = tmp_path / "bad.npz"
    np.savez(bad, X_train=np.zeros((2, 16, 16, 16)), y_train=np.zeros(2))
    with pytest.raises(DataError, match="32"):
        load_voxels(bad)
    (tmp_path / "junk.npz").write_text("not a zip")
    with pytest.raises(DataError, match="cannot read"):
        load_voxels(tmp_path / "junk.npz")
    with pytest.raises(DataError, match="split"):
        load_voxels(bad, "valid")


def test_real_modelnet_split_counts(modelnet_path):
    from gan_studio.engine.data.voxels import load_voxels
    ds = load_voxels(modelnet_path, "test")
    assert len(ds) == 908 - 7 and ds.info["skipped_empty"] == 7 and int(ds.labels.max()) == 9


# ------------------------------------------------------------------ training recipe

def _cfg(data, **kw):
    from gan_studio.engine.training.loop import TrainConfig
    base = dict(data=str(data), arch="voxel-iwgan", arch_config=TINY_ARCH, steps=2, batch=4, seed=0,
                checkpoint_every=1, sample_every=2, threads=1, device="cpu", n_critic=2,
                options={"probe_objects": 3})
    return TrainConfig.from_dict(base | kw)


def test_recipe_trains_and_the_bundle_reopens(voxel_npz, tmp_path):
    from gan_studio.engine.reconstruction import VoxelModel
    from gan_studio.engine.training.loop import train
    out = tmp_path / "v.safetensors"
    progress = list(train(_cfg(voxel_npz), out, command="gan-studio train3d (test)"))
    assert [p.step for p in progress] == [1, 2] and progress[-1].done
    losses = progress[-1].losses
    assert {"d_loss", "penalty", "recon", "kl", "g_loss", "g_adv"} <= set(losses)
    assert all(np.isfinite(v) for p in progress for v in p.losses.values()) and losses["penalty"] > 0
    assert progress[-1].samples.shape == (64, 1, 32, 32)
    assert out.with_name("v.samples.png").is_file()
    b = load_bundle(out)
    assert b.kind == "voxel-model" and set(b.networks) == {"generator", "generator_recon", "critic", "encoder"}
    assert "research use only" in b.meta["license"] and b.meta["training"]["step"] == 2
    model = VoxelModel.from_bundle(b)
    probs = model.reconstruct(torch.rand(1, 1, 32, 32))
    assert probs.shape == (32, 32, 32) and 0 <= probs.min() and probs.max() <= 1
    assert np.array_equal(model.sample(5), model.sample(5)) and model.interpolate(
        model.latent(1), model.latent(2), steps=3).shape == (3, 32, 32, 32)


def test_checkpoint_keeps_prior_and_reconstruction_batchnorm_statistics(voxel_npz, tmp_path):
    """One set of weights, two sets of batch-norm statistics: random z for sampling, the encoder's
    posterior means for reconstruction; VoxelModel decodes each kind of latent with its own."""
    from gan_studio.engine.reconstruction import VoxelModel
    from gan_studio.engine.training.loop import train
    out = tmp_path / "v.safetensors"
    list(train(_cfg(voxel_npz), out))
    b = load_bundle(out)
    prior, recon = b.networks["generator"].state_dict(), b.networks["generator_recon"].state_dict()
    params = dict(b.networks["generator"].named_parameters())
    assert all(torch.equal(prior[k], recon[k]) for k in params)                          # same weights
    stats = [k for k in prior if k.endswith("running_mean")]
    assert stats and all(not torch.allclose(prior[k], recon[k]) for k in stats)        # other statistics
    model = VoxelModel.from_bundle(b)
    view = torch.rand(2, 1, 32, 32)
    z = model.encode(view)
    with torch.no_grad():
        want = b.networks["generator_recon"](z)[:, 0].numpy()
        prior_way = b.networks["generator"](z)[:, 0].numpy()
    assert np.abs(model.reconstruct(view[:1]) - want[0]).max() <= 1e-6
    assert np.abs(model.decode(z, encoded=True) - want).max() <= 1e-6
    assert np.abs(want - prior_way).max() > 1e-4
    seed_z = model.latent(3)
    with torch.no_grad():
        assert np.abs(model.sample(3) - b.networks["generator"](seed_z)[0, 0].numpy()).max() <= 1e-6
    del b.networks["generator_recon"]                                   # older files: one generator for both
    assert np.abs(VoxelModel.from_bundle(b).reconstruct(view[:1]) - prior_way[0]).max() <= 1e-6


def test_standing_batchnorm_averages_the_given_batches():
    from gan_studio.engine.training.recipes import standing_batchnorm
    net = torch.nn.Sequential(torch.nn.BatchNorm1d(3), torch.nn.Linear(3, 2))
    net[0].running_mean.fill_(5.0)
    batches = [torch.randn(8, 3) + i for i in range(4)]
    standing_batchnorm(net, batches)
    assert not net.training and net[0].momentum == 0.1
    assert torch.allclose(net[0].running_mean, torch.stack([x.mean(0) for x in batches]).mean(0), atol=1e-6)


def test_recipe_resumes_and_options_are_validated(voxel_npz, tmp_path):
    from gan_studio.engine.training.loop import train
    out = tmp_path / "v.safetensors"
    list(train(_cfg(voxel_npz, steps=1), out))
    steps = [p.step for p in train(_cfg(voxel_npz, steps=2), out, resume=True)]
    assert steps == [1, 2] and load_bundle(out).meta["training"]["step"] == 2
    with pytest.raises(UserError, match="unknown key"):
        list(train(_cfg(voxel_npz, options={"recon_wieght": 3}), tmp_path / "w.safetensors"))
    with pytest.raises(UserError, match="recon"):
        list(train(_cfg(voxel_npz, options={"recon": "l1"}), tmp_path / "w.safetensors"))


def test_weight_average_is_saved_beside_the_live_weights_and_resumes(voxel_npz, tmp_path):
    """ema_beta > 0: the saved generator/encoder are averages that trail the live weights kept for resume."""
    from gan_studio.engine.training.loop import train
    from gan_studio.engine.training.recipe3d import VoxelIWGANRecipe
    ema = {"probe_objects": 3, "ema_beta": 0.5}
    out = tmp_path / "v.safetensors"
    list(train(_cfg(voxel_npz, steps=2, options=ema), out))
    b = load_bundle(out)
    assert set(b.networks) == {"generator", "generator_recon", "critic", "encoder", "generator_live", "encoder_live"}
    roles = ("generator_live", "generator", "generator_recon")
    live, avg, rec = (dict(b.networks[r].named_parameters()) for r in roles)
    assert all(torch.equal(avg[k], rec[k]) for k in avg)
    assert any(not torch.allclose(avg[k], live[k]) for k in avg)                        # an average, not the live G
    e_live, e_avg = (dict(b.networks[r].named_parameters()) for r in ("encoder_live", "encoder"))
    assert any(not torch.allclose(e_avg[k], e_live[k]) for k in e_avg)
    # resume restores both: live weights into G/E, averages into G_ema/E_ema
    r = VoxelIWGANRecipe(_cfg(voxel_npz, options=ema), torch.device("cpu"))
    r.load_networks(b.networks)
    assert all(torch.equal(p, live[k]) for k, p in r.G.named_parameters())
    assert all(torch.equal(p, avg[k]) for k, p in r.G_ema.named_parameters())
    assert all(torch.equal(p, e_avg[k]) for k, p in r.E_ema.named_parameters())
    # a file without averages (ema off) starts them at its weights
    plain = tmp_path / "p.safetensors"
    list(train(_cfg(voxel_npz, steps=1), plain))
    pb = load_bundle(plain)
    r.load_networks(pb.networks)
    assert all(torch.equal(p, dict(pb.networks["generator"].named_parameters())[k])
               for k, p in r.G_ema.named_parameters())
    steps = [p.step for p in train(_cfg(voxel_npz, steps=3, options=ema), out, resume=True)]
    assert steps == [2, 3] and "generator_live" in load_bundle(out).networks
    with pytest.raises(UserError, match="ema_beta"):
        list(train(_cfg(voxel_npz, options={"ema_beta": 1.0}), tmp_path / "w.safetensors"))


def test_soft_iou_recon_is_one_minus_iou_on_hard_predictions_and_falls_as_they_improve():
    from gan_studio.engine.training.recipe3d import recon_loss
    t = torch.zeros(2, 1, 32, 32, 32)
    t[0, 0, :8, :8, :8] = 1                                           # 512 voxels
    t[1, 0, :4, :4, :4] = 1                                           # 64
    sure = (t * 2 - 1) * 30                                            # logits: certain and right
    assert recon_loss(sure, t, "iou").item() == pytest.approx(0.0, abs=1e-6)
    half = sure.clone()
    half[0, 0, :8, :8, :4] = -30                                       # object 0: half its voxels missing
    assert recon_loss(half, t, "iou").item() == pytest.approx(0.25, abs=1e-5)  # IoUs 0.5 and 1: mean 0.75
    # per object, not per voxel: the small object's miss counts as much as the large one's
    small = sure.clone()
    small[1, 0, :4, :4, :2] = -30
    assert recon_loss(small, t, "iou").item() == pytest.approx(0.25, abs=1e-5)
    blur = torch.zeros_like(t)                                         # p = 0.5 everywhere
    assert recon_loss(blur, t, "iou").item() > recon_loss(half, t, "iou").item()
    assert recon_loss(half, t, "iou", bce_weight=1.0).item() == pytest.approx(
        0.25 + recon_loss(half, t, "bce").item(), abs=1e-5)
    logits = torch.zeros_like(t, requires_grad=True)
    recon_loss(logits, t, "iou").backward()                            # pushes inside up, outside down
    assert (logits.grad[t.bool()] < 0).all() and (logits.grad[~t.bool()] > 0).all()


def test_encoder_stage_trains_only_the_encoder_against_the_frozen_generator(voxel_npz, tmp_path):
    """stage "encoder": resumes a model, changes only the encoder (its batch-norm statistics included), keeps
    generator, reconstruction generator and critic bit for bit; refuses to start from nothing."""
    from gan_studio.engine.training.loop import train
    out = tmp_path / "v.safetensors"
    list(train(_cfg(voxel_npz, steps=2), out))
    before = load_bundle(out).networks
    opts = {"probe_objects": 3, "stage": "encoder", "recon": "iou", "bce_weight": 0.5}
    progress = list(train(_cfg(voxel_npz, steps=4, options=opts), out, resume=True))
    assert [p.step for p in progress] == [2, 3, 4] and set(progress[-1].losses) == {"recon", "kl"}
    after = load_bundle(out)
    assert set(after.networks) == {"generator", "generator_recon", "critic", "encoder"}
    for role in ("generator", "generator_recon", "critic"):
        a, b = before[role].state_dict(), after.networks[role].state_dict()
        assert all(torch.equal(a[k], b[k]) for k in a), role
    e0, e1 = before["encoder"].state_dict(), after.networks["encoder"].state_dict()
    assert any(not torch.equal(e0[k], e1[k]) for k in e0 if "weight" in k)          # it learnt
    assert all(torch.equal(e0[k], e1[k]) for k in e0 if "running" in k)           # batch norm frozen
    assert after.meta["training"]["options"]["stage"] == "encoder"
    with pytest.raises(UserError, match="resume"):
        list(train(_cfg(voxel_npz, options=opts), tmp_path / "fresh.safetensors"))
    with pytest.raises(UserError, match="stage"):
        list(train(_cfg(voxel_npz, options={"stage": "generator"}), tmp_path / "w.safetensors"))


def test_decoder_stage_tunes_the_encoder_and_the_reconstruction_generator_only(voxel_npz, tmp_path):
    """stage "decoder": encoder and reconstruction generator learn (their batch norm frozen), the sampling
    generator and the critic stay bit for bit; with weight averages the live weights are kept and resumed."""
    from gan_studio.engine.training.loop import train
    out = tmp_path / "v.safetensors"
    list(train(_cfg(voxel_npz, steps=2), out))
    before = load_bundle(out).networks
    opts = {"probe_objects": 3, "stage": "decoder", "recon": "iou", "ema_beta": 0.5}
    progress = list(train(_cfg(voxel_npz, steps=4, options=opts, lr=1e-3), out, resume=True))
    assert [p.step for p in progress] == [2, 3, 4] and set(progress[-1].losses) == {"recon", "kl"}
    after = load_bundle(out).networks
    assert set(after) == {"generator", "generator_recon", "critic", "encoder", "encoder_live", "generator_recon_live"}
    for role in ("generator", "critic"):
        a, b = before[role].state_dict(), after[role].state_dict()
        assert all(torch.equal(a[k], b[k]) for k in a), role
    for role in ("generator_recon", "encoder"):
        a, b = before[role].state_dict(), after[role].state_dict()
        assert any(not torch.equal(a[k], b[k]) for k in a if "weight" in k), role      # it learnt
        assert all(torch.equal(a[k], b[k]) for k in a if "running" in k), role       # batch norm frozen
    live = after["generator_recon_live"].state_dict()
    assert any(not torch.equal(live[k], after["generator_recon"].state_dict()[k]) for k in live)  # averaged
    list(train(_cfg(voxel_npz, steps=5, options=opts, lr=1e-3), out, resume=True))    # resumes from the live
    again = load_bundle(out).networks
    assert all(torch.equal(again["generator"].state_dict()[k], before["generator"].state_dict()[k])
               for k in before["generator"].state_dict())
    with pytest.raises(UserError, match="resume"):
        list(train(_cfg(voxel_npz, options=opts), tmp_path / "fresh.safetensors"))


def test_saved_encoder_has_standing_statistics_of_training_views(voxel_npz):
    """The saved encoder's batch-norm statistics are the plain average over seeded training views, not the
    momentum average the live encoder carries."""
    from gan_studio.engine.training.recipe3d import VoxelIWGANRecipe
    r = VoxelIWGANRecipe(_cfg(voxel_npz), torch.device("cpu"))
    bn = next(m for m in r.E.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm))
    bn.running_mean.fill_(7.0)                                         # stale statistics
    E = r.networks()["encoder"]
    saved = next(m for m in E.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm))
    assert not E.training and saved.running_mean.abs().max() < 7.0 and bn.running_mean[0] == 7.0
    assert len(r.encoder_calibration_views) == min(2048, len(r.data))


def test_generator_starts_at_the_mean_occupancy(voxel_npz):
    from gan_studio.engine.training.recipe3d import VoxelIWGANRecipe
    on = VoxelIWGANRecipe(_cfg(voxel_npz), torch.device("cpu"))
    mean = on.data.voxels.float().mean().item()
    assert torch.sigmoid(on.G.net[-1].bias).item() == pytest.approx(mean, rel=1e-4)
    off = VoxelIWGANRecipe(_cfg(voxel_npz, options={"init_mean_occupancy": False}), torch.device("cpu"))
    assert torch.sigmoid(off.G.net[-1].bias).item() != pytest.approx(mean, rel=1e-2)


def test_voxel_model_refuses_image_generators(tiny_model):
    from gan_studio.engine.reconstruction import VoxelModel
    with pytest.raises(UserError, match="not a 3D voxel model"):
        VoxelModel.from_bundle(load_bundle(tiny_model))


# ------------------------------------------------------------------ meshes and files

def _box() -> np.ndarray:
    g = np.zeros((32, 32, 32), np.float32)
    g[3:5, 3:6, 3:9] = 0.9                      # a 2 x 3 x 6 box
    return g


def test_cubes_mesh_of_a_box_has_its_surface():
    from gan_studio.engine.voxels_mesh import cubes_mesh, smooth_mesh
    m = cubes_mesh(_box(), 0.5)
    assert m.n_cells == 2 * 2 * (2 * 3 + 2 * 6 + 3 * 6)       # two triangles per outer face
    assert np.allclose(m.bounds, (3, 5, 3, 6, 3, 9))
    s = smooth_mesh(_box(), 0.5)
    assert s.n_points > 0 and s.is_manifold
    assert cubes_mesh(_box(), 0.95).n_points == 0


@pytest.mark.parametrize("suffix", [".stl", ".obj", ".ply"])
@pytest.mark.parametrize("style", ["cubes", "smooth"])
def test_mesh_exports_reopen_with_pyvista(tmp_path, suffix, style):
    import pyvista as pv

    from gan_studio.engine.voxels_mesh import build_mesh, export_voxels
    path = export_voxels(_box(), tmp_path / f"box{suffix}", 0.5, style=style)
    back = pv.read(path)
    assert back.n_cells == build_mesh(_box(), 0.5, style).n_cells
    assert np.allclose(back.bounds, build_mesh(_box(), 0.5, style).bounds, atol=1e-4)


def test_npy_export_bool_or_probabilities_and_errors(tmp_path):
    from gan_studio.engine.voxels_mesh import export_voxels, load_voxel_file
    export_voxels(_box(), tmp_path / "b.npy", 0.5)
    export_voxels(_box(), tmp_path / "p.npy", 0.5, probabilities=True)
    b, p = np.load(tmp_path / "b.npy"), np.load(tmp_path / "p.npy")
    assert b.dtype == bool and b.sum() == 36 and p.dtype == np.float32 and p.max() == pytest.approx(0.9)
    assert np.array_equal(load_voxel_file(tmp_path / "b.npy"), b.astype(np.float32))
    with pytest.raises(UserError, match="empty"):
        export_voxels(np.zeros((32, 32, 32)), tmp_path / "e.stl")
    with pytest.raises(UserError, match="must end in"):
        export_voxels(_box(), tmp_path / "x.txt")
    (tmp_path / "t.npy").write_text("hello")
    with pytest.raises(UserError, match="not a .npy"):
        load_voxel_file(tmp_path / "t.npy")
    np.save(tmp_path / "flat.npy", np.zeros((4, 4)))
    with pytest.raises(UserError, match="3D voxel grid"):
        load_voxel_file(tmp_path / "flat.npy")
