#!/usr/bin/env bash
# Smoke test of the BUILT bundle (`make package`), not the venv: `make package-test`, or
#     packaging/smoke_test.sh [dist/gan-studio/gan-studio]
# Runs, from an empty folder with an empty user folder (so only the bundle's own shipped models can be found):
# info, models, sample (PNG), walk (GIF and MP4: imageio's Pillow and ffmpeg plugins), sample3d (STL/OBJ/PLY/npy),
# render3d, and under Xvfb
# `gui --screenshot` of the Sampling and 3D tabs; each with a timeout. Checks every picture with
# packaging/png_check.py (standard-library Python: not blank), prints the bundle's size and its start times.
# Exit status: 0 when everything passed, 1 otherwise.
set -uo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
bin="${1:-$here/../dist/gan-studio/gan-studio}"
[[ -x "$bin" ]] || { echo "smoke: no bundle at $bin: run \`make package\` first" >&2; exit 1; }
bin="$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")"
bundle="$(dirname "$bin")"
T="${SMOKE_TIMEOUT:-180}"       # seconds per command
XVFB=(xvfb-run -a -s "-screen 0 1280x1024x24")

tmp="$(mktemp -d "${TMPDIR:-/tmp}/gan-studio-smoke.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/home" "$tmp/run"
cd "$tmp/run" || exit 1
unset GAN_STUDIO_RESOURCES GAN_STUDIO_SETTINGS GAN_STUDIO_SHARED_DATA
export GAN_STUDIO_HOME="$tmp/home" OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}" QT_QPA_PLATFORM=xcb
SHOTS="${SMOKE_SHOTS:-}"        # a folder to keep the pictures in (default: thrown away with $tmp)

fails=0
fail() { echo "smoke: FAIL: $*"; fails=$((fails + 1)); }
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

# run NAME CMD...: runs CMD with the timeout, output in $tmp/NAME.out / .err; sets $took (seconds)
run() {
    local name="$1"; shift
    local t0; t0="$(now)"
    timeout "$T" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err"
    local rc=$?
    took="$(secs "$t0" "$(now)")"
    if [[ $rc -ne 0 ]]; then
        fail "$name exited $rc after ${took}s$([[ $rc -eq 124 ]] && echo ": timed out (${T}s)")"
        sed 's/^/    /' "$tmp/$name.out" "$tmp/$name.err" | tail -25
        return 1
    fi
    echo "smoke: ok: $name (${took}s)"
}

check_png() {   # FILE [png_check options]: not blank (python3), else at least a PNG of some size
    local f="$1"; shift
    [[ -s "$f" ]] || { fail "$f was not written"; return 1; }
    [[ -n "$SHOTS" ]] && { mkdir -p "$SHOTS"; cp "$f" "$SHOTS/"; }
    if command -v python3 >/dev/null 2>&1; then
        python3 "$here/png_check.py" "$f" "$@" | sed 's/^/smoke: /'
        [[ ${PIPESTATUS[0]} -eq 0 ]] || fail "$f looks blank"
    else
        [[ $(stat -c %s "$f") -gt 2000 ]] || fail "$f is only $(stat -c %s "$f") bytes"
    fi
}

echo "smoke: bundle $bundle"
size="$(du -sh "$bundle" | cut -f1)"

# 1. info: the first start of the binary, and the shipped model comes from inside the bundle. A cold start: the
#    bundle's files are first dropped from the page cache (posix_fadvise DONTNEED: these files only)
if command -v python3 >/dev/null 2>&1; then
    python3 - "$bundle" <<'PY' || echo "smoke: (could not drop the bundle from the page cache: a warm start)"
import os, sys
for d, _, names in os.walk(sys.argv[1]):
    for n in names:
        p = os.path.join(d, n)
        if os.path.isfile(p) and not os.path.islink(p):
            fd = os.open(p, os.O_RDONLY)
            try:
                os.fsync(fd)
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)
PY
fi
run info "$bin" info --model mnist-wgan-gp && t_info="$took"
run info-warm "$bin" info --model mnist-wgan-gp && t_warm="$took"
grep -q "^path: $bundle/" "$tmp/info.out" || fail "info: the shipped model is not the bundle's ($(grep '^path:' "$tmp/info.out"))"
run info-3d "$bin" info --model modelnet10-iwgan

# 2. models: all the shipped generators are found
if run models "$bin" models --json; then
    for m in mnist-wgan-gp mnist-stylegan2 modelnet10-iwgan; do
        grep -q "\"$m\"" "$tmp/models.out" || fail "models: $m is not listed"
    done
fi

# 3. sample: a PNG grid of 4 digits
run sample "$bin" sample --model mnist-wgan-gp --seed 0 --n 4 --scale 4 --out "$tmp/s.png" &&
    check_png "$tmp/s.png" --min-size 64x64 --min-colours 8 --min-std 20

# 4. walk: GIF (Pillow) and MP4 (imageio-ffmpeg's bundled ffmpeg)
run walk-gif "$bin" walk --model mnist-wgan-gp --seeds 1,2 --frames 4 --scale 2 --out "$tmp/w.gif" &&
    { [[ -s "$tmp/w.gif" ]] || fail "walk: no GIF"; }
run walk-mp4 "$bin" walk --model mnist-wgan-gp --seeds 1,2 --frames 8 --scale 4 --out "$tmp/w.mp4" &&
    { [[ $(stat -c %s "$tmp/w.mp4" 2>/dev/null || echo 0) -gt 500 ]] || fail "walk: no MP4"; }

# 5. the 3D model headless: a random shape as a mesh file of each kind (pyvista's VTK writers), and rendered
for ext in stl obj ply npy; do
    run "sample3d-$ext" "$bin" sample3d --model modelnet10-iwgan --seed 3 --out "$tmp/shape.$ext" &&
        { [[ $(stat -c %s "$tmp/shape.$ext" 2>/dev/null || echo 0) -gt 1000 ]] || fail "sample3d: no .$ext"; }
done
run render3d "$bin" render3d --voxels "$tmp/shape.npy" --out "$tmp/render3d.png" &&
    check_png "$tmp/render3d.png" --min-size 32x32 --min-colours 8 --min-std 10

# 6. the GUI under Xvfb (xcb: real windows, and the 3D tab's VTK view on OpenGL)
if command -v xvfb-run >/dev/null 2>&1; then
    if run gui-sampling "${XVFB[@]}" "$bin" gui --screenshot "$tmp/sampling.png" --panel sampling; then
        t_gui="$took"
        check_png "$tmp/sampling.png" --min-size 800x500 --region 0.2,0.1,0.9,0.9
    fi
    if run gui-3d "${XVFB[@]}" "$bin" gui --screenshot "$tmp/3d.png" --panel 3d; then
        # the voxel view (right half): a real VTK picture, not the fallback
        check_png "$tmp/3d.png" --min-size 800x500 --region 0.6,0.15,0.97,0.83 --min-colours 64 --min-std 15
        if grep -qi "3D view could not\|has no OpenGL" "$tmp/gui-3d.err" "$tmp/gui-3d.out"; then
            fail "gui-3d: the VTK view did not start"; sed 's/^/    /' "$tmp/gui-3d.err" | tail -20
        fi
    fi
    grep -h "Traceback\|Error" "$tmp"/gui-*.err 2>/dev/null | head -5 | sed 's/^/smoke: stderr: /'
else
    fail "xvfb-run is not installed (make debs, as root): the GUI was not tried"
fi

echo "smoke: bundle size $size ($bundle)"
echo "smoke: start times: info ${t_info:-?}s cold (the bundle out of the page cache), ${t_warm:-?}s warm; gui --screenshot --panel sampling ${t_gui:-?}s (the first GUI start, Xvfb included)"
if [[ $fails -ne 0 ]]; then
    echo "smoke: $fails check(s) failed"
    exit 1
fi
echo "smoke: all passed"
