"""Speed and memory of our NVlabs StyleGAN2-ADA / StyleGAN3 implementations (random weights are fine for timing).

    python bench/nvlabs_speed.py [--device cpu|cuda] [--threads 1] [--reps 5]

Cases: sg2-256, stylegan2-ada-pytorch's `paper256` config (mapping 8, channel_base 16384, channel_max 512,
4 fp16 resolutions run in float32, conv_clamp 256; built by bench/nvlabs_records.py); sg3-t-32, the StyleGAN3-T
fixture (../shared/fixtures/nvlabs; a 256 px StyleGAN3 needs its filter design rebuilt, not done yet). For each:
ms per image and images/s at batch 1 and 8 (median of --reps runs after a warm-up, torch.inference_mode), peak
resident memory of a fresh process rendering that batch, and ratios measured in the same process: batch 8 against
8 single images, and for StyleGAN3 our fast filtered-lrelu path against the plain one (upfirdn2d, as NVlabs'
reference implementation computes it).
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
FIX = ROOT.parent / "shared" / "fixtures" / "nvlabs"


def make(case: str):
    from gan_studio.engine.models.nvlabs.family import generator_from_record
    if case == "sg2-256":
        from bench.nvlabs_records import stylegan2_record
        return generator_from_record(stylegan2_record())
    from gan_studio.engine.bundle import load_bundle
    return load_bundle(FIX / "stylegan3-t-32-rgb.pkl").generator()


def timed(G, ws, reps: int) -> float:
    import torch
    with torch.inference_mode():
        G.synthesis(ws)
        ts = []
        for _ in range(reps):
            t = time.perf_counter()
            G.synthesis(ws)
            if ws.is_cuda:
                torch.cuda.synchronize()
            ts.append(time.perf_counter() - t)
    return statistics.median(ts)


def peak_mb(case: str, batch: int, device: str, threads: int) -> float:
    """VmHWM of a fresh process that builds the model and renders one batch, minus the same process's after build."""
    code = (f"import sys; sys.path.insert(0, {str(ROOT)!r}); import torch; torch.set_num_threads({threads});"
            f"from bench.nvlabs_speed import make; G = make({case!r}).to({device!r});"
            "hwm = lambda: int([l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1]);"
            f"base = hwm(); ws = G.mapping(torch.randn({batch}, G.z_dim, device={device!r}));"
            "torch.inference_mode().__enter__(); G.synthesis(ws); print((hwm() - base) / 1024)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    return float(r.stdout.strip().splitlines()[-1]) if r.returncode == 0 else float("nan")


def plain_sg3(G):
    """The same network on the plain filtered-lrelu path (upfirdn2d up, bias, lrelu, clamp, upfirdn2d down)."""
    from gan_studio.engine.models.nvlabs.stylegan3 import SynthesisLayer
    for m in G.modules():
        if isinstance(m, SynthesisLayer):
            m._fast = lambda: False
    return G


def run_case(case: str, args) -> dict:
    import torch
    G = make(case).to(args.device).eval()
    ws8 = G.mapping(torch.randn(8, G.z_dim, device=args.device))
    out = {"case": case, "resolution": G.img_resolution, "params_M": round(sum(p.numel() for p in G.parameters())
                                                                             / 1e6, 2)}
    for b in (1, 8):
        s = timed(G, ws8[:b], args.reps)
        out[f"ms_per_image_b{b}"] = round(1000 * s / b, 1)
        out[f"images_per_s_b{b}"] = round(b / s, 2)
        out[f"peak_MB_b{b}"] = round(peak_mb(case, b, args.device, args.threads), 0)
    out["batch8_vs_8_singles"] = round(out["images_per_s_b8"] / out["images_per_s_b1"], 2)
    if case.startswith("sg3"):
        plain = timed(plain_sg3(G), ws8, args.reps)
        out["fast_vs_plain_b8"] = round(plain / (8 / out["images_per_s_b8"]), 2)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--cases", default="sg2-256,sg3-t-32")
    args = ap.parse_args()
    import torch
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, device {args.device}, {args.threads} thread(s), median of {args.reps}")
    for case in args.cases.split(","):
        print(json.dumps(run_case(case, args)))


if __name__ == "__main__":
    main()
