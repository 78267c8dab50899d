#!/usr/bin/env python
"""Bench: does the offline realism score of `physir.metrics` order real infrared the way it should, and how many
images make it stable? On RoadScene's real IR (`ROOT/roadscene`, 221 frames, read by `physir.datasets`).

    python bench/realism_check.py                      # --root ../shared/real (beside the repository)
    python bench/realism_check.py --root /data/real --size 256 --n 80

Every IR frame is resized so its short side is `--size` px (antialiased bilinear, aspect kept): the frames' sizes
differ, and the scores compare sets at one scale. Two disjoint random sets of `--n` frames (seeded) are drawn:
the *real* set A and *another split* B. Against A, scored by `physir.metrics.swd_realism` (per level and mean) and
`hf_power_ratio`:
  1. another split B (the noise floor: the same camera, other frames);
  2. B blurred by a Gaussian of σ = 1 and 2 px (at the working scale);
  3. B flat, at A's mean level (the constant image);
  and, as a harder "other split", the first n frames by sorted name against the next n (other drives: RoadScene's
  names follow its source videos).
Expected: 1 < 2 < 3 for the SWD mean and its finest levels, and HF ratio ≈ 1 for 1, ≪ 1 for 2, 0 for 3.
Stability: the spread (std, min–max) of the SWD of (1) and (2) over 5 SWD seeds on fixed sets, and over 5 random
draws of disjoint sets of 20, 40 and 80 frames: how many frames separate another split from a blurred one.
Cost: CPU seconds of `swd_realism` and `hf_power_ratio` for two sets of 40 frames at 256 px (one thread).
Normalisation: the ordering again with `normalise='real'` (both sets by the real set's statistics) instead of the
recipe's per-set normalisation, and what a global gain/offset (0.5·B + 0.2) does to either.

Prints a table and writes it to bench/out/realism_check.txt, with a figure bench/out/realism_check.png (a frame, its
blurred copy, and the sets' radially averaged power spectra). Runs only when the data folder exists; otherwise it
prints one line and exits 0."""
import argparse, os, sys, time
_p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
_p.add_argument('--root', default=str(__import__('pathlib').Path(__file__).resolve().parents[1].parent/'shared'/'real'))
_p.add_argument('--size', type=int, default=256, help='common short side in px')
_p.add_argument('--n', type=int, default=80, help='frames per set for the ordering check')
_p.add_argument('--threads', type=int, default=1)
_p.add_argument('--parts', default='1234', help='which parts to run: 1 ordering (always), 2 stability, 3 cost, 4 normalisation')
_p.add_argument('--out', default=str(__import__('pathlib').Path(__file__).resolve().parent/'out'))
ARGS = _p.parse_args()
for var in ('OMP_NUM_THREADS', 'OPENBLAS_NUM_THREADS', 'MKL_NUM_THREADS'): os.environ[var] = str(ARGS.threads)

from pathlib import Path
import numpy as np
import torch
import torch.nn.functional as F
torch.set_num_threads(ARGS.threads)
from physir.datasets import find_pairs, load_pair
from physir.metrics import swd_realism, hf_power_ratio, radial_power_spectrum, match_size

def short_side(im:torch.Tensor, size:int)->torch.Tensor:
    "`[1,H,W]` resized (antialiased bilinear) so its short side is `size` px, aspect kept."
    h, w = im.shape[-2:]; s = size / min(h, w)
    return match_size(im, (max(size, round(h * s)), max(size, round(w * s))))

def gaussian_blur(im:torch.Tensor, sigma_px:float)->torch.Tensor:
    "`[1,H,W]` blurred by a separable Gaussian of `sigma_px` (reflect padding)."
    r = int(3 * sigma_px); x = torch.arange(-r, r + 1, dtype=torch.float32)
    k = torch.exp(-x ** 2 / (2 * sigma_px ** 2)); k = k / k.sum()
    y = F.pad(im[None], (r, r, r, r), mode='reflect')
    return F.conv2d(F.conv2d(y, k.view(1, 1, 1, -1)), k.view(1, 1, -1, 1))[0]

def two_sets(n_frames:int, n:int, seed:int)->tuple[list, list]:
    "Indices of two disjoint random sets of `n` frames."
    perm = np.random.default_rng(seed).permutation(n_frames)
    return perm[:n].tolist(), perm[n:2 * n].tolist()

def spread(values)->str:
    v = np.asarray(values)
    return f"{v.mean():.4f} ± {v.std():.4f} (min {v.min():.4f}, max {v.max():.4f})"

def main():
    root = Path(ARGS.root)/'roadscene'
    if not (root/'cropinfrared').is_dir(): print(f"realism_check: no RoadScene at {root}; nothing to do"); return
    t0 = time.time()
    records = find_pairs(root, format='roadscene', split='all')
    frames = [short_side(load_pair(r)['infrared'], ARGS.size) for r in records]
    names = [r.name for r in records]
    out, lines = Path(ARGS.out), []
    def say(s=''): print(s, flush=True); lines.append(s)
    say(f"RoadScene IR: {len(frames)} frames from {root}, each resized to a short side of {ARGS.size} px "
        f"(antialiased bilinear); load {time.time() - t0:.1f} s wall; torch threads {ARGS.threads}; timings under load "
        f"(other jobs share the 2 cores)")
    n = min(ARGS.n, len(frames) // 2)
    ia, ib = two_sets(len(frames), n, 0)
    A, B = [frames[i] for i in ia], [frames[i] for i in ib]
    level = float(torch.cat([a.flatten() for a in A]).mean())
    ordered = sorted(range(len(frames)), key=lambda i: names[i])
    cases = {'another split (random)': B,
             'other drives (sorted)': [frames[i] for i in ordered[n:2 * n]],
             'B blurred σ=1 px': [gaussian_blur(b, 1.0) for b in B],
             'B blurred σ=2 px': [gaussian_blur(b, 2.0) for b in B],
             'constant (A mean)': [torch.full_like(b, level) for b in B]}
    reals = {'other drives (sorted)': [frames[i] for i in ordered[:n]]}
    say(f"\n1. Ordering: sets of {n} frames against the real set A of {n} (disjoint, random; seed 0); SWD with the defaults "
        f"(7×7, 128 patches/image/level, 512 directions in 4 batches, seed 0); HF ratio above ½ Nyquist")
    results = {}
    for name, S in cases.items():
        real = reals.get(name, A)
        r = swd_realism(S, real); r['hf_ratio'] = hf_power_ratio(S, real); results[name] = r
    px = list(results['another split (random)']['swd_levels'])
    say(f"{'set':26s}{'SWD mean':>10s}" + ''.join(f"{f'{p} px':>9s}" for p in px) + f"{'HF ratio':>11s}")
    for name, r in results.items():
        say(f"{name:26s}{r['swd']:10.4f}" + ''.join(f"{r['swd_levels'][p]:9.4f}" for p in px) + f"{r['hf_ratio']:11.4g}")
    s = {k: r['swd'] for k, r in results.items()}
    ok_mean = s['another split (random)'] < s['B blurred σ=2 px'] < s['constant (A mean)']
    fine = {k: r['swd_levels'][px[0]] for k, r in results.items()}
    ok_fine = fine['another split (random)'] < fine['B blurred σ=1 px'] < fine['B blurred σ=2 px'] < fine['constant (A mean)']
    hf = {k: r['hf_ratio'] for k, r in results.items()}
    ok_hf = hf['B blurred σ=2 px'] < 0.5 <= hf['another split (random)'] and hf['constant (A mean)'] == 0
    say(f"ordering another split < blurred σ=2 < constant: SWD mean {'OK' if ok_mean else 'FAILS'}; finest level "
        f"({px[0]} px, split < σ=1 < σ=2 < constant) {'OK' if ok_fine else 'FAILS'}; HF ratio (blurred < 0.5 ≤ split, constant 0) {'OK' if ok_hf else 'FAILS'}")

    if '2' in ARGS.parts: say("\n2. Stability of the SWD mean (and of the finest level)")
    m = min(40, len(frames) // 2)
    ia, ib = two_sets(len(frames), m, 0)
    A40, B40 = [frames[i] for i in ia], [frames[i] for i in ib]
    B40_blur = [gaussian_blur(b, 2.0) for b in B40]
    by_seed = {} if '2' not in ARGS.parts else {'split': [swd_realism(B40, A40, seed=k) for k in range(5)], 'blur σ=2': [swd_realism(B40_blur, A40, seed=k) for k in range(5)]}
    for k, rs in by_seed.items():
        say(f"  {m} vs {m} frames, 5 SWD seeds, {k:9s}: mean {spread([r['swd'] for r in rs])}; {px[0]} px {spread([r['swd_levels'][px[0]] for r in rs])}")
    for size in ((20, 40, 80) if '2' in ARGS.parts else ()):
        if 2 * size > len(frames): continue
        split, blur, hf_split = [], [], []
        for draw in range(5):
            ia, ib = two_sets(len(frames), size, 100 + draw)
            a, b = [frames[i] for i in ia], [frames[i] for i in ib]
            split.append(swd_realism(b, a)['swd']); blur.append(swd_realism([gaussian_blur(x, 2.0) for x in b], a)['swd'])
            hf_split.append(hf_power_ratio(b, a))
        sep = min(blur) > max(split)
        say(f"  5 draws of two disjoint sets of {size:2d}: split {spread(split)}; blur σ=2 {spread(blur)}; "
            f"separated in every draw: {'yes' if sep else 'NO'}; HF ratio of the split {spread(hf_split)}")

    if '3' in ARGS.parts: cost(A40, B40, say)
    if '4' in ARGS.parts:
        say(f"\n4. Normalisation, the same {n} + {n} frames: the recipe's per-set statistics ('each', the default) vs the real set's ('real')")
        gain = [0.5 * b + 0.2 for b in B]
        for norm in ('each', 'real'):
            row = {k: swd_realism(cases[k], A, normalise=norm)['swd'] for k in ('another split (random)', 'B blurred σ=2 px', 'constant (A mean)')}
            row['0.5·B + 0.2'] = swd_realism(gain, A, normalise=norm)['swd']
            drives_real, drives = reals['other drives (sorted)'], cases['other drives (sorted)']
            row['other drives'] = swd_realism(drives, drives_real, normalise=norm)['swd']
            row['other drives σ=2'] = swd_realism([gaussian_blur(b, 2.0) for b in drives], drives_real, normalise=norm)['swd']
            say(f"  normalise={norm!r:7s} " + '   '.join(f"{k}: {v:.4f}" for k, v in row.items()))
    finish(out, lines, t0, A, B, cases, say)

def cost(A40, B40, say):
    say("\n3. CPU cost (one thread, process CPU time; two sets of 40 frames)")
    a40 = [match_size(f, (ARGS.size, ARGS.size)) for f in A40]; b40 = [match_size(f, (ARGS.size, ARGS.size)) for f in B40]
    for label, fn in (('swd_realism (defaults)', lambda: swd_realism(b40, a40)),
                      ('swd_realism (n_repeats=1, 128 dirs)', lambda: swd_realism(b40, a40, n_directions=128, n_repeats=1)),
                      ('hf_power_ratio', lambda: hf_power_ratio(b40, a40))):
        fn(); times = []
        for _ in range(3):
            c = time.process_time(); fn(); times.append(time.process_time() - c)
        say(f"  {label:38s} {np.median(times):6.2f} s CPU (median of 3) at {ARGS.size}×{ARGS.size} px")

def finish(out, lines, t0, A, B, cases, say):
    "The figure (a frame, its blurred copy, the spectra) and the text file."
    # figure: a frame, its blurred copy, and the spectra
    import matplotlib; matplotlib.use('Agg'); import matplotlib.pyplot as plt
    fig, ax = plt.subplots(1, 3, figsize=(12, 3.4), dpi=80)
    ax[0].imshow(B[0][0], cmap='gray', vmin=0, vmax=1); ax[0].set_title('real IR (set B)'); ax[0].axis('off')
    ax[1].imshow(cases['B blurred σ=2 px'][0][0], cmap='gray', vmin=0, vmax=1); ax[1].set_title('blurred σ = 2 px'); ax[1].axis('off')
    for name, S in (('A (real)', A), ('B another split', B), ('B blurred σ=1', cases['B blurred σ=1 px']), ('B blurred σ=2', cases['B blurred σ=2 px'])):
        f, p = radial_power_spectrum(S); ax[2].semilogy(f, p, label=name)
    ax[2].axvline(0.5, color='k', ls=':', lw=1); ax[2].set(xlabel='radial frequency / Nyquist', ylabel='power per pixel', title='radially averaged power spectrum')
    ax[2].legend(fontsize=7); fig.tight_layout()
    out.mkdir(parents=True, exist_ok=True); fig.savefig(out/'realism_check.png'); plt.close(fig)
    (out/f"realism_check{'' if ARGS.parts == '1234' else '_parts' + ARGS.parts}.txt").write_text('\n'.join(lines) + '\n')
    say(f"\nwritten: {out}/realism_check*.txt, {out/'realism_check.png'} ({time.time() - t0:.0f} s wall)")

if __name__ == '__main__': main()
