"""Discovery that stops by itself (the plateau criterion), A started from GANSpace/SeFa, and the convergence
record and RCA protocols that go with them."""
from __future__ import annotations

import pytest
import torch

from gan_studio.engine.bundle import load_bundle
from gan_studio.engine.errors import UserError
from gan_studio.engine.latent.directions import discover, load_directions, save_directions
from gan_studio.engine.latent.directions.closed_form import ganspace
from gan_studio.engine.latent.directions.convergence import Plateau
from gan_studio.engine.latent.directions.voynov import PRESETS, Deformator, VoynovTrainer, orthonormal_basis
from gan_studio.engine.metrics.rca import BUDGETS, budget_named
from tests.conftest import make_tiny_bundle


def _feed(p: Plateau, accs) -> list[str]:
    return [p.update(a) for a in accs]


def test_plateau_drops_the_rate_then_converges_only_when_accuracy_stops_improving():
    p = Plateau(window=10, min_delta=0.01, patience=2, drops=2)
    rising = [i / 400 for i in range(200)]                       # +0.025 per window: never a plateau
    assert set(_feed(p, rising)) == {"train"} and p.drops_done == 0
    flat = _feed(p, [0.45] * 200)
    assert flat.count("drop") == 2 and flat.index("drop") == 10 * 2 - 1      # 2 windows without gain
    first_converged = flat.index("converged")
    assert first_converged == 10 * 6 - 1                         # 2 windows, drop, 2, drop, 2: converged
    assert p.state()["lr_drops"] == 2 and p.state()["best_window"] == pytest.approx(194.5 / 400)


def test_plateau_gain_resets_its_patience():
    p = Plateau(window=5, min_delta=0.01, patience=2, drops=0)
    verdicts = _feed(p, [0.5] * 5 + [0.5] * 5 + [0.6] * 5 + [0.6] * 5 + [0.6] * 5)
    assert verdicts[-1] == "converged" and "converged" not in verdicts[:-1]   # the 0.6 window started afresh


def test_orthonormal_basis_keeps_the_start_directions_in_order():
    start = torch.linalg.qr(torch.randn(12, 3))[0].T               # 3 orthonormal rows in 12-d
    q = orthonormal_basis(start, torch.Generator().manual_seed(0))
    assert torch.allclose(q.T @ q, torch.eye(12), atol=1e-5)
    assert torch.allclose(q[:, :3].T, start, atol=1e-5)             # same directions, same signs
    d = Deformator(12, 3, "ortho", start=start)
    assert torch.allclose(d.directions(), start, atol=1e-5)


def test_voynov_starts_from_ganspace_and_records_how_it_ended(tmp_path):
    G = load_bundle(make_tiny_bundle(tmp_path / "a.safetensors")).generator()
    assert PRESETS["fast"].init == "ganspace" and PRESETS["fast"].stop == "plateau"
    tr = VoynovTrainer(G, "fast", steps=4, k=4, batch=8)
    a, g = tr.deformator.directions(), ganspace(G, 4, seed=0).directions
    g = g / g.norm(dim=1, keepdim=True)
    assert torch.allclose(a[0], g[0], atol=1e-4)                   # Gram-Schmidt: the first one exactly,
    assert torch.allclose(g @ a.T @ a, g, atol=1e-4)                # and the same span (A orthonormal)
    progress = list(tr.run())
    assert progress[-1]["chance"] == 0.25 and progress[-1]["max_drops"] == 2
    assert tr.status == "not converged"                            # the step limit came before the plateau
    ds = load_directions(save_directions(tmp_path / "d.safetensors", tr.result()), G)
    conv = ds.extra["convergence"]
    assert conv["status"] == "not converged" and conv["steps"] == 4 and conv["stop"] == "plateau"
    assert "window" in conv["criterion"] and ds.extra["train_accuracy"] is not None


def test_voynov_converges_on_a_plateau_and_stops_by_itself(tmp_path):
    G = load_bundle(make_tiny_bundle(tmp_path / "a.safetensors")).generator()
    tr = VoynovTrainer(G, "fast", steps=10_000, k=4, batch=4)
    tr.plateau = Plateau(window=3, min_delta=2.0, patience=1, drops=1)   # no window can gain 2.0: a plateau
    lrs = [p["lr"] for p in tr.run()]
    assert tr.status == "converged" and tr.step == 6                # window, drop, window, converged
    assert lrs[0] == pytest.approx(1e-3) and lrs[-1] == pytest.approx(3e-4)
    assert tr.result().extra["convergence"]["status"] == "converged"


def test_stopping_marks_the_run_stopped_early(tmp_path):
    G = load_bundle(make_tiny_bundle(tmp_path / "a.safetensors")).generator()
    tr = VoynovTrainer(G, "fast", steps=100, k=4, batch=4)
    run = tr.run()
    next(run)
    run.close()
    assert tr.status == "stopped early" and tr.result().extra["convergence"]["status"] == "stopped early"


def test_presets_and_protocols_are_named_and_bad_names_are_clear(tmp_path):
    G = load_bundle(make_tiny_bundle(tmp_path / "a.safetensors")).generator()
    assert VoynovTrainer(G, "wide", k=4).steps == 3000 and VoynovTrainer(G, "fast", k=4).steps == 20000
    assert VoynovTrainer(G, "fast", k=4).plateau.patience == 3 == PRESETS["fast"].patience
    assert VoynovTrainer(G, "lenet4", k=4, patience=2).plateau.patience == 2
    assert VoynovTrainer(G, "wide", k=4).plateau is None
    with pytest.raises(UserError, match="unknown preset"):
        VoynovTrainer(G, "fastest", k=4)
    with pytest.raises(UserError, match="init"):
        VoynovTrainer(G, "fast", k=4, init="pca")
    assert set(BUDGETS) == {"fast", "lenet4", "full"} and BUDGETS["full"].protocol == "fresh"
    assert BUDGETS["fast"].width == 8 and BUDGETS["lenet4"].width == 4
    assert budget_named("fast", steps=7, schedule=None).steps == 7
    with pytest.raises(ValueError, match="protocol"):
        budget_named("slow")
    ds = next(p for p in discover(G, "voynov", 4, steps=2, batch=4) if "result" in p)["result"]
    assert ds.steps == 2 and ds.extra["preset"]["arch"] == "lenet"


def test_shared_bases_render_each_base_once_and_strided_reconstructor_is_a_choice(tmp_path, monkeypatch):
    """shifts_per_base n: a batch of B pairs renders B/n base images, each shared by n shifted images."""
    from gan_studio.engine.latent.directions.reconstructors import Reconstructor
    G = load_bundle(make_tiny_bundle(tmp_path / "a.safetensors")).generator()
    tr = VoynovTrainer(G, "fast", steps=2, k=4, batch=8, shifts_per_base=4, arch="strided", width=1)
    seen = []
    render = tr.pairs.render
    monkeypatch.setattr(tr.pairs, "render", lambda base, shift=None: seen.append(
        (base.shape[0], shift is None, base.clone())) or render(base, shift))
    tr.train_step()
    (n0, plain0, b0), (n1, plain1, b1) = seen
    assert plain0 and n0 == 2 and not plain1 and n1 == 8           # 2 bases rendered, 8 shifted images
    assert torch.equal(b1, b0.repeat_interleave(4, 0))             # each base under 4 shifts
    rec = Reconstructor(3, 4, 1, "strided")
    assert rec(torch.zeros(5, 3, 28, 28))[0].shape == (5, 4)
    with pytest.raises(ValueError, match="strided"):
        Reconstructor(3, 4, 1, "nope")


def test_channels_last_copy_gives_the_same_images_and_leaves_the_model_alone(tmp_path):
    from gan_studio.engine.device import channels_last_copy
    from gan_studio.engine.latent.directions.reconstructors import Reconstructor
    G = load_bundle(make_tiny_bundle(tmp_path / "a.safetensors")).generator().eval()
    fast = channels_last_copy(G)
    assert fast is not G
    conv = [p for p in G.parameters() if p.dim() == 4]
    assert conv and all(p.is_contiguous() for p in conv)                     # the app's model untouched
    assert all(p.is_contiguous(memory_format=torch.channels_last) for p in fast.parameters() if p.dim() == 4)
    z = torch.randn(6, G.z_dim, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        assert torch.allclose(fast(z), G(z), atol=1e-5)
    r = Reconstructor(3, 4, 1, "lenet")
    assert channels_last_copy(r, copy=False) is r                            # a trainable one: in place
    assert channels_last_copy(torch.nn.Linear(3, 2)) is not None             # no 4-D weights: as it was
