"""Direction discovery: deformator parametrisations, SeFa on a known weight, files, shifts, training."""
import pytest
import torch

from gan_studio.engine.bundle import load_bundle
from gan_studio.engine.errors import ModelFileError, UserError
from gan_studio.engine.latent.directions import DirectionSet, apply_shifts, discover, load_directions, save_directions
from gan_studio.engine.latent.directions.closed_form import sefa
from gan_studio.engine.latent.directions.voynov import PRESETS, Deformator, VoynovTrainer, sample_shifts
from tests.conftest import make_tiny_bundle


def test_ortho_deformator_stays_orthonormal_while_training():
    d = Deformator(16, 6, "ortho")
    opt = torch.optim.SGD(d.parameters(), lr=0.5)
    for _ in range(5):
        loss = (d(torch.arange(6), torch.ones(6)) * torch.randn(6, 16)).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
    a = d.matrix()
    assert a.shape == (16, 6) and torch.count_nonzero(d.x) > 0
    assert torch.allclose(a.T @ a, torch.eye(6), atol=1e-5)
    for kind in ("linear", "random", "coordinate"):
        assert torch.allclose(Deformator(16, 6, kind).directions().norm(dim=1), torch.ones(6), atol=1e-6)
    with pytest.raises(UserError):
        Deformator(4, 6)


def test_shift_distribution():
    k, eps = sample_shifts(10000, 32, PRESETS["paper"], torch.Generator().manual_seed(0))
    assert k.min() == 0 and k.max() == 31
    assert eps.abs().min() >= 0.5 and eps.abs().max() <= 6
    assert (eps > 0).float().mean().item() == pytest.approx(0.5, abs=0.03)


class _ToyG(torch.nn.Module):
    num_ws, z_dim = 1, 5

    def __init__(self, w):
        super().__init__()
        self.w = torch.nn.Parameter(w)

    def sefa_weight(self):
        return self.w

    def mapping(self, z, **kw):
        return z[:, None]


def test_sefa_recovers_known_singular_vectors():
    q, _ = torch.linalg.qr(torch.randn(5, 5, generator=torch.Generator().manual_seed(0)))
    w = torch.randn(7, 5)
    u, _, _ = torch.linalg.svd(w, full_matrices=False)
    weight = u @ torch.diag(torch.tensor([5.0, 4.0, 3.0, 2.0, 1.0])) @ q.T      # right singular vectors = q
    ds = sefa(_ToyG(weight), 3)
    overlap = (ds.directions @ q[:, :3]).abs()
    assert torch.allclose(overlap, torch.eye(3), atol=1e-4)
    assert ds.extra["eigenvalues"] == pytest.approx([25.0, 16.0, 9.0], rel=1e-4)


def test_files_round_trip_and_refuse_another_generator(tmp_path):
    G = load_bundle(make_tiny_bundle(tmp_path / "a.safetensors", seed=0)).generator()
    other = load_bundle(make_tiny_bundle(tmp_path / "b.safetensors", seed=1)).generator()
    ds = list(discover(G, "random", 4))[-1]["result"]
    ds.names[1] = "thickness"
    ds.starred = [1]
    path = save_directions(tmp_path / "d.safetensors", ds)
    back = load_directions(path, G)
    assert torch.equal(back.directions, ds.directions) and back.names[1] == "thickness" and back.starred == [1]
    assert back.method == "random" and back.space == "z" and back.generator_hash == ds.generator_hash
    with pytest.raises(UserError, match="another generator"):
        load_directions(path, other)
    with pytest.raises(ModelFileError, match="not directions"):
        load_directions(tmp_path / "a.safetensors")


def test_apply_shifts_moves_along_the_direction(tmp_path):
    G = load_bundle(make_tiny_bundle(tmp_path / "a.safetensors")).generator()
    ds = DirectionSet(torch.eye(G.z_dim)[:3] * 2, "coordinate")
    z = torch.zeros(1, G.z_dim)
    kind, z2 = apply_shifts(G, ds, z=z, shifts={1: 2.5, 2: -1.0})
    assert kind == "z" and z2[0, 1] == 2.5 and z2[0, 2] == -1.0 and z2[0, 0] == 0
    kind, ws = apply_shifts(G, ds, ws=G.mapping(z), shifts={0: 1.0})
    assert kind == "ws" and ws[0, 0, 0] == 1.0
    with pytest.raises(UserError, match="out of range"):
        apply_shifts(G, ds, z=z, shifts={3: 1.0})


def test_training_can_stop_and_resume(tmp_path):
    G = load_bundle(make_tiny_bundle(tmp_path / "a.safetensors")).generator()
    tr = VoynovTrainer(G, "fast", steps=6, k=4, batch=8)
    run = tr.run()
    first = [next(run)["step"] for _ in range(3)]
    run.close()
    rest = [p["step"] for p in tr.run()]
    assert first == [1, 2, 3] and rest == [4, 5, 6]
    ds = tr.result()
    assert ds.steps == 6 and torch.allclose(ds.directions @ ds.directions.T, torch.eye(4), atol=1e-5)


@pytest.mark.slow
def test_short_voynov_run_beats_chance_on_the_shipped_generator(shipped_model):
    torch.manual_seed(0)
    G = load_bundle(shipped_model).generator()
    tr = VoynovTrainer(G, "fast", steps=300, k=8)
    accs = [p["accuracy"] for p in tr.run()]
    assert accs[-1] > 0.5              # chance is 1/8


@pytest.mark.parametrize("method,k,steps,words", [
    ("sefa", 0, None, "at least 1, not 0"),
    ("voynov", -3, 5, "at least 1, not -3"),         # once a negative-size tensor deep in the trainer
    ("random", 2.5, None, "whole number"),
    ("voynov", 2, 0, "steps must be a whole number of at least 1, not 0"),
    ("voynov", 2, -2, "not -2"),                     # once a run of 0 steps, saved as "not converged"
])
def test_discover_refuses_a_bad_k_or_step_count_in_one_line(tmp_path, method, k, steps, words):
    G = load_bundle(make_tiny_bundle(tmp_path / "a.safetensors")).generator()
    with pytest.raises(UserError, match=words):
        list(discover(G, method, k, steps=steps))


@pytest.mark.parametrize("method", ["ganspace", "sefa", "random", "coordinate", "voynov"])
def test_no_method_returns_more_directions_than_the_latent_space_has(tmp_path, method):
    """SeFa used to cut K silently to the latent size, GANSpace to return K > z_dim dependent directions."""
    G = load_bundle(make_tiny_bundle(tmp_path / "a.safetensors")).generator()
    with pytest.raises(UserError, match=f"K = {G.z_dim + 1} directions do not fit in a {G.z_dim}-d latent space"):
        list(discover(G, method, G.z_dim + 1, steps=2))
    if method != "voynov":
        ds = next(p["result"] for p in discover(G, method, G.z_dim) if "result" in p)
        assert ds.directions.shape == (G.z_dim, G.z_dim)
