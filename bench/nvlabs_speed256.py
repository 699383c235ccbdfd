"""Speed and memory of our NVlabs generators at 256 px with the official configs' widths (random weights).

    python bench/nvlabs_speed256.py [--cases sg2-256,sg3-t-256,sg3-r-256] [--device cpu|cuda] [--threads 1]
                                    [--reps 5] [--reps-sg3 1] [--no-ref]

Cases (record trees from bench/nvlabs_records.py and bench/nvlabs_records_sg3.py):
  sg2-256    stylegan2-ada-pytorch train.py --cfg=paper256: mapping 8, channel_base 16384, channel_max 512,
             4 fp16 resolutions (run in float32 here), conv_clamp 256, skip architecture
  sg3-t-256  stylegan3 train.py --cfg=stylegan3-t defaults: cbase 32768, cmax 512, mapping 2, 14 layers + ToRGB
  sg3-r-256  --cfg=stylegan3-r: 1x1 convs, cbase 65536, cmax 1024, radially symmetric down filters
Each (case, batch 1 / 8) runs in a fresh process, in torch.inference_mode: one warm-up render (its peak resident
memory over the resident size after building the model, VmHWM reset in between, is the peak figure; CUDA: peak
allocated over allocated), then --reps timed
renders, median reported. StyleGAN3 at 256 px takes seconds per image on one CPU thread, so it gets --reps-sg3
renders at batch 1 and only the warm-up render at batch 8 (said in the table's `runs` column), which keeps the
default run under about 5 minutes on a 2-core CPU. `ref/ours`: at batch 1, in the same process, the plain
reference path (bench/nvlabs_reference.py: NVIDIA's pure-PyTorch way, grouped modulated conv and upfirdn2d over
inserted zeros) against ours, once after ours.
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
CASES = ("sg2-256", "sg3-t-256", "sg3-r-256")


def make(case: str):
    from gan_studio.engine.models.nvlabs.family import generator_from_record
    if case == "sg2-256":
        from bench.nvlabs_records import stylegan2_record
        return generator_from_record(stylegan2_record())
    from bench.nvlabs_records_sg3 import stylegan3_config, stylegan3_record
    return generator_from_record(stylegan3_record(**stylegan3_config("stylegan3-" + case.split("-")[1])))


def _status_mb(key: str) -> float:
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith(key + ":")) / 1024


def _reset_peak() -> float:
    """Reset VmHWM to the current resident size (Linux >= 4.0: clear_refs 5), so that the peak measured next is the
    render's, not the model build's; -> that resident size."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
    except OSError:
        pass                       # no reset: the peak then includes the build's where that was higher
    return _status_mb("VmRSS")


def _render(G, ws, ref: bool = False) -> float:
    import torch

    from bench.nvlabs_reference import reference_path
    t = time.perf_counter()
    if ref:
        with reference_path():
            G.synthesis(ws)
    else:
        G.synthesis(ws)
    if ws.is_cuda:
        torch.cuda.synchronize()
    return time.perf_counter() - t


def child(case: str, batch: int, reps: int, ref: bool, device: str, threads: int) -> dict:
    """One fresh process: build, warm-up render (peak memory), timed renders, and the reference once."""
    import torch
    torch.set_num_threads(threads)
    G = make(case).to(device).eval()
    base, cuda = _reset_peak(), device.startswith("cuda")
    if cuda:
        torch.cuda.reset_peak_memory_stats()
        cuda_base = torch.cuda.memory_allocated() / 2 ** 20
    with torch.inference_mode():
        ws = G.mapping(torch.randn(batch, G.z_dim, device=device))
        first = _render(G, ws)
        peak = (torch.cuda.max_memory_allocated() / 2 ** 20 - cuda_base) if cuda else _status_mb("VmHWM") - base
        times = [_render(G, ws) for _ in range(reps)] or [first]
        ref_s = _render(G, ws, ref=True) if ref else None
    s = statistics.median(times)
    out = {"case": case, "batch": batch, "runs": len(times), "ms_per_image": 1000 * s / batch,
           "images_per_s": batch / s, "peak_MB": peak, "params_M": sum(p.numel() for p in G.parameters()) / 1e6}
    if ref_s is not None:
        out.update(ref_ms_per_image=1000 * ref_s / batch, ref_over_ours=ref_s / s)
    return out


def run(case: str, batch: int, args) -> dict:
    reps = args.reps if case == "sg2-256" else (args.reps_sg3 if batch == 1 else 0)
    cmd = [sys.executable, __file__, "--child", case, str(batch), str(reps), str(int(batch == 1 and args.ref)),
           "--device", args.device, "--threads", str(args.threads)]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        return {"case": case, "batch": batch, "error": (r.stderr.strip().splitlines() or ["failed"])[-1]}
    return json.loads(r.stdout.strip().splitlines()[-1])


def _row(r: dict) -> str:
    if "error" in r:
        return f"{r['case']:<10} {r['batch']:>5}  error: {r['error']}"
    ref = (f"{r['ref_ms_per_image']:>11.0f} {r['ref_over_ours']:>8.2f}" if "ref_over_ours" in r
           else f"{'':>11} {'':>8}")
    return (f"{r['case']:<10} {r['batch']:>5} {r['runs']:>4} {r['ms_per_image']:>10.1f} {r['images_per_s']:>8.2f} "
            f"{r['peak_MB']:>8.0f} {ref}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", default=",".join(CASES))
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--reps", type=int, default=5, help="timed renders after the warm-up (StyleGAN2)")
    ap.add_argument("--reps-sg3", type=int, default=1, help="timed renders at batch 1 for the StyleGAN3 cases")
    ap.add_argument("--no-ref", dest="ref", action="store_false", help="skip the reference-path ratio")
    ap.add_argument("--child", nargs=4, metavar=("CASE", "BATCH", "REPS", "REF"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        case, batch, reps, ref = args.child
        print(json.dumps(child(case, int(batch), int(reps), ref == "1", args.device, args.threads)))
        return
    import torch
    print(f"torch {torch.__version__}, device {args.device}, {args.threads} thread(s); fresh process per row")
    print(f"{'case':<10} {'batch':>5} {'runs':>4} {'ms/image':>10} {'img/s':>8} {'peak MB':>8} "
          f"{'ref ms/img':>11} {'ref/ours':>8}")
    for case in args.cases.split(","):
        for batch in (1, 8):
            print(_row(run(case, batch, args)), flush=True)


if __name__ == "__main__":
    main()
