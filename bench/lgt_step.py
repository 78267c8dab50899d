#!/usr/bin/env python
"""Cost of one LGT training step (energy at the end of a 5-step differentiable ODE) against one plain
velocity-MSE (rectified-flow / OT-CFM style) step of the same LGTUNet, and the peak memory of the LGT step.

Reference model size (base_channels=128, style_dim=256, time_dim=256, 2+3 blocks), batch 16, latents 4x32x32,
AdamW. Both steps are timed in the same run, alternating, after a warm-up; the script prints the median time of
each and their ratio (the reference claims "~2x compute vs direct supervision").

Peak memory is measured in a fresh child process per step kind, so one measurement cannot inherit the other's
high-water mark: on CUDA `torch.cuda.max_memory_allocated` (model + optimizer + activations); on CPU the peak
resident set size of the child (VmHWM, reset at its start), reported both in total and as the increase over the
process after importing torch (the "training footprint"). The reference's figure is ~6.5 GB total.

    python bench/lgt_step.py [--repeats 3] [--batch 16] [--size 32] [--ode-steps 5] [--device cpu|cuda]
                             [--memory-only | --timing-only]
"""
import argparse, json, os, resource, statistics, subprocess, sys, time
import torch

REFERENCE_MODEL = dict(latent_channels=4, base_channels=128, style_dim=256, time_dim=256, num_styles=2,
                       num_encoder_blocks=2, num_decoder_blocks=3)
REFERENCE_PEAK_GB = 6.5


def _reset_peak_rss():
    "Linux: reset this process's RSS high-water mark (VmHWM) so a measurement starts from now."
    try:
        with open('/proc/self/clear_refs', 'w') as f: f.write('5')
    except OSError: pass

def _rss_gb():
    "Peak resident set size of this process, GB: VmHWM on Linux (it restarts at exec), else ru_maxrss."
    try:
        for line in open('/proc/self/status'):
            if line.startswith('VmHWM:'): return int(line.split()[1]) * 1024 / 1e9
    except OSError: pass
    # ru_maxrss (KiB on Linux, bytes on macOS) can carry the parent's high-water mark over fork+exec
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * (1 if sys.platform == 'darwin' else 1024) / 1e9


def build(args):
    from physir.lgt_unet import LGTUNet
    from physir.train_lgt import LGTConfig, lgt_loss
    from physir.core import load_config
    torch.manual_seed(0)
    dev = torch.device(args.device)
    model = LGTUNet(**REFERENCE_MODEL).to(dev).to(memory_format=torch.channels_last)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    cfg = load_config(LGTConfig, overrides={'training.ode_integration_steps': args.ode_steps,
                                            'training.batch_size': args.batch})
    x_src = torch.randn(args.batch, 4, args.size, args.size, device=dev)
    bank = [torch.randn(64, 4, args.size, args.size, device=dev) for _ in range(2)]
    amp = torch.autocast('cuda', dtype=torch.bfloat16) if dev.type == 'cuda' else torch.autocast('cpu', enabled=False)
    gen = torch.Generator().manual_seed(0)

    def lgt_step():
        with amp: loss, _ = lgt_loss(model, x_src, bank, cfg, generator=gen)
        loss.backward(); opt.step(); opt.zero_grad(set_to_none=True)
        return loss

    def mse_step():
        # the plain flow-matching step of the same network: x_t on the straight path, target velocity x_src - x0
        B = x_src.shape[0]
        t = torch.rand(B, generator=gen).to(dev); x0 = torch.randn(x_src.shape, generator=gen).to(dev)
        style = torch.randint(2, (B,), generator=gen).to(dev)
        tb = t.view(-1, 1, 1, 1); x_t = (1 - tb) * x0 + tb * x_src
        with amp: loss = torch.nn.functional.mse_loss(model(x_t, t, style).float(), x_src - x0)
        loss.backward(); opt.step(); opt.zero_grad(set_to_none=True)
        return loss

    return model, {'lgt': lgt_step, 'mse': mse_step}, dev


def _sync(dev):
    if dev.type == 'cuda': torch.cuda.synchronize()


def child_memory(args):
    "Run in a fresh process: peak memory of `args.child` steps (2 steps: the 2nd has optimizer state allocated)."
    _reset_peak_rss(); base = _rss_gb()
    model, steps, dev = build(args)
    if dev.type == 'cuda': torch.cuda.reset_peak_memory_stats()
    for _ in range(2): steps[args.child](); _sync(dev)
    out = {'kind': args.child, 'rss_peak_gb': _rss_gb(), 'rss_after_import_gb': base,
           'params_m': sum(p.numel() for p in model.parameters()) / 1e6}
    if dev.type == 'cuda': out['cuda_peak_gb'] = torch.cuda.max_memory_allocated() / 1e9
    print(json.dumps(out))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--repeats', type=int, default=3)
    ap.add_argument('--batch', type=int, default=16)
    ap.add_argument('--size', type=int, default=32)
    ap.add_argument('--ode-steps', type=int, default=5)
    ap.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    ap.add_argument('--memory-only', action='store_true', help='only the peak-memory measurement')
    ap.add_argument('--timing-only', action='store_true', help='only the step-time ratio')
    ap.add_argument('--child', choices=['lgt', 'mse'], help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child: return child_memory(args)

    print(f"torch {torch.__version__}, device {args.device}, threads {torch.get_num_threads()}, "
          f"B={args.batch}, latents 4x{args.size}x{args.size}, ode_integration_steps={args.ode_steps}, model {REFERENCE_MODEL}")
    if not args.timing_only: memory(args)   # first, so the children fork from a small parent
    if not args.memory_only: timing(args)


def timing(args):
    model, steps, dev = build(args)
    print(f"LGTUNet parameters: {sum(p.numel() for p in model.parameters()) / 1e6:.2f} M")
    for f in steps.values(): f(); _sync(dev)           # warm-up (allocator, AdamW state)
    times = {k: [] for k in steps}
    for _ in range(args.repeats):                        # alternate so shared-CPU load hits both alike
        for k, f in steps.items():
            _sync(dev); t0 = time.perf_counter(); f(); _sync(dev); times[k].append(time.perf_counter() - t0)
    med = {k: statistics.median(v) for k, v in times.items()}
    for k, v in times.items():
        print(f"{k:>3} step: median {med[k] * 1e3:8.1f} ms  (min {min(v) * 1e3:.1f}, max {max(v) * 1e3:.1f}, n={len(v)})")
    print(f"ratio LGT step ({args.ode_steps} ODE steps + energy) / velocity-MSE step: {med['lgt'] / med['mse']:.2f}x")


def memory(args):
    mem = {}
    for kind in ('lgt', 'mse'):
        cmd = [sys.executable, __file__, '--child', kind, '--batch', str(args.batch), '--size', str(args.size),
               '--ode-steps', str(args.ode_steps), '--device', args.device]
        res = subprocess.run(cmd, capture_output=True, text=True)
        if res.returncode != 0: raise RuntimeError(f"memory child '{kind}' failed:\n{res.stderr[-2000:]}")
        mem[kind] = json.loads(res.stdout.strip().splitlines()[-1])
    for kind, m in mem.items():
        line = (f"{kind:>3} peak memory: process peak RSS {m['rss_peak_gb']:.2f} GB "
                f"(+{m['rss_peak_gb'] - m['rss_after_import_gb']:.2f} GB over the process after importing torch)")
        if 'cuda_peak_gb' in m: line += f", CUDA max allocated {m['cuda_peak_gb']:.2f} GB"
        print(line)
    peak = mem['lgt'].get('cuda_peak_gb', mem['lgt']['rss_peak_gb'])
    print(f"LGT step peak {peak:.2f} GB vs reference {REFERENCE_PEAK_GB} GB: "
          f"{'within' if peak <= REFERENCE_PEAK_GB else 'ABOVE'} the floor (ratio {peak / REFERENCE_PEAK_GB:.2f}); "
          f"LGT/MSE memory ratio {peak / mem['mse'].get('cuda_peak_gb', mem['mse']['rss_peak_gb']):.2f}x")


if __name__ == '__main__':
    main()
