"""The quality figures of a translation model on held-out data (issue 23), for `gan-studio evaluate` and
bench/translation.py. Pixel errors are in [0, 1] intensity units (|difference| / 2 of the [-1, 1] images).

- paired (pix2pix): L1 to the true target; FID and precision/recall of the translations against the held-out
  targets in a feature space (lenet-mnist for digits; metrics/features.py); class agreement (the feature network's
  classifier names the target's label); sharpness (mean gradient magnitude / the real targets'): blur scores < 1.
- cycle (CycleGAN, DiscoGAN, DualGAN): per direction the FID of the translations against the real images of the
  target domain (domain A's in `features_a` when given: a network suited to A, e.g. a LeNet trained on outlines),
  the cycle reconstruction L1 (x -> other domain -> back), and "content kept": the classifier's class of the
  translation equals the source image's label, next to its accuracy on real images of that domain (the ceiling).
- sr (SRResNet, SRGAN): PSNR and SSIM (Wang et al. 2004: 11x11 Gaussian window, sigma 1.5) against the true high
  resolution image, for the model and for bicubic up-scaling; FID and class agreement of both.

The held-out data is made as in training, from the model's metadata: the same named transform and layout (one source
with a transform, two sources, or A/ and B/ folders), from `split` ("test" for MNIST; a folder has one split).
FID and precision/recall compare the translations of the first half of the `n` held-out inputs with the real images
of the second half (a translation is never compared with its own target); the real floor (`fid_real_halves`, and
`fid_real_a` / `fid_real_b` for cycle models: the first half of the real images against the second) is what the
estimator gives two real samples of that size.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from ..data.pairs import TranslationData, load_translation_data
from ..errors import UserError
from .feature_source import choose_features
from .features import get_extractor
from .fid import fid_from_features
from .prdc import precision_recall


def _01(x: torch.Tensor) -> torch.Tensor:
    return (x.float() + 1) / 2


def psnr(x: torch.Tensor, y: torch.Tensor) -> float:
    """Mean PSNR in dB of images in [-1, 1] (peak 1 in [0, 1] units), per image then averaged."""
    mse = (_01(x) - _01(y)).pow(2).flatten(1).mean(1).clamp_min(1e-10)
    return float((10 * torch.log10(1.0 / mse)).mean())


def ssim(x: torch.Tensor, y: torch.Tensor, window: int = 11, sigma: float = 1.5) -> float:
    """Mean SSIM (Wang et al. 2004) of images in [-1, 1], on [0, 1] values, per channel, valid windows."""
    a, b = _01(x), _01(y)
    c = a.shape[1]
    g = torch.exp(-(torch.arange(window) - window // 2).float().pow(2) / (2 * sigma ** 2))
    k = (g[:, None] * g[None, :] / g.sum() ** 2).expand(c, 1, window, window).contiguous()
    blur = lambda t: F.conv2d(t, k, groups=c)                       # noqa: E731
    mu_a, mu_b = blur(a), blur(b)
    var_a, var_b = blur(a * a) - mu_a ** 2, blur(b * b) - mu_b ** 2
    cov = blur(a * b) - mu_a * mu_b
    c1, c2 = 0.01 ** 2, 0.03 ** 2
    s = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a ** 2 + mu_b ** 2 + c1) * (var_a + var_b + c2))
    return float(s.mean())


def sharpness(x: torch.Tensor) -> float:
    """Mean gradient magnitude (finite differences) of images in [0, 1] units."""
    u = _01(x)
    return float(((u[..., 1:, :] - u[..., :-1, :]).abs().mean() + (u[..., :, 1:] - u[..., :, :-1]).abs().mean()) / 2)


def l1(x: torch.Tensor, y: torch.Tensor) -> float:
    return float((_01(x) - _01(y)).abs().mean())


class Judge:
    """FID features and (when the feature network is a classifier) class predictions, for one evaluation."""

    def __init__(self, spec: str | None, data_path: str):
        self.spec, self.source = choose_features(spec, data_path)
        self.extractor = get_extractor(self.spec)
        net = getattr(self.extractor, "net", None)
        self.classifier = net if net is not None and hasattr(net, "head") else None

    def fid(self, fake: torch.Tensor, real: torch.Tensor) -> float:
        return fid_from_features(self.extractor(fake), self.extractor(real))

    @torch.no_grad()
    def classes(self, x: torch.Tensor) -> torch.Tensor | None:
        if self.classifier is None:
            return None
        from ..data.images import fit_images
        return torch.cat([self.classifier(fit_images(x[i:i + 500].float(), 28, 1)).argmax(1)
                          for i in range(0, len(x), 500)])

    def agreement(self, x: torch.Tensor, labels: torch.Tensor | None) -> float | None:
        pred = self.classes(x) if labels is not None else None
        return None if pred is None else float((pred == labels[:len(pred)]).double().mean())


def _held_out(t, data_path: str, split: str, n: int, data_b: str | None) -> TranslationData:
    ds = t.meta.get("dataset") if isinstance(t.meta.get("dataset"), dict) else {}
    data_b = data_b or ds.get("source_b")
    transform = t.transform if ds.get("layout") != "A/ and B/ folders" else None
    return load_translation_data(data_path, t.kind != "cycle", split, transform, data_b, n)


def _batched(fn, x: torch.Tensor, batch: int = 500) -> torch.Tensor:
    return torch.cat([fn(x[i:i + batch]) for i in range(0, len(x), batch)])


def evaluate_translator(t, data_path: str, split: str = "test", n: int = 1000, features: str | None = None,
                        data_b: str | None = None, features_a: str | None = None) -> dict:
    """The figures of the module's docstring for Translator `t` on `n` held-out images of `data_path`.
    `features_a`: a feature network (and classifier) for domain A of a cycle model when `features` does not suit
    it (e.g. a LeNet trained on outlines, for outline <-> digit); it judges B -> A."""
    if n < 10:
        raise UserError(f"--n must be at least 10, not {n}")
    data = _held_out(t, data_path, split, n, data_b)
    judge = Judge(features, data_path)
    judge_a = Judge(features_a, data_path) if features_a else judge
    a, b = TranslationData.as_float(data.a), TranslationData.as_float(data.b)
    base = {"model": t.name, "family": t.family, "kind": t.kind, "data": str(data_path), "split": split,
            "n": len(data), "features": judge.extractor.name, "features_source": judge.source}
    if t.kind == "cycle":
        base["features_a"] = getattr(judge_a.extractor, "path", judge_a.spec).__str__()
        return base | _cycle(t, a, b, data, judge, judge_a)
    return base | {"paired": _paired, "sr": _sr}[t.kind](t, a, b, data, judge)


def _halves(fake: torch.Tensor, real: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(the first half of `fake`, the second half of `real`): translations against other images' targets."""
    h = min(len(fake), len(real)) // 2
    return fake[:h], real[h:2 * h]


def _paired(t, a, b, data, judge) -> dict:
    y = _batched(t.translate, a)
    fake, real = _halves(y, b)
    precision, recall = precision_recall(judge.extractor(real), judge.extractor(fake), k=3)
    return {"l1": l1(y, b), "fid": judge.fid(fake, real), "precision": precision, "recall": recall,
            "fid_real_halves": judge.fid(*_halves(b, b)),
            "class_agreement": judge.agreement(y, data.labels_b),
            "sharpness": sharpness(y) / max(sharpness(b), 1e-8)}


def _sr(t, a, b, data, judge) -> dict:
    y, bic = _batched(t.translate, a), _batched(t.bicubic, a)
    return {"psnr": psnr(y, b), "ssim": ssim(y, b), "psnr_bicubic": psnr(bic, b), "ssim_bicubic": ssim(bic, b),
            "fid": judge.fid(*_halves(y, b)), "fid_bicubic": judge.fid(*_halves(bic, b)),
            "fid_real_halves": judge.fid(*_halves(b, b)),
            "class_agreement": judge.agreement(y, data.labels_b),
            "class_agreement_bicubic": judge.agreement(bic, data.labels_b),
            "sharpness": sharpness(y) / max(sharpness(b), 1e-8)}


def _cycle(t, a, b, data, judge, judge_a) -> dict:
    ab, ba = _batched(t.translate, a), _batched(lambda x: t.translate(x, "b2a"), b)
    aba, bab = _batched(lambda x: t.translate(x, "b2a"), ab), _batched(t.translate, ba)
    return {"fid_a2b": judge.fid(*_halves(ab, b)), "fid_b2a": judge_a.fid(*_halves(ba, a)),
            "fid_real_b": judge.fid(*_halves(b, b)), "fid_real_a": judge_a.fid(*_halves(a, a)),
            "cycle_l1_a": l1(aba, a), "cycle_l1_b": l1(bab, b),
            "class_agreement_a2b": judge.agreement(ab, data.labels_a),
            "class_agreement_b2a": judge_a.agreement(ba, data.labels_b),
            "class_accuracy_real_a": judge_a.agreement(a, data.labels_a),
            "class_accuracy_real_b": judge.agreement(b, data.labels_b)}


def _fmt(v) -> str:
    return "n/a" if v is None else f"{v:.3f}" if isinstance(v, float) else str(v)


def summary_lines(r: dict) -> list[str]:
    """The result as a few readable lines for the command line."""
    head = f"{r['model']} ({r['family']}, {r['kind']}) on {r['n']} {r['split']} images of {r['data']}, " \
           f"{r['features']} features ({r['features_source']})"
    keys = [k for k in r if k not in ("model", "family", "kind", "data", "split", "n", "features", "features_source",
                                      "command")]
    return [head, "  " + "  ".join(f"{k} {_fmt(r[k])}" for k in keys)]
