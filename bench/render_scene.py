"""Benchmark: `physir.thermal.render_scene` on one CPU thread, against baselines timed in the same run.

    python bench/render_scene.py [--size 256] [--n 40]

Prints the median time per scene (target ≤ 50 ms for 256×256 on one core) and two ratios:
- vs a *floor*: drawing as many random numbers as the scene has output values (7 maps) with numpy —
  the cost of merely producing that much data, so the ratio says how much work the renderer adds;
- vs the *per-pixel* forward model: L = ε·B(T) + (1−ε)·X evaluated pixel by pixel in a Python loop
  (the same Planck series, scalar maths) on that scene's maps — what the renderer would cost without
  vectorisation. The vectorised forward model is timed on the same maps.
Other processes on the machine change absolute (wall) times; the CPU time of this process is printed too, and the
ratios are measured side by side.
"""
import os
for var in ('OMP_NUM_THREADS', 'OPENBLAS_NUM_THREADS', 'MKL_NUM_THREADS'): os.environ[var] = '1'   # one core
import argparse, math, statistics, time
import numpy as np
import torch
from physir.thermal import render_scene, ir_radiance, C2_M_K, _RADIANCE_SCALE

torch.set_num_threads(1)

def planck_tail_scalar(x:float)->float:
    "G(x) = ∫ₓ^∞ t³/(eᵗ−1) dt for one x (same series as physir.thermal, scalar Python maths)."
    if x < 2.0:
        bern = {0: 1.0, 1: -0.5, 2: 1/6, 4: -1/30, 6: 1/42, 8: -1/30, 10: 5/66, 12: -691/2730, 14: 7/6, 16: -3617/510}
        return math.pi**4 / 15 - sum(b / (math.factorial(k) * (k + 3)) * x**(k + 3) for k, b in bern.items())
    return sum(math.exp(-n * x) * (x**3 / n + 3 * x**2 / n**2 + 6 * x / n**3 + 6 / n**4) for n in range(1, 13))

def forward_per_pixel(T, eps, X, wl_min=8e-6, wl_max=14e-6):
    "The forward model, one pixel at a time."
    out = np.empty_like(T)
    for i in range(T.shape[0]):
        for j in range(T.shape[1]):
            t = float(T[i, j])
            B = _RADIANCE_SCALE * t**4 * (planck_tail_scalar(C2_M_K / wl_max / t) - planck_tail_scalar(C2_M_K / wl_min / t))
            out[i, j] = eps[i, j] * B + (1 - eps[i, j]) * X[i, j]
    return out

def timeit(fn, repeat:int)->list:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter(); fn(); times.append(time.perf_counter() - t0)
    return times

def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--size', type=int, default=256); p.add_argument('--n', type=int, default=40)
    args = p.parse_args()
    S, n = args.size, args.n
    for s in range(3): render_scene(s, S)                                   # warm-up (radiance table, caches)
    render_ms, cpu_ms = [], []
    for s in range(n):
        t0, c0 = time.perf_counter(), time.process_time()
        render_scene(1000 + s, S)
        render_ms.append((time.perf_counter() - t0) * 1e3); cpu_ms.append((time.process_time() - c0) * 1e3)
    med, p90 = statistics.median(render_ms), sorted(render_ms)[int(0.9 * (n - 1))]

    rng = np.random.default_rng(0)
    floor_ms = statistics.median(timeit(lambda: rng.random((7, S, S), dtype=np.float32), 20)) * 1e3

    sc = render_scene(7, S)
    T, eps, X = (sc[k][0].double().numpy() for k in ('temperature', 'emissivity', 'environment'))
    vec_ms = statistics.median(timeit(lambda: ir_radiance(T, eps, X), 10)) * 1e3
    t0 = time.perf_counter(); L_loop = forward_per_pixel(T, eps, X); loop_ms = (time.perf_counter() - t0) * 1e3
    assert np.allclose(L_loop, ir_radiance(T, eps, X), rtol=1e-9), "per-pixel and vectorised forward models disagree"

    print(f"render_scene({S}×{S}), one thread, {n} seeds: median {med:.1f} ms, p90 {p90:.1f} ms "
          f"(target ≤ 50 ms: {'OK' if med <= 50 else 'SLOW'}); CPU time median {statistics.median(cpu_ms):.1f} ms "
          f"(wall > CPU means other processes share the core)")
    print(f"floor  (numpy random, 7×{S}×{S} float32): {floor_ms:.2f} ms  → render is {med / floor_ms:.1f}× the floor")
    print(f"forward model on the scene's maps: per-pixel Python loop {loop_ms:.0f} ms, vectorised {vec_ms:.1f} ms "
          f"→ vectorised is {loop_ms / vec_ms:.0f}× faster; a whole render is {loop_ms / med:.0f}× faster than the loop alone")

if __name__ == '__main__': main()
