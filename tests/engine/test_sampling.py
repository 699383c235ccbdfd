"""The generator interface, seeds that mean the same everywhere, truncation, and the sample view's state."""
import pytest
import torch

from gan_studio.engine.bundle import load_bundle
from gan_studio.engine.errors import UserError
from gan_studio.engine.latent.sampling import generate, parse_seeds, seed_latent, seeds_latents, synthesize
from gan_studio.engine.latent.state import Latent
from gan_studio.engine.latent.walks import interpolate
from gan_studio.engine.models import build
from tests.conftest import RESOURCES


def test_seed_is_the_documented_latent():
    z = seed_latent(1234, 64)
    ref = torch.randn(1, 64, generator=torch.Generator("cpu").manual_seed(1234))
    assert torch.equal(z, ref)
    assert torch.equal(seeds_latents([5, 6], 64)[1:], seed_latent(6, 64))


@pytest.mark.parametrize("res,ch", [(28, 1), (32, 1), (32, 3), (64, 3)])
def test_interface_shapes(res, ch):
    G = build("dcgan", "generator", {"img_resolution": res, "img_channels": ch, "width": 8, "z_dim": 10}).eval()
    ws = G.mapping(torch.randn(3, 10))
    assert (G.num_ws, G.w_dim, G.image_shape) == (1, 10, (ch, res, res))
    assert ws.shape == (3, 1, 10) and torch.count_nonzero(G.w_avg) == 0
    img = G.synthesis(ws)
    assert img.shape == (3, ch, res, res) and img.min() >= -1 and img.max() <= 1


def test_same_seed_same_image_whatever_the_batch(tiny_model):
    G = load_bundle(tiny_model).generator()
    seeds = list(range(100, 137))
    full = generate(G, seeds_latents(seeds, G.z_dim), batch_size=64)
    for bs in (1, 5, 16):
        assert (generate(G, seeds_latents(seeds, G.z_dim), batch_size=bs) - full).abs().max() <= 1e-5
    single = generate(G, seeds_latents([seeds[7]], G.z_dim))
    assert (single[0] - full[7]).abs().max() <= 1e-5
    assert (full[0] - full[1]).abs().max() > 1e-2          # different seeds differ


@pytest.mark.parametrize("name", ["mnist-wgan-gp", "mnist-stylegan2"])
def test_shipped_models_same_seed_same_image_in_grids_and_walks(name):
    """The shipped models, the style one included (whose batched convolutions round differently for
    different batches): a seed's image is the same alone, in a grid of any size, and as a walk's end frame."""
    G = load_bundle(RESOURCES / f"{name}.safetensors").generator().eval()
    # the style model renders row by row, so its images are bit-identical; the DCGAN's differ by ~2e-6
    tol = 0.0 if G.num_ws > 1 else 1e-5
    seeds = list(range(64))
    full = generate(G, seeds_latents(seeds, G.z_dim), batch_size=64)
    for bs in (1, 7):
        assert (generate(G, seeds_latents(seeds, G.z_dim), batch_size=bs) - full).abs().max() <= tol
    with torch.no_grad():
        keys = G.mapping(seeds_latents([seeds[0], seeds[-1]], G.z_dim))
        walk = synthesize(G, interpolate(keys, 12, "lerp"))
    assert (walk[0] - full[0]).abs().max() <= tol and (walk[-1] - full[-1]).abs().max() <= tol
    assert (walk[5] - full[0]).abs().max() > 1e-2           # the middle of the walk is neither end


def test_truncation_scales_z_towards_zero(tiny_model):
    G = load_bundle(tiny_model).generator()
    z = seeds_latents(range(5), G.z_dim)
    assert torch.allclose(G.mapping(z, truncation_psi=0.5)[:, 0], 0.5 * z)
    zero = generate(G, z, truncation_psi=0.0)
    assert (zero - zero[:1]).abs().max() == 0                # psi = 0: every seed gives the same image
    ws = G.mapping(z, truncation_psi=0.7)
    assert torch.equal(synthesize(G, ws), generate(G, z, truncation_psi=0.7))


def test_latent_state_holds_non_seed_latents(tiny_model):
    G = load_bundle(tiny_model).generator()
    a = Latent.from_seed(3, G.z_dim)
    assert a.seed == 3 and a.label() == "seed 3"
    b = Latent(ws=a.to_ws(G) * 0.5, source="walk", info={"frame": 4})
    assert b.seed is None and "frame 4" in b.label()
    assert b.to_ws(G).shape == (1, 1, G.z_dim)
    with pytest.raises(ValueError):
        Latent(source="seed")


def test_parse_seeds():
    assert parse_seeds("1,2,5-8") == [1, 2, 5, 6, 7, 8]
    for bad in ("", "a", "5-2", "-3"):
        with pytest.raises(UserError):
            parse_seeds(bad)
