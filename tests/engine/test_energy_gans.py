"""Issue 24, first two families: EBGAN and BEGAN (`--arch dcgan-ae --loss ebgan|began`, training/recipe_ae.py):
the pull-away term and BEGAN's balance step, a few real training steps each, k_t kept across --resume, the model
file sampled through the one generator interface, and unknown combinations refused in one line."""
from __future__ import annotations

import pytest
import torch

from gan_studio.engine.bundle import load_bundle
from gan_studio.engine.errors import UserError
from gan_studio.engine.training.loop import TrainConfig, train
from gan_studio.engine.training.recipe_ae import began_balance, pull_away

ARCH = {"width": 8, "z_dim": 8, "code_dim": 16}


def _cfg(data, loss, steps, **kw):
    return TrainConfig(data=str(data), arch="dcgan-ae", arch_config=dict(ARCH), loss=loss, steps=steps, batch=16,
                       checkpoint_every=2, sample_every=100, threads=1, device="cpu", **kw)


def test_pull_away_is_zero_for_orthogonal_and_one_for_identical_codes():
    assert float(pull_away(torch.eye(5) * 3)) == pytest.approx(0.0, abs=1e-7)
    assert float(pull_away(torch.ones(4, 6))) == pytest.approx(1.0, abs=1e-6)
    assert 0 < float(pull_away(torch.randn(8, 16))) < 1


def test_began_balance_steps_and_clips_k():
    k, m = began_balance(0.5, 0.5, 0.001, e_real=0.2, e_fake=0.05)       # gamma L(x) - L(G) = 0.05
    assert k == pytest.approx(0.5 + 0.001 * 0.05) and m == pytest.approx(0.2 + 0.05)
    assert began_balance(0.0, 0.5, 0.1, 0.1, 5.0)[0] == 0.0
    assert began_balance(1.0, 0.5, 0.1, 5.0, 0.0)[0] == 1.0


@pytest.mark.parametrize("loss,keys", [("began", {"k_t", "convergence", "energy_real", "energy_fake"}),
                                       ("ebgan", {"pull_away", "margin", "energy_real", "energy_fake"})])
def test_each_family_trains_and_samples(tiny_dataset, tmp_path, loss, keys):
    out = tmp_path / f"{loss}.safetensors"
    steps = list(train(_cfg(tiny_dataset, loss, 3), out))
    logs = steps[-1].losses
    assert keys <= set(logs) and all(torch.isfinite(torch.tensor(v)) for v in logs.values()), logs
    bundle = load_bundle(out)
    assert bundle.meta["arch"] == "dcgan-ae" and bundle.meta["training"]["recipe"] == loss
    G = bundle.generator()
    with torch.no_grad():
        img = G(torch.randn(2, G.z_dim))
    assert img.shape == (2, 1, 28, 28) and torch.isfinite(img).all()


def test_began_k_t_is_in_the_file_and_resume_continues_from_it(tiny_dataset, tmp_path):
    out = tmp_path / "b.safetensors"
    cfg = _cfg(tiny_dataset, "began", 2, options={"lambda_k": 0.5, "k0": 0.3})
    list(train(cfg, out))
    nets = load_bundle(out).networks
    k_saved = float((nets() if callable(nets) else nets)["critic"].k_t)
    assert k_saved != pytest.approx(0.3)                                 # it moved (lambda_k 0.5)
    cfg.steps, cfg.options = 3, {"lambda_k": 0.0}                        # k stays where the file left it
    first = [p for p in train(cfg, out, resume=True) if p.losses][0]
    assert first.step == 3 and first.losses["k_t"] == pytest.approx(k_saved, abs=1e-6)


@pytest.mark.parametrize("arch,loss,words", [("dcgan", "began", "use --arch dcgan-ae"),
                                              ("dcgan-ae", "wgan-gp", "--loss began or --loss ebgan")])
def test_unknown_combinations_are_one_line(tiny_dataset, tmp_path, arch, loss, words):
    cfg = TrainConfig(data=str(tiny_dataset), arch=arch, arch_config={"width": 8, "z_dim": 8}, loss=loss, steps=2,
                      batch=16, threads=1, device="cpu")
    with pytest.raises(UserError, match=words):
        list(train(cfg, tmp_path / "x.safetensors"))


def _grad_norms_at_blank(style: str, bias: float) -> tuple[float, float]:
    """|d L(G(z)) / d G| and |d L(G(z)) / d D| when both the generator and the decoder output (nearly) blank -1
    images, the state MNIST training drives them to: the collapse BEGAN must be able to leave."""
    from gan_studio.engine.models.autoencoder import AEConfig, AECritic, ae_generator
    torch.manual_seed(0)
    cfg = AEConfig(width=8, z_dim=8, code_dim=16, style=style)
    G, D = ae_generator(cfg).train(), AECritic(cfg)
    for seq in (G.net, D.decoder):
        last = [m for m in seq if isinstance(m, torch.nn.ConvTranspose2d)][-1]
        with torch.no_grad():
            last.weight.mul_(0.01)
            last.bias.fill_(bias)
    e = D.energy(G(torch.randn(16, 8)), 1)[0].mean()
    g_gen = torch.autograd.grad(e, list(G.parameters()), retain_graph=True)
    g_dis = torch.autograd.grad(e, list(D.parameters()))
    return tuple(float(sum(g.norm() ** 2 for g in gs).sqrt()) for gs in (g_gen, g_dis))


def test_began_keeps_gradients_at_a_blank_image_where_tanh_outputs_lose_them():
    g_gen, g_dis = _grad_norms_at_blank("began", -1.05)      # linear outputs a little past -1
    assert g_gen > 0.05 and g_dis > 0.05
    old_gen, old_dis = _grad_norms_at_blank("dcgan", -6.0)   # tanh outputs at -0.99998: the old collapse
    assert old_gen < 1e-3 * g_gen and old_dis < 1e-3 * g_dis


def test_began_generator_is_the_papers_and_samples_in_range(tiny_dataset, tmp_path):
    out = tmp_path / "b.safetensors"
    list(train(_cfg(tiny_dataset, "began", 2), out))
    bundle = load_bundle(out)
    assert bundle.meta["config"]["style"] == "began-nn" and bundle.meta["config"]["z_dist"] == "uniform"
    G = bundle.generator().eval()
    assert not any(isinstance(m, torch.nn.BatchNorm2d | torch.nn.Tanh | torch.nn.ConvTranspose2d)
                   for m in G.modules())                       # nearest-neighbour up-sampling + 3x3 convs
    with torch.no_grad():
        img = G(torch.randn(64, G.z_dim) * 10)
    assert img.min() >= -1 and img.max() <= 1


def test_an_old_began_file_resumes_with_its_own_style_or_is_refused_in_one_line(tiny_dataset, tmp_path):
    out = tmp_path / "old.safetensors"
    cfg = _cfg(tiny_dataset, "began", 2)
    cfg.arch_config = dict(ARCH, style="dcgan")                        # what every file before it was
    list(train(cfg, out))
    cfg.arch_config, cfg.steps = dict(ARCH), 3
    with pytest.raises(UserError, match="cannot resume from .*style': 'dcgan'"):
        list(train(cfg, out, resume=True))
    cfg.arch_config = dict(ARCH, style="dcgan")
    assert [p for p in train(cfg, out, resume=True) if p.losses][0].step == 3


def test_code_norm_batch_critic_cannot_reconstruct_a_collapsed_batch(tiny_dataset, tmp_path):
    """code_norm "batch" decodes a batch of identical images to one image whatever they show, so a generator
    collapsed on one digit meets a high energy; the plain code (the default, the papers') reconstructs each image
    for itself. The option reaches the model file through --arch-config."""
    from gan_studio.engine.models.autoencoder import AEConfig, AECritic
    torch.manual_seed(0)
    a, b = torch.rand(1, 1, 28, 28) * 2 - 1, torch.rand(1, 1, 28, 28) * 2 - 1
    for norm, same in (("batch", True), ("none", False)):
        D = AECritic(AEConfig(width=8, z_dim=8, code_dim=16, style="began", code_norm=norm)).train()
        with torch.no_grad():
            ra, rb = D(a.expand(8, -1, -1, -1))[0], D(b.expand(8, -1, -1, -1))[0]
        assert torch.allclose(ra, rb, atol=1e-5) is same
    out = tmp_path / "b.safetensors"
    cfg = _cfg(tiny_dataset, "began", 2)
    cfg.arch_config = dict(ARCH, code_norm="batch")
    list(train(cfg, out))
    list(train(_cfg(tiny_dataset, "began", 2), tmp_path / "plain.safetensors"))
    assert load_bundle(out).meta["config"]["code_norm"] == "batch"
    assert load_bundle(tmp_path / "plain.safetensors").meta["config"]["code_norm"] == "none"
    assert load_bundle(out).generator().eval()(torch.randn(4, 8)).shape == (4, 1, 28, 28)


def _began_nn(**kw):
    from gan_studio.engine.models.autoencoder import AEConfig, AECritic, ae_generator
    cfg = AEConfig(width=8, z_dim=8, code_dim=8, style="began-nn", **kw)
    return ae_generator(cfg).train(), AECritic(cfg)


def test_began_nn_depends_on_z_and_on_the_input_from_the_start():
    """Glorot initialisation: with PyTorch's default one the paper's deep no-norm stacks output nearly one image
    for every z and reconstruct every input alike (BEGAN then starts collapsed)."""
    torch.manual_seed(0)
    G, D = _began_nn()
    with torch.no_grad():
        x = G(torch.randn(64, 8))
        rec = D(torch.rand(64, 1, 28, 28) * 2 - 1)
    assert x.std(0).mean() > 0.3 * x.abs().mean() and rec.std(0).mean() > 1e-3
    enc = [m for m in D.encoder.modules() if isinstance(m, torch.nn.Conv2d)]
    assert [m.stride[0] for m in enc].count(2) == 2                          # 28 -> 14 -> 7 by strided convs
    assert all(float(m.bias.detach().abs().max()) == 0 for m in enc)


def test_uniform_z_is_the_same_network_reading_2_phi_z_minus_1():
    torch.manual_seed(0)
    G_u, _ = _began_nn(z_dist="uniform")
    G_n, _ = _began_nn()
    G_n.load_state_dict(G_u.state_dict())
    z = torch.randn(5, 8)
    u = torch.erf(z / 2 ** 0.5)
    assert u.abs().max() < 1
    assert torch.allclose(G_u(z), G_n(u), atol=1e-6) and not torch.allclose(G_u(z), G_n(z), atol=1e-3)


def test_skip_injects_h0_into_every_level(tiny_dataset, tmp_path):
    torch.manual_seed(0)
    G, D = _began_nn(skip=True)
    assert [b[0].in_channels for b in G.net.blocks] == [8, 16, 16]          # n, then n + the up-sampled h0
    assert [b[0].in_channels for b in D.decoder.blocks] == [8, 16, 16]
    out = tmp_path / "s.safetensors"
    cfg = _cfg(tiny_dataset, "began", 2)
    cfg.arch_config = dict(ARCH, skip=True)
    list(train(cfg, out))
    assert load_bundle(out).meta["config"]["skip"] is True
    assert load_bundle(out).generator().eval()(torch.randn(3, 8)).shape == (3, 1, 28, 28)
    with pytest.raises(UserError, match="skip"):
        cfg.arch_config = dict(ARCH, style="began", skip=True)
        list(train(cfg, tmp_path / "bad.safetensors"))


def test_began_cs_constraint_pulls_the_codes_of_fakes_to_z(tiny_dataset, tmp_path):
    """--options constraint (BEGAN-CS): the critic's step adds alpha * mean|Enc(G(z)) - u(z)|; with a large alpha
    a few steps bring the codes of fakes towards the generator's input; code_dim != z_dim is one line."""
    from gan_studio.engine.training.recipe_ae import AERecipe
    arch = dict(ARCH, code_dim=8)
    gaps = {}
    for alpha in (0.0, 5.0):
        torch.manual_seed(0)
        cfg = TrainConfig(data=str(tiny_dataset), arch="dcgan-ae", arch_config=arch, loss="began", steps=30,
                          batch=16, threads=1, device="cpu", lr=1e-3, options={"constraint": alpha})
        r = AERecipe(cfg, torch.device("cpu"))
        it = r.batches(torch.Generator().manual_seed(0))
        for _ in range(30):
            r.train_step(it)
        z = torch.randn(64, 8)
        with torch.no_grad():
            gaps[alpha] = float((r.D.encode(r.G(z)) - r.G.latent_input(z)).abs().mean())
    assert gaps[5.0] < 0.7 * gaps[0.0], gaps
    cfg = _cfg(tiny_dataset, "began", 2, options={"constraint": 0.1})          # ARCH: code_dim 16, z_dim 8
    with pytest.raises(UserError, match="code_dim = z_dim"):
        list(train(cfg, tmp_path / "x.safetensors"))


def test_critic_lr_scale_slows_the_critic_alone_and_is_recorded(tiny_dataset, tmp_path):
    from gan_studio.engine.training.recipe_ae import AERecipe
    cfg = _cfg(tiny_dataset, "began", 2, options={"critic_lr_scale": 0.1}, lr=2e-4)
    r = AERecipe(cfg, torch.device("cpu"))
    assert r.opt_g.param_groups[0]["lr"] == pytest.approx(2e-4)
    assert r.opt_d.param_groups[0]["lr"] == pytest.approx(2e-5)
    out = tmp_path / "b.safetensors"
    list(train(cfg, out))
    t = load_bundle(out).meta["training"]
    assert t["critic_lr"] == pytest.approx(2e-5) and t["began"]["critic_lr_scale"] == pytest.approx(0.1)
    with pytest.raises(UserError, match="critic_lr_scale"):
        AERecipe(_cfg(tiny_dataset, "began", 2, options={"critic_lr_scale": 0}), torch.device("cpu"))


def test_began_pull_away_option_enters_the_generator_loss_and_the_log(tiny_dataset, tmp_path):
    """--options pull_away on BEGAN: EBGAN's repelling term on the critic's codes of a fake batch is added to the
    generator's loss (the measured fix for BEGAN's collapse on MNIST, bench/zoo.py) and logged; off by default."""
    from gan_studio.engine.training.recipe_ae import AERecipe
    on = AERecipe(_cfg(tiny_dataset, "began", 2, options={"pull_away": 1000.0}), torch.device("cpu"))
    off = AERecipe(_cfg(tiny_dataset, "began", 2), torch.device("cpu"))
    gen = torch.Generator().manual_seed(0)
    log_on, log_off = on.train_step(on.batches(gen)), off.train_step(off.batches(gen))
    assert "pull_away" in log_on and "pull_away" not in log_off
    assert log_on["pull_away"] > 0 and log_on["g_loss"] >= 1000 * log_on["pull_away"]    # energy (>= 0) + the term
    assert log_off["g_loss"] < 1000 * log_on["pull_away"]                               # the energy alone: far less


def test_g_norm_batch_puts_batch_norm_in_the_began_nn_generator_only():
    from gan_studio.engine.models.autoencoder import AEConfig, ae_generator
    has_bn = [any(isinstance(m, torch.nn.BatchNorm2d) for m in ae_generator(
        AEConfig(width=8, z_dim=8, code_dim=8, style="began-nn", g_norm=norm)).modules()) for norm in ("none", "batch")]
    assert has_bn == [False, True]
    with pytest.raises(ValueError, match="g_norm"):
        AEConfig(width=8, z_dim=8, code_dim=8, style="dcgan", g_norm="batch")
