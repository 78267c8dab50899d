"""Benchmark: the LGT energies of `physir.energies` against their baselines, timed side by side in one run.

    python bench/energies.py [--threads 1] [--repeat 7] [--strict]

1. `cosine_ssm` (exact, three C×C products in float64) vs `cosine_ssm_naive` (both N×N cosine self-similarity
   matrices in float32) on latents B=8, C=4 at 32² and 64²: values must agree (1e-5 relative) and the exact
   form must be ≥ 20× (32²) and ≥ 100× (64²) faster. Forward and forward+backward are both timed.
2. `patch_swd` vs POT's `ot.sliced_wasserstein_distance` on the same points (every 3×3 patch, no sub-sampling:
   N ≤ max_samples) and the same projections (POT's `projections` argument). POT returns
   sqrt(mean over directions of W₂²) for one pair of point clouds with uniform weights, so its value is squared
   and it is called once per batch element; our `patch_swd` does the whole batch, patch extraction included.
   Values must agree (1e-4 relative) and patch_swd must be ≥ 2× faster than POT's NumPy backend.

Times are medians of `--repeat` runs. Other processes on the machine change absolute times; the ratios are
measured side by side in one process. `--strict` exits with status 1 when a check fails.
"""
import argparse, os, sys
_p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
_p.add_argument('--threads', type=int, default=1, help='torch/OpenMP threads (default 1: one core)')
_p.add_argument('--repeat', type=int, default=7)
_p.add_argument('--batch', type=int, default=8)
_p.add_argument('--strict', action='store_true', help='exit 1 if a value or speed check fails')
ARGS = _p.parse_args()
for var in ('OMP_NUM_THREADS', 'OPENBLAS_NUM_THREADS', 'MKL_NUM_THREADS'): os.environ[var] = str(ARGS.threads)

import statistics, time
import numpy as np
import torch
import ot
from physir.energies import cosine_ssm, cosine_ssm_naive, patch_swd, extract_patches, random_projections

torch.set_num_threads(ARGS.threads)

def median_time(fn, repeat:int)->float:
    "Median seconds of `fn()` over `repeat` runs after one warm-up."
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter(); fn(); times.append(time.perf_counter() - t0)
    return statistics.median(times)

def fwd_bwd(f, x, y):
    def run():
        xg = x.detach().requires_grad_()
        f(xg, y).backward()
    return run

def rel(a:float, b:float)->float: return abs(a - b) / max(abs(b), 1e-30)

def main():
    B, C, R = ARGS.batch, 4, ARGS.repeat
    failures = []
    def check(ok:bool, what:str):
        if not ok: failures.append(what)
        return 'ok' if ok else 'FAILED'
    print(f"physir bench/energies.py — torch {torch.__version__}, POT {ot.__version__}, {ARGS.threads} thread(s), "
          f"B={B}, C={C}, median of {R}\n")

    print("1. Cosine-SSM: exact C×C form vs naive N×N form")
    print(f"{'latent':>7} {'N':>5} {'exact ms':>9} {'naive ms':>9} {'speed-up':>9} {'floor':>6}  "
          f"{'fwd+bwd exact':>13} {'naive':>8} {'speed-up':>9}  {'rel. diff':>9}")
    for size, floor in ((32, 20), (64, 100)):
        g = torch.Generator().manual_seed(size)
        x, y = torch.randn(B, C, size, size, generator=g), torch.randn(B, C, size, size, generator=g)
        with torch.no_grad():
            v_exact, v_naive = cosine_ssm(x, y).item(), cosine_ssm_naive(x, y).item()
            t_exact = median_time(lambda: cosine_ssm(x, y), R)
            t_naive = median_time(lambda: cosine_ssm_naive(x, y), max(3, R // 2))
        tb_exact = median_time(fwd_bwd(cosine_ssm, x, y), R)
        tb_naive = median_time(fwd_bwd(cosine_ssm_naive, x, y), 3)
        d = rel(v_exact, v_naive)
        ratio = t_naive / t_exact
        print(f"{size:>5}² {size * size:>5} {t_exact * 1e3:>9.3f} {t_naive * 1e3:>9.1f} {ratio:>8.0f}× {floor:>5}×  "
              f"{tb_exact * 1e3:>12.2f}  {tb_naive * 1e3:>8.1f} {tb_naive / tb_exact:>8.0f}×  {d:>9.1e}  "
              f"[speed {check(ratio >= floor, f'ssm {size}² speed {ratio:.1f}x < {floor}x')}, "
              f"value {check(d <= 1e-5, f'ssm {size}² value rel diff {d:.1e}')}]")

    print("\n2. Patch-SWD (3×3 patches, 64 directions) vs POT ot.sliced_wasserstein_distance, same points and directions")
    print("   (patch_swd timed as a value, like POT, and with x requiring grad — the training path — forward only)")
    print(f"{'latent':>7} {'points':>11} {'patch_swd ms':>12} {'POT numpy ms':>12} {'speed-up':>9} {'POT torch ms':>12} "
          f"{'speed-up':>9} {'with grad ms':>12} {'vs POT':>7}  {'max rel. diff':>13}")
    for size in (32, 64):
        g = torch.Generator().manual_seed(100 + size)
        x, y = torch.randn(B, C, size, size, generator=g), 0.7 * torch.randn(B, C, size, size, generator=g) + 0.2
        proj = random_projections(C * 9, 64, generator=g)
        px, py = extract_patches(x), extract_patches(y)                       # [B, N, 36], N ≤ 4096: all patches used
        assert px.shape[1] <= 4096
        pxn, pyn, projn = px.double().numpy(), py.double().numpy(), proj.double().numpy()
        with torch.no_grad():
            ours = patch_swd(x, y, projections=proj, reduction='none')
            t_ours = median_time(lambda: patch_swd(x, y, projections=proj), R)
        pot = np.array([ot.sliced_wasserstein_distance(pxn[b], pyn[b], projections=projn) ** 2 for b in range(B)])
        t_pot = median_time(lambda: [ot.sliced_wasserstein_distance(pxn[b], pyn[b], projections=projn) for b in range(B)], R)
        xg = x.detach().requires_grad_()
        t_grad = median_time(lambda: patch_swd(xg, y, projections=proj), R)
        t_pot_t = median_time(lambda: [ot.sliced_wasserstein_distance(px[b], py[b], projections=proj) for b in range(B)], 3)
        d = float(np.max(np.abs(ours.double().numpy() - pot) / np.abs(pot)))
        ratio = t_pot / t_ours
        print(f"{size:>5}² {B:>3}×{px.shape[1]:>4}×{px.shape[2]} {t_ours * 1e3:>12.2f} {t_pot * 1e3:>12.2f} {ratio:>8.1f}× "
              f"{t_pot_t * 1e3:>12.2f} {t_pot_t / t_ours:>8.1f}× {t_grad * 1e3:>12.2f} {t_pot / t_grad:>6.1f}×  {d:>13.1e}  "
              f"[speed ≥2× {check(ratio >= 2, f'swd {size}² speed {ratio:.2f}x < 2x')}, "
              f"value {check(d <= 1e-4, f'swd {size}² value rel diff {d:.1e}')}]")

    print("\n" + ("all checks passed" if not failures else "FAILED: " + "; ".join(failures)))
    if failures and ARGS.strict: sys.exit(1)

if __name__ == '__main__': main()
