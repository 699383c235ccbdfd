"""GAN-CLS / GAN-INT-CLS (Reed et al. 2016, "Generative Adversarial Text to Image Synthesis"): a DCGAN-style
generator conditioned on [z, text embedding] and a matching-aware discriminator (`--arch gan-cls`).

Design. Each network owns a word-level `TextEncoder` (text_encoder.py), so each file is self-contained; there is no
separately pre-trained char-CNN-RNN as in the paper: the captions here are short and generated from a 39-word
vocabulary, and the matching-aware discriminator's "wrong text" term alone teaches its encoder which words matter.
The generator's encoder is either trained by the generator's own loss, or (the recipe's option "shared_encoder",
as the shipped model was trained after its step 1,750) a copy of the discriminator's, refreshed after every
discriminator step — the paper's arrangement of one encoder both networks read. Both compress the sentence
embedding with a linear layer + LeakyReLU(0.2) to `cond_dim` numbers, as the paper does.

Generator: ws = [ψ·z, cond] (N, 1, z_dim + cond_dim), so the text lives in the generator's ws like the class of a
conditional model: walks between captions interpolate ws, and the rest of the app (renders, walks, exports)
takes these ws as they are. `mapping(z, c)` reads `c` as caption ids (N, L) (`tokenize_captions`), or as
ready embeddings (N, cond_dim) float; without `c` it captions each z "a K" with K = argmax of z's first ten
coordinates, so panels that know nothing of text still show a spread of digits. synthesis: DCGAN's
linear -> (128, 7, 7) -> ConvT 64 -> ConvT C -> tanh, batch norm + ReLU between.

Discriminator: conv 4×4 s2 (64) -> LeakyReLU -> conv 4×4 s2 (128) -> LeakyReLU, the compressed text embedding
tiled over the 7×7 map and concatenated (as in the paper), conv 1×1 -> 128, LeakyReLU, linear -> one logit, plus
a projection term (Miyato & Koyama 2018) <V·cond, mean over positions of the conv features>: with the paper's
concatenation alone the "wrong text" term stayed at log ½ for 450 steps here (the discriminator did not read the
text), the inner product gives it a direct path. `forward(x, c)` with `c` ids (N, L) or embeddings (N, cond_dim).
Losses: training/recipe_text.py.

The vocabulary is part of the config (`vocab`: a plain list of words in the file's JSON metadata), since the
encoders' embedding tables are sized by it.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import torch
from torch import nn

from ..config import Config
from ..device import device_of
from ..errors import UserError
from ..registry import ARCHITECTURES
from .base import Family, ImageGenerator
from .dcgan import RESOLUTIONS, critic_convs, generator_body
from .text_encoder import TextEncoder, encode

DEFAULT_WORDS = ("a",) + tuple(str(d) for d in range(10))     # the captions "a K" of a generator given no text


@dataclass
class TextGANConfig(Config):
    vocab: list = field(default_factory=list)    # the words, in id order (id i + 1)
    z_dim: int = 64
    embed_dim: int = 64          # word embedding
    text_dim: int = 128          # sentence embedding (the encoder's output)
    cond_dim: int = 64           # compressed embedding fed to the generator / tiled into the discriminator
    max_words: int = 16
    width: int = 64
    img_resolution: int = 28
    img_channels: int = 1

    def __post_init__(self) -> None:
        if not isinstance(self.vocab, list) or len(self.vocab) < 2 or not all(
                isinstance(w, str) and w for w in self.vocab) or len(set(self.vocab)) != len(self.vocab):
            raise ValueError("vocab must be a list of at least 2 distinct non-empty words")
        if len(self.vocab) > 100_000:
            raise ValueError("vocab holds more than 100,000 words")
        if self.img_resolution not in RESOLUTIONS:
            raise ValueError(f"img_resolution must be one of {sorted(RESOLUTIONS)}, not {self.img_resolution}")
        if self.img_channels not in (1, 3):
            raise ValueError(f"img_channels must be 1 or 3, not {self.img_channels}")
        if min(self.z_dim, self.embed_dim, self.text_dim, self.cond_dim, self.max_words, self.width) < 1:
            raise ValueError("z_dim, embed_dim, text_dim, cond_dim, max_words and width must be positive")

    def channels(self) -> list[int]:
        _, ups = RESOLUTIONS[self.img_resolution]
        return [self.width * 2 ** (ups - 1 - i) for i in range(ups)]


class _Condition(nn.Module):
    """ids (N, L) -> compressed embedding (N, cond_dim); a float (N, cond_dim) passes through."""

    def __init__(self, cfg: TextGANConfig):
        super().__init__()
        self.encoder = TextEncoder(len(cfg.vocab), cfg.embed_dim, cfg.text_dim)
        self.compress = nn.Sequential(nn.Linear(cfg.text_dim, cfg.cond_dim), nn.LeakyReLU(0.2))
        self.cond_dim = cfg.cond_dim

    def forward(self, c: torch.Tensor) -> torch.Tensor:
        if c.is_floating_point():
            if c.ndim != 2 or c.shape[1] != self.cond_dim:
                raise UserError(f"text embeddings must have shape (N, {self.cond_dim}), not {tuple(c.shape)}")
            return c
        return self.compress(self.encoder(c))


class TextGenerator(ImageGenerator):
    text_conditioned = True

    def __init__(self, cfg: TextGANConfig):
        super().__init__()
        self.cfg = cfg
        self.vocab = list(cfg.vocab)
        self.z_dim, self.cond_dim = cfg.z_dim, cfg.cond_dim
        self.w_dim, self.num_ws, self.c_dim = cfg.z_dim + cfg.cond_dim, 1, 0
        self.img_channels, self.img_resolution = cfg.img_channels, cfg.img_resolution
        self.base, _ = RESOLUTIONS[cfg.img_resolution]
        chans = cfg.channels()
        self.condition = _Condition(cfg)
        self.fc, self.net = generator_body(self.w_dim, chans, self.base, cfg.img_channels)

    def tokenize_captions(self, texts: Sequence[str]) -> torch.Tensor:
        """Captions -> ids (N, L) on this generator's device (UserError naming unknown words)."""
        return encode(self.vocab, list(texts), self.cfg.max_words).to(device_of(self))

    def _default_ids(self, z: torch.Tensor) -> torch.Tensor:
        if not all(w in self.vocab for w in DEFAULT_WORDS) or self.z_dim < 10:
            raise UserError("this text model needs a caption (its vocabulary has no 'a 0' … 'a 9')")
        table = torch.tensor([[self.vocab.index("a") + 1, self.vocab.index(str(d)) + 1] for d in range(10)],
                             device=z.device)
        return table[z[:, :10].argmax(1)]

    def mapping(self, z: torch.Tensor, c: torch.Tensor | None = None, truncation_psi: float = 1.0,
                truncation_cutoff: int | None = None) -> torch.Tensor:
        """z (N, z_dim), captions `c` (ids (N, L) or embeddings (N, cond_dim); None: "a K" from z) -> ws
        (N, 1, z_dim + cond_dim); ψ scales z only."""
        cond = self.condition(self._default_ids(z) if c is None else c.to(z.device))
        if cond.shape[0] == 1 and z.shape[0] > 1:
            cond = cond.expand(z.shape[0], -1)
        if cond.shape[0] != z.shape[0]:
            raise UserError(f"{cond.shape[0]} captions for {z.shape[0]} latents")
        return torch.cat([z * float(truncation_psi), cond], 1).unsqueeze(1)

    def sefa_weight(self) -> torch.Tensor:
        """The weight that first maps z (out, z_dim), for SeFa (the caption's columns left out)."""
        return self.fc[0].weight[:, :self.z_dim]

    def first_layer(self, z: torch.Tensor) -> torch.Tensor:
        """First-layer activations (N, ch0 * b * b) of z's default captions, for GANSpace."""
        return self.fc(self.mapping(z)[:, 0])

    def synthesis(self, ws: torch.Tensor, noise_mode: str = "const") -> torch.Tensor:
        x = self.fc(ws[:, 0])
        return self.net(x.view(x.shape[0], -1, self.base, self.base))


class MatchingCritic(nn.Module):
    """forward(x, c) -> one logit per (image, caption) pair: high when the image is real and matches the text."""

    def __init__(self, cfg: TextGANConfig):
        super().__init__()
        self.cfg = cfg
        chans = cfg.channels()[::-1]
        self.net = critic_convs(cfg.img_channels, chans)
        cin = chans[-1]
        self.condition = _Condition(cfg)
        self.joint = nn.Sequential(nn.Conv2d(cin + cfg.cond_dim, cin, 1), nn.LeakyReLU(0.2, True))
        base, _ = RESOLUTIONS[cfg.img_resolution]
        self.fc = nn.Linear(cin * base * base, 1)
        self.project = nn.Linear(cfg.cond_dim, cin, bias=False)        # the projection term's text side

    def forward(self, x: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        if c is None:
            raise UserError("the matching-aware discriminator scores an image together with its caption")
        h = self.net(x)                                                     # (N, 128, b, b)
        cond = self.condition(c.to(x.device))                              # (N, cond_dim)
        tiled = cond[:, :, None, None].expand(-1, -1, h.shape[2], h.shape[3])
        joint = self.fc(self.joint(torch.cat([h, tiled], 1)).flatten(1)).squeeze(1)
        return joint + (self.project(cond) * h.mean((2, 3))).sum(1)


ARCHITECTURES.register("gan-cls")(Family(TextGANConfig, {"generator": TextGenerator, "critic": MatchingCritic},
                                         "image-generator"))
