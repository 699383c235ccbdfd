"""Training and measuring subcommands: `gan-studio train` (its arguments built from `TrainConfig`'s table of
defaults and help), `evaluate` (FID, precision/recall, …) and `train-classifier` (the lenet-mnist features)."""
from __future__ import annotations

import json
import os
import shlex
import sys

from ..engine.training.loop import TrainConfig
from .args import positive_int
from .common import (
    _arguments,
    _load_generator,
    _model_args,
    command,
    config_args,
    config_values,
    print_training,
    safetensors_out,
)

# ------------------------------------------------------------------ train

def _train_args(sp):
    config_args(sp, TrainConfig, "arch arch_config loss reg reg_weight sn sn_generator conditional info options "
                                 "data steps batch")
    sp.add_argument("--out", required=True, help="output .safetensors (also the checkpoint)")
    config_args(sp, TrainConfig, "seed")
    sp.add_argument("--resume", action="store_true", help="continue from --out")
    config_args(sp, TrainConfig, "lr n_critic checkpoint_every sample_every max_minutes threads device")
    sp.add_argument("--quiet", action="store_true")


@command("train", "train a GAN on a dataset, with checkpoints and resume")
@_arguments(_train_args)
def cmd_train(args) -> int:
    from ..engine import translation  # noqa: F401  (registers the translation recipes: train --arch pix2pix works)
    from ..engine.training.loop import train
    cfg = TrainConfig.from_dict(config_values(args, TrainConfig))
    cmd = "gan-studio " + " ".join(shlex.quote(a) for a in sys.argv[1:]) if sys.argv[1:2] == ["train"] else None
    main_rank = os.environ.get("RANK", "0") == "0"         # under torchrun only rank 0 reports and writes
    print_training(train(cfg, args.out, resume=args.resume, command=cmd), args.quiet or not main_rank)
    if main_rank:
        print(f"wrote {args.out}")
    return 0


# ------------------------------------------------------------------ evaluate

def _evaluate_args(sp):
    _model_args(sp)
    sp.add_argument("--data", required=True)
    sp.add_argument("--split", default="test", choices=["train", "test"])
    sp.add_argument("--n", type=positive_int(1_000_000), default=10000)
    sp.add_argument("--truncation", type=float, default=1.0)
    sp.add_argument("--features", default=None,
                    help="feature network (default: DATA/features.safetensors when `gan-studio train-classifier` "
                         "wrote one beside the data, else lenet-mnist): lenet-mnist (shipped; trained on MNIST "
                         "digits), lenet-mnist:PATH or PATH.safetensors (a train-classifier network), or "
                         "inception:PATH for the "
                         "standard FID Inception-v3 of pytorch-fid, given its weights file "
                         "pt_inception-2015-12-05-6726825d.pth (not shipped, never downloaded: "
                         "https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/"
                         "pt_inception-2015-12-05-6726825d.pth); plain `inception` reads the path from "
                         "$GAN_STUDIO_INCEPTION. Inception FIDs are comparable with published ones (only with "
                         "that exact file) but slow on a CPU: 299x299 inputs")
    sp.add_argument("--json", action="store_true")
    sp.add_argument("--write", action="store_true", help="store the result in the model file's metadata")


@command("evaluate", "FID, precision/recall, density/coverage against real data")
@_arguments(_evaluate_args)
def cmd_evaluate(args) -> int:
    from ..engine.metrics.evaluate import evaluate_iter
    from ..engine.metrics.feature_source import features_summary
    from .commands_translate import evaluate_translation, is_translation_model
    if is_translation_model(args.model):              # pix2pix, CycleGAN, ..., SRGAN: their own figures
        return evaluate_translation(args)
    bundle, G, device = _load_generator(args)
    result = None
    for p in evaluate_iter(G, args.data, split=args.split, n=args.n, features=args.features,
                           truncation_psi=args.truncation, device=device):
        result = p.get("result", result)
        if not args.json and "stage" in p and p["stage"] != "done":
            print(f"{p['stage']}: {p['done']}/{p['total']}", end="\r", file=sys.stderr, flush=True)
    if args.write:
        _store_metrics(bundle, result, " ".join(["gan-studio"] + [shlex.quote(a) for a in sys.argv[1:]]))
    if args.json:
        print(json.dumps(result))
    else:
        print(f"\nFID {result['fid']:.3f}  precision {result['precision']:.3f}  recall {result['recall']:.3f}  "
              f"density {result['density']:.3f}  coverage {result['coverage']:.3f}  "
              f"({result['features']} features, n={result['n']}, {result['split']} split)")
        print(features_summary(result))
    if result.get("features_note"):
        print(result["features_note"], file=sys.stderr if args.json else sys.stdout)
    return 0


def _store_metrics(bundle, result: dict, command_line: str) -> None:
    from ..engine.bundle import resave_bundle
    meta = dict(bundle.meta)
    meta["metrics"] = dict(meta.get("metrics") or {}, **{result["split"]: dict(result, command=command_line)})
    resave_bundle(bundle, meta)


# ------------------------------------------------------------------ train-classifier

def _classifier_args(sp):
    sp.add_argument("--data", required=True, help="an MNIST-format folder (train and test files)")
    sp.add_argument("--out", default=None, help="output .safetensors (default: DATA/features.safetensors, which "
                                               "`gan-studio evaluate --data DATA` then uses by itself)")
    sp.add_argument("--epochs", type=positive_int(10_000), default=2)
    sp.add_argument("--seed", type=int, default=0)
    sp.add_argument("--threads", type=positive_int(1024), default=None)


@command("train-classifier", "train the lenet-mnist feature network used by FID and precision/recall")
@_arguments(_classifier_args)
def cmd_train_classifier(args) -> int:
    import torch

    from ..engine.data import load_images
    from ..engine.metrics.feature_source import features_beside, fingerprint
    from ..engine.metrics.features import save_lenet, train_lenet
    if args.threads:
        torch.set_num_threads(args.threads)
    train, test = load_images(args.data, "train"), load_images(args.data, "test")
    final = None
    for p in train_lenet(train, test, epochs=args.epochs, seed=args.seed):
        if p.get("done"):
            final = p
        else:
            print(f"epoch {p['epoch']} step {p['step']} loss {p['loss']:.4f}", end="\r", file=sys.stderr)
    cmd = "gan-studio " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    out = args.out or str(features_beside(args.data))
    save_lenet(out, final["net"], {
        "name": "lenet-mnist", "dataset": {"name": train.name, "path": args.data, "n": len(train),
                                           "fingerprints": {"train": fingerprint(train), "test": fingerprint(test)}},
        "license": train.license, "training": {"command": cmd, "seed": args.seed, "epochs": args.epochs},
        "metrics": {"test_accuracy": final["accuracy"]}})
    print(f"\nwrote {out} (test accuracy {final['accuracy']:.4f})")
    return 0


# ------------------------------------------------------------------ train-voxel-classifier

def _voxel_classifier_args(sp):
    sp.add_argument("--data", default="../shared/data/modelnet10_vox32",
                    help="ModelNet10 32³ modelnet10.npz or its folder (research use only)")
    sp.add_argument("--out", required=True, help="output .safetensors (float16; resources/voxnet-modelnet10."
                                                 "safetensors is the shipped one)")
    sp.add_argument("--epochs", type=positive_int(10_000), default=30)
    sp.add_argument("--batch", type=positive_int(4096), default=32)
    sp.add_argument("--lr", type=float, default=1e-3, help="AdamW learning rate (cosine decay to 0)")
    sp.add_argument("--width", type=positive_int(256), default=16, help="channels of the first conv")
    sp.add_argument("--subset", type=positive_int(1_000_000), default=None,
                    help="train on N training objects only, drawn with --seed (a quick check)")
    sp.add_argument("--seed", type=int, default=0)
    sp.add_argument("--threads", type=positive_int(1024), default=None)


def _voxel_classifier_command(args) -> str:
    """The command line that trains this classifier again (from the parsed options: also right when called
    in-process)."""
    parts = ["gan-studio", "train-voxel-classifier", "--data", str(args.data), "--out", str(args.out),
             "--epochs", str(args.epochs), "--batch", str(args.batch), "--lr", f"{args.lr:g}", "--width",
             str(args.width), "--seed", str(args.seed)]
    parts += ["--subset", str(args.subset)] if args.subset else []
    parts += ["--threads", str(args.threads)] if args.threads else []
    return " ".join(shlex.quote(a) for a in parts)


@command("train-voxel-classifier", "train the voxnet-modelnet10 3D feature network (eval3d's random-shape "
                                   "figures and 3D FID, the 3D tab's guess)")
@_arguments(_voxel_classifier_args)
def cmd_train_voxel_classifier(args) -> int:
    import time

    import torch

    from ..engine.data.voxels import load_voxels
    from ..engine.metrics.voxel_features import NAME, save_voxnet, train_voxnet
    safetensors_out(args.out)
    if args.threads:
        torch.set_num_threads(args.threads)
    train, test = load_voxels(args.data, "train"), load_voxels(args.data, "test")
    if args.subset:
        train = train.subset(torch.randperm(len(train), generator=torch.Generator().manual_seed(args.seed))
                             [:args.subset])
    t0, final, epochs = time.perf_counter(), None, []
    for p in train_voxnet(train, test, epochs=args.epochs, batch=args.batch, seed=args.seed, lr=args.lr,
                          width=args.width):
        if p.get("done"):
            final = p
        elif p.get("epoch_done"):
            epochs.append({k: round(p[k], 4) for k in ("loss", "test_accuracy") if k in p})
            print(f"epoch {p['epoch'] + 1}/{args.epochs} loss {p['loss']:.4f} test accuracy "
                  f"{p.get('test_accuracy', float('nan')):.4f}", file=sys.stderr, flush=True)
    seconds = round(time.perf_counter() - t0, 1)
    cmd = _voxel_classifier_command(args)
    report = {k: final[k] for k in ("accuracy", "class_mean_accuracy", "per_class", "n")}
    save_voxnet(args.out, final["net"], {
        "name": NAME, "classes": list(train.classes),
        "dataset": {"name": train.name, "path": args.data, "split": "train", "n": len(train),
                    "skipped_empty": train.info.get("skipped_empty")},
        "license": train.license,
        "training": {"command": cmd, "seed": args.seed, "epochs": args.epochs, "batch": args.batch, "lr": args.lr,
                     "augmentation": "random shifts of up to 2 voxels per axis (zero fill)", "seconds": seconds,
                     "threads": torch.get_num_threads(), "per_epoch": epochs},
        "metrics": {"test_accuracy": final["accuracy"], "test": report}})
    print(f"wrote {args.out} (test accuracy {final['accuracy']:.4f}, class mean {final['class_mean_accuracy']:.4f}; "
          f"{seconds:.0f} s)")
    for name, acc in final["per_class"].items():
        print(f"  {name:12s} {acc:.4f}")
    return 0
