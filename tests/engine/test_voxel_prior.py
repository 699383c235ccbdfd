"""The fitted latent prior of voxel models (models/voxel_prior.py, training/prior3d.py): its maths, its fit on
known Gaussians, how seeds pick components, and a VoxelModel that draws its seeds from it."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from gan_studio.engine.errors import UserError
from gan_studio.engine.models.voxel_iwgan import VoxelIWGANConfig
from gan_studio.engine.models.voxel_prior import LatentPrior, plain_sampler, prior_sampler
from gan_studio.engine.seeds import seeds_latents
from gan_studio.engine.training.prior3d import fit_mixture
from tests.engine.voxel_toys import TINY_ARCH, add_prior


def _prior(k: int, d: int = 8) -> LatentPrior:
    return LatentPrior(VoxelIWGANConfig.from_dict(dict(TINY_ARCH, z_dim=d, prior_components=k)))


def test_forward_is_the_components_mean_plus_its_scale_times_the_draw():
    p = _prior(2, 4)
    with torch.no_grad():
        p.means.copy_(torch.tensor([[1.0, 2, 3, 4], [-1, 0, 0, 0]]))
        p.scales[1] = torch.tril(torch.arange(16.0).reshape(4, 4))
    eps = torch.randn(3, 4, generator=torch.Generator().manual_seed(0))
    z = p(eps, torch.tensor([0, 1, 1]))
    torch.testing.assert_close(z[0], p.means[0] + eps[0])
    torch.testing.assert_close(z[1:], p.means[1] + eps[1:] @ p.scales[1].T)


def test_seeds_pick_components_by_the_weights_deterministically_and_apart_from_their_draw():
    p = _prior(3)
    with torch.no_grad():
        p.weights.copy_(torch.tensor([0.1, 0.3, 0.6]))
    seeds = list(range(4000))
    c = p.component_draws(seeds)
    shares = torch.bincount(c, minlength=3).double() / len(seeds)
    assert torch.allclose(shares, torch.tensor([0.1, 0.3, 0.6], dtype=torch.double), atol=0.03)
    assert torch.equal(c[[7, 3, 999]], p.component_draws([7, 3, 999]))            # per seed, not per batch
    first = seeds_latents(seeds, 8)[:, 0]
    r = np.corrcoef(first.numpy(), c.numpy())[0, 1]                                 # the stream is its own
    assert abs(r) < 0.06


def test_fit_recovers_known_gaussians_and_leaves_out_classes_too_small_to_fit():
    g = torch.Generator().manual_seed(0)
    d = 5
    L = torch.tril(torch.rand(d, d, generator=g)) + torch.eye(d)
    a = torch.randn(4000, d, generator=g) @ L.T + 2.0
    b = torch.randn(4000, d, generator=g) * 0.5 - 1.0
    lone = torch.zeros(1, d)
    labels = torch.cat([torch.zeros(4000), torch.full((4000,), 2), torch.full((1,), 3)]).long()
    fit = fit_mixture(torch.cat([a, b, lone]), labels, n_classes=5, shrink=0.0)
    assert fit["classes"] == [0, 2] and fit["counts"] == [4000, 4000]
    assert torch.allclose(fit["weights"], torch.tensor([0.5, 0.5], dtype=torch.double))
    assert torch.allclose(fit["means"][0].float(), torch.full((d,), 2.0), atol=0.1)
    cov = fit["scales"][0] @ fit["scales"][0].T
    assert torch.allclose(cov.float(), L @ L.T, rtol=0.1, atol=0.1)
    shrunk = fit_mixture(torch.cat([a, b, lone]), labels, n_classes=5, shrink=1.0)["scales"][0]
    assert torch.count_nonzero(torch.tril(shrunk, -1)) == 0                          # shrink 1: diagonal
    with pytest.raises(UserError, match="no class has 2 or more"):
        fit_mixture(lone, torch.tensor([1]), n_classes=5, shrink=0.1)


def test_a_fixed_component_draws_every_seed_from_it():
    p = _prior(3)
    with torch.no_grad():
        p.means.copy_(torch.eye(3, 8) * 10)
    dec = torch.nn.Linear(8, 1)
    dec.z_dim = 8
    z = prior_sampler(p, dec, component=2).latents(range(50), 1.0)
    assert (z[:, 2] > 5).all() and (z[:, :2].abs() < 5).all()
    z_own = prior_sampler(p, dec).latents(range(50), 1.0)
    assert len({int(i) for i in z_own[:, :3].argmax(1)}) == 3                      # seeds spread over them
    torch.testing.assert_close(plain_sampler(dec).latents([4, 5], 0.5), seeds_latents([4, 5], 8) * 0.5)
    with pytest.raises(ValueError):
        prior_sampler(p, dec, component=3)


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    from tests.gui.test_shapes3d_panel import make_voxel_model
    d = tmp_path_factory.mktemp("prior")
    plain = make_voxel_model(d / "plain.safetensors")
    return plain, add_prior(plain, d / "with-prior.safetensors", weights=(0.2, 0.3, 0.5))


def test_a_model_with_a_prior_draws_seeds_through_it_and_decodes_them_as_reconstructions(models):
    from gan_studio.engine.reconstruction import VoxelModel
    plain, with_prior = VoxelModel.open(models[0]), VoxelModel.open(models[1])
    assert plain.prior is None and plain.components == [] and plain.sampler().name == "gan"
    assert with_prior.components == ["bed", "chair", "sofa"] and with_prior.sampler().name == "prior"
    assert "sample_threshold" not in with_prior.bundle.meta and with_prior.bundle.meta["prior"]["command"]
    z = with_prior.latent(3, 1.0)
    c = with_prior.components.index(with_prior.seed_component(3))
    torch.testing.assert_close(z, with_prior.prior(seeds_latents([3], z.shape[1]), torch.tensor([c])))
    G = with_prior.reconstruction_generator
    np.testing.assert_allclose(with_prior.sample(3, 1.0), G(z)[0, 0].detach().numpy(), atol=1e-6)
    chair = with_prior.latent(3, 1.0, component="chair")
    assert chair[0, 1] > 1.5 and with_prior.latent(3, 0.5, "chair")[0, 1] == pytest.approx(float(chair[0, 1]), abs=1)
    torch.testing.assert_close(chair, with_prior.latent(3, 1.0, component=1))
    for bad in ("table", 3, -1):
        with pytest.raises(UserError):
            with_prior.latent(3, 1.0, component=bad)
    with pytest.raises(UserError, match="no fitted latent prior"):
        plain.latent(3, 1.0, component="chair")
    torch.testing.assert_close(plain.latent(3, 0.5), seeds_latents([3], plain.z_dim) * 0.5)


def test_the_gan_sampler_of_a_file_with_a_prior_draws_its_own_generator_at_its_own_truncation(models):
    """source "gan": z = ψ · the seed's draw through the sampling generator, not the prior and its decoder; ψ
    defaults to 1 there (the file's ψ is its prior's); no classes; a file without a prior has only "gan"."""
    import copy

    from gan_studio.engine.reconstruction import VoxelModel
    plain, with_prior = VoxelModel.open(models[0]), VoxelModel.open(models[1])
    recon = copy.deepcopy(with_prior.generator)
    with torch.no_grad():
        recon.net[-1].bias.add_(1.0)                           # a reconstruction generator unlike the GAN's
    with_prior.bundle.networks["generator_recon"] = recon
    with_prior.bundle.meta["truncation"] = 1.5
    assert with_prior.sources == ["prior", "gan"] and plain.sources == ["gan"]
    assert with_prior.default_truncation() == 1.5 and with_prior.default_truncation("gan") == 1.0
    assert plain.default_truncation("gan") == plain.truncation == plain.default_truncation()
    z = seeds_latents([4], with_prior.z_dim)
    with torch.no_grad():
        want_gan, want_prior = with_prior.generator(z)[0, 0], recon(with_prior.latent(4))[0, 0]
    np.testing.assert_allclose(with_prior.sample(4, source="gan"), want_gan.numpy(), atol=1e-6)
    np.testing.assert_allclose(with_prior.sample(4), want_prior.numpy(), atol=1e-6)
    np.testing.assert_allclose(with_prior.sample(4, 0.5, source="gan"),
                               with_prior.generator(z * 0.5)[0, 0].detach().numpy(), atol=1e-6)
    assert not np.allclose(with_prior.sample(4, source="gan"), with_prior.sample(4), atol=1e-3)
    assert with_prior.sampler(source="gan").name == "gan" and with_prior.sampler(source="prior").name == "prior"
    with pytest.raises(UserError, match="no classes"):
        with_prior.sample(4, component="chair", source="gan")
    with pytest.raises(UserError, match="no fitted latent prior"):
        plain.sample(4, source="prior")
    with pytest.raises(UserError, match="must be one of"):
        plain.sample(4, source="vae")
    np.testing.assert_allclose(plain.sample(4, source="gan"), plain.sample(4), atol=0)


def test_a_file_whose_prior_or_sampling_metadata_is_wrong_is_refused_in_one_line(models, tmp_path):
    from gan_studio.engine.bundle import load_bundle, save_bundle
    from gan_studio.engine.errors import ModelFileError
    b = load_bundle(models[1])
    for i, meta in enumerate([dict(b.meta, truncation=5), dict(b.meta, truncation="wide"),
                              dict(b.meta, sample_threshold=-0.1),
                              dict(b.meta, config=dict(b.meta["config"], prior_components=2))]):
        path = save_bundle(tmp_path / f"bad{i}.safetensors", b.networks, meta)
        with pytest.raises(ModelFileError) as e:
            load_bundle(path)
        assert len(str(e.value).splitlines()) == 1
