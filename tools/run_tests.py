#!/usr/bin/env python
"""Run `nbdev_test` and end with one honest line `N passed, M failed` (a notebook is a unit).

nbdev_test prints 'Starting NB' per notebook (with --do_print) and lists failed notebooks at the end; if the
runner itself dies before naming any failure, that counts as one failure so a broken run is never green."""
import subprocess, sys, re, time, argparse, os
from pathlib import Path

p = argparse.ArgumentParser(description=__doc__)
p.add_argument('--flags', default='', help='nbdev test flags to run, e.g. "slow"')
p.add_argument('--path', default=None, help='a notebook or glob (default: all of nbs/)')
args = p.parse_args()
bindir = Path(sys.executable).parent
cmd = [str(bindir/'nbdev_test'), '--do_print', '--timing']
if args.flags: cmd += ['--flags', args.flags]
if args.path: cmd += ['--path', args.path]
print('$', ' '.join(cmd), flush=True)
t0 = time.time()
# nbdev_test runs one notebook per core; one torch thread each avoids oversubscribing the cores (measured: a
# 30-step overfit took 39 s with 2 threads per process under load and 2 s with 1)
env = {**os.environ, 'OMP_NUM_THREADS': os.environ.get('OMP_NUM_THREADS', '1')}
proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
lines = []
for line in proc.stdout:
    sys.stdout.write(line); sys.stdout.flush(); lines.append(line.rstrip('\n'))
rc = proc.wait()
# parallel workers' prints can share a line ('Starting A.ipynb- Completed B.ipynb'): find every 'Starting X.ipynb',
# and count the --timing lines too (one per notebook run, printed by the parent process)
started = {Path(m).name for l in lines for m in re.findall(r'Starting (\S+?\.ipynb)', l)}
started |= {m.group(1) for l in lines if (m := re.fullmatch(r'(\S+\.ipynb): \d+ secs', l.strip()))}
failed, in_list = set(), False
for l in lines:
    if 'Failed On The Following Notebooks' in l: in_list = True; continue
    if in_list and l.startswith('\t'): failed.add(l.strip())
if rc != 0 and not failed: failed.add('<nbdev_test runner>')
passed = len(started - failed)
print(f"total time {time.time() - t0:.0f} s{' (flags: ' + args.flags + ')' if args.flags else ''}")
print(f"{passed} passed, {len(failed)} failed")
sys.exit(1 if failed else 0)
