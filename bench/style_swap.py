"""Why does the compact StyleGAN2 collapse on MNIST? Swap and ablation runs of the stylegan2 recipe.

    python bench/style_swap.py --pair ss|gs|ds --out runs/swap/x.safetensors [--steps 1000] [--g-lr L] [--d-lr L]
        [--betas 0,0.99] [--gamma 0.1] [--mixing 0.9] [--no-demod] [--mapping-lr-mul 0.01] [--arch-config JSON]

Trains with the stylegan2 recipe (non-saturating loss, lazy R1, style mixing, generator EMA) on MNIST at 32 px,
batch 32, one CPU thread, with the networks swapped:
  ss = style generator + style critic (the shipped configuration),
  gs = style generator + DCGAN critic (width 64),
  ds = DCGAN generator (width 64) + style critic (mixing off: a DCGAN has one ws),
and prints the fixed-seed sample diversity (pixel std across the 64 seeds; MNIST ≈ 0.27) every 250 steps —
the number that falls when a run collapses. The samples grid is written next to --out.
"""
from __future__ import annotations

import argparse
import json

import torch

from gan_studio.engine.models import stylegan as sg
from gan_studio.engine.models.base import Family
from gan_studio.engine.models.dcgan import DCGANConfig, DCGANCritic, DCGANGenerator
from gan_studio.engine.registry import ARCHITECTURES
from gan_studio.engine.training.loop import TrainConfig, train
from gan_studio.engine.training.recipe_style import StyleGANRecipe
from gan_studio.engine.training.recipes import RECIPES


def _dcgan_config(cfg) -> DCGANConfig:
    return DCGANConfig(z_dim=cfg.z_dim, img_resolution=32, img_channels=1, width=64)


def _dcgan_generator(cfg):
    G = DCGANGenerator(_dcgan_config(cfg))
    G.cfg, G.ws_resolutions = cfg, [32]            # the recipe records the style config and the ws layout
    return G


def _register(pair: str) -> None:
    nets = {"ss": {"generator": sg.StyleGAN2Generator, "critic": sg.StyleGAN2Critic},
            "gs": {"generator": sg.StyleGAN2Generator, "critic": lambda cfg: DCGANCritic(_dcgan_config(cfg))},
            "ds": {"generator": _dcgan_generator, "critic": sg.StyleGAN2Critic}}[pair]
    name = f"swap-{pair}"
    if name not in ARCHITECTURES:
        ARCHITECTURES.register(name)(Family(sg.StyleGAN2Config, nets, kind="image-generator"))
        RECIPES.register(name)(StyleGANRecipe)


def _ablate(no_demod: bool, mapping_lr_mul: float) -> None:
    if no_demod:
        init = sg.ModulatedConv.__init__

        def no_demod_init(self, *a, **k):
            init(self, *a, **k)
            self.demodulate = False
        sg.ModulatedConv.__init__ = no_demod_init
    if mapping_lr_mul != 0.01:
        init_map = sg.MappingNetwork.__init__
        sg.MappingNetwork.__init__ = lambda self, cfg, lr_mul=0.01: init_map(self, cfg, lr_mul=mapping_lr_mul)


def _split_lrs(g_lr: float | None, d_lr: float | None) -> None:
    if g_lr is None and d_lr is None:
        return
    init = StyleGANRecipe.__init__

    def init_with_lrs(self, cfg, device):
        init(self, cfg, device)
        for opt, lr in ((self.opt_g, g_lr), (self.opt_d, d_lr)):
            for group in opt.param_groups:
                group["lr"] = lr if lr is not None else group["lr"]
    StyleGANRecipe.__init__ = init_with_lrs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pair", choices=["ss", "gs", "ds"], required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--data", default="../shared/data/mnist")
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--lr", type=float, default=0.0025, help="both networks, unless --g-lr / --d-lr")
    ap.add_argument("--g-lr", type=float, default=None)
    ap.add_argument("--d-lr", type=float, default=None)
    ap.add_argument("--betas", default="0,0.99")
    ap.add_argument("--gamma", type=float, default=0.1)
    ap.add_argument("--mixing", type=float, default=0.9)
    ap.add_argument("--no-demod", action="store_true")
    ap.add_argument("--tanh", action="store_true", help="squash the generator's output with tanh (as a DCGAN)")
    ap.add_argument("--mapping-lr-mul", type=float, default=0.01)
    ap.add_argument("--arch-config", default='{"mapping_layers": 2}')
    args = ap.parse_args()
    _register(args.pair)
    _ablate(args.no_demod, args.mapping_lr_mul)
    if args.tanh:
        synth = sg.StyleGAN2Generator.synthesis
        sg.StyleGAN2Generator.synthesis = lambda self, ws, noise_mode="const": torch.tanh(synth(self, ws, noise_mode))
    _split_lrs(args.g_lr, args.d_lr)
    cfg = TrainConfig(data=args.data, arch=f"swap-{args.pair}", arch_config=json.loads(args.arch_config), loss="ns",
                      reg_weight=args.gamma, steps=args.steps, batch=32, seed=0, lr=args.lr, threads=1,
                      options={"betas": [float(b) for b in args.betas.split(",")],
                               "mixing_prob": 0.0 if args.pair == "ds" else args.mixing},
                      checkpoint_every=250, sample_every=250)
    torch.set_num_threads(1)
    command = "python bench/style_swap.py " + " ".join(f"{k}={v}" for k, v in vars(args).items())
    for p in train(cfg, args.out, command=command):
        if p.step % 50 == 0:
            print(p.step, {k: round(v, 3) for k, v in p.losses.items()}, flush=True)
        if p.diversity is not None:
            print(f"diversity at step {p.step}: {p.diversity:.4f}", flush=True)


if __name__ == "__main__":
    main()
