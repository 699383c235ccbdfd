"""Image-to-image translation on MNIST (issue 23): the quality figures of the trained models on held-out digits.

    python bench/translation.py [--data ../shared/data/mnist] [--n 2000] [--runs runs/translation]
                                [--pix2pix M] [--l1 M] [--cycle M ...] [--srresnet M] [--srgan M] [--write]

Every figure is `metrics/translation.py`'s `evaluate_translator` on the first N test-split digits (the held-out
inputs made with each model's own training transform), lenet-mnist features and classifier (the shipped
resources/lenet-mnist.safetensors). Pixel errors are in [0, 1] units.

- pix2pix (strokes -> digit) against the L1-only model (the same U-Net, steps, batch and seed, `gan_weight` 0):
  L1 to the true digit, FID / precision / recall against the true digits, class agreement, sharpness (mean gradient
  magnitude over the real digits': < 1 is blurrier than MNIST). Paper's claim: cGAN + L1 is sharper and more
  realistic (lower FID) than L1 alone, at a somewhat higher L1.
- cycle models (outline <-> digit, unpaired): FID of A -> B against real digits (lenet-mnist) and of B -> A against
  real outlines (in the features of a LeNet trained here on MNIST's outlines, `outline_features`: lenet-mnist calls
  only 19 % of real outlines right), cycle L1 each way, content kept (the classifier's class of the translation = the
  source digit's label; the row "real" is each classifier's accuracy on real images of that domain: the ceiling).
- super-resolution x4 (7 -> 28 px): PSNR / SSIM / FID / class agreement of bicubic, SRResNet (pixel MSE) and SRGAN
  (content + 1e-3 adversarial). Paper's claim: SRGAN has lower PSNR and better realism than SRResNet.

`--write` stores each model's result in its file's metrics (metadata key metrics.bench_translation).
Models default to the shipped files in resources/, else the runs folder (the names below).

Measured: see docs/RESULTS.md (section "Image-to-image translation") for the figures and the commands.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from gan_studio.engine.bundle import resave_bundle
from gan_studio.engine.metrics.translation import evaluate_translator
from gan_studio.engine.translation import Translator

ROOT = Path(__file__).resolve().parents[1]
NAMES = {"pix2pix": "mnist-pix2pix-strokes", "l1": "mnist-l1only-strokes", "srresnet": "mnist-srresnet-x4",
         "srgan": "mnist-srgan-x4",
         "cycle": ["mnist-cyclegan-outlines", "mnist-discogan-outlines", "mnist-dualgan-outlines"]}


def _find(name: str, runs: Path) -> Path | None:
    for folder in (ROOT / "resources", runs):
        p = folder / f"{name}.safetensors"
        if p.is_file():
            return p
    return None


def outline_features(runs: Path, data: str) -> str:
    """The feature spec of a LeNet trained on MNIST's outlines (the `edges` transform of the train split, one epoch,
    seed 0; written to RUNS/lenet-outlines.safetensors the first time): lenet-mnist reads outlines badly (19 %)."""
    from gan_studio.engine.data.images import ImageDataset
    from gan_studio.engine.data.pairs import load_translation_data
    from gan_studio.engine.metrics.features import save_lenet, train_lenet
    path = runs / "lenet-outlines.safetensors"
    if not path.is_file():
        train, test = (load_translation_data(data, True, split, "edges") for split in ("train", "test"))
        final = None
        for p in train_lenet(ImageDataset(train.a, train.labels_a, "mnist/train edges"),
                             ImageDataset(test.a, test.labels_a, "mnist/test edges"), epochs=1, seed=0):
            final = p if p.get("done") else final
        save_lenet(path, final["net"], {"name": "lenet-outlines", "dataset": {"name": "mnist/train edges", "n":
                                        len(train.a)}, "metrics": {"test_accuracy": final["accuracy"]},
                                        "training": {"command": "bench/translation.py outline_features", "seed": 0,
                                                     "epochs": 1}})
        print(f"trained {path} (outline test accuracy {final['accuracy']:.3f})")
    return f"lenet-mnist:{path}"


def _measure(path: Path, args) -> dict:
    t0 = time.perf_counter()
    t = Translator.open(str(path))
    features_a = outline_features(Path(args.runs), args.data) if t.kind == "cycle" and t.transform == "edges" else None
    r = evaluate_translator(t, args.data, split="test", n=args.n, features_a=features_a)
    r["seconds"] = round(time.perf_counter() - t0, 1)
    r["step"] = (t.meta.get("training") or {}).get("step")
    if args.write:
        meta = dict(t.meta)
        meta["metrics"] = dict(meta.get("metrics") or {}, bench_translation=r)
        resave_bundle(t.bundle, meta)
    return r


def _f(v, digits=3) -> str:
    return "   n/a" if v is None else f"{v:6.{digits}f}"


OUTPUT: list[str] = []          # every table printed, for --results


def table(title: str, header: list[str], rows: list[list[str]]) -> None:
    lines = [f"\n### {title}\n", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(c.strip() for c in r) + " |" for r in rows]
    print("\n".join(lines))
    OUTPUT.extend(lines)


def paired(results: dict) -> None:
    rows = [[name, str(r["step"]), _f(r["l1"]), _f(r["fid"], 1), _f(r["precision"]), _f(r["recall"]),
             _f(r["class_agreement"]), _f(r["sharpness"])] for name, r in results.items()]
    any_r = next(iter(results.values()))
    rows.append(["real digits (halves)", "", "", _f(any_r["fid_real_halves"], 1), "", "", "", "1.000"])
    table("pix2pix, strokes -> digit (held-out test digits)",
          ["model", "steps", "L1", "FID", "precision", "recall", "class agreement", "sharpness"], rows)


def cycle(results: dict) -> None:
    rows = [[name, str(r["step"]), _f(r["fid_a2b"], 1), _f(r["fid_b2a"], 1), _f(r["cycle_l1_a"]),
             _f(r["cycle_l1_b"]), _f(r["class_agreement_a2b"]), _f(r["class_agreement_b2a"])]
            for name, r in results.items()]
    any_r = next(iter(results.values()))
    rows.append(["real (FID floor; classifier accuracy)", "", _f(any_r["fid_real_b"], 1), _f(any_r["fid_real_a"], 1),
                 "", "", _f(any_r["class_accuracy_real_b"]), _f(any_r["class_accuracy_real_a"])])
    table("Unpaired outline <-> digit (A = outlines, B = digits; held-out test digits)",
          ["model", "steps", "FID A->B", "FID B->A", "cycle L1 A", "cycle L1 B", "class kept A->B",
           "class kept B->A"], rows)


def super_resolution(results: dict) -> None:
    any_r = next(iter(results.values()))
    rows = [["bicubic", "", _f(any_r["psnr_bicubic"], 2), _f(any_r["ssim_bicubic"]), _f(any_r["fid_bicubic"], 1),
             _f(any_r["class_agreement_bicubic"])]]
    rows += [[name, str(r["step"]), _f(r["psnr"], 2), _f(r["ssim"]), _f(r["fid"], 1), _f(r["class_agreement"])]
             for name, r in results.items()]
    rows.append(["real 28 px (halves)", "", "", "", _f(any_r["fid_real_halves"], 1), ""])
    table("Super-resolution x4, 7 -> 28 px (held-out test digits)",
          ["model", "steps", "PSNR dB", "SSIM", "FID", "class agreement"], rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "mnist"))
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--runs", default=str(ROOT / "runs" / "translation"))
    for key in ("pix2pix", "l1", "srresnet", "srgan"):
        ap.add_argument(f"--{key}", default=None)
    ap.add_argument("--cycle", nargs="*", default=None)
    ap.add_argument("--only", default="paired,cycle,sr", help="which groups to measure (comma-separated)")
    ap.add_argument("--write", action="store_true")
    ap.add_argument("--json", default=None, help="also write every result to this JSON file")
    ap.add_argument("--results", default=None,
                    help="replace the section '# Image-to-image translation on MNIST' of this markdown file (e.g. "
                         "docs/RESULTS.md) with the tables, the models' training commands and this command")
    args = ap.parse_args()
    torch.set_num_threads(1)
    runs = Path(args.runs)
    pick = lambda key: [Path(p) for p in ([getattr(args, key)] if getattr(args, key) else [])] or \
        [p for p in [_find(NAMES[key], runs)] if p]                     # noqa: E731
    groups = {"paired": pick("pix2pix") + pick("l1"), "sr": pick("srresnet") + pick("srgan"),
              "cycle": [Path(p) for p in args.cycle] if args.cycle else
              [p for p in (_find(n, runs) for n in NAMES["cycle"]) if p]}
    everything = {}
    groups = {g: p for g, p in groups.items() if g in args.only.split(",")}
    for group, paths in groups.items():
        results = {p.stem: _measure(p, args) for p in paths}
        everything.update(results)
        if results:
            {"paired": paired, "sr": super_resolution, "cycle": cycle}[group](results)
    if args.json:
        Path(args.json).write_text(json.dumps(everything, indent=1))
    if args.results:
        _write_results(Path(args.results), everything, groups, args)


def _write_results(path: Path, results: dict, groups: dict, args) -> None:
    import sys

    from results_md import replace_section
    lines = ["# Image-to-image translation on MNIST", "",
             f"Written by `python bench/{Path(__file__).name} {' '.join(sys.argv[1:])}` ({time.strftime('%Y-%m-%d')}): "
             f"the first {args.n} MNIST test digits, lenet-mnist features and classifier; pixel errors in [0, 1] "
             "units; FID / precision / recall: the translations of the first half against the real targets of the "
             "second half (the floor rows: real half against real half). Models, their steps and training time:", ""]
    for paths in groups.values():
        for p in paths:
            t = Translator.open(str(p))
            tr = t.meta.get("training") or {}
            runs = [h.get("command") for h in tr.get("history") or []] + [tr.get("command")]
            lines.append(f"- `{p.name}` ({t.family}, {tr.get('step')} steps, {tr.get('seconds', 0) / 60:.0f} min "
                         f"wall on a shared 2-core machine): " + "; then ".join(f"`{c}`" for c in runs))
    replace_section(path, "\n".join(lines + OUTPUT) + "\n")
    print(f"wrote the section into {path}")


if __name__ == "__main__":
    main()
