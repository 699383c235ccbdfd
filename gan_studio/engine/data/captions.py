"""MNIST with generated captions, for text-to-image GANs (GAN-CLS, Reed et al. 2016): each digit is described by
its class and by four attributes measured from its pixels, phrased in one of a few templates.

Attributes (`measure`, on 28×28 uint8 images; ink mass I/255, moments about the ink's centroid, x right, y down;
sxx, syy, sxy the ink's variances and covariance):
    thickness = 2·A / P on the binarised ink (I > 127): A ink pixels, P ink/background pixel edges. A stroke of
                width w and length L >> w gives 2wL / (2L + 2w) ≈ w, so it is the stroke width in pixels.
    slant     = −sxy / syy: the horizontal shift per pixel of height (> 0: the top leans right).
    width     = √(12 (sxx − sxy² / syy)): the ink's horizontal spread once the slant is sheared away, as the width
                of a uniform bar with that variance (px).
    size      = √(12 · syy): the ink's vertical spread as a uniform bar's height (px).
Words: thickness, width and size are cut in three by the tertiles of their own digit class on the training split
(`thresholds`), so "wide" means wide for that digit (a wide 1 is still narrower than a narrow 0); slant by the
fixed SLANT_CUTS for every class (upright: a shear within −0.05…0.15, about −3°…9°): leaning
left | upright | leaning right; thickness thin | – | thick; width narrow | – | wide; size small | – | large
(– : the middle third has no word, the attribute goes unsaid).

Captions (`caption`): the class (as a numeral or a word) and a random subset of the attributes that have words,
in a template; everything drawn from a generator seeded by (seed, image index, variant), so the same call gives
the same caption on every machine. TRAIN_TEMPLATES train; TEST_TEMPLATES are held out. The HELD_OUT attribute
combinations never appear together in a training caption (one of the two words is dropped there) and are asked
for in the test captions.
"""
from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np

ATTRIBUTES = ("thickness", "slant", "width", "size")
WORDS = {"thickness": ("thin", None, "thick"), "slant": ("leaning left", "upright", "leaning right"),
         "width": ("narrow", None, "wide"), "size": ("small", None, "large")}
NUMBER_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
# {adj} / {adjc}: thickness, width and size words before the digit (spaces / commas), {post}: the slant after it,
# {d}: the digit (numeral or word), {list}: every named attribute joined with "and".
TRAIN_TEMPLATES = ("a {adj} {d}{post}", "{adjc} {d}{post}", "the digit {d}, {list}", "a {d} that is {list}")
TEST_TEMPLATES = ("an image of a {adj} {d}{post}", "{d}: {list}")
SLANT_CUTS = (-0.05, 0.15)
HELD_OUT = (("thick", "leaning left"), ("wide", "small"))    # never together in a training caption


def _vocabulary() -> tuple[str, ...]:
    words = {"a", "an", "the", "digit", "that", "is", "and", "image", "of"}
    words |= {str(d) for d in range(10)} | set(NUMBER_WORDS)
    for options in WORDS.values():
        for w in options:
            words |= set((w or "").split())
    return tuple(sorted(words))


VOCAB = _vocabulary()


# ------------------------------------------------------------------ measuring

def measure(images: np.ndarray) -> np.ndarray:
    """(N, 28, 28) or (N, 1, H, W) uint8 -> (N, 4) float32: thickness, slant, width, size (module docstring)."""
    x = np.asarray(images)
    x = x.reshape(x.shape[0], x.shape[-2], x.shape[-1]).astype(np.float64) / 255.0
    n, h, w = x.shape
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float64)
    m00 = x.sum((1, 2)).clip(1e-6)
    cx = (x * xs).sum((1, 2)) / m00
    cy = (x * ys).sum((1, 2)) / m00
    dx, dy = xs[None] - cx[:, None, None], ys[None] - cy[:, None, None]
    sxx = (x * dx * dx).sum((1, 2)) / m00
    syy = ((x * dy * dy).sum((1, 2)) / m00).clip(1e-6)
    sxy = (x * dx * dy).sum((1, 2)) / m00
    ink = np.pad(x > 0.5, ((0, 0), (1, 1), (1, 1)))
    area = ink.sum((1, 2))
    edges = (ink[:, 1:, :] != ink[:, :-1, :]).sum((1, 2)) + (ink[:, :, 1:] != ink[:, :, :-1]).sum((1, 2))
    thickness = 2.0 * area / np.maximum(edges, 1)
    slant = -sxy / syy
    width = np.sqrt(12.0 * np.maximum(sxx - sxy * sxy / syy, 0.0))
    size = np.sqrt(12.0 * syy)
    return np.stack([thickness, slant, width, size], 1).astype(np.float32)


def thresholds(attrs: np.ndarray, labels: np.ndarray, classes: int = 10) -> np.ndarray:
    """(classes, 4, 2) float: the words' boundaries, each attribute's tertiles within each class (slant:
    SLANT_CUTS)."""
    out = np.zeros((classes, len(ATTRIBUTES), 2), np.float32)
    for k in range(classes):
        a = attrs[labels == k]
        if len(a):
            out[k] = np.quantile(a, [1 / 3, 2 / 3], axis=0).T
    out[:, ATTRIBUTES.index("slant")] = SLANT_CUTS
    return out


def buckets(attrs: np.ndarray, labels: np.ndarray, cuts: np.ndarray) -> np.ndarray:
    """(N, 4) int in {0, 1, 2}: below the first tertile, between, above the second (of the digit's class)."""
    c = cuts[np.asarray(labels)]                                     # (N, 4, 2)
    return (attrs > c[..., 0]).astype(np.int64) + (attrs > c[..., 1]).astype(np.int64)


# ------------------------------------------------------------------ phrasing

@dataclass(frozen=True)
class Caption:
    text: str
    label: int
    asked: tuple[int, int, int, int]      # per attribute: the bucket the caption names, or -1 when unsaid
    template: int                         # index into TRAIN_TEMPLATES + TEST_TEMPLATES


def phrase(label: int, asked: tuple[int, ...], template: str, numeral: bool) -> str:
    """The caption of digit `label` naming the buckets in `asked` (-1: unsaid) with `template`."""
    said = {a: WORDS[a][b] for a, b in zip(ATTRIBUTES, asked) if b >= 0 and WORDS[a][b]}
    adjs = [said[a] for a in ("thickness", "width", "size") if a in said]
    slant = said.get("slant")
    listed = adjs + ([slant] if slant else [])
    d = str(label) if numeral else NUMBER_WORDS[label]
    fields = {"d": d, "adj": " ".join(adjs), "adjc": ", ".join(adjs), "post": f" {slant}" if slant else "",
              "list": " and ".join(listed) if listed else "as usual"}
    if "{list}" in template and not listed:
        template = "a {d}"
    text = template.format(**fields)
    return " ".join(text.replace(" ,", ",").split())


def _held_out(words: set[str]) -> bool:
    return any(a in words and b in words for a, b in HELD_OUT)


def caption(label: int, bucket: np.ndarray, index: int, variant: int = 0, seed: int = 0,
            test: bool = False) -> Caption:
    """One caption of an image of class `label` with attribute buckets `bucket` (4,), deterministic in
    (seed, index, variant). Training captions use TRAIN_TEMPLATES and never pair a HELD_OUT combination;
    test captions use TEST_TEMPLATES."""
    rng = random.Random(f"{seed}:{index}:{variant}:{int(test)}")
    templates = TEST_TEMPLATES if test else TRAIN_TEMPLATES
    t = rng.randrange(len(templates))
    asked = [int(b) if WORDS[a][int(b)] and rng.random() < 0.6 else -1 for a, b in zip(ATTRIBUTES, bucket)]
    if not test:
        while _held_out({WORDS[a][b] for a, b in zip(ATTRIBUTES, asked) if b >= 0}):
            named = [i for i, b in enumerate(asked) if b >= 0]
            asked[named[rng.randrange(len(named))]] = -1
    text = phrase(int(label), asked, templates[t], numeral=rng.random() < 0.5)
    return Caption(text, int(label), tuple(asked), t + (len(TRAIN_TEMPLATES) if test else 0))


@dataclass
class CaptionSet:
    """Captions of a set of images: `captions[v][i]` is variant v of image i."""
    attrs: np.ndarray            # (N, 4) measured
    buckets: np.ndarray          # (N, 4)
    labels: np.ndarray           # (N,)
    cuts: np.ndarray             # (10, 4, 2)
    captions: list[list[Caption]]


def caption_set(images: np.ndarray, labels: np.ndarray, variants: int = 1, seed: int = 0, test: bool = False,
                cuts: np.ndarray | None = None) -> CaptionSet:
    """`variants` captions per image (the thresholds: `cuts`, else this set's own tertiles)."""
    labels = np.asarray(labels).astype(np.int64)
    attrs = measure(images)
    cuts = thresholds(attrs, labels) if cuts is None else cuts
    b = buckets(attrs, labels, cuts)
    caps = [[caption(labels[i], b[i], i, v, seed, test) for i in range(len(labels))] for v in range(variants)]
    return CaptionSet(attrs, b, labels, cuts, caps)


def held_out_captions(n: int, seed: int = 0) -> list[Caption]:
    """`n` test captions asking for the HELD_OUT combinations (cycling through them and the ten digits), in
    the test templates."""
    out = []
    for i in range(n):
        rng = random.Random(f"held:{seed}:{i}")
        w1, w2 = HELD_OUT[i % len(HELD_OUT)]
        asked = [-1] * 4
        for w in (w1, w2):
            a = next(a for a in ATTRIBUTES if w in WORDS[a])
            asked[ATTRIBUTES.index(a)] = WORDS[a].index(w)
        label = (i // len(HELD_OUT)) % 10
        t = rng.randrange(len(TEST_TEMPLATES))
        text = phrase(label, tuple(asked), TEST_TEMPLATES[t], numeral=rng.random() < 0.5)
        out.append(Caption(text, label, tuple(asked), t + len(TRAIN_TEMPLATES)))
    return out


def describe() -> dict:
    """The dataset's definitions, as plain JSON for a model file's metadata."""
    return {"attributes": list(ATTRIBUTES), "words": {a: list(w) for a, w in WORDS.items()},
            "train_templates": list(TRAIN_TEMPLATES), "test_templates": list(TEST_TEMPLATES),
            "held_out": [list(p) for p in HELD_OUT],
            "definitions": "thickness 2A/P of the binarised ink; slant -sxy/syy; width sqrt(12(sxx - sxy^2/syy)); "
                           "size sqrt(12 syy); words by per-class tertiles of the training split"}
