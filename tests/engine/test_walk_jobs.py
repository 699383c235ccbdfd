"""The one walk function (engine/jobs/walks.py): random loops, keyframes in z or w, and the defaults it names."""
import pytest
import torch

from gan_studio.engine.bundle import load_bundle
from gan_studio.engine.errors import UserError
from gan_studio.engine.jobs.walks import (
    DEFAULT_FPS,
    DEFAULT_FRAMES,
    DEFAULT_SCALE,
    WalkSpec,
    seed_keyframes,
    walk_frames_ws,
    z_keyframes,
)
from gan_studio.engine.latent.sampling import seeds_latents
from gan_studio.engine.latent.walks import interpolate, random_loop


@pytest.fixture
def G(tiny_model):
    return load_bundle(tiny_model).generator().eval()


def test_random_loop_maps_the_seeded_loop_with_truncation(G):
    spec = WalkSpec([], frames=10, psi=0.7, random="circle", random_seed=5)
    with torch.no_grad():
        want = G.mapping(random_loop(5, G.z_dim, 10, kind="circle"), truncation_psi=0.7)
    assert torch.equal(walk_frames_ws(G, spec), want) and torch.equal(spec.ws(G), want)


def test_seed_keyframes_walk_in_z_or_w(G):
    keys = seeds_latents([3, 9, 4], G.z_dim)
    with torch.no_grad():
        in_z = G.mapping(interpolate(keys, 9, "slerp"))
        in_w = interpolate(G.mapping(keys), 9, "lerp")
    assert torch.equal(walk_frames_ws(G, WalkSpec(seed_keyframes([3, 9, 4], G.z_dim), 9)), in_z)
    assert torch.equal(walk_frames_ws(G, WalkSpec(z_keyframes(keys), 9, space="z")), in_z)
    assert torch.equal(walk_frames_ws(G, WalkSpec(seed_keyframes([3, 9, 4], G.z_dim), 9, space="w")), in_w)
    with pytest.raises(UserError):
        walk_frames_ws(G, WalkSpec(z_keyframes(keys), 9, space="x"))


def test_defaults_are_the_command_lines_defaults():
    spec = WalkSpec(seed_keyframes([1, 2], 8))
    assert spec.frames == DEFAULT_FRAMES
    cmd = spec.command("m")
    assert cmd == f"gan-studio walk --model m --seeds 1,2 --frames {DEFAULT_FRAMES} --out walk.gif"
    assert spec.command("m", fps=DEFAULT_FPS + 1, scale=DEFAULT_SCALE * 2).endswith(
        f" --fps {DEFAULT_FPS + 1} --scale {DEFAULT_SCALE * 2}")
    assert " --space w" in WalkSpec(seed_keyframes([1, 2], 8), space="w").command("m")
