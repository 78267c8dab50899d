#!/usr/bin/env python
"""Stage 1 on real data: radiometric FLIR scenes (true temperature) and RoadScene's registered RGB/IR pairs.

    python bench/real_data.py                                   # --root ../shared/real (beside the repository)
    python bench/real_data.py --root /data/real --budget_s 600 --synthetic_budget_s 300

Runs only when the real-data folder exists (see its README.md: `roadscene/` in the dataset's own layout,
`flir_rjpeg/with_photo/` and `flir_rjpeg/thermal_only/` radiometric JPEGs); otherwise it prints one line and exits 0.

(a) Stage 1 (fusion) trained on the kit's synthetic scenes for `synthetic_budget_s` of CPU time, scored on the real
    radiometric scenes with an embedded photo: per-image Spearman ρ(intensity, T) and ρ(fusion, T) against the true
    temperature T (kelvin, from the camera's calibration), next to ρ(luminance, T), ρ(1 − luminance, T) and
    ρ(IR, T), the IR image the camera would store (T over the scene's span, 8-bit), as the ceiling; the thermal-only
    files give ρ(IR, T) too. The photo is cropped to the thermal field of view from the picture-in-picture metadata
    and resized to the thermal grid; the network sees it resized so its short side is `synthetic_size`.
(b) Stage 1 (fusion) and the direct baseline (`method='direct'`: same backbone and decoder, RGB → IR, L1 + SSIM),
    each trained from the same seed for `budget_s` of CPU time on RoadScene's pairs (`crop_LR_visible/` with
    `cropinfrared/`, registered and of equal size) split by sorted stem, the last `n_holdout` held out. Training
    reads random square crops over the whole frame (side 0.71–1 × the short side, flips) resized to `image_size`, a
    `whole_frame` share of whole frames, each pixel's frame row/column (`position`) and a coarse-layout loss term
    (`lambda_layout`, `physir.losses.layout_loss`; fusion only, as configs/pretrain_decomposition_outdoor.yaml says): the
    measured settings of 06; `--reuse` takes only runs trained with them;
    held-out frames go through `physir.generate.IRGenerator` (the `physir_generate` path) at a working long side
    of `eval_max_side` (aspect kept) and come back at the IR's own size, where they are scored: PSNR and SSIM
    (data range 1) and per-image ρ against the real IR, next to the trivial baselines (a constant image at the
    training set's mean IR, the grey of the RGB, its inverse). Floors: fusion and direct each beat all three
    on PSNR and on ρ.
(c) per-image time of `physir_generate --method fusion|direct` on 640×512 inputs (the (b) checkpoints), CPU and
    wall seconds, on this machine's `threads` torch threads.
(x) cross-dataset (`--parts x`): fusion and direct trained on RoadScene (the (b) runs), and once on RoadScene + the first
    14 VIFB pairs (sorted names; one IR style per dataset), scored at the DEFAULT inference settings
    (`IRGenerator.from_checkpoint(run folder)`: the working size from the checkpoint's training geometry) on RoadScene's
    held-out 41, VIFB (21 colour pairs), its last 7, and TNO (42, grey visible), beside the row ramp, the grey of the
    photo and the constant; raw and level-matched PSNR/SSIM (a diagnostic: per-image gain/offset fit) and ρ. The
    RoadScene runs are also run by hand at `--eval_max_side` (the training-crop scale). Floors: on every cross-dataset
    set the level-matched PSNR of each model above the grey's; on VIFB ρ at the default settings ≥ by hand.
    `--figures DIR` writes RGB | IR | generators PNGs. Full run: `python bench/real_data.py --parts x --budget_s 600`.
Training budgets count this process's CPU time, so contention changes the wall time, not the result."""
import contextlib, io, os, shutil, sys, tempfile, time
from pathlib import Path
import numpy as np
import torch
from PIL import Image
from fastcore.script import call_parse
from physir.core import save_image, resize_image
from physir.data import write_synthetic_dataset
from physir.datasets import find_pairs, load_pair, read_radiometric
from physir.metrics import image_rho, score_with_baselines, paired_difference, match_size
from physir.pseudo_labels import luminance
from physir.generate import IRGenerator, FusionBackend, DirectBackend, working_size, physir_generate
from physir.train_decomposition import DecompTrainConfig, DecompositionTrainer

FLOOR_BASELINES = ('constant', 'grey', 'inverted_grey')

def radiometric_item(path:Path)->dict:
    "A FLIR R-JPEG through `physir.datasets.read_radiometric`: temperature `[1,h,w]` (K), and `rgb` `[3,h,w]` on the thermal grid or None."
    r = read_radiometric(path)
    rgb = torch.from_numpy(np.ascontiguousarray(r['rgb'])).permute(2, 0, 1).float() / 255 if r['rgb'] is not None else None
    return dict(name=path.stem, temperature=torch.from_numpy(r['temperature_K'])[None], rgb=rgb)

# --- scores ---
def ir_as_stored(temperature:torch.Tensor)->torch.Tensor:
    "The IR image a camera would store: T over the scene's own span, quantised to 8 bits."
    lo, hi = temperature.min(), temperature.max()
    return ((temperature - lo) / (hi - lo).clamp_min(1e-6) * 255).round() / 255

def _mean(v): return float(np.mean(v)) if len(v) else float('nan')

# --- training ---
def train(method:str, train_dir:Path, work:Path, budget_s:float, image_size:int, batch_size:int, learning_rate:float,
          backbone:str, seed:int, mixed_precision:str, format:str='kit', data_options:dict|None=None, **settings):
    "Train Stage 1 (`method`) for `budget_s` of this process's CPU time on the training split (`settings`: more `DecompTrainConfig` fields); returns (trained net, summary, CPU seconds)."
    cfg = DecompTrainConfig(method=method, train_data=train_dir if isinstance(train_dir, list) else str(train_dir), val_data=None,
                            format=format, data_options=data_options, **settings,
                            image_size=image_size, backbone=backbone, batch_size=batch_size, num_epochs=100_000,
                            learning_rate=learning_rate, max_time_s=budget_s, time_clock='cpu', num_workers=0, seed=seed,
                            progress=False, val_every_epochs=10**6, save_every=10**6, log_every=50,
                            mixed_precision=mixed_precision, cpu=True, label_cache_dir=str(work/'labels'),
                            log_dir=str(work/'logs'), checkpoint_dir=str(work/'checkpoints'), vis_dir=str(work/'vis'))
    trainer = DecompositionTrainer(cfg)
    cpu0 = time.process_time()
    summary = trainer.fit()
    return trainer.model.eval(), summary, time.process_time() - cpu0

def finished_run(work:Path, budget_s:float, **settings):
    "A finished `train` run in `work` (its newest checkpoint used the whole CPU budget, trained with `settings`: `DecompTrainConfig` fields) as `train` returns it, or None."
    import json
    from physir.decomposition import load_stage1_net
    from physir.training import find_checkpoint
    ckpt = find_checkpoint('latest', work/'checkpoints')   # checkpoint-N/ (an older run's last/ too)
    if ckpt is None: return None
    state = json.loads((ckpt/'state.json').read_text())
    if state['config'].get('time_clock') != 'cpu' or state['config'].get('max_time_s') != budget_s or state['budget_used_s'] < budget_s:
        return None
    defaults = DecompTrainConfig.__dataclass_fields__
    if any(state['config'].get(k, defaults[k].default) != v for k, v in settings.items()): return None   # trained otherwise
    summary = dict(step=state['step'], seconds=None, nonfinite_skipped=state['nonfinite_skipped'])
    return load_stage1_net(ckpt).eval(), summary, state['budget_used_s'], ckpt

# --- (a) ---
@torch.no_grad()
def part_a(real:Path, net, short_side:int)->dict:
    "Per-scene ρ against true T of the synthetic-trained fusion net and the references, over the R-JPEGs with a photo."
    rows, ir_only = [], []
    for path in sorted((real/'flir_rjpeg'/'with_photo').glob('*.jpg')) + sorted((real/'flir_rjpeg'/'thermal_only').glob('*.jpg')):
        try: item = radiometric_item(path)
        except Exception as e: print(f"  skipping {path.name}: {type(e).__name__}: {e}"); continue
        T = item['temperature']
        ir_only.append(image_rho(ir_as_stored(T), T))
        if item['rgb'] is None: continue
        rgb = item['rgb'][None]; h, w = rgb.shape[-2:]
        out = net(resize_image(rgb, working_size(h, w, short_side=short_side)))
        lum = luminance(rgb)[0]
        rows.append(dict(name=item['name'], size=f"{w}x{h}", span=f"{T.min():.1f}-{T.max():.1f} K",
                         intensity=image_rho(resize_image(out.intensity, (h, w))[0], T), fusion=image_rho(resize_image(out.fusion, (h, w))[0], T),
                         luminance=image_rho(lum, T), inverted=image_rho(1 - lum, T), ir=ir_only[-1]))
    return dict(rows=rows, ir_all=ir_only)

# --- (b) ---
@torch.no_grad()
def score_holdout(pairs, generators:dict, train_mean_ir:float)->dict:
    "Per-image PSNR/SSIM/ρ against the real IR at its own size for each generator and each trivial baseline (`physir.metrics.score_with_baselines`)."
    return score_cross(pairs, generators, train_mean_ir)[0]

# --- (c) ---
def time_generate(method:str, checkpoint:Path, inputs:Path, out:Path)->tuple[float, float]:
    "CPU and wall seconds per image of `physir_generate --method METHOD` over the images in `inputs` (after a warm-up image)."
    n = len(list(inputs.iterdir()))
    with contextlib.redirect_stdout(io.StringIO()):        # its one-line summaries; the timing is what we print
        physir_generate([str(sorted(inputs.iterdir())[0])], method=method, checkpoint=str(checkpoint), out=str(out/'warmup'), quiet=True, device='cpu')
        cpu0, wall0 = time.process_time(), time.perf_counter()
        status = physir_generate([str(inputs)], method=method, checkpoint=str(checkpoint), out=str(out/method), quiet=True, device='cpu')
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    if status != 0: raise RuntimeError(f"physir_generate --method {method} exited with {status}")
    return cpu / n, wall / n

# --- (x) cross-dataset ---
CROSS_BASELINES = ('row_ramp', 'grey', 'constant')
MIX_NAMES = ('roadscene', 'vifb')
VIFB_LAYOUT, TNO_LAYOUT = dict(rgb_dir='input/VI', ir_dir='input/IR'), dict(rgb_dir='vi', ir_dir='ir')   # generic-format folders

def cross_sets(real:Path)->dict:
    "The scoring sets of (x): {name: [PairRecord]}: RoadScene's held-out 41, VIFB (21 colour pairs), its last 7 (sorted names), TNO (42, grey visible)."
    vifb, tno = VIFB_LAYOUT, TNO_LAYOUT
    return {'RoadScene held-out 41': find_pairs(real/'roadscene', format='roadscene', split='val', holdout=41),
            'VIFB (21)': find_pairs(real/'vifb', format='generic', split='train', holdout=0, **vifb),
            'VIFB last 7': find_pairs(real/'vifb', format='generic', split='val', holdout=7, **vifb),
            'TNO (42)': find_pairs(real/'tno', format='generic', split='train', holdout=0, **tno)}

def mix_training(real:Path)->dict:
    "Training data of the mixed run: RoadScene's 180 training pairs + the first 14 VIFB pairs (sorted names), one IR style each."
    return dict(train_dir=[str(real/'roadscene'), str(real/'vifb')], format='roadscene,generic', dataset_names=','.join(MIX_NAMES),
                data_options=[dict(holdout=41), dict(VIFB_LAYOUT, holdout=7)])

@torch.no_grad()
def score_cross(records, generators:dict, train_mean_ir:float)->dict:
    "`score_with_baselines` of each generator on `records` (the IR's own size; level-matched PSNR/SSIM beside the raw ones)."
    samples = [load_pair(r) for r in records]
    rgbs, refs = [s['rgb'] for s in samples], [s['infrared'] for s in samples]
    preds = {name: [gen(rgb) for rgb in rgbs] for name, gen in generators.items()}
    return score_with_baselines(preds, refs, rgbs, train_mean_ir, verbose=False), preds, rgbs, refs

def _cross_row(label, s):
    return (f"  {label:<44} {s['psnr']:>7.2f} {s.get('psnr_level_matched', float('nan')):>8.2f} {s['ssim']:>6.3f} "
            f"{s.get('ssim_level_matched', float('nan')):>7.3f} {s['rho_ir']:>6.3f}")

def print_cross_table(set_name:str, table:dict, labels:dict):
    "One set's table: the trivial priors, then one row per trained generator."
    print(f"\n  {(set_name + ': ' + str(table['grey']['n_images']) + ' pairs'):<44} {'PSNR':>7} {'PSNR-lm':>8} {'SSIM':>6} {'SSIM-lm':>7} {'ρ(IR)':>6}")
    for b in CROSS_BASELINES: print(_cross_row({'row_ramp': 'row ramp (lower rows warmer)', 'grey': 'grey of the RGB',
                                                'constant': 'constant (RoadScene train mean)'}[b], table[b]))
    for name, label in labels.items(): print(_cross_row(label, table[name]))

def cross_figure(path:Path, rgbs, refs, preds:dict, n:int=4):
    "RGB | IR | each generator, for the first `n` pairs of a set (a PNG to look at)."
    import textwrap
    from physir.core import show_grid, save_figure
    rows = min(n, len(rgbs))
    images = [im for i in range(rows) for im in [rgbs[i], refs[i]] + [preds[k][i] for k in preds]]
    titles = ['RGB', 'IR'] + [textwrap.fill(k, 18) for k in preds]   # wrapped: the run names are longer than a column
    fig = show_grid(images, titles=titles, cmaps=([None, 'inferno'] + ['inferno'] * len(preds)) * rows,
                    ncols=2 + len(preds), size=1.6)
    save_figure(fig, path, dpi=60)

def part_x(real:Path, runs:dict, train_mean_ir:float, eval_max_side:int, figures:Path|None=None, by_hand:bool=True)->tuple[dict, list]:
    "Score each run's checkpoint ({label: (method, checkpoint)}) at the DEFAULT inference settings, RoadScene runs also by hand at `eval_max_side`; returns the tables and the floors' failures."
    import warnings
    gens, labels = {}, {}
    for label, (method, ckpt, styles) in runs.items():
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter('always')
            gens[label] = IRGenerator.from_checkpoint(ckpt, method, device='cpu')
        for w in caught: print(f"  ({label}) warning: {w.message}")
        labels[label] = f"{label} (default settings)"
        for style in styles[1:]:
            gens[f"{label} [{style}]"] = IRGenerator.from_checkpoint(ckpt, method, device='cpu', ir_style=style)
            labels[f"{label} [{style}]"] = f"{label}, --ir_style {style}"
        if not styles and by_hand:
            gens[f"{label} @{eval_max_side}"] = IRGenerator.from_checkpoint(ckpt, method, device='cpu', max_side=eval_max_side)
            labels[f"{label} @{eval_max_side}"] = f"{label} by hand (--max_side {eval_max_side})"
    for k, g in gens.items():
        if '@' not in k and '[' not in k: print(f"  {k}: {g.size_note}")
    tables, failed = {}, []
    for set_name, records in cross_sets(real).items():
        table, preds, rgbs, refs = score_cross(records, gens, train_mean_ir)
        tables[set_name] = table
        print_cross_table(set_name, table, labels)
        if figures is not None:
            keep = {k: v for k, v in preds.items() if '@' not in k}
            cross_figure(figures/f"cross_{set_name.split()[0].lower()}_{len(records)}.png", rgbs, refs, keep)
        for label in gens:
            if '@' in label or 'grey' not in table: continue
            ok = table[label].get('psnr_level_matched', -1) > table['grey'].get('psnr_level_matched', 0)
            if set_name != 'RoadScene held-out 41':
                if not ok: failed.append(f"{set_name}: {label} PSNR-lm > grey")
                print(f"  [{'PASS' if ok else 'FAIL'}] {label}: level-matched PSNR above the grey's "
                      f"({table[label].get('psnr_level_matched', float('nan')):.2f} vs {table['grey'].get('psnr_level_matched', float('nan')):.2f})")
            if set_name.startswith('VIFB') and f"{label} @{eval_max_side}" in table:
                by_hand = table[f"{label} @{eval_max_side}"]['rho_ir']
                ok = table[label]['rho_ir'] >= by_hand - 1e-9
                if not ok: failed.append(f"{set_name}: {label} ρ default >= by hand")
                rhos = [[image_rho(match_size(p, r.shape[-2:]), r) for p, r in zip(preds[k], refs)] for k in (label, f"{label} @{eval_max_side}")]
                diff = paired_difference(*rhos)   # per image: can this set tell the two sizes apart?
                print(f"  [{'PASS' if ok else 'FAIL'}] {label}: ρ at the default settings ≥ by hand at {eval_max_side} "
                      f"({table[label]['rho_ir']:.3f} vs {by_hand:.3f}; per image {diff['mean']:+.3f}, 95% bootstrap "
                      f"[{diff['low']:+.3f}, {diff['high']:+.3f}], default better on {diff['wins']} of {diff['n']})")
    return tables, failed

def _fmt_row(name, s): return f"  {name:<26} {s['psnr']:>8.2f} {s['ssim']:>7.3f} {s['rho_ir']:>7.3f}"

# --- (d) the tiny FLUX-Fill on RoadScene, scored beside fusion and direct (self-contained: `--parts d --flux_budget_s S`) ---
# It sits before `main` because fastcore's call_parse runs `main` where it is defined.
def part_flux(real:Path, work:Path, budget_s:float, stage1_budget_s:float, n_holdout:int=41, image_size:int=64,
              sampling_steps:int=20, vae_budget_s:float=60, batch_size:int=8, learning_rate:float=1e-3, seed:int=0,
              backbone:str='resnet18', stage1_image_size:int=128, mixed_precision:str='no', eval_max_side:int=224,
              init_strength:float=0.6, figures:Path|None=None)->dict:
    """The tiny FLUX-Fill (random weights, the whole transformer trained, guided by RoadScene's Stage-1 net) trained for
    `budget_s` CPU seconds on RoadScene's training pairs (centre squares at `image_size` px, latents cached), sampled on
    the held-out pairs at a short side of `image_size` (aspect kept) and scored at the IR's own size beside fusion and
    direct (the (b) runs of the same Stage-1 budget in `work`, trained here if absent) and the trivial baselines, with
    the realism scores (SWD, HF ratio) of each set against the real held-out IR. Sampling starts from the Stage-1
    estimate noised to `init_strength` (the demo's setting; 1: from pure noise)."""
    from physir.train_flux import FluxTrainConfig, FluxTrainer, load_flux_checkpoint
    from physir.generate import working_size
    options = dict(holdout=n_holdout)
    train_pairs = find_pairs(real/'roadscene', format='roadscene', split='train', **options)
    held_out = find_pairs(real/'roadscene', format='roadscene', split='val', **options)
    train_mean_ir = float(np.mean([load_pair(r)['infrared'].mean().item() for r in train_pairs]))
    runs = {}
    for method in ('fusion', 'direct'):
        runs[method] = finished_run(work/f'b_{method}', stage1_budget_s) or (
            *train(method, real/'roadscene', work/f'b_{method}', stage1_budget_s, stage1_image_size, 4, 1e-3, backbone, seed,
                   mixed_precision, format='roadscene', data_options=options)[:3], None)
        if runs[method][3] is None: runs[method] = finished_run(work/f'b_{method}', stage1_budget_s)
    cfg = FluxTrainConfig(train_data=str(real/'roadscene'), val_data=str(real/'roadscene'), format='roadscene', data_options=options,
                          fit='crop', image_size=image_size, augment=False, cache_latents=True, tiny=True, train_transformer=True,
                          tiny_vae_steps=10**6, tiny_vae_cpu_s=vae_budget_s, gradient_checkpointing=False,
                          decomposition_checkpoint=str(runs['fusion'][3]), batch_size=batch_size, num_epochs=10**6,
                          max_time_s=budget_s, time_clock='cpu', learning_rate=learning_rate, lr_schedule='cosine',
                          lr_warmup_steps=20, num_workers=0, mixed_precision='no', cpu=True, seed=seed, log_every=50,
                          val_every=10**6, save_every=10**6, num_vis_samples=2, num_inference_steps=sampling_steps,
                          init_strength=init_strength, progress=False, overwrite=True, log_dir=str(work/'d_flux'/'logs'),
                          checkpoint_dir=str(work/'d_flux'/'checkpoints'), vis_dir=str(work/'d_flux'/'vis'))
    cpu0 = time.process_time(); summary = FluxTrainer(cfg).fit(); cpu = time.process_time() - cpu0
    model = load_flux_checkpoint(summary['checkpoint']).eval()
    @torch.no_grad()
    def flux(rgb):                     # [3,H,W] → [1,H,W]: sampled at the training scale (short side image_size), back at H×W
        H, W = rgb.shape[-2:]
        small = resize_image(rgb[None], working_size(H, W, short_side=image_size, multiple=model.multiple), 'area')
        return resize_image(model.generate(small, num_inference_steps=sampling_steps, seed=seed), (H, W))[0]
    gens = {'fusion': IRGenerator(FusionBackend(runs['fusion'][0]), device='cpu', max_side=eval_max_side),
            'direct': IRGenerator(DirectBackend(runs['direct'][0]), device='cpu', max_side=eval_max_side), 'flux': flux}
    samples = [load_pair(record) for record in held_out]
    rgbs, refs = [s['rgb'] for s in samples], [s['infrared'] for s in samples]
    preds = {name: [gen(rgb) for rgb in rgbs] for name, gen in gens.items()}
    scores = score_with_baselines(preds, refs, rgbs, train_mean_ir, verbose=False, realism=True, realism_size=image_size * 2)
    if figures is not None: cross_figure(figures/f"flux_roadscene_{len(held_out)}.png", rgbs, refs, preds)
    print(f"\n(d) tiny FLUX-Fill on RoadScene: {summary['step']} steps of batch {batch_size} at {image_size} px (centre squares, "
          f"latents cached; VAE fitted for {vae_budget_s:.0f} s CPU) in a {budget_s:.0f} s CPU budget ({cpu:.0f} s CPU with the VAE fit "
          f"and the cache); sampled in "
          f"{sampling_steps} steps at a short side of {image_size} px, starting from Stage 1's estimate noised to {init_strength:g}. Fusion/direct: {stage1_budget_s:.0f} s CPU each. "
          f"{len(held_out)} held-out pairs, scored at the IR's own size; SWD/HF ratio against the real held-out IR at a short side of {image_size * 2} px")
    print(f"  {'':<26} {'psnr dB':>8} {'ssim':>7} {'ρ vs IR':>7} {'SWD':>8} {'HF ratio':>8}")
    for name in FLOOR_BASELINES + ('row_ramp', 'fusion', 'direct', 'flux'):
        if name in scores:
            s = scores[name]; print(f"  {name:<26} {s['psnr']:>8.2f} {s['ssim']:>7.3f} {s['rho_ir']:>7.3f} {s.get('swd', float('nan')):>8.4f} {s.get('hf_ratio', float('nan')):>8.3f}")
    ok = scores['flux']['swd'] < min(scores['fusion']['swd'], scores['direct']['swd'])
    print(f"  [{'PASS' if ok else 'FAIL'}] flux SWD < fusion's and direct's ({scores['flux']['swd']:.4f} vs "
          f"{scores['fusion']['swd']:.4f}, {scores['direct']['swd']:.4f})")
    return dict(scores=scores, summary=summary, cpu_s=cpu, swd_floor=ok)

@call_parse
def main(root:str=None,                # the real data (default: ../shared/real beside the repository)
         budget_s:float=600,           # (b): CPU seconds of training for each method
         synthetic_budget_s:float=300, # (a): CPU seconds of training on synthetic scenes
         image_size:int=128,           # training crop side (px)
         synthetic_size:int=128,       # (a): synthetic scene side, and the short side the R-JPEG photos are resized to
         eval_max_side:int=224,        # (b): working long side of held-out frames (aspect kept), output at the IR's size
         n_holdout:int=41,             # (b): the last N sorted stems are held out
         batch_size:int=4,
         learning_rate:float=1e-3,
         backbone:str='resnet18',
         seed:int=0,
         threads:int=1,                # torch threads (1: CPU time = work done on shared cores)
         n_timing:int=4,               # (c): 640×512 images timed per method
         mixed_precision:str=None,     # 'bf16' or 'no'; default bf16 where the CPU computes it natively
         parts:str='abc',              # which parts to run (x: cross-dataset, VIFB and TNO)
         methods:str='fusion,direct',  # (b): which methods this process trains (the CPU budget makes separate processes equivalent)
         reuse:bool=False,             # (b): take a finished run of the same budget from `workdir` instead of training again
         workdir:str=None,             # keep checkpoints/logs here (default: a temporary folder, removed)
         whole_frame:float=0.25,       # (b)/(x): share of whole-frame training samples (physir.train_decomposition; measured, see 06)
         position:int=1,               # (b)/(x): 1: the nets read each pixel's frame row/column (measured, see 06); 0: not
         lambda_layout:float=1.0,      # (b)/(x): fusion's weight of the coarse-layout loss term (physir.losses.layout_loss; measured in 06: helps fusion at 200 and 600 s)
         lambda_layout_direct:float=0.0, # (b)/(x): the direct baseline's (06: it helped direct at 200 s, not at 600 s; the outdoor config says 0 for direct)
         mix:bool=True,                # (x): also train fusion/direct on RoadScene + the first 14 VIFB pairs
         figures:str=None,             # (x, d): write RGB | IR | generators PNGs per set here
         flux_budget_s:float=600,      # (d, only with `--parts d`): CPU seconds of tiny FLUX-Fill training on RoadScene (fusion/direct: budget_s)
         flux_vae_s:float=360,         # (d): CPU seconds fitting its tiny VAE first (the VAE is the realism ceiling; the small demo fits it for 240 s)
        ):
    "Stage 1 and the direct baseline on real data, next to trivial baselines."
    real = Path(root) if root else Path(__file__).resolve().parents[2]/'shared'/'real'
    if not real.is_dir():
        print(f"bench/real_data.py: no real data at {real} (pass --root); nothing to do"); return
    torch.set_num_threads(threads)
    layout_weight = dict(fusion=lambda_layout, direct=lambda_layout_direct)
    def stage1_settings(method): return dict(whole_frame=whole_frame, position=bool(position), lambda_layout=layout_weight[method])   # (b)/(x) training beyond the library's defaults
    if mixed_precision is None: mixed_precision = 'bf16' if torch.ops.mkldnn._is_mkldnn_bf16_supported() else 'no'
    work = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix='physir_bench_real_'))
    print(f"physir real-data bench  (root {real}; {backbone}, batch {batch_size}, lr {learning_rate:g}, mixed precision "
          f"{mixed_precision}, torch threads {torch.get_num_threads()}, {os.cpu_count()} CPU cores shared with other jobs)")
    failed = []
    if 'a' in parts:
        data = write_synthetic_dataset(work/'synthetic', 480, 8, size=synthetic_size, seed=seed)
        net, summary, cpu = train('fusion', Path(data)/'train', work/'a', synthetic_budget_s, synthetic_size, batch_size,
                                  learning_rate, backbone, seed, mixed_precision)
        res = part_a(real, net, synthetic_size)
        print(f"\n(a) Stage 1 (fusion) trained on 480 synthetic scenes ({summary['step']} steps, {cpu:.0f} s CPU, "
              f"{synthetic_size} px), scored against the true temperature of real FLIR R-JPEGs with an embedded photo")
        print(f"  {'scene':<22} {'thermal':>8} {'span':>16} {'ρ(int,T)':>9} {'ρ(fus,T)':>9} {'ρ(lum,T)':>9} {'ρ(1-lum,T)':>10} {'ρ(IR,T)':>8}")
        for r in res['rows']:
            print(f"  {r['name']:<22} {r['size']:>8} {r['span']:>16} {r['intensity']:>9.3f} {r['fusion']:>9.3f} "
                  f"{r['luminance']:>9.3f} {r['inverted']:>10.3f} {r['ir']:>8.3f}")
        keys = ('intensity', 'fusion', 'luminance', 'inverted', 'ir')
        m = {k: _mean([r[k] for r in res['rows']]) for k in keys}
        print(f"  {'mean over ' + str(len(res['rows'])) + ' scenes':<22} {'':>8} {'':>16} {m['intensity']:>9.3f} {m['fusion']:>9.3f} "
              f"{m['luminance']:>9.3f} {m['inverted']:>10.3f} {m['ir']:>8.3f}")
        print(f"  ρ(IR as stored, T) over all {len(res['ir_all'])} radiometric files (with and without photo): "
              f"mean {_mean(res['ir_all']):.4f}, min {min(res['ir_all']):.4f}  (the ceiling: 8-bit quantisation only)")
    if 'b' in parts or 'c' in parts:
        options = dict(holdout=n_holdout)          # RoadScene has no split of its own: sorted stems, the last n_holdout held out
        train_pairs = find_pairs(real/'roadscene', format='roadscene', split='train', **options)
        held_out = find_pairs(real/'roadscene', format='roadscene', split='val', **options)
        train_mean_ir = float(np.mean([load_pair(r)['infrared'].mean().item() for r in train_pairs]))
        trained = {}
        for method in ('fusion', 'direct'):
            if method not in methods.split(','): continue
            done = finished_run(work/f'b_{method}', budget_s, **stage1_settings(method)) if reuse else None
            if done is not None: trained[method] = done; continue
            net, summary, cpu = train(method, real/'roadscene', work/f'b_{method}', budget_s, image_size, batch_size, learning_rate,
                                      backbone, seed, mixed_precision, format='roadscene', data_options=options,
                                      **stage1_settings(method))
            trained[method] = (net, summary, cpu, Path(summary['checkpoint']))
        if set(trained) != {'fusion', 'direct'}:
            print(f"\n(b)/(c): trained {sorted(trained)} into {work}; score with both: --reuse --workdir {work}")
            parts = parts.replace('b', '').replace('c', '')
        if 'b' in parts:
            gens = {'fusion': IRGenerator(FusionBackend(trained['fusion'][0]), device='cpu', max_side=eval_max_side),
                    'direct': IRGenerator(DirectBackend(trained['direct'][0]), device='cpu', max_side=eval_max_side)}
            scores = score_holdout(held_out, gens, train_mean_ir)
            print(f"\n(b) RoadScene: {len(train_pairs)} training / {len(held_out)} held-out pairs (sorted stems; held out "
                  f"{held_out[0].name} … {held_out[-1].name}); training mean IR {train_mean_ir:.4f}")
            for method in ('fusion', 'direct'):
                _, s, cpu, _ = trained[method]
                wall = f"{s['seconds']:.0f} s wall" if s.get('seconds') is not None else "an earlier process (--reuse)"
                print(f"  {method}: {s['step']} steps ({s['step'] * batch_size / len(train_pairs):.1f} epochs) in {cpu:.0f} s CPU / "
                      f"{wall}, {image_size} px crops, {s['nonfinite_skipped']} non-finite steps skipped")
            print(f"  held-out scores at the IR's own size (mean per image)   {'psnr dB':>8} {'ssim':>7} {'ρ vs IR':>7}")
            for name in FLOOR_BASELINES + ('fusion', 'direct'):
                label = {'constant': 'constant (train mean IR)', 'grey': 'grey of the RGB', 'inverted_grey': 'inverted grey',
                         'fusion': 'Stage 1 fusion (trained)', 'direct': 'direct baseline (trained)'}[name]
                print(_fmt_row(label, scores[name]))
            print(f"  fusion − direct: psnr {scores['fusion']['psnr'] - scores['direct']['psnr']:+.2f} dB, "
                  f"ssim {scores['fusion']['ssim'] - scores['direct']['ssim']:+.3f}, ρ {scores['fusion']['rho_ir'] - scores['direct']['rho_ir']:+.3f}")
            for method in ('fusion', 'direct'):
                for base in FLOOR_BASELINES:
                    for metric in ('psnr', 'rho_ir'):
                        ok = scores[method][metric] > scores[base][metric]
                        if not ok: failed.append(f"{method} {metric} > {base}")
                        print(f"  [{'PASS' if ok else 'FAIL'}] {method} {metric} > {base} "
                              f"({scores[method][metric]:.3f} vs {scores[base][metric]:.3f})")
        if 'c' in parts:
            inputs = work/'timing_inputs'; inputs.mkdir(parents=True, exist_ok=True)
            for record in held_out[:n_timing]:
                save_image(resize_image(load_pair(record)['rgb'], (512, 640)).clamp(0, 1), inputs/f'{record.name}.png')
            print(f"\n(c) physir_generate on {n_timing} RoadScene frames resized to 640×512 (working size 640×512, device cpu, "
                  f"{torch.get_num_threads()} torch thread(s)), per image after one warm-up image:")
            for method in ('fusion', 'direct'):
                cpu, wall = time_generate(method, trained[method][3], inputs, work/'timing_out')
                print(f"  physir_generate --method {method:<7} {cpu:.2f} s CPU, {wall:.2f} s wall per image")
    if 'x' in parts:
        train_pairs = find_pairs(real/'roadscene', format='roadscene', split='train', holdout=n_holdout)
        train_mean_ir = float(np.mean([load_pair(r)['infrared'].mean().item() for r in train_pairs]))
        runs = {}
        for method in methods.split(','):
            done = finished_run(work/f'b_{method}', budget_s, **stage1_settings(method)) if reuse else None
            if done is None: done = (*train(method, real/'roadscene', work/f'b_{method}', budget_s, image_size, batch_size, learning_rate,
                                              backbone, seed, mixed_precision, format='roadscene', data_options=dict(holdout=n_holdout),
                                              **stage1_settings(method)),)
            runs[f"{method}: RoadScene"] = (method, work/f'b_{method}'/'checkpoints', ())
            if not mix: continue
            data = mix_training(real)
            if (finished_run(work/f'x_mix_{method}', budget_s, **stage1_settings(method)) if reuse else None) is None:
                train(method, data.pop('train_dir'), work/f'x_mix_{method}', budget_s, image_size, batch_size, learning_rate, backbone,
                      seed, mixed_precision, format=data.pop('format'), data_options=data.pop('data_options'), **data,
                      **stage1_settings(method))
            runs[f"{method}: RoadScene + VIFB 14"] = (method, work/f'x_mix_{method}'/'checkpoints', MIX_NAMES)
        print(f"\n(x) cross-dataset: trained for {budget_s:g} s CPU each ({image_size} px samples), scored at the DEFAULT inference "
              f"settings (IRGenerator.from_checkpoint), at the IR's own size; PSNR-lm/SSIM-lm = level-matched (a per-image gain/offset "
              f"fit to the reference: a diagnostic separating structure from camera gain); ρ = structure")
        _, x_failed = part_x(real, runs, train_mean_ir, eval_max_side, Path(figures) if figures else None)
        failed += x_failed
    if 'd' in parts:
        if not part_flux(real, work, flux_budget_s, budget_s, n_holdout, seed=seed, backbone=backbone,
                         vae_budget_s=flux_vae_s, figures=Path(figures) if figures else None)['swd_floor']:
            failed.append('flux SWD < fusion, direct')
    if not workdir: shutil.rmtree(work, ignore_errors=True)
    if failed: print(f"\n{len(failed)} floor(s) failed: {', '.join(failed)}")
    raise SystemExit(1 if failed else 0)
