"""How recognisable a voxel model's random shapes are, in the `voxnet-modelnet10` classifier's eyes
(voxel_features.py), as `eval3d` reports them beside the reconstruction IoU:

    confidence        mean max-softmax over the shapes (real test objects: the same figure beside it)
    classes_covered   classes that are the guess for at least 1 % of the shapes
    entropy_bits      entropy of the guessed-label histogram (log2 10 = 3.32 for ten equally common classes)
    fid               Fréchet distance of the shapes' penultimate features to the real split's (a "3D FID",
                      fid.py's), with its floor beside it: as many objects of the other real split, same distance
    vs_other          the distance to the other split's remaining objects (the model's own training data when
                      the test split is evaluated), with a floor free of the splits' different class mix: the
                      floor sample against those same objects. ModelNet10's train split is 22 % chairs and 2 %
                      bathtubs, its test split 11 % and 6 %: in voxnet-modelnet10 features train-vs-test is 225,
                      train resampled to the test's class mix 27, train against train 16

Random shapes are seeds 0 … N-1 (the seeds `sample3d` and the 3D tab use), drawn at the truncation ψ by the model's
sampler (models/voxel_prior.py: the GAN's z = ψ · draw, or a fitted prior), solid above the threshold (the
model's `sample_threshold` and `truncation`: sampling3d.py chooses them).
"""
from __future__ import annotations

import math
from collections.abc import Iterator, Sequence

import torch

from ..data.voxels import VoxelDataset
from ..errors import UserError
from ..models.voxel_prior import as_sampler
from .features import get_extractor
from .fid import fid_from_features
from .voxel_features import NAME, VoxNetFeatures

MIN_SHARE = 0.01                 # a class is "covered" when at least this share of the shapes is guessed as it
MIN_REF = 100                    # objects of the other split, beyond the floor sample, for its own distance


def label_figures(probs: torch.Tensor, classes: Sequence[str], min_share: float = MIN_SHARE) -> dict:
    """Class probabilities (N, C) -> {"confidence", "classes_covered", "entropy_bits", "shares"}."""
    n = probs.shape[0]
    counts = torch.bincount(probs.argmax(1), minlength=len(classes)).double()
    shares = counts / max(n, 1)
    nz = shares[shares > 0]
    return {"confidence": float(probs.max(1).values.mean()) if n else float("nan"),
            "classes_covered": int((shares >= min_share).sum()),
            "entropy_bits": float(-(nz * nz.log2()).sum()) if n else float("nan"),
            "shares": {c: round(float(s), 4) for c, s in zip(classes, shares)}}


@torch.no_grad()
def random_probs(sampler, seeds: Sequence[int], truncation: float = 1.0, batch: int = 50) -> torch.Tensor:
    """Occupancy probabilities of `seeds` at ψ `truncation`: (N, 32, 32, 32) on the CPU. `sampler`: a SeedSampler
    (models/voxel_prior.py; a VoxelModel's `.sampler()`), or a bare generator (z = ψ · the seed's draw)."""
    s = as_sampler(sampler)
    s.decoder.eval()
    device = next(s.decoder.parameters()).device
    out = []
    for i in range(0, len(seeds), batch):
        z = s.latents(seeds[i:i + batch], truncation).to(device)
        out.append(s.decoder(z)[:, 0].float().cpu())
    return torch.cat(out) if out else torch.zeros(0, 32, 32, 32)


def random_shapes(sampler, seeds: Sequence[int], threshold: float, batch: int = 50,
                  truncation: float = 1.0) -> torch.Tensor:
    """The shapes of `seeds` (see random_probs), solid above `threshold`: (N, 32, 32, 32) bool on the CPU."""
    return random_probs(sampler, seeds, truncation, batch) > threshold


def _random_features(net: VoxNetFeatures, sampler, threshold: float, n: int, batch: int, truncation: float):
    """Yields progress over seeds 0 … n-1; returns (features, probabilities, mean occupancy) of their shapes."""
    seeds = list(range(n))
    feats, probs, occupancy = [], [], []
    for i in range(0, n, batch):
        grids = random_shapes(sampler, seeds[i:i + batch], threshold, batch, truncation)
        occupancy.append(grids.flatten(1).double().mean(1))
        f, p = net.features_and_probs(grids)
        feats.append(f)
        probs.append(p)
        yield {"stage": "random shapes", "done": min(i + batch, n), "total": n}
    return torch.cat(feats), torch.cat(probs), float(torch.cat(occupancy).mean())


def _against_other(f_gen: torch.Tensor, f_other: torch.Tensor, pick: torch.Tensor, split: str) -> dict | None:
    """The Fréchet distance to the other split's objects left out of the floor sample `pick` (for a model trained
    on that split: its own data), with the floor sample against the same objects as the floor — what shapes drawn
    from that split's distribution score, free of the splits' different class mix. None with < MIN_REF left."""
    rest = torch.ones(len(f_other), dtype=torch.bool)
    rest[pick] = False
    if int(rest.sum()) < MIN_REF:
        return None
    fid, floor = fid_from_features(f_gen, f_other[rest]), fid_from_features(f_other[pick], f_other[rest])
    return {"split": split, "fid": fid, "floor": floor, "ratio": fid / floor if floor > 0 else float("nan"),
            "n_ref": int(rest.sum()), "n_floor": len(pick)}


def random_shape_figures(net: VoxNetFeatures, sampler, threshold: float, real: VoxelDataset,
                         other: VoxelDataset, n: int = 1000, seed: int = 0, batch: int = 50,
                         truncation: float = 1.0) -> Iterator[dict]:
    """Random-shape figures of `sampler` (a SeedSampler or a bare generator: random_probs; seeds 0 … n-1 at ψ
    `truncation`, solid above `threshold`) against `real` (the evaluated split), with the floor from `other` (the
    other split: min(n, len(other)) objects drawn with `seed`), and the distance to the rest of `other` with its
    own floor ("vs_other", see _against_other).

    Yields progress {"stage", "done", "total"}, then {"result": {...}}."""
    if n < 2:
        raise UserError(f"the random-shape figures need at least 2 shapes (a covariance), not {n}")
    f_gen, p_gen, occupancy = yield from _random_features(net, sampler, threshold, n, batch, truncation)
    f_real, p_real = net.features_and_probs(real.voxels)
    yield {"stage": "real objects", "done": len(real), "total": len(real)}
    f_other = net(other.voxels)
    pick = torch.randperm(len(other), generator=torch.Generator().manual_seed(seed))[:n]
    fid, floor = fid_from_features(f_gen, f_real), fid_from_features(f_other[pick], f_real)
    real_figs = label_figures(p_real, net.classes)
    real_figs["accuracy"] = float((p_real.argmax(1) == real.labels).double().mean())
    real_figs["mean_occupancy"] = float(real.voxels.flatten(1).double().mean()) if len(real) else float("nan")
    yield {"result": {
        "n": n, "seeds": f"0-{n - 1}", "sampler": as_sampler(sampler).name, "threshold": float(threshold),
        "truncation": float(truncation), "classifier": net.name,
        "classifier_weights": net.path.name, "random": label_figures(p_gen, net.classes), "real": real_figs,
        "real_split": real.split, "n_real": len(real), "fid": fid, "fid_floor": floor,
        "fid_ratio": fid / floor if floor > 0 else float("nan"), "floor_split": other.split,
        "n_floor": len(pick), "vs_other": _against_other(f_gen, f_other, pick, other.split),
        "mean_occupancy": occupancy,
    }}


def guess_shape(grid, threshold: float, top: int = 3, spec: str = NAME) -> dict:
    """What the classifier (`spec`, default the shipped one, loaded once) takes one grid for, as the 3D tab shows
    it: {"top": [(class, probability)], "classifier": name, "test_accuracy": its recorded accuracy or None}."""
    net = get_extractor(spec)
    acc = (net.meta.get("metrics") or {}).get("test_accuracy")
    return {"top": net.guess(grid, threshold, top), "classifier": net.name, "test_accuracy": acc}


SAMPLER_WORDS = {"prior": "from the fitted prior ", "gan": "from the GAN's generator "}


def summary_lines(r: dict) -> list[str]:
    """The figures as `eval3d` prints them."""
    g, t, o = r["random"], r["real"], r.get("vs_other")
    top = sorted(g["shares"].items(), key=lambda kv: -kv[1])[:4]
    return [
        f"random shapes {SAMPLER_WORDS.get(r.get('sampler'), '')}(seeds {r['seeds']}, threshold {r['threshold']:g}, "
        f"truncation ψ {r.get('truncation', 1.0):g}; "
        f"classifier {r['classifier']}):",
        f"  confidence {g['confidence']:.3f} (real {r['real_split']} objects {t['confidence']:.3f}, "
        f"classified right {t['accuracy']:.3f})",
        f"  classes covered (>= {MIN_SHARE:.0%}) {g['classes_covered']} of {len(g['shares'])} "
        f"(real {t['classes_covered']}); label entropy {g['entropy_bits']:.3f} bits "
        f"(real {t['entropy_bits']:.3f}, max {math.log2(len(g['shares'])):.3f})",
        "  most guessed: " + ", ".join(f"{c} {s:.1%}" for c, s in top),
        f"  3D FID {r['fid']:.3f} vs the {r['real_split']} split (floor {r['fid_floor']:.3f}: "
        f"{r['n_floor']} {r['floor_split']} objects; ratio {r['fid_ratio']:.2f})",
    ] + ([] if not o else [
        f"  3D FID {o['fid']:.3f} vs {o['n_ref']} {o['split']} objects (floor {o['floor']:.3f}: the other "
        f"{o['n_floor']} {o['split']} objects, same class mix; ratio {o['ratio']:.2f})"])
