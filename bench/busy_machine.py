#!/usr/bin/env python
"""How a Stage-1 time budget behaves on a busy machine: steps in a `--seconds` budget at the demo's `small`
Stage-1 settings (128 px, batch 8, resnet18), idle and beside `--busy` plain busy loops (`yes > /dev/null`), for each
option: the wall-clock budget with torch's default threads, with 1 thread, and the CPU-time budget (default threads, 1 thread).

Each run is a child process (so its thread setting holds); it prints one JSON line: steps, wall s, process CPU s, the
CPU/wall ratio, torch threads and the load average before/after. `python bench/busy_machine.py --out /tmp/busy`."""
import argparse, json, os, subprocess, sys, time, signal
from pathlib import Path

CHILD = r'''
import json, os, sys, time, torch
opt, data, ck, seconds = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
if opt.endswith('1thread'): torch.set_num_threads(1)
from physir.train_decomposition import DecompTrainConfig, DecompositionTrainer
cfg = DecompTrainConfig(method='fusion', train_data=data + '/train', val_data=data + '/val', image_size=128, backbone='resnet18',
                        batch_size=8, num_epochs=10_000, learning_rate=1e-3, max_time_s=seconds, num_workers=0, seed=0,
                        mixed_precision='no', val_every_epochs=10**6, save_every=10**6, log_every=1, checkpoint_dir=ck,
                        time_clock='cpu' if opt.startswith('cpu') else 'wall', overwrite=True, progress=False)
trainer = DecompositionTrainer(cfg)
load0, w0, c0 = os.getloadavg()[0], time.perf_counter(), time.process_time()
s = trainer.fit()
wall, cpu = time.perf_counter() - w0, time.process_time() - c0
print('RESULT ' + json.dumps(dict(option=opt, steps=s['step'], wall_s=round(wall, 1), cpu_s=round(cpu, 1),
      cpu_per_wall=round(cpu / wall, 2), threads=torch.get_num_threads(), load_before=round(load0, 2),
      load_after=round(os.getloadavg()[0], 2), monitor={k: round(v, 2) for k, v in (trainer.rate_monitor.measure() or {}).items()},
      load_warning=s.get('load_warning'))), flush=True)
'''

def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument('--out', default='/tmp/busy_machine'); p.add_argument('--seconds', type=float, default=40)
    p.add_argument('--busy', type=int, default=2, help='busy loops beside the busy runs')
    p.add_argument('--options', default='wall-default,wall-1thread,cpu-budget,cpu-1thread')
    p.add_argument('--conditions', default='idle,busy')
    a = p.parse_args()
    out = Path(a.out); out.mkdir(parents=True, exist_ok=True)
    from physir.data import write_synthetic_dataset
    data = write_synthetic_dataset(out/'data', n_train=96, n_val=16, size=128, seed=0)
    rows = []
    for cond in a.conditions.split(','):
        for opt in a.options.split(','):
            loops = [subprocess.Popen(['yes'], stdout=subprocess.DEVNULL) for _ in range(a.busy if cond == 'busy' else 0)]
            try:
                time.sleep(3 if loops else 0)
                r = subprocess.run([sys.executable, '-c', CHILD, opt, str(data), str(out/f'ck-{cond}-{opt}'), str(a.seconds)],
                                   capture_output=True, text=True)
            finally:
                for l in loops: l.send_signal(signal.SIGTERM); l.wait()
            line = [l for l in r.stdout.splitlines() if l.startswith('RESULT ')]
            row = {'condition': cond, **(json.loads(line[-1][7:]) if line else {'option': opt, 'error': r.stderr[-500:]})}
            print(json.dumps(row), flush=True); rows.append(row)
    (out/'results.json').write_text(json.dumps(rows, indent=1))

if __name__ == '__main__': main()
