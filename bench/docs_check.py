#!/usr/bin/env python
"""Docs render check without Quarto: the same notebook processing as `nbdev_docs`, each page rendered and opened.

`nbdev_proc_nbs` (nbdev 2.4.14) first calls `_ensure_quarto()`, which downloads Quarto when it is missing; this
script runs the same steps as `nbdev.quarto._pre_docs` without that download:

  1. nbdev.quarto.refresh_quarto_yml()      (nbs/nbdev.yml, nbs/_quarto.yml if absent)
  2. nbdev.doclinks._build_modidx()         (physir/_modidx.py)
  3. nbdev.quarto.nbdev_sidebar             (nbs/sidebar.yml)
  4. nbdev.serve.proc_nbs(nbs)              (processed notebooks in _proc/, show_doc cells executed)

then renders every processed notebook to HTML with nbconvert (no execution), opens each page in headless Chromium,
takes a full-page screenshot and checks that the figures show: every image output of the processed notebook must be an
<img> that loaded (naturalWidth > 0) and whose area in the screenshot is not a flat colour, and the page must not be
blank. Markdown images that fail to load are reported too (remote http(s) images are not checked: no network).

By default the steps run in a scratch copy of the repo (bench/out/docs/site), so the working tree is untouched while
others edit it; --inplace runs them in the repo itself (writes _proc/, nbs/sidebar.yml, nbs/nbdev.yml, physir/_modidx.py).
Screenshots and HTML go to bench/out/docs/ (git-ignored). Exit status: 0 all OK, 1 a step or a page failed,
2 Chromium is missing (Debian/Ubuntu: apt-get install -y chromium).

Usage: .venv/bin/python bench/docs_check.py [--inplace] [--only GLOB] [--force] [--workers N] [--out DIR]
"""
import argparse, fnmatch, html, json, os, re, shutil, subprocess, sys, tempfile, time, traceback
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
IMAGE_MIMES = ('image/png', 'image/jpeg', 'image/gif')
SVG_MIME = 'image/svg+xml'
CHROMIUM_NAMES = ('chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable')
CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
                  '--disable-component-update', '--disable-sync', '--no-first-run', '--hide-scrollbars',
                  '--force-device-scale-factor=1', '--disable-dev-shm-usage',
                  # offline and deterministic: every remote host fails at once instead of timing out
                  '--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE localhost']
PAGE_WIDTH, MAX_PAGE_HEIGHT = 1280, 16000

# Runs in the page after everything has loaded; leaves its findings as JSON in <pre id="docs-check">.
CHECK_JS = """<script>
window.addEventListener('load', function () {
  var imgs = Array.prototype.map.call(document.images, function (im) {
    var r = im.getBoundingClientRect();
    return {src: (im.getAttribute('src') || '').slice(0, 80), ok: im.complete && im.naturalWidth > 0,
            remote: /^https?:/.test(im.getAttribute('src') || ''), output: !!im.closest('.jp-OutputArea-output, .output_subarea'),
            x: r.left + window.scrollX, y: r.top + window.scrollY, w: r.width, h: r.height};
  });
  var svgs = document.querySelectorAll('[data-mime-type="image/svg+xml"] svg, .output_svg svg').length;
  var pre = document.createElement('pre'); pre.id = 'docs-check'; pre.style.display = 'none';
  pre.textContent = JSON.stringify({imgs: imgs, svgs: svgs,
    height: Math.max(document.documentElement.scrollHeight, document.body.scrollHeight)});
  document.body.appendChild(pre);
});
</script>"""


def find_chromium(explicit=None):
    if explicit: return explicit if shutil.which(explicit) else None
    if os.environ.get('CHROMIUM'): return shutil.which(os.environ['CHROMIUM'])
    return next((shutil.which(n) for n in CHROMIUM_NAMES if shutil.which(n)), None)


def prepare_site(out: Path) -> Path:
    "A scratch copy of what the docs build reads; _proc/ is kept between runs so nbdev's mtime cache works."
    site = out/'site'
    site.mkdir(parents=True, exist_ok=True)
    for name in ('nbs', 'physir'):
        if (site/name).exists(): shutil.rmtree(site/name)
        shutil.copytree(REPO/name, site/name, symlinks=True,
                        ignore=shutil.ignore_patterns('_proc', '.ipynb_checkpoints', 'tmp', '__pycache__', '_docs'))
    for name in ('settings.ini', '_quarto.yml', 'setup.py', 'pyproject.toml', 'README.md'):
        if (REPO/name).exists(): shutil.copy2(REPO/name, site/name)
    return site


def run_step(name, fn, steps, log):
    t0 = time.time()
    try:
        fn(); steps.append((name, 'OK', time.time() - t0, ''))
        return True
    except BaseException as e:  # SystemExit from a call_parse function included
        first = str(e).strip().splitlines()[0] if str(e).strip() else ''
        steps.append((name, 'ERROR', time.time() - t0, f"{type(e).__name__}: {first}"))
        with open(log, 'a') as f: f.write(f"== {name}\n{traceback.format_exc()}\n")
        return False


def nbdev_steps(root: Path, workers: int, force: bool, log: Path):
    "The steps of nbdev.quarto._pre_docs minus _ensure_quarto, run with `root` as the project. Returns (steps, cfg)."
    os.chdir(root)
    sys.path.insert(0, str(root))
    os.environ['PYTHONPATH'] = os.pathsep.join([str(root)] + [p for p in [os.environ.get('PYTHONPATH')] if p])
    import nbdev.quarto, nbdev.doclinks, nbdev.serve
    from nbdev.config import get_config
    cfg = get_config()
    steps = []
    run_step('refresh_quarto_yml', nbdev.quarto.refresh_quarto_yml, steps, log)
    run_step('_build_modidx', nbdev.doclinks._build_modidx, steps, log)
    run_step('nbdev_sidebar', lambda: nbdev.quarto.nbdev_sidebar.__wrapped__(path=cfg.nbs_path), steps, log)
    run_step('proc_nbs', lambda: nbdev.serve.proc_nbs(cfg.nbs_path, n_workers=workers, force=force), steps, log)
    return steps, cfg


def diagnose_proc(cfg, notebooks):
    "After proc_nbs failed: process each notebook alone to name every one that fails (and produce the others)."
    import nbdev.serve_drv
    from nbdev.processors import FilterDefaults
    errors = {}
    for nb in notebooks:
        dst = cfg.config_path/'_proc'/nb.relative_to(cfg.nbs_path)
        if dst.exists() and dst.stat().st_mtime >= nb.stat().st_mtime: continue    # proc_nbs got to it
        dst.parent.mkdir(parents=True, exist_ok=True)
        try: nbdev.serve_drv.main((nb, dst, FilterDefaults))
        except BaseException as e:
            cause = e.__cause__ or e
            errors[nb] = f"{str(e).splitlines()[0]} → {type(cause).__name__}: {str(cause).splitlines()[0] if str(cause) else ''}"
            if isinstance(cause, NameError):   # the usual cause; nbdev also warns "Found cells containing imports and other code"
                errors[nb] += " (nbdev runs every cell that has an import while processing docs: keep imports in their own cells)"
    return errors


def count_image_outputs(nb) -> tuple[int, int]:
    "(raster image outputs, svg outputs) in a notebook."
    raster = svg = 0
    for cell in nb.cells:
        for o in cell.get('outputs', []):
            data = o.get('data', {})
            if any(m in data for m in IMAGE_MIMES): raster += 1
            elif SVG_MIME in data: svg += 1
    return raster, svg


PANDOC_ATTRS = re.compile(r'(\]\([^)]*\))\{[^}]*\}')    # [source](url){target="_blank" ...}: Quarto syntax, not markdown


def quarto_like(nb):
    "What Quarto would do before showing a processed notebook: frontmatter → title, `#| echo: false` → no input, no `#|` lines."
    import yaml, nbformat
    for i, cell in enumerate(nb.cells):
        src = cell.source
        if cell.cell_type == 'raw' and src.lstrip().startswith('---'):
            try: meta = yaml.safe_load(src.strip().strip('-')) or {}
            except yaml.YAMLError: meta = {}
            title = f"# {meta['title']}\n" if meta.get('title') else ''
            desc = f"> {meta['description']}" if meta.get('description') else ''
            nb.cells[i] = nbformat.v4.new_markdown_cell(title + desc)
        elif cell.cell_type == 'markdown': cell.source = PANDOC_ATTRS.sub(r'\1', src)
        elif cell.cell_type == 'code':
            for o in cell.get('outputs', []):
                if 'text/markdown' in o.get('data', {}):
                    md = o['data']['text/markdown']
                    o['data']['text/markdown'] = PANDOC_ATTRS.sub(r'\1', md if isinstance(md, str) else ''.join(md))
            lines = src.splitlines()
            opts = [l.strip()[2:].strip().replace(' ', '') for l in lines if l.strip().startswith('#|')]
            if 'echo:false' in opts: cell.metadata.setdefault('tags', []).append('docs-check-hide-input')
            cell.source = '\n'.join(l for l in lines if not l.strip().startswith('#|'))
    return nb


def render_html(proc_nb: Path, dest: Path):
    "HTML of a processed notebook via nbconvert (no execution), with the figure check script injected."
    import nbformat
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import TagRemovePreprocessor
    nb = nbformat.read(proc_nb, as_version=4)
    exporter = HTMLExporter(template_name='lab', exclude_input_prompt=True, exclude_output_prompt=True)
    exporter.register_preprocessor(TagRemovePreprocessor(remove_input_tags={'docs-check-hide-input'}), enabled=True)
    body, _ = exporter.from_notebook_node(quarto_like(nbformat.from_dict(nb)))
    base = f'<base href="{proc_nb.parent.resolve().as_uri()}/">'     # relative markdown images resolve in _proc/
    body = body.replace('<head>', '<head>\n' + base, 1) if '<head>' in body else base + body
    body = body.replace('</body>', CHECK_JS + '\n</body>', 1) if '</body>' in body else body + CHECK_JS
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(body, encoding='utf-8')
    return nb


def chromium(browser, args, timeout=90):
    with tempfile.TemporaryDirectory(prefix='docs_check_chromium_') as profile:
        return subprocess.run([browser, *CHROMIUM_FLAGS, f'--user-data-dir={profile}', *args],
                              capture_output=True, text=True, timeout=timeout)


def painted(shot, box) -> bool:
    "True when the screenshot area of an <img> is not a single flat colour."
    x, y, w, h = (int(round(v)) for v in (box['x'], box['y'], box['w'], box['h']))
    if w < 2 or h < 2 or y >= shot.height: return False
    lo, hi = shot.crop((max(x, 0), max(y, 0), min(x + w, shot.width), min(y + h, shot.height))).convert('L').getextrema()
    return hi - lo > 8


def check_page(browser, page: Path, shot_path: Path, expected_raster: int, expected_svg: int) -> dict:
    from PIL import Image, ImageStat
    url = page.resolve().as_uri()
    res = {'expected': expected_raster + expected_svg, 'shown': 0, 'broken': [], 'problems': []}
    try:
        # same width as the screenshot, so the image boxes measured here are where the screenshot shows them
        dom = chromium(browser, ['--virtual-time-budget=15000', f'--window-size={PAGE_WIDTH},1000', '--dump-dom', url])
        m = re.search(r'<pre id="docs-check"[^>]*>(.*?)</pre>', dom.stdout, re.S)
        if not m:
            res['problems'].append(f"page did not finish loading (chromium rc={dom.returncode}: {dom.stderr.strip()[-200:]})")
            return res
        info = json.loads(html.unescape(m.group(1)))
        height = int(min(max(info['height'], 200), MAX_PAGE_HEIGHT))
        shot = chromium(browser, ['--virtual-time-budget=15000', f'--window-size={PAGE_WIDTH},{height}',
                                  f'--screenshot={shot_path}', url])
        if not shot_path.exists():
            res['problems'].append(f"no screenshot (chromium rc={shot.returncode}: {shot.stderr.strip()[-200:]})")
            return res
    except subprocess.TimeoutExpired as e:
        res['problems'].append(f"chromium timed out after {e.timeout} s")
        return res
    img = Image.open(shot_path).convert('RGB')
    if max(ImageStat.Stat(img.convert('L')).stddev[0], 0) < 2: res['problems'].append('screenshot is blank')
    outputs = [i for i in info['imgs'] if i['output']]
    res['shown'] = sum(1 for i in outputs if i['ok'] and (i['y'] >= img.height or painted(img, i))) + info['svgs']
    res['blank_figures'] = [i['src'] for i in outputs if i['ok'] and i['y'] < img.height and not painted(img, i)]
    res['broken'] = [i['src'] for i in info['imgs'] if not i['ok'] and not i['remote']]
    if res['shown'] < res['expected']: res['problems'].append(f"{res['expected']} figure(s) in the notebook, {res['shown']} shown")
    if res['blank_figures']: res['problems'].append(f"{len(res['blank_figures'])} figure(s) render as a flat colour")
    if res['broken']: res['problems'].append(f"broken image(s): {', '.join(res['broken'])}")
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--inplace', action='store_true', help='run the nbdev steps in the repo itself, not a scratch copy')
    ap.add_argument('--out', default=str(REPO/'bench'/'out'/'docs'), help='screenshots, HTML and the scratch copy')
    ap.add_argument('--only', default=None, help="check only notebooks whose name matches this glob, e.g. '14_*'")
    ap.add_argument('--force', action='store_true', help="reprocess every notebook (ignore nbdev's _proc cache)")
    ap.add_argument('--workers', type=int, default=min(2, os.cpu_count() or 1), help='proc_nbs worker processes')
    ap.add_argument('--browser', default=None, help='Chromium/Chrome executable (default: found on PATH or $CHROMIUM)')
    args = ap.parse_args()
    t_start = time.time()
    out = Path(args.out).resolve(); out.mkdir(parents=True, exist_ok=True)
    browser = find_chromium(args.browser)
    if browser is None:
        print("docs_check: no Chromium found; install it (Debian/Ubuntu: apt-get install -y chromium) or pass --browser")
        return 2
    root = REPO if args.inplace else prepare_site(out)
    log = out/'docs_check.log'; log.write_text('')
    steps, cfg = nbdev_steps(root, args.workers, args.force, log)
    nbs_path, proc = Path(cfg.nbs_path), Path(cfg.config_path)/'_proc'
    notebooks = sorted(p for p in nbs_path.rglob('*.ipynb')
                       if not any(part.startswith(('.', '_')) for part in p.relative_to(nbs_path).parts)
                       and (args.only is None or fnmatch.fnmatch(p.name, args.only)))
    proc_errors = diagnose_proc(cfg, notebooks) if steps[-1][1] != 'OK' else {}

    import nbformat
    html_dir, shot_dir = out/'html', out
    rows, jobs = [], []
    for nb in notebooks:
        rel = nb.relative_to(nbs_path)
        src_raster, src_svg = count_image_outputs(nbformat.read(nb, as_version=4))
        row = {'page': str(rel.with_suffix('')), 'source_figs': src_raster + src_svg, 'expected': 0, 'shown': 0, 'problems': []}
        rows.append(row)
        if nb in proc_errors: row['problems'].append(f"proc_nbs: {proc_errors[nb]}"); continue
        proc_nb = proc/rel
        if not proc_nb.exists(): row['problems'].append(f"not processed: {proc_nb} missing"); continue
        try: processed = render_html(proc_nb, html_dir/rel.with_suffix('.html'))
        except Exception as e: row['problems'].append(f"nbconvert: {type(e).__name__}: {e}"); continue
        raster, svg = count_image_outputs(processed)
        shot = shot_dir/(str(rel.with_suffix('')).replace(os.sep, '__') + '.png')
        if shot.exists(): shot.unlink()
        jobs.append((row, html_dir/rel.with_suffix('.html'), shot, raster, svg))

    def _check(job):
        row, page, shot, raster, svg = job
        res = check_page(browser, page, shot, raster, svg)
        row.update(expected=res['expected'], shown=res['shown'], screenshot=str(shot))
        row['problems'] += res['problems']
    with ThreadPoolExecutor(max_workers=2) as pool: list(pool.map(_check, jobs))

    print("\nnbdev steps (nbdev_proc_nbs without _ensure_quarto), project:", root)
    for name, status, secs, err in steps: print(f"  {name:<20} {status:<6} {secs:6.1f} s  {err}")
    w = max([len(r['page']) for r in rows] + [4]) + 2
    print(f"\n{'page':<{w}}{'source figs':>12}{'expected':>10}{'shown':>8}  status")
    for r in rows:
        status = 'OK' if not r['problems'] else 'FAIL'
        note = '' if r['source_figs'] else '  (no figures in the notebook)'
        print(f"{r['page']:<{w}}{r['source_figs']:>12}{r['expected']:>10}{r['shown']:>8}  {status}{note}")
        for p in r['problems']: print(f"{'':<{w}}  ↳ {p}")
    failed = [r['page'] for r in rows if r['problems']]
    # with --only, a proc_nbs failure elsewhere doesn't count: the selected pages were diagnosed one by one above
    step_errors = [s[0] for s in steps if s[1] != 'OK' and not (args.only and s[0] == 'proc_nbs')]
    (out/'docs_check.json').write_text(json.dumps({'root': str(root), 'steps': steps, 'pages': rows}, indent=2, default=str))
    print(f"\nscreenshots: {shot_dir}/*.png   html: {html_dir}   tracebacks: {log}   ({time.time() - t_start:.0f} s)")
    if not rows: print("docs_check: no notebooks found"); return 1
    if failed or step_errors:
        print(f"docs_check: FAIL ({len(failed)} page(s): {', '.join(failed) or '-'}; step errors: {', '.join(step_errors) or '-'})")
        return 1
    print(f"docs_check: OK ({len(rows)} pages)")
    return 0


if __name__ == '__main__':
    sys.exit(main())
