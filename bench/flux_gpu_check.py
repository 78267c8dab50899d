"""Measured GPU memory and step time of Stage-2 training on the real-size FLUX.1-Fill-dev (random weights), to set
beside the estimates of bench/flux_memory.py. Needs one CUDA GPU with >= 40 GB for the bf16 part; no weights, no
network. Not yet run on a GPU (its figures are not in the docs); with one CUDA GPU it runs in one call:

    python bench/flux_gpu_check.py                 # both configurations, ~5 min on an H100/H200
    python bench/flux_gpu_check.py --only nf4      # or --only bf16

Configurations (the same rows as bench/flux_memory.py):
* bf16: shipped default -- bf16 base, full cross_attn adapter, AdamW, gradient checkpointing, inputs computed every
  step (VAE and Stage-1 net on the GPU);
* nf4: the 24 GB config -- nf4 base (diffusers BitsAndBytesConfig, via a temporary save of the random bf16 weights),
  slim adapter (token 256, rank 64), bitsandbytes AdamW8bit, checkpointing, cached inputs (VAE and Stage-1 net parked
  on the CPU). Needs bitsandbytes (pip install 'physir[quant]').
Each: 5 training steps at 512x1024, batch 1, under bf16 autocast; prints torch.cuda.max_memory_allocated and the
median step time, then a no-grad validation-like pass (4 samples one at a time: loss + VAE decode).
"""
import argparse, contextlib, gc, shutil, statistics, tempfile, time
from pathlib import Path
import torch
from diffusers import FluxTransformer2DModel, AutoencoderKL
from physir.flux import (DecompositionGuidedFlux, FLUX_FILL_TRANSFORMER_CONFIG, FLUX_VAE_CONFIG, flux_quantization_config,
                         latent_image_ids, decode_latents)
from physir.decomposition import DecompositionNet
from physir.train_flux import make_optimizer

GiB = 2 ** 30


def random_transformer(quantization=None):
    torch.manual_seed(0)
    with torch.device('cuda'):
        tf = FluxTransformer2DModel(**FLUX_FILL_TRANSFORMER_CONFIG).to(torch.bfloat16)
    if quantization is None: return tf
    tmp = Path(tempfile.mkdtemp(prefix='flux_random_'))
    try:
        tf.save_pretrained(tmp)
        del tf; gc.collect(); torch.cuda.empty_cache()
        return FluxTransformer2DModel.from_pretrained(tmp, torch_dtype=torch.bfloat16,
                                                      quantization_config=flux_quantization_config(quantization))
    finally: shutil.rmtree(tmp, ignore_errors=True)


def run(name, quantization, slim, optimizer, cached, steps=5):
    t0 = time.time()
    tf = random_transformer(quantization)
    with torch.device('cuda'):
        vae = AutoencoderKL(**FLUX_VAE_CONFIG).to(torch.bfloat16)
        pe, pooled = torch.randn(1, 512, 4096, dtype=torch.bfloat16), torch.randn(1, 768, dtype=torch.bfloat16)
    kw = dict(guidance_token_dim=256, guidance_rank=64) if slim else {}
    model = DecompositionGuidedFlux(tf, vae, DecompositionNet('resnet18'), pe, pooled, guidance='cross_attn', **kw)
    model.transformer.enable_gradient_checkpointing()
    model.to('cuda')
    for m in (model.transformer, model.vae):            # as FluxTrainer.build_model: frozen floats in bf16
        for p in m.parameters():
            if not p.requires_grad and p.is_floating_point(): p.data = p.data.to(torch.bfloat16)
    batch = {'rgb': torch.rand(1, 3, 512, 512, device='cuda'), 'infrared': torch.rand(1, 1, 512, 512, device='cuda')}
    if cached:
        with torch.no_grad(), torch.autocast('cuda', torch.bfloat16):
            items = model.cacheable(model.prepare(batch['rgb'], batch['infrared']))
        batch = {k: torch.stack([it[k] for it in items]) for k in items[0]}
        model.offload_frozen_parts('cpu')
    opt = make_optimizer(model.parameter_groups(1e-5), optimizer)
    print(f"[{name}] built in {time.time() - t0:.0f} s; trainable {sum(model.trainable_parameter_count().values()) / 1e6:.1f} M;"
          f" allocated {torch.cuda.memory_allocated() / GiB:.2f} GiB", flush=True)
    gc.collect(); torch.cuda.empty_cache(); torch.cuda.reset_peak_memory_stats()
    times = []
    for i in range(steps):
        torch.cuda.synchronize(); t = time.time()
        with torch.autocast('cuda', torch.bfloat16): loss = model(batch)
        loss.backward(); opt.step(); opt.zero_grad(set_to_none=True)
        torch.cuda.synchronize(); times.append(time.time() - t)
        print(f"[{name}] step {i}: {times[-1]:.2f} s, loss {loss.item():.3f}", flush=True)
    train_peak = torch.cuda.max_memory_allocated() / GiB
    torch.cuda.reset_peak_memory_stats()
    model.eval()
    with model.frozen_parts_on('cuda') if cached else contextlib.nullcontext():
        model.vae.enable_slicing(); model.vae.enable_tiling()
        with torch.no_grad(), torch.autocast('cuda', torch.bfloat16):
            for _ in range(4):                      # FluxTrainer.validate goes through its samples one at a time
                one = {'rgb': torch.rand(1, 3, 512, 512, device='cuda'), 'infrared': torch.rand(1, 1, 512, 512, device='cuda')}
                model.training_loss(one)
                decode_latents(model.vae, torch.randn(1, 16, 64, 128, device='cuda', dtype=torch.bfloat16))
        torch.cuda.synchronize()
    val_peak = torch.cuda.max_memory_allocated() / GiB
    print(f"RESULT {name}: train max_memory_allocated {train_peak:.2f} GiB, median step {statistics.median(times[1:]):.2f} s "
          f"(first {times[0]:.2f} s); validation max_memory_allocated {val_peak:.2f} GiB", flush=True)
    del model, tf, vae, opt; gc.collect(); torch.cuda.empty_cache()


if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--only', choices=['bf16', 'nf4'], default=None)
    a = ap.parse_args()
    assert torch.cuda.is_available(), "flux_gpu_check needs a CUDA GPU"
    print(torch.cuda.get_device_name(), f"{torch.cuda.get_device_properties(0).total_memory / GiB:.0f} GiB", flush=True)
    if a.only in (None, 'bf16'): run('bf16 · cross_attn · AdamW · ckpt', None, False, 'adamw', False)
    if a.only in (None, 'nf4'): run('nf4 · slim cross_attn · AdamW8bit · ckpt · cache', 'nf4', True, 'adamw8bit', True)
