#!/usr/bin/env python
"""Stage 2 guidance ablation: a tiny FLUX.1-Fill-architecture model trained on synthetic RGB/IR pairs for the same
fixed CPU budget in three arms — unguided, cross-attention guided, concat guided — each with THREE seeds (mean ± spread),
plus a Stage-3 arm (the cross-attention arm, then the Stage-1 net and the transformer fine-tuned jointly for
`stage3_budget_s` more), scored on held-out scenes by PSNR/SSIM against the ground-truth IR image, ρ against the true
temperature, and the realism scores (SWD, HF ratio: physir.metrics.realism_scores), next to baselines measured in the same run.

    python bench/flux_ablation.py                       # ≈ 25 min of CPU time (120 CPU-s per arm and seed); longer wall time on shared cores
    python bench/flux_ablation.py --arm_budget_s 20 --stage3_budget_s 10 --stage1_steps 50 --vae_budget_s 20 --sampling_steps 10   # a quick smoke run

Pipeline (all offline, all on CPU):
  1. synthetic scenes (physir.data.write_synthetic_dataset, ground truth included);
  2. Stage 1: a tiny DecompositionNet trained with physir.train_decomposition for `stage1_steps`;
  3. a tiny AutoencoderKL fitted as an autoencoder on the training RGB and IR images (physir.flux.fit_tiny_vae);
  4. three arms, each from the same random initial transformer (FluxTransformer2DModel, full training: there is no
     pretrained tiny FLUX to put a LoRA on), trained by rectified flow for `arm_budget_s` seconds of CPU time
     (process time, so the arms get the same compute even when other jobs share the cores),
     then sampled with FluxFillPipeline (28 steps, seeded).
Rows: each arm; baselines: grayscale of the RGB image, the Stage-1 fusion IR_hat (the decomposition's own IR
estimate), and the VAE reconstruction of the true IR (the ceiling of any latent generator with this VAE).
Floors: both guided arms beat the unguided arm on PSNR; guided beats unguided on ρ and on SWD by more than the seed spread.
The decomposition only *resembles* temperature / emissivity / environment; it is not a physical inversion."""
import copy, json, shutil, tempfile, time
from pathlib import Path
import numpy as np
import torch
from fastcore.script import call_parse
from physir.core import seed_everything
from physir.data import write_synthetic_dataset, PairedThermalDataset
from physir.decomposition import DecompositionNet
from physir.pseudo_labels import luminance
from physir.flux import (DecompositionGuidedFlux, tiny_flux_fill, tiny_prompt_embeds, fit_tiny_vae, encode_latents,
                         decode_latents)
from physir.metrics import psnr, ssim, image_rho, realism_scores
from diffusers import AutoencoderKL
from physir.train_decomposition import DecompTrainConfig, DecompositionTrainer
from physir.training import find_checkpoint

ARMS = ('none', 'cross_attn', 'concat')

def load_split(root, split, image_size):
    "All items of a split as stacked tensors."
    ds = PairedThermalDataset(root, split=split, image_size=image_size, augment=False)
    items = [ds[i] for i in range(len(ds))]
    return {k: torch.stack([it[k] for it in items]) for k in ('rgb', 'infrared', 'temperature')}

def take(prep:dict, idx)->dict:
    "Rows `idx` of a cached `prepare` dict (per-image tensors only)."
    return {k: (v[idx] if torch.is_tensor(v) and v.ndim >= 2 and k != 'img_ids' else v) for k, v in prep.items()}

def gray(rgb): return luminance(rgb).clamp(0, 1)

def train_stage1(root, image_size, steps, work, seed):
    "A tiny Stage-1 net trained with physir.train_decomposition (reused from `work` when already there)."
    done = find_checkpoint('latest', work/'ckpt1')   # checkpoint-N/ (an older run's last/ too)
    if done is not None and (done/'config.json').exists():
        return DecompositionNet.load(done).eval().requires_grad_(False), {'step': 'reused'}
    cfg = DecompTrainConfig(train_data=str(Path(root)/'train'), val_data=str(Path(root)/'val'), image_size=image_size,
                            backbone='tiny', batch_size=16, num_epochs=10**6, learning_rate=2e-3, max_steps=steps,
                            num_workers=0, seed=seed, val_every_epochs=10**6, save_every=10**6, log_every=10**6,
                            mixed_precision='no', cpu=True, augment=False, log_dir=str(work/'logs1'),
                            checkpoint_dir=str(work/'ckpt1'), vis_dir=str(work/'vis1'))
    trainer = DecompositionTrainer(cfg)
    summary = trainer.fit()
    return trainer.model.eval().requires_grad_(False), summary

def build_arm(guidance, vae, net, seed, width):
    pipe = tiny_flux_fill(latent_channels=vae.config.latent_channels, vae_channels=tuple(vae.config.block_out_channels),
                          num_layers=2, num_single_layers=2, num_attention_heads=width // 16, attention_head_dim=16,
                          axes_dims_rope=(4, 6, 6), seed=seed)
    pe, pooled = tiny_prompt_embeds(pipe.transformer)
    return DecompositionGuidedFlux(pipe.transformer, vae, net, pe, pooled, guidance=guidance, lora_rank=0,
                                   train_transformer=True, guidance_every=2, encoder_width=32)

def train_arm(model, prep, budget_s, batch_size, lr, seed):
    "Rectified-flow training on cached inputs for `budget_s` seconds; returns (steps, last mean loss)."
    g = torch.Generator().manual_seed(seed)
    params = [p for _, p in model.adapter_named_parameters()]
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=0.0)
    n = prep['latents'].shape[0]; steps, recent = 0, []
    model.train(); t0 = time.process_time()            # CPU time of this process: fair under shared cores
    while time.process_time() - t0 < budget_s:
        idx = torch.randint(n, (batch_size,), generator=g)
        loss = model.loss_from_prepared(take(prep, idx), generator=g)
        opt.zero_grad(); loss.backward(); torch.nn.utils.clip_grad_norm_(params, 1.0); opt.step()
        steps += 1; recent = (recent + [loss.item()])[-50:]
    return steps, sum(recent) / len(recent), time.process_time() - t0

def train_joint(model, train, budget_s, batch_size, lr, decomposition_lr, seed):
    "Stage 3: the Stage-1 net trains with the transformer (maps recomputed every step, no cache) for `budget_s` CPU seconds."
    g = torch.Generator().manual_seed(seed + 7)
    model.set_decomposition_trainable(True)
    opt = torch.optim.AdamW(model.parameter_groups(lr, decomposition_lr), weight_decay=0.0)
    params = [p for p in model.parameters() if p.requires_grad]
    n = train['rgb'].shape[0]; steps, recent = 0, []
    model.train(); t0 = time.process_time()
    while time.process_time() - t0 < budget_s:
        idx = torch.randint(n, (batch_size,), generator=g)
        loss = model.training_loss({'rgb': train['rgb'][idx], 'infrared': train['infrared'][idx]}, generator=g)
        opt.zero_grad(); loss.backward(); torch.nn.utils.clip_grad_norm_(params, 1.0); opt.step()
        steps += 1; recent = (recent + [loss.item()])[-50:]
    model.set_decomposition_trainable(False)
    return steps, sum(recent) / len(recent), time.process_time() - t0

def evaluate(pred, val):
    "PSNR/SSIM against the IR, mean per-image Spearman ρ against the true temperature, realism (SWD, HF ratio) against the IR set."
    r = realism_scores(pred, val['infrared'], seed=0)
    return dict(psnr=psnr(pred, val['infrared']), ssim=ssim(pred, val['infrared']),
                rho=float(np.mean([image_rho(p, t) for p, t in zip(pred, val['temperature'])])), swd=r['swd'], hf_ratio=r['hf_ratio'])

METRICS = ('psnr', 'ssim', 'rho', 'swd', 'hf_ratio')

def summarise(runs:list)->dict:
    "Mean and spread (sample std over seeds; 0 for one seed) of each metric over the seeds' runs."
    out = {}
    for k in METRICS + ('steps',):
        v = np.array([r[k] for r in runs], dtype=float)
        out[k], out[f'{k}_std'] = float(v.mean()), float(v.std(ddof=1)) if len(v) > 1 else 0.0
    out['seeds'] = [r['seed'] for r in runs]
    return out

@call_parse
def main(arm_budget_s:float=120,    # training budget per arm, CPU seconds of this process
         stage1_steps:int=300,      # Stage-1 decomposition training steps (batch 16)
         vae_budget_s:float=60,     # tiny VAE fitting budget, CPU seconds
         image_size:int=32,
         n_train:int=192, n_val:int=24,
         batch_size:int=16, lr:float=1e-3,
         width:int=64,              # transformer inner dimension (heads × 16)
         sampling_steps:int=28,     # sampling steps
         seed:int=0,                # data, Stage 1 and VAE seed; arm k of seed s uses seed + s
         n_seeds:int=3,             # training seeds per arm (mean and spread)
         stage3_budget_s:float=60,  # Stage 3 arm: joint fine-tune after the cross-attention arm, CPU seconds (0: no Stage-3 arm)
         decomposition_lr:float=1e-5, # Stage 3: the Stage-1 net's learning rate
         threads:int=1,             # torch CPU threads (1: the cores are shared, extra threads only spin)
         workdir:str=None,          # keep data/checkpoints here (default: a temporary folder, removed)
         out:str='bench/out/flux_ablation.json'):
    "Train the three guidance arms (and Stage 3) for the same budget with `n_seeds` seeds; print mean ± spread of PSNR/SSIM/ρ/SWD/HF ratio next to baselines."
    torch.set_num_threads(threads)
    work = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix='physir_bench_flux_'))
    t_all, cpu_all = time.perf_counter(), time.process_time()
    try:
        root = write_synthetic_dataset(work/'data', n_train, n_val, size=image_size, seed=seed)
        train, val = load_split(root, 'train', image_size), load_split(root, 'val', image_size)
        print(f"data: {n_train} train / {n_val} val scenes, {image_size}px ({time.perf_counter()-t_all:.0f} s)")

        t0 = time.perf_counter()
        net, s1 = train_stage1(root, image_size, stage1_steps, work, seed)
        with torch.no_grad(): fusion = net(val['rgb']).fusion.clamp(0, 1)
        print(f"stage 1: {s1['step']} steps in {time.perf_counter()-t0:.0f} s")

        t0 = time.perf_counter(); seed_everything(seed)
        vae_dir = work/'vae'
        if (vae_dir/'config.json').exists():
            vae = AutoencoderKL.from_pretrained(vae_dir).eval().requires_grad_(False); info = {'steps': 'reused'}
        else:
            vae = tiny_flux_fill(latent_channels=4, vae_channels=(32, 32), seed=seed).vae
            vae_images = torch.cat([train['rgb'], train['infrared'].expand(-1, 3, -1, -1)])
            info = fit_tiny_vae(vae, vae_images, steps=10**6, lr=2e-3, batch_size=16, seed=seed, max_cpu_s=vae_budget_s)
            vae.save_pretrained(vae_dir)
        with torch.no_grad():
            rec = decode_latents(vae, encode_latents(vae, val['infrared'].expand(-1, 3, -1, -1) * 2 - 1))
        vae_rec = ((rec + 1) / 2).mean(1, keepdim=True).clamp(0, 1)
        print(f"vae: {info['steps']} steps in {time.perf_counter()-t0:.0f} s")

        train_mean = float(train['infrared'].mean())
        rows = {'constant (training mean IR)': evaluate(torch.full_like(val['infrared'], train_mean), val),
                'grayscale of RGB (baseline)': evaluate(gray(val['rgb']), val),
                'Stage-1 fusion IR_hat': evaluate(fusion, val)}
        def sample(model, s):
            return torch.cat([model.generate(val['rgb'][i:i + 8], num_inference_steps=sampling_steps, seed=s + i)
                              for i in range(0, n_val, 8)])
        runs = {}
        for arm in ARMS + (('stage3',) if stage3_budget_s else ()):
            for k in range(n_seeds):
                s = seed + k
                # Stage 3 continues the cross-attention arm on its own copy of the Stage-1 net (it changes that net)
                model = build_arm('cross_attn' if arm == 'stage3' else arm, vae, copy.deepcopy(net) if arm == 'stage3' else net, s, width)
                with torch.no_grad(): prep = model.prepare(train['rgb'], train['infrared'])
                n_steps, last, secs = train_arm(model, prep, arm_budget_s, batch_size, lr, s)
                if arm == 'stage3':
                    j_steps, last, j_secs = train_joint(model, train, stage3_budget_s, batch_size, lr / 10, decomposition_lr, s)
                    n_steps, secs = n_steps + j_steps, secs + j_secs
                t0 = time.perf_counter()
                run = dict(**evaluate(sample(model, s), val), steps=n_steps, train_s=secs, loss=last, seed=s)
                runs.setdefault(arm, []).append(run)
                print(f"arm {arm} seed {s}: {n_steps} steps in {secs:.0f} s CPU, loss {last:.3f}; sampling {time.perf_counter()-t0:.0f} s; "
                      + ', '.join(f"{m} {run[m]:.3f}" for m in METRICS), flush=True)
            name = ('FLUX-Fill tiny, cross_attn + Stage 3 (joint)' if arm == 'stage3' else f'FLUX-Fill tiny, guidance={arm}')
            rows[name] = dict(summarise(runs[arm]), runs=runs[arm])
        rows['VAE reconstruction of true IR (ceiling)'] = evaluate(vae_rec, val)
    finally:
        if not workdir: shutil.rmtree(work, ignore_errors=True)

    print(f"\n{n_val} held-out synthetic scenes, {image_size}px; {arm_budget_s:.0f} s CPU budget per arm and seed "
          f"(Stage 3: + {stage3_budget_s:.0f} s), {n_seeds} seeds, mean ± sample std; {threads} thread(s)")
    def cell(r, k, fmt): return f"{r[k]:{fmt}} ± {r[k + '_std']:{fmt}}" if k + '_std' in r else f"{r[k]:{fmt}}"
    print(f"| {'method':46s} | PSNR (dB) | SSIM | ρ(IR, T) | SWD | HF ratio | train steps |")
    print(f"|{'-'*48}|---|---|---|---|---|---|")
    for name, r in rows.items():
        print(f"| {name:46s} | {cell(r, 'psnr', '.2f')} | {cell(r, 'ssim', '.3f')} | {cell(r, 'rho', '.3f')} | "
              f"{cell(r, 'swd', '.4f')} | {cell(r, 'hf_ratio', '.3f')} | {cell(r, 'steps', '.0f') if 'steps' in r else ''} |")
    arm = {a: rows[f'FLUX-Fill tiny, guidance={a}'] for a in ARMS}
    ok = arm['cross_attn']['psnr'] > arm['none']['psnr'] and arm['concat']['psnr'] > arm['none']['psnr']
    print(f"\nfloor (both guided arms beat unguided on PSNR): {'PASS' if ok else 'FAIL'} "
          f"(cross_attn {arm['cross_attn']['psnr'] - arm['none']['psnr']:+.2f} dB, concat {arm['concat']['psnr'] - arm['none']['psnr']:+.2f} dB)")
    for g in ('cross_attn', 'concat'):
        spread_rho = max(arm[g]['rho_std'], arm['none']['rho_std']); spread_swd = max(arm[g]['swd_std'], arm['none']['swd_std'])
        d_rho, d_swd = arm[g]['rho'] - arm['none']['rho'], arm['none']['swd'] - arm[g]['swd']
        print(f"floor ({g} beats unguided on ρ and SWD by more than the seed spread): "
              f"{'PASS' if d_rho > spread_rho and d_swd > spread_swd else 'FAIL'} "
              f"(ρ {d_rho:+.3f} vs spread {spread_rho:.3f}; SWD {-d_swd:+.4f} vs spread {spread_swd:.4f})")
    print(f"total {time.perf_counter()-t_all:.0f} s wall, {time.process_time()-cpu_all:.0f} s CPU (this process; the cores are shared)")
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text(json.dumps(dict(rows=rows, floor_pass=ok, args=dict(arm_budget_s=arm_budget_s, stage3_budget_s=stage3_budget_s, n_seeds=n_seeds, image_size=image_size,
                                          n_train=n_train, n_val=n_val, threads=threads, seed=seed)), indent=2))
    return rows
