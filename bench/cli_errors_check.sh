#!/bin/bash
# One-line errors from the real console scripts: each case prints `CLI: error: ...` and rc=2.
# Run from the repository root: PYTHONPATH=$PWD bench/cli_errors_check.sh (about 2 minutes on 2 cores)
set -u
B=${PHYSIR_BIN:-$(dirname $(command -v python))};  # the venv bin folder (physir_* scripts) W=/tmp/cli_rel; rm -rf $W; mkdir -p $W
export OMP_NUM_THREADS=1
echo "== physir_make_synthetic --n_train 0"; $B/physir_make_synthetic --root $W/s0 --n_train 0 --quiet; echo "rc=$?"
$B/physir_make_synthetic --root $W/data --n_train 4 --n_val 2 --size 32 --quiet >/dev/null
echo "== physir_train_flux with a truncated model.safetensors"
$B/python -c "
from physir.decomposition import DecompositionNet; from pathlib import Path
d = DecompositionNet(backbone='tiny').save('$W/dec'); f = Path('$W/dec/model.safetensors'); f.write_bytes(f.read_bytes()[:5000])" 2>&1 | tail -2
$B/physir_train_flux --tiny --decomposition_checkpoint $W/dec --train_data $W/data/train --val_data $W/data/val --max_steps 1 --cpu --checkpoint_dir $W/fluxck --image_size 32 2>&1 | grep -v "^\s*$" | tail -3; echo "rc=${PIPESTATUS[0]}"
echo "== physir_train_lgt on a latents folder holding a refused pickle"
mkdir -p $W/lat/style0 $W/lat/style1
$B/python -c "
import torch, collections; torch.save(torch.zeros(4,4,4), '$W/lat/style0/a.pt'); torch.save(torch.zeros(4,4,4), '$W/lat/style1/a.pt'); import pathlib; torch.save(pathlib.Path('x'), '$W/lat/style1/b.pt')"
(cd $W && $B/physir_train_lgt --data_root $W/lat --checkpoint_dir $W/lgtck --num_epochs 1 --cpu --quiet 2>&1 | tail -3; echo "rc=${PIPESTATUS[0]}")
echo "== physir_pretrain_decomposition with NaN losses (lr 1e30), without and with a checkpoint at every step"
for extra in "" "--set save_every=1"; do
$B/physir_pretrain_decomposition --train_data $W/data/train --val_data $W/data/val --image_size 32 --batch_size 2 --max_steps 8 --learning_rate 1e30 --cpu --checkpoint_dir $W/nan$RANDOM $extra 2>&1 | grep -v "^\s*$" | tail -3; echo "rc=${PIPESTATUS[0]}"
done
