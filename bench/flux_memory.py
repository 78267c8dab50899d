"""Tensor-level GPU memory of one Stage-2 training step on the real-size FLUX.1-Fill-dev, counted without a GPU.

The real-size transformer and VAE (`physir.flux.flux_fill_on_meta`, the published configs) and a ResNet-18
Stage-1 net are assembled by physir's own set-up (`DecompositionGuidedFlux`: LoRA, guidance adapter, fp32
trainable weights, gradient checkpointing), then every parameter becomes a fake tensor
(`torch._subclasses.FakeTensorMode`: shapes and dtypes, no storage) and one training step runs under CPU bf16
autocast (the same casting rules as CUDA autocast: bf16 matmuls, fp32 layer norms and softmax, a cached bf16 copy
of each fp32 trainable weight). A dispatch mode (`LiveBytes`) adds up the bytes of every tensor storage alive after
every operator, so the peak is the tensor-level peak of the step: weights, trainable weights, gradients as they
appear, saved activations (with and without checkpointing) and the temporaries of the largest operator.

What is counted analytically, not run:
* the optimizer state (AdamW: two fp32 moments = 8 B per trainable weight; bitsandbytes AdamW8bit: two uint8 moments +
  one fp32 scale per 256-value block, fp32 for tensors under 4096 values) and its step temporaries (foreach AdamW:
  one fp32 copy of all trainable weights, the denominator sqrt(v)+eps; AdamW8bit updates tensor by tensor: 2 x the
  largest one in fp32);
* nf4 / int8 base weights: the step runs with bf16 base weights (the activations are the same: bitsandbytes
  dequantises to bf16 for each matmul); their bytes are replaced by the quantised size (nf4: 0.5 B per weight + one
  fp32 absmax per 64-value block, diffusers' default without double quantisation; int8: 1 B per weight + one fp32
  scale per output row) plus one dequantised bf16 copy of the largest linear weight at a time.

Validation (`FluxTrainer.validate`, which goes through its samples one at a time): the no-grad loss of one sample
(VAE encoding, Stage-1 net, transformer; one sampling step of the pipeline is the same transformer call) and the
decoding of one image (VAE slicing/tiling on), with everything that stays resident (base, VAE, Stage-1 net brought
back from the CPU, trainable weights, optimizer state; gradients are freed).

Not counted: the CUDA context, cuBLAS/cuDNN workspaces and allocator fragmentation; the verdict adds a stated
allowance (CONTEXT_GIB) for them. The text encoders never share the GPU with the transformer
(`physir.train_flux.encode_prompt_once`), their own peak is printed apart.

    python bench/flux_memory.py            # ~10 min on one busy CPU core; prints the table below

Run on a 2-core CPU shared with other jobs; it needs no GPU, no weights and no network.
"""
import argparse, gc, math, time, weakref
import torch
import torch.nn as nn
from torch._subclasses.fake_tensor import FakeTensorMode
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_leaves
from physir.flux import (DecompositionGuidedFlux, flux_fill_on_meta, flux_scheduler, latent_image_ids, decode_latents,
                         FLUX_FILL_TRANSFORMER_CONFIG)
from physir.decomposition import DecompositionNet

GiB = 2 ** 30
CONTEXT_GIB = 1.5          # CUDA context (~0.5 GiB) + cuBLAS workspaces and allocator fragmentation (~1 GiB)
CARDS_GIB = (24, 48, 80)   # "24 GB" cards report 24 GiB (24564 MiB on an RTX 4090), 48 GiB, 80 GiB


class LiveBytes(TorchDispatchMode):
    "Bytes of all tensor storages alive, updated after every operator; `peak` is the maximum seen."
    def __init__(self):
        super().__init__()
        self.live, self.total, self.peak = {}, 0, 0

    def track(self, t:torch.Tensor):
        st = t.untyped_storage()
        key = st._cdata
        if key in self.live: return
        self.live[key] = st.nbytes(); self.total += self.live[key]
        weakref.finalize(st, self._free, key)
        self.peak = max(self.peak, self.total)

    def _free(self, key): self.total -= self.live.pop(key, 0)

    def reset_peak(self): self.peak = self.total

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        for t in tree_leaves(out):
            if isinstance(t, torch.Tensor): self.track(t)
        return out


def fakeify(module:nn.Module, mode:FakeTensorMode)->nn.Module:
    "Replace every parameter and buffer by a fake CPU tensor of the same shape, dtype and requires_grad."
    with mode:
        for m in module.modules():
            for n, p in list(m._parameters.items()):
                if p is not None: m._parameters[n] = nn.Parameter(torch.empty(p.shape, dtype=p.dtype), requires_grad=p.requires_grad)
            for n, b in list(m._buffers.items()):
                if b is not None: m._buffers[n] = torch.empty(b.shape, dtype=b.dtype)
    return module


def frozen_base_linears(transformer:nn.Module)->list:
    "The frozen base `nn.Linear` layers of the transformer (what bitsandbytes quantises); not LoRA, processors or new columns."
    out = []
    for name, m in transformer.named_modules():
        if isinstance(m, nn.Linear) and not m.weight.requires_grad and '.processor.' not in f'.{name}.' and 'lora_' not in name:
            out.append(m)
    return out


def quantised_bytes(linears:list, quantization:str|None)->tuple[int,int,int]:
    "(bf16 bytes of the weights, their quantised bytes, bf16 bytes of the largest one) of the frozen linear weights."
    bf16 = sum(m.weight.numel() * 2 for m in linears)
    largest = max(m.weight.numel() for m in linears) * 2
    if quantization is None: return bf16, bf16, 0
    if quantization == 'nf4': q = sum(m.weight.numel() // 2 + math.ceil(m.weight.numel() / 64) * 4 for m in linears)
    elif quantization == 'int8': q = sum(m.weight.numel() + m.out_features * 4 for m in linears)
    else: raise ValueError(quantization)
    return bf16, q, largest


def optimizer_bytes(params:list, optimizer:str)->tuple[int,int]:
    "(state bytes, step-temporary bytes) of AdamW or bitsandbytes AdamW8bit over `params`."
    if optimizer == 'adamw':
        n = sum(p.numel() for p in params)
        return 8 * n, 4 * n
    state = sum(2 * p.numel() + 2 * math.ceil(p.numel() / 256) * 4 if p.numel() >= 4096 else 8 * p.numel() for p in params)
    return state, 2 * 4 * max(p.numel() for p in params)


def build(guidance:str, slim:bool, checkpointing:bool, mode:FakeTensorMode)->DecompositionGuidedFlux:
    "Real-size DecompositionGuidedFlux, set up by physir, with fake weights."
    transformer, vae = flux_fill_on_meta(None)
    with torch.device('meta'):
        pe, pooled = torch.empty(1, 512, 4096, dtype=torch.bfloat16), torch.empty(1, 768, dtype=torch.bfloat16)
    kw = dict(guidance_token_dim=256, guidance_rank=64) if slim else {}
    model = DecompositionGuidedFlux(transformer, vae, DecompositionNet('resnet18'), pe, pooled, guidance=guidance,
                                    scheduler=flux_scheduler(), **kw)
    if checkpointing: model.transformer.enable_gradient_checkpointing()
    return fakeify(model, mode)


def measure_train(model, cached:bool, size=(512, 512), batch_size:int=1)->dict:
    "Live bytes of one forward + backward at `size` per half (the diptych is H x 2W), under bf16 autocast; fake tensors."
    lb = LiveBytes()
    on_gpu = [model.transformer, model.encoder] if cached else [model]
    for m in on_gpu:
        if m is None: continue
        for t in list(m.parameters()) + list(m.buffers()): lb.track(t)
    for t in (model.prompt_embeds, model.pooled_prompt_embeds): lb.track(t)
    resident = lb.total
    H, W = size
    with lb:
        if cached:          # what physir.train_flux.CachedItems hands the model: latents, mask, maps; no VAE, no Stage-1 net
            h, w = H // 8, 2 * W // 8
            n = (h // 2) * (w // 2)
            prep = dict(latents=torch.randn(batch_size, n, 64, dtype=torch.bfloat16),
                        masked_latents=torch.randn(batch_size, n, 64, dtype=torch.bfloat16),
                        mask=torch.rand(batch_size, n, 256, dtype=torch.bfloat16),
                        img_ids=latent_image_ids(h, w), grid=(h // 2, w // 2), size=(H, 2 * W))
            if model.guidance != 'none': prep['maps'] = torch.rand(batch_size, model.decomposition_channels, H, W)
            run = lambda: model.loss_from_prepared(prep)
        else:
            batch = {'rgb': torch.rand(batch_size, 3, H, W), 'infrared': torch.rand(batch_size, 1, H, W)}
            run = lambda: model.training_loss(batch)
        before = lb.total
        with torch.autocast('cpu', torch.bfloat16): loss = run()
        saved = lb.total - before
        loss.backward()
        peak, after = lb.peak, lb.total
        del loss
    model.zero_grad(set_to_none=True)
    return dict(resident=resident, saved=saved, peak=peak, after_backward=after)


def measure_validation(model, size=(512, 512), num_samples:int=1)->dict:
    "Peak live bytes of `FluxTrainer.validate`'s heavy calls for `num_samples` diptychs at once (validate: 1), with base, VAE, Stage-1 net and trainables resident."
    lb = LiveBytes()
    for t in list(model.parameters()) + list(model.buffers()): lb.track(t)
    resident = lb.total
    H, W = size
    model.eval(); model.vae.enable_slicing(); model.vae.enable_tiling()
    with lb, torch.no_grad(), torch.autocast('cpu', torch.bfloat16):
        batch = {'rgb': torch.rand(num_samples, 3, H, W), 'infrared': torch.rand(num_samples, 1, H, W)}
        loss = model.training_loss(batch); del loss
        loss_peak = lb.peak
        lb.reset_peak()
        image = decode_latents(model.vae, torch.randn(1, 16, H // 8, 2 * W // 8, dtype=torch.bfloat16)); del image
        decode_peak = lb.peak
    model.train()
    return dict(resident=resident, loss_peak=loss_peak, decode_peak=decode_peak, peak=max(loss_peak, decode_peak))


def text_encoder_gib()->float:
    "bf16 weights of FLUX's T5-XXL encoder + CLIP-L text model (meta device), the prompt-encoding peak's weights."
    from accelerate import init_empty_weights
    from transformers import T5Config, T5EncoderModel, CLIPTextConfig, CLIPTextModel
    with init_empty_weights():
        t5 = T5EncoderModel(T5Config(d_model=4096, d_ff=10240, d_kv=64, num_heads=64, num_layers=24, vocab_size=32128,
                                     feed_forward_proj='gated-gelu'))
        clip = CLIPTextModel(CLIPTextConfig(hidden_size=768, intermediate_size=3072, num_attention_heads=12, num_hidden_layers=12,
                                            projection_dim=768))
    return 2 * sum(p.numel() for m in (t5, clip) for p in m.parameters()) / GiB


# (row label, measured model: (guidance, slim adapter, checkpointing, cached inputs), quantization, optimizer)
CONFIGS = [
    ("bf16 · cross_attn · AdamW · ckpt  (shipped default)", ('cross_attn', False, True, False), None, 'adamw'),
    ("bf16 · cross_attn · AdamW · no ckpt",                ('cross_attn', False, False, False), None, 'adamw'),
    ("bf16 · concat · AdamW · ckpt",                       ('concat', False, True, False), None, 'adamw'),
    ("bf16 · none · AdamW · ckpt",                         ('none', False, True, False), None, 'adamw'),
    ("bf16 · slim cross_attn · AdamW8bit · ckpt · cache",  ('cross_attn', True, True, True), None, 'adamw8bit'),
    ("nf4 · slim cross_attn · AdamW8bit · ckpt · cache (24 GB config)", ('cross_attn', True, True, True), 'nf4', 'adamw8bit'),
    ("nf4 · slim cross_attn · AdamW · ckpt · cache",       ('cross_attn', True, True, True), 'nf4', 'adamw'),
    ("nf4 · cross_attn · AdamW8bit · ckpt · cache",        ('cross_attn', False, True, True), 'nf4', 'adamw8bit'),
    ("nf4 · concat · AdamW8bit · ckpt · cache",            ('concat', False, True, True), 'nf4', 'adamw8bit'),
    ("int8 · slim cross_attn · AdamW8bit · ckpt · cache",  ('cross_attn', True, True, True), 'int8', 'adamw8bit'),
]


def main(size:int=512, num_vis_samples:int=1):
    torch.set_num_threads(1)
    t_start, cpu_start = time.time(), time.process_time()
    measured, val_measured, rows = {}, {}, []
    for label, key, quantization, optimizer in CONFIGS:
        guidance, slim, ckpt, cached = key
        mode = FakeTensorMode()
        model = build(guidance, slim, ckpt, mode)
        trainable = [p for p in model.parameters() if p.requires_grad]
        linears = frozen_base_linears(model.transformer)
        with mode:
            if key not in measured: measured[key] = measure_train(model, cached, (size, size))
            vkey = (guidance, slim)
            if vkey not in val_measured: val_measured[vkey] = measure_validation(model, (size, size), num_vis_samples)
        tr, va = measured[key], val_measured[vkey]
        bf16_w, q_w, dequant = quantised_bytes(linears, quantization)
        opt_state, opt_tmp = optimizer_bytes(trainable, optimizer)
        adjust = q_w - bf16_w + dequant                 # quantised base instead of bf16, one dequantised layer at a time
        train_peak = max(tr['peak'] + adjust + opt_state, tr['after_backward'] + adjust + opt_state + opt_tmp)
        val_peak = va['peak'] + adjust + opt_state
        base_gib = (tr['resident'] - sum(p.numel() * p.element_size() for p in trainable) + q_w - bf16_w) / GiB
        rows.append(dict(label=label, base=base_gib, trainable_m=sum(p.numel() for p in trainable) / 1e6,
                         trainable=sum(p.numel() * 4 for p in trainable) / GiB, grads=sum(p.numel() * 4 for p in trainable) / GiB,
                         opt=opt_state / GiB, saved=tr['saved'] / GiB, train=train_peak / GiB, val=val_peak / GiB,
                         peak=max(train_peak, val_peak) / GiB))
        del model; gc.collect()
        print(f"measured {label} ({time.time() - t_start:.0f} s)", flush=True)
    print(f"\nFLUX.1-Fill-dev ({sum(FLUX_FILL_TRANSFORMER_CONFIG[k] for k in ('num_layers', 'num_single_layers'))} blocks), "
          f"one training step at {size}x{2 * size} (diptych), batch 1, bf16 autocast; validation {num_vis_samples} sample at a time. GiB.")
    print("base = frozen weights on the GPU during the training step (transformer; + VAE + Stage-1 net without cache); "
          "saved = activations alive after the forward")
    head = f"{'configuration':<66} {'base':>6} {'train M':>8} {'train':>6} {'grads':>6} {'optim':>6} {'saved':>6} {'step':>6} {'valid':>6} {'peak':>6}  fits (+{CONTEXT_GIB} GiB context)"
    print(head); print('-' * len(head))
    for r in rows:
        fits = ' '.join(f"{c}:{'yes' if r['peak'] + CONTEXT_GIB <= c else 'no '}" for c in CARDS_GIB)
        print(f"{r['label']:<66} {r['base']:6.2f} {r['trainable_m']:8.1f} {r['trainable']:6.2f} {r['grads']:6.2f} {r['opt']:6.2f} "
              f"{r['saved']:6.2f} {r['train']:6.2f} {r['val']:6.2f} {r['peak']:6.2f}  {fits}")
    print(f"\nprompt encoding (once, before the transformer loads; then freed): T5-XXL + CLIP-L bf16 weights "
          f"{text_encoder_gib():.2f} GiB + activations of one 512-token prompt")
    print(f"floors: nf4 + cache + AdamW8bit step peak <= 20 GiB; default bf16 with checkpointing <= 40 GiB incl. validation")
    print(f"{time.time() - t_start:.0f} s wall, {time.process_time() - cpu_start:.0f} s CPU")
    return rows


if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--size', type=int, default=512, help='side of each diptych half (the diptych is size x 2*size)')
    ap.add_argument('--num_vis_samples', type=int, default=1, help='diptychs per validation call (FluxTrainer.validate: 1)')
    a = ap.parse_args()
    main(a.size, a.num_vis_samples)
