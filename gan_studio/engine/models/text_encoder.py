"""Words -> ids -> a sentence embedding, for text-conditioned generators (models/text_gan.py).

Tokenising: lower case, words are runs of letters or of digits (`tokenize("Thin, upright 0")` ->
["thin", "upright", "0"]); punctuation and spaces separate words and are dropped. A vocabulary is a plain list of
words kept in the model file's metadata (its config); word i has id i + 1, id 0 pads. A word the vocabulary lacks
is refused with one line naming it and listing the known words (`encode`), never silently dropped.

A word whose embedding row is all zeros is read as padding: the training recipe zeroes the words no training caption
uses (their rows never get a gradient), so a caption's unseen words are ignored rather than read as random vectors.

The encoder (`TextEncoder`) is word level and small: an embedding per word, one 1-D convolution over
neighbouring words (width 3, so "leaning left" and "left ... leaning" differ), LeakyReLU, the mean over the
caption's words (padding masked) and a linear layer. It has no pre-training: it is learnt with the GAN, by the
discriminator's loss (and the generator reads a copy of it), or by each network's own loss (text_gan.py's
module docstring).
"""
from __future__ import annotations

import re
from collections.abc import Sequence

import torch
from torch import nn

from ..errors import UserError

WORD = re.compile(r"[a-z]+|[0-9]+")


def tokenize(text: str) -> list[str]:
    """'Thin, upright 0' -> ['thin', 'upright', '0']."""
    return WORD.findall(str(text).lower())


def encode(vocab: Sequence[str], texts: Sequence[str], max_words: int) -> torch.Tensor:
    """Captions -> ids (N, L) int64, L the longest caption's word count, 0-padded; UserError on a caption with
    no words, more than `max_words` words, or words not in `vocab`."""
    index = {w: i + 1 for i, w in enumerate(vocab)}
    rows = []
    for text in texts:
        words = tokenize(text)
        if not words:
            raise UserError(f"caption {text!r} has no words (known words: {', '.join(vocab)})")
        unknown = sorted({w for w in words if w not in index})
        if unknown:
            raise UserError(f"unknown word{'s' if len(unknown) > 1 else ''} {', '.join(unknown)} in caption "
                            f"{text!r} (known words: {', '.join(vocab)})")
        if len(words) > max_words:
            raise UserError(f"caption {text!r} has {len(words)} words; this model reads at most {max_words}")
        rows.append([index[w] for w in words])
    width = max((len(r) for r in rows), default=1)
    out = torch.zeros(len(rows), width, dtype=torch.int64)
    for i, r in enumerate(rows):
        out[i, :len(r)] = torch.tensor(r, dtype=torch.int64)
    return out


def decode(vocab: Sequence[str], ids: torch.Tensor) -> list[list[str]]:
    """ids (N, L) -> the words of each row (padding left out)."""
    return [[vocab[i - 1] for i in row if i > 0] for row in ids.tolist()]


class TextEncoder(nn.Module):
    """ids (N, L) int64 -> (N, out_dim): embedding, conv over words, masked mean, linear."""

    def __init__(self, vocab_size: int, embed_dim: int, out_dim: int):
        super().__init__()
        self.embed = nn.Embedding(vocab_size + 1, embed_dim, padding_idx=0)
        self.conv = nn.Conv1d(embed_dim, out_dim, 3, padding=1)
        self.out = nn.Linear(out_dim, out_dim)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        known = self.embed.weight.detach().abs().sum(1) > 0         # a word whose embedding is all zeros is padding
        mask = ((ids > 0) & known[ids]).unsqueeze(1).float()        # (N, 1, L)
        h = self.embed(ids).transpose(1, 2) * mask                  # (N, E, L)
        h = nn.functional.leaky_relu(self.conv(h), 0.2) * mask      # (N, D, L)
        h = h.sum(2) / mask.sum(2).clamp_min(1.0)                   # (N, D)
        return self.out(h)
