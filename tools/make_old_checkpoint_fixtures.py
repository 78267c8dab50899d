"""Write nbs/fixtures/old_checkpoints: tiny checkpoints in every layout physir wrote before state.json format 3.
Run ONCE on a checkout of main at ef943c6 (format 2, the last code that wrote/read these layouts); the fixtures are
committed, so the converter's tests read what that code wrote. Older layouts (last/, best_model/, step_*/, epoch_*/,
format 1 records) are the format-2 folders renamed and their state.json rewritten in the older names, which is what
that code's upgrade_checkpoint_state reads back (checked at the end)."""
import contextlib, io, json, os, shutil, sys, tempfile
from pathlib import Path
import torch, torch.nn.functional as F
from physir.core import seed_everything, load_config
from physir.data import write_synthetic_dataset
from physir.decomposition import DecompositionNet, DirectIRNet

# smaller than 'tiny' (fixtures stay small): every config.json records its resnet_config and widths, so any code reads them
import physir.decomposition as D
D.BACKBONES['tiny'] = dict(layer_type='basic', depths=[1, 1, 1, 1], hidden_sizes=[4, 8, 8, 8], embedding_size=4)
for cls in (D.DecompositionNet, D.DirectIRNet):
    def init(self, *a, _orig=cls.__init__, **k):
        k.setdefault('decoder_channels', 8); k.setdefault('head_channels', 8); _orig(self, *a, **k)
    cls.__init__ = init
out = Path(sys.argv[1] if len(sys.argv) > 1 else 'nbs/fixtures/old_checkpoints')
if out.exists(): shutil.rmtree(out)
out.mkdir(parents=True)
tmp = Path(tempfile.mkdtemp())
quiet = contextlib.redirect_stdout(io.StringIO())

def drop(folder, *names):
    for n in names:
        p = Path(folder)/n
        if p.exists(): p.unlink()

# 1. a bare Stage-1 net: hand-written config.json + model.safetensors (DecompositionNet.save)
seed_everything(0)
DecompositionNet('tiny', num_material_classes=16, context_channels=8).save(out/'stage1_net')

# 2. a Stage-1 run today (format 2): checkpoint-2/ + best/ (a link to its version folder)
from physir.train_decomposition import DecompTrainConfig, DecompositionTrainer
data = write_synthetic_dataset(tmp/'data', 2, 1, size=32, seed=0)
def stage1_run(method, ckdir):
    cfg = DecompTrainConfig(method=method, backbone='tiny', train_data=str(data/'train'), val_data=str(data/'val'), image_size=32,
                            batch_size=2, max_steps=2, num_workers=0, progress=False, mixed_precision='no', cpu=True,
                            num_material_classes=16, context_channels=8,
                            checkpoint_dir=str(ckdir), log_dir=str(tmp/'logs'/method), vis_dir=str(tmp/'vis'/method))
    with quiet: DecompositionTrainer(cfg).fit()
stage1_run('fusion', out/'decomposition_run')
shutil.rmtree(out/'decomposition_run'/'pseudo_labels', ignore_errors=True)

for p in (out/'decomposition_run').iterdir():
    if p.is_dir() and not p.is_symlink(): drop(p, 'optimizer.pt', 'scheduler.pt', 'rng.json')   # weights + record: what conversion reads

# 3. a Stage-1 direct run in the layout before checkpoint-{step}: last/ + best_model/, format 1 names (best_val_fusion)
stage1_run('direct', tmp/'direct_run')
src = tmp/'direct_run'/'checkpoint-2'
old = out/'direct_last'; old.mkdir()
for name in ('last', 'best_model'):
    shutil.copytree(src, old/name)
    drop(old/name, 'optimizer.pt', 'scheduler.pt', 'rng.json')
    s = json.loads((old/name/'state.json').read_text())
    best = s.pop('best') or {}
    for k in ('format', 'budget_used_s', 'nonfinite_skipped'): s.pop(k, None)   # the direct baseline always recorded its kind
    s['best_val_fusion'] = best.get('value')
    (old/name/'state.json').write_text(json.dumps(s, indent=2))

# 4. an LGT run today (format 2) and 5. the same in the older epoch_XXXX/ layout (global_step, train_seconds)
from physir.core import save_image
from physir.thermal import render_scene
from physir.latents import preprocess_latents, make_codec, LatentDataset
from physir.lgt_unet import LGTConfig
from physir.train_lgt import train_lgt
scenes = [render_scene(s, size=32) for s in range(4)]
raw = tmp/'lgt_raw'
for k, key in enumerate(('rgb', 'infrared')):
    (raw/f'style{k}').mkdir(parents=True)
    for i, sc in enumerate(scenes): save_image(sc[key], raw/f'style{k}'/f'{i}.png')
preprocess_latents(raw, tmp/'lgt_latents', target_size=32, codec=make_codec('pixel', downsample=4), verbose=False)
tiny_lgt = {'model.latent_channels': 4, 'model.base_channels': 8, 'model.style_dim': 8, 'model.time_dim': 8,
            'model.num_encoder_blocks': 1, 'model.num_decoder_blocks': 1, 'loss.max_samples': 64,
            'loss.num_projections': 8, 'training.num_epochs': 1, 'training.batch_size': 4,
            'training.ode_integration_steps': 2, 'training.checkpoint_dir': str(out/'lgt_run')}
with quiet: run = train_lgt(load_config(LGTConfig, overrides=tiny_lgt), LatentDataset(tmp/'lgt_latents'), progress=False)
for p in (out/'lgt_run').iterdir():
    if p.is_dir() and not p.is_symlink(): drop(p, 'optimizer.pt', 'scheduler.pt', 'rng.json')
shutil.rmtree(out/'lgt_run'/'logs', ignore_errors=True)
old = out/'lgt_epoch'; old.mkdir()
shutil.copytree(run.checkpoint, old/'epoch_0001')
s = json.loads((old/'epoch_0001'/'state.json').read_text())
s['global_step'] = s.pop('step'); s['train_seconds'] = s.pop('budget_used_s')
for k in ('format', 'batch_in_epoch', 'best', 'nonfinite_skipped', 'kind'): s.pop(k, None)
(old/'epoch_0001'/'state.json').write_text(json.dumps(s, indent=2))

# 6. a tiny FLUX run in the older step_NNNNNNN/ layout (format 1: no format key)
from physir.train_flux import FluxTrainConfig, train_flux, TINY_FLUX
TINY_FLUX.update(latent_channels=2, vae_channels=(8, 8), num_layers=1, num_single_layers=1, num_attention_heads=1,
                 attention_head_dim=8, axes_dims_rope=(2, 2, 4))   # smaller than the trainer's tiny: the fixture stays small
fcfg = FluxTrainConfig(train_data=str(data/'train'), val_data=str(data/'val'), image_size=32, tiny=True, tiny_vae_steps=0, guidance='concat', lora_rank=2, encoder_width=8,
                       decomposition_checkpoint=str(out/'stage1_net'), batch_size=2, num_workers=0, max_steps=1, lr_warmup_steps=1,
                       mixed_precision='no', cpu=True, num_vis_samples=1, num_inference_steps=2, log_dir=str(tmp/'flux_logs'),
                       checkpoint_dir=str(tmp/'flux'), vis_dir=str(tmp/'flux_vis'))
with quiet: train_flux(fcfg)
old = out/'flux_step'; old.mkdir()
shutil.copytree(tmp/'flux'/'checkpoint-1', old/'step_0000001')
drop(old/'step_0000001', 'optimizer.pt', 'scheduler.pt', 'rng.json')
s = json.loads((old/'step_0000001'/'state.json').read_text()); s.pop('format', None); s.pop('kind', None)
(old/'step_0000001'/'state.json').write_text(json.dumps(s, indent=2))

# check: this code reads every one back
from physir.checkpoints import resolve, load_stage1_net, load_lgt_model, load_flux_checkpoint
for name, kind in [('stage1_net', 'decomposition'), ('decomposition_run', 'decomposition'), ('direct_last', 'direct'),
                   ('lgt_run', 'lgt'), ('lgt_epoch', 'lgt'), ('flux_step', 'flux_adapter')]:
    r = resolve(out/name, kind); print(name, '->', r.folder.relative_to(out), r.kind, r.state.get('format'), r.state.get('step'))
load_stage1_net(out/'direct_last'); load_lgt_model(out/'lgt_epoch'); load_flux_checkpoint(out/'flux_step')
total = sum(p.stat().st_size for p in out.rglob('*') if p.is_file() and not p.is_symlink())
print(f"{total/1024:.0f} KiB in {out}")
