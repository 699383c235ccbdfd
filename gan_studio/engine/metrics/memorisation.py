"""Are a generator's samples copies of its training images? A dataset-level memorisation check.

The standard way to see overfitting is to compare the model's relation to its training data with held-out
data's (Webster et al. 2019, "Detecting Overfitting of Deep Generative Networks via Latent Recovery", who also
show that a few nearest-neighbour pictures prove little). Here the statistic is the distance from an image to
its nearest training image, in each space of neighbours.py (pixels; features: lenet-mnist for MNIST-like images),
for `n` generated samples (seeds `seed` .. `seed + n - 1`, as `evaluate` draws them) and for held-out (test)
images the model never saw.

What is flagged. For an image x, d(x) is the distance to its nearest training image, and

    rho(x) = d(x) / median{ d(t) : t among the LOCAL_M = 25 held-out images nearest to x (x itself excluded) }
    tau    = the PERCENTILE = 1st percentile of rho over the held-out images

A sample is flagged when rho(x) < tau: it is closer to a training image than almost all (99 % of) held-out
images in its neighbourhood are. By construction 1 % of held-out images are flagged, and samples that are new
draws from the data's distribution show about 1 % too; copies of training images, even with some noise, show
close to 100 %. `memorised_fraction` is the flagged fraction (the larger of the spaces checked); the verdict is
"memorised" when it exceeds MEMORISED_ABOVE = 5 % in a space (five times the held-out rate; with n = 2000
samples the rate's standard error is 0.2 %), "ok" otherwise. A model that copies fewer than about 5 % of its
samples passes: read the fraction, not only the verdict.

Why relative to the neighbourhood: how close the nearest training image lies depends on the kind of image (on
MNIST 8.8 % of the test 1s lie below the 1st percentile of all test images' distances), so the plain global
test — "d(x) below the 1st percentile of the held-out d" — would call a model that draws mostly 1s a copier.
Its fraction is reported as `global_fraction`. (Meehan et al. 2020 make a data-copying test local the same way,
with cells of the training data.)

MiFID's memorisation distance (Bai et al. 2021): the mean over samples of min over training images of
1 - |cos(f(x), f(t))| in feature space. MiFID thresholds it at 0.1, a value set for Inception features of
Kaggle images; lenet-mnist features of MNIST test images are at about 0.01 themselves, so that fixed threshold
would call held-out data memorised. It is reported for the samples and for the held-out images (its
reference), not used for the verdict.
"""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import torch

from ..data import ImageDataset
from ..data.images import MNIST_NAMES
from ..errors import UserError
from ..latent.sampling import generate, seeds_latents
from .neighbours import (
    SPACES,
    Neighbours,  # noqa: F401  (re-exported with nearest_training_images: the neighbours API)
    Space,
    TopK,
    as_dataset,
    check_shape,
    feature_space,
    knn,
    nearest_training_images,  # noqa: F401
    no_features_message,
    pixel_space,
    resolve_features,
    training_chunks,
)

PERCENTILE = 1.0
LOCAL_M = 25
MEMORISED_ABOVE = 0.05
MIFID_EPS = 0.1            # MiFID's threshold (Inception features); reported for reference only
MIN_SAMPLES, MIN_TEST = 20, 100
N_CLOSEST = 5
GEN_BATCH = 250


def _test_split(path) -> Path | None:
    """The held-out split that comes with a training-data path: an MNIST folder itself (load_images' "test"
    split), or the t10k images next to an MNIST train-images IDX file; None for any other path."""
    p = Path(path).expanduser()
    stem = MNIST_NAMES["test"][0]
    if p.is_dir():
        return p if any((p / (stem + sfx)).is_file() for sfx in ("", ".gz")) else None
    if p.is_file() and p.name.startswith(MNIST_NAMES["train"][0]):
        sibling = p.with_name(p.name.replace(MNIST_NAMES["train"][0], stem))
        return sibling if sibling.is_file() else None
    return None


def held_out(data, test=None) -> ImageDataset:
    """The held-out images: `test` (a dataset or path), else the test split that comes with the path `data`."""
    if test is not None:
        if isinstance(test, (str, Path)) and isinstance(data, (str, Path)) and _test_split(test) is None and \
                Path(test).expanduser().resolve() == Path(data).expanduser().resolve():
            raise UserError(f"the held-out data {test} is the training data: give images the model never saw")
        return as_dataset(test, "test")
    split = _test_split(data) if isinstance(data, (str, Path)) else None
    if split is not None:
        return as_dataset(split, "test")
    where = data if isinstance(data, (str, Path)) else "the training data"
    raise UserError(f"{where} has no test split: give held-out images the model was not trained on (--test PATH)")


def _batches(source, n: int, seed: int, truncation_psi: float, device) -> Iterator[tuple[list, torch.Tensor]]:
    """(seeds or sample indices, images (B, C, H, W)) of the `n` samples: a generator's seeds seed..seed+n-1,
    a callable's `source(seeds)`, or the first n rows of an image tensor."""
    for a in range(0, n, GEN_BATCH):
        ids = list(range(a, min(a + GEN_BATCH, n)))
        if isinstance(source, torch.Tensor):
            yield ids, source[a:a + len(ids)].float()
            continue
        seeds = [seed + i for i in ids]
        if hasattr(source, "mapping") and hasattr(source, "synthesis"):
            x = generate(source, seeds_latents(seeds, source.z_dim), truncation_psi=truncation_psi, device=device)
        elif callable(source):
            x = torch.as_tensor(source(seeds))
        else:
            raise TypeError(f"expected a generator, a callable or an image tensor, not {type(source).__name__}")
        if x.ndim != 4 or x.shape[0] != len(seeds):
            raise UserError(f"the sampler returned shape {tuple(x.shape)} for {len(seeds)} samples, not (N, C, H, W)")
        yield seeds, x.float().cpu().clamp(-1, 1)


def _drop_self(idx: torch.Tensor) -> torch.Tensor:
    """(N, M+1) neighbour indices of the rows of a set among itself -> (N, M) without the row itself."""
    own = idx == torch.arange(idx.shape[0])[:, None]
    own[~own.any(1), -1] = True                 # the row itself not among them (duplicates): drop the farthest
    return idx[~own].reshape(idx.shape[0], idx.shape[1] - 1)


def _space_result(metric: str, d_gen, d_test, gen_rows, test_rows, ids, seeded: bool) -> dict:
    m = min(LOCAL_M, test_rows.shape[0] - 1)
    _, tt = knn(test_rows, test_rows, m + 1)
    _, gt = knn(gen_rows, test_rows, m)
    rho_test = d_test / d_test[_drop_self(tt)].median(1).values.clamp_min(1e-12)
    rho_gen = d_gen / d_test[gt].median(1).values.clamp_min(1e-12)
    q = PERCENTILE / 100.0
    tau, q_global = torch.quantile(rho_test, q).item(), torch.quantile(d_test, q).item()
    frac = (rho_gen < tau).double().mean().item()
    order = torch.argsort(rho_gen)[:N_CLOSEST]
    key = "seed" if seeded else "sample"
    return {"memorised_fraction": frac, "verdict": "memorised" if frac > MEMORISED_ABOVE else "ok",
            "global_fraction": (d_gen < q_global).double().mean().item(), "ratio_threshold": tau,
            "distance_threshold": q_global, "median_distance_generated": d_gen.median().item(),
            "median_distance_test": d_test.median().item(), "metric": metric,
            "closest": [{key: int(ids[j]), "ratio": rho_gen[j].item(), "distance": d_gen[j].item()} for j in order]}


def _checked_request(source, n, spaces) -> tuple[int, tuple]:
    """(the number of samples, the spaces) of a memorisation request, checked: one UserError otherwise."""
    if isinstance(n, bool) or not isinstance(n, int) or n < MIN_SAMPLES:
        raise UserError(f"--n must be at least {MIN_SAMPLES} samples, not {n}")
    if isinstance(source, torch.Tensor):
        if source.ndim != 4:
            raise UserError(f"expected images (N, C, H, W), not shape {tuple(source.shape)}")
        n = min(n, source.shape[0])
        if n < MIN_SAMPLES:
            raise UserError(f"need at least {MIN_SAMPLES} images, got {source.shape[0]}")
    spaces = tuple(dict.fromkeys(spaces))
    if not spaces or any(s not in SPACES for s in spaces):
        raise UserError(f"spaces must be among {', '.join(SPACES)}, not {', '.join(spaces) or 'none'}")
    return n, spaces


def _summary(source, embed, tops, gen, test_rows, ids, n, n_train, n_test, seed, truncation_psi, train, heldout,
             notes) -> dict:
    """The result dict (module docstring) from the nearest-neighbour distances found."""
    result = {"n": n, "n_train": n_train, "n_test": n_test, "seed": seed if not isinstance(source, torch.Tensor)
              else None, "truncation_psi": truncation_psi, "percentile": PERCENTILE, "local_neighbours": LOCAL_M,
              "fraction_threshold": MEMORISED_ABOVE, "spaces": {}}
    for k in embed:
        d = tops[k].result()[0][:, 0]
        result["spaces"][k] = _space_result(embed[k].metric, d[:n], d[n:], gen[k], test_rows[k], ids,
                                            not isinstance(source, torch.Tensor))
    if "features" in embed:
        result["spaces"]["features"]["features"] = embed["features"].features
        dm = tops["mifid"].result()[0][:, 0]
        result |= {"features": embed["features"].features, "mifid_distance": dm[:n].mean().item(),
                   "mifid_distance_test": dm[n:].mean().item(), "mifid_eps": MIFID_EPS}
    per = result["spaces"]
    result["memorised_fraction"] = max(s["memorised_fraction"] for s in per.values())
    result["verdict"] = "memorised" if any(s["verdict"] == "memorised" for s in per.values()) else "ok"
    result["data"] = str(train.info.get("path") or train.name)
    result["test"] = str(heldout.info.get("path") or heldout.name)
    if notes:
        result["notes"] = notes
    return result


def memorisation_iter(source, data, test=None, n: int = 2000, seed: int = 0, spaces=SPACES,
                      features: str | None = "auto", n_train: int | None = None, n_test: int | None = 10000,
                      truncation_psi: float = 1.0, device=None) -> Iterator[dict]:
    """The check (module docstring) with progress: yields {"stage", "done", "total"}, last {"stage": "done",
    "result": {...}}. `source`: an image generator (every model kind GAN Studio loads), a callable seeds ->
    images (N, C, H, W) in [-1, 1], or an image tensor; `data`: the training images (dataset or path);
    `test`: held-out images (default: the test split of an MNIST folder `data`)."""
    n, spaces = _checked_request(source, n, spaces)
    train, heldout = as_dataset(data), held_out(data, test)
    n_train = len(train) if n_train is None else min(n_train, len(train))
    n_test = len(heldout) if n_test is None else min(n_test, len(heldout))
    if n_test < MIN_TEST:
        raise UserError(f"need at least {MIN_TEST} held-out images for a 1st percentile, got {n_test}")
    if n_train < 1:
        raise UserError("the training data holds no images")
    shape = tuple(source.image_shape) if hasattr(source, "image_shape") else None
    if shape is not None:
        check_shape(train, shape)

    notes, ids, gen = [], [], None
    for batch_ids, x in _batches(source, n, seed, truncation_psi, device):
        if gen is None:
            shape = tuple(x.shape[1:])
            check_shape(train, shape)
            check_shape(heldout, shape, "the model (held-out data)")
            embed = _embeddings(shape, spaces, features, notes)
            gen = {k: [] for k in embed}
        for k, f in embed.items():
            gen[k].append(f.embed(x))
        ids += batch_ids
        yield {"stage": "generating", "done": len(ids), "total": n}
    gen = {k: torch.cat(v) for k, v in gen.items()}
    test_rows = {k: [] for k in embed}
    for start, chunk in training_chunks(heldout, shape, n_test):
        for k, f in embed.items():
            test_rows[k].append(f.embed(chunk))
        yield {"stage": "held-out images", "done": start + chunk.shape[0], "total": n_test}
    test_rows = {k: torch.cat(v) for k, v in test_rows.items()}

    tops = {k: TopK(torch.cat([gen[k], test_rows[k]]), 1) for k in embed}
    if "features" in embed:
        tops["mifid"] = TopK(torch.cat([gen["features"], test_rows["features"]]), 1, cosine=True)
    for start, chunk in training_chunks(train, shape, n_train):
        rows = {k: f.embed(chunk) for k, f in embed.items()}
        for k, top in tops.items():
            top.update(rows["features" if k == "mifid" else k], start)
        yield {"stage": "training images", "done": start + chunk.shape[0], "total": n_train}

    yield {"stage": "done", "result": _summary(source, embed, tops, gen, test_rows, ids, n, n_train, n_test, seed,
                                               truncation_psi, train, heldout, notes)}


def _embeddings(shape, spaces, features, notes: list) -> dict[str, Space]:
    out = {}
    for s in spaces:
        if s == "pixels":
            sp = pixel_space(shape)
        else:
            spec = resolve_features(features, int(shape[0]))
            if spec is None:
                if len(spaces) == 1:
                    raise UserError(no_features_message(int(shape[0])))
                notes.append(no_features_message(int(shape[0])) + " (checked in pixel space only)")
                continue
            sp = feature_space(spec)
        out[s] = sp
    return out


def memorisation(source, data, **kw) -> dict:
    """`memorisation_iter`'s result (see there and the module docstring)."""
    result = None
    for p in memorisation_iter(source, data, **kw):
        result = p.get("result", result)
    return result


def memorisation_summary(r: dict) -> str:
    """The result in a few lines for people."""
    lines = [f"verdict: {r['verdict']} — {100 * r['memorised_fraction']:.2f} % of {r['n']} samples are closer to "
             f"a training image than 99 % of held-out images near them are (held-out images: 1 % by construction; "
             f"'memorised' above {100 * r['fraction_threshold']:.0f} %)"]
    for name, s in r["spaces"].items():
        lines.append(f"  {name:8s} {100 * s['memorised_fraction']:6.2f} % flagged ({s['verdict']}); nearest training "
                     f"image at median {s['median_distance_generated']:.4f} for samples, "
                     f"{s['median_distance_test']:.4f} for held-out images; below the held-out 1st percentile "
                     f"{s['distance_threshold']:.4f}: {100 * s['global_fraction']:.2f} % ({s['metric']})")
    if "mifid_distance" in r:
        lines.append(f"  MiFID memorisation distance (mean min 1-|cos|, {r['features']}): samples "
                     f"{r['mifid_distance']:.4f}, held-out images {r['mifid_distance_test']:.4f}")
    lines.append(f"  {r['n_train']} training images ({r['data']}), {r['n_test']} held-out ({r['test']})")
    lines += [f"  note: {t}" for t in r.get("notes", [])]
    return "\n".join(lines)
