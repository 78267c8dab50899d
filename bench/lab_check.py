#!/usr/bin/env python
"""Run every notebook with Run All in JupyterLab, in a real browser, as a user would.

Starts JupyterLab on 127.0.0.1 (a free port, a random token, a scratch settings folder with autosave off so the
notebooks on disk are never rewritten), drives Debian's Chromium through Playwright (the Python package, launched
with `executable_path`; no browser download), and for each notebook: opens it in a fresh workspace, waits for the
kernel, clicks Run ▸ Run All Cells in the menu bar, waits until the kernel is idle and no cell is queued (a
per-notebook timeout), takes a screenshot, shuts the kernel down and closes the page without saving.

What fails a notebook:
  - an `error` output (a traceback: what JupyterLab shows for an exception, mime application/vnd.jupyter.error);
  - a code cell that did not run (Run All stops at the first error; a timeout leaves cells queued);
  - a stderr stream output (the red box JupyterLab shows for `application/vnd.jupyter.stderr`), unless it is a
    progress bar (tqdm-style `NN%|` or carriage-return updates): a reader takes red boxes for failures.
  Other stderr (warnings) can be let through with --allow-stderr; they are listed either way. One third-party
  notice at import (IMPORT_NOTICES: bitsandbytes on AVX512-BF16 CPUs without the optional `kernels` package) is dropped.
In 15_widgets it also changes one control (the image dropdown) of every ipywidgets explorer and checks that the
picture (the bytes of the explorer's <img>) changed and that the status line shows no error.

Slow cells are skipped by each notebook's RUN_SLOW flag (set PHYSIR_RUN_SLOW=1 to run them here too).
Screenshots: bench/out/lab/ (git-ignored). At the end `git status --porcelain` must show nothing new: notebooks run
in the browser may only write to git-ignored folders. Exit status: 0 all passed, 1 a notebook or check failed,
2 Chromium or Playwright is missing. `make lab-check` installs both.

Usage: .venv/bin/python bench/lab_check.py [--only GLOB ...] [--timeout S] [--allow-stderr] [--out DIR]
"""
import argparse, fnmatch, hashlib, json, os, re, secrets, shutil, signal, socket, subprocess, sys, tempfile, time, traceback
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
                  '--disable-background-networking', '--disable-component-update', '--disable-sync',
                  '--disable-dev-shm-usage']
PROGRESS = re.compile(r'\d+%\|')          # tqdm: " 40%|████      | 2/5"
# a third-party notice at import that is not physir's to fix: bitsandbytes (the `quant` extra) logs on CPUs with
# AVX512-BF16 that the optional Hugging Face `kernels` package is missing (its own CPU code runs instead)
IMPORT_NOTICES = re.compile(r'Failed to load CPU gemm_4bit_forward from kernels-community')
# JupyterLab settings for the check (a scratch user-settings folder, the user's own settings are not touched)
LAB_SETTINGS = {
    '@jupyterlab/docmanager-extension/plugin': {'autosave': False},          # never write the notebooks back
    '@jupyterlab/notebook-extension/tracker': {'windowingMode': 'none'},     # every cell in the DOM (widgets, screenshots)
    '@jupyterlab/apputils-extension/notification': {'fetchNews': 'false', 'checkForUpdates': False},  # offline
    '@jupyterlab/extensionmanager-extension/plugin': {'enabled': False},    # no PyPI queries
}

# State of the notebook in the current page: kernel status, queued/running cells, executed cells, outputs.
STATE_JS = """() => {
  const app = window.jupyterapp; if (!app) return null;
  const panel = app.shell.currentWidget;
  if (!panel || !panel.content || !panel.sessionContext) return null;
  const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
  const cells = panel.content.widgets.map((c, i) => ({c, i})).filter(({c}) => c.model.type === 'code');
  const busy = cells.filter(({c}) => {
    const p = c.node.querySelector('.jp-InputPrompt');
    return (p && p.textContent.includes('*')) || c.model.executionState === 'running';
  }).length;
  const outs = cells.map(({c, i}) => ({index: i, source: c.model.sharedModel.getSource().slice(0, 80),
    empty: c.model.sharedModel.getSource().trim() === '', count: c.model.executionCount,
    outputs: c.model.outputs.toJSON().map(o => ({type: o.output_type, name: o.name || null,
      text: Array.isArray(o.text) ? o.text.join('') : (o.text || ''), ename: o.ename || null, evalue: o.evalue || null,
      traceback: (o.traceback || []).join('\\n').replace(/\\u001b\\[[0-9;]*m/g, '').slice(-1500)}))}));
  return {ready: panel.context.isReady && panel.sessionContext.isReady, status: kernel ? kernel.status : 'none',
          connection: kernel ? kernel.connectionStatus : 'none', busy, cells: outs};
}"""


def shown(path: Path) -> str:
    "A path relative to the repo when it is inside it."
    path = Path(path).resolve()
    return str(path.relative_to(REPO)) if path.is_relative_to(REPO) else str(path)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0)); return s.getsockname()[1]


def start_server(port: int, token: str, scratch: Path, log: Path):
    settings = scratch/'settings'
    for plugin, value in LAB_SETTINGS.items():
        f = settings/f'{plugin}.jupyterlab-settings'
        f.parent.mkdir(parents=True, exist_ok=True); f.write_text(json.dumps(value))
    (scratch/'workspaces').mkdir(exist_ok=True)
    cmd = [sys.executable, '-m', 'jupyterlab', '--no-browser', '--ip=127.0.0.1', f'--port={port}',
           f'--IdentityProvider.token={token}', f'--ServerApp.root_dir={REPO}', '--LabApp.expose_app_in_browser=True',
           f'--LabApp.user_settings_dir={settings}', f'--LabApp.workspaces_dir={scratch/"workspaces"}',
           '--ServerApp.port_retries=0']
    if os.geteuid() == 0: cmd.append('--allow-root')      # JupyterLab refuses to run as root without it
    env = {**os.environ, 'JUPYTER_RUNTIME_DIR': str(scratch/'runtime'),
           # the kernels import this checkout's physir (as nbdev_test does from the repo root)
           'PYTHONPATH': os.pathsep.join([str(REPO)] + [p for p in [os.environ.get('PYTHONPATH')] if p])}
    proc = subprocess.Popen(cmd, stdout=open(log, 'w'), stderr=subprocess.STDOUT, env=env, start_new_session=True)
    url = f'http://127.0.0.1:{port}'
    for _ in range(240):
        if proc.poll() is not None: raise RuntimeError(f"JupyterLab exited with {proc.returncode}; see {log}")
        try:
            with urllib.request.urlopen(f'{url}/api/status?token={token}', timeout=5) as r:
                if r.status == 200: return proc, url
        except OSError: pass
        time.sleep(0.5)
    raise RuntimeError(f"JupyterLab did not answer on {url} within 120 s; see {log}")


def stop_server(proc):
    "SIGTERM to the server's process group (the server and the kernels it started), SIGKILL if it lingers."
    if proc is None or proc.poll() is not None: return
    try: os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError: return
    try: proc.wait(20)
    except subprocess.TimeoutExpired:
        try: os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError: pass
        proc.wait(10)


def classify(cells):
    "(errors, stderr, progress, not_run, executed, code cells) of a notebook state."
    errors, stderr, progress, not_run = [], [], [], []
    for c in cells:
        if c['empty']: continue
        if c['count'] is None: not_run.append(c['index'])
        for o in c['outputs']:
            if o['type'] == 'error':
                errors.append((c['index'], f"{o['ename']}: {o['evalue']}", o['traceback']))
            elif o['type'] == 'stream' and o['name'] == 'stderr':
                t = '\n'.join(l for l in o['text'].splitlines() if not IMPORT_NOTICES.search(l))
                if not t.strip(): continue
                (progress if PROGRESS.search(t) or '\r' in t else stderr).append((c['index'], t.strip()[:400]))
    code = [c for c in cells if not c['empty']]
    return errors, stderr, progress, not_run, len(code) - len(not_run), len(code)


def img_digest(page, explorer) -> str | None:
    "sha1 of the bytes behind the explorer's <img> (an ipywidgets Image shows a blob: URL)."
    return page.evaluate("""async (el) => {
      const img = el.querySelector('img'); if (!img || !img.src) return null;
      const buf = await (await fetch(img.src)).arrayBuffer();
      const h = await crypto.subtle.digest('SHA-1', buf);
      return Array.from(new Uint8Array(h)).map(b => b.toString(16).padStart(2, '0')).join('');
    }""", explorer.element_handle())


def exercise_widgets(page, out: Path, stem: str, timeout_s: float) -> tuple[list, list]:
    "Change the image dropdown of every explorer; the picture must change and the status line show no error."
    done, problems = [], []
    boxes = page.locator('.jp-OutputArea-output .widget-vbox:has(img):has(select)')
    n = boxes.count()
    if n == 0: problems.append('no ipywidgets explorer found in the outputs')
    for k in range(n):
        box = boxes.nth(k)
        box.scroll_into_view_if_needed()
        select = box.locator('select').first
        options = select.locator('option').all_inner_texts()
        label = box.locator('.widget-dropdown label, label').first.inner_text() if box.locator('label').count() else 'select'
        if len(options) < 2: problems.append(f'explorer {k}: its dropdown has {len(options)} option(s)'); continue
        before = img_digest(page, box)
        shot_before = out/f'{stem}_explorer{k}_before.png'; box.screenshot(path=str(shot_before))
        current = select.evaluate('s => s.selectedIndex')
        select.select_option(index=(current + 1) % len(options))
        status_line = lambda: box.locator('.widget-html').last.inner_html() if box.locator('.widget-html').count() else ''
        t0, after, status = time.time(), before, ''
        while time.time() - t0 < timeout_s:
            after, status = img_digest(page, box), status_line()
            if (after and after != before) or '#b00' in status: break     # redrawn, or the explorer shows an error
            page.wait_for_timeout(250)
        seconds = time.time() - t0
        page.wait_for_timeout(300)
        shot_after = out/f'{stem}_explorer{k}_after.png'; box.screenshot(path=str(shot_after))
        status = status_line()
        what = f"explorer {k}: {label.strip() or 'dropdown'} {options[current]!r} -> {options[(current + 1) % len(options)]!r}"
        if not before: problems.append(f'{what}: no picture before the change')
        elif '#b00' in status: problems.append(f'{what}: the status line shows an error: {re.sub("<[^>]+>", "", status)[:300]}')
        elif after == before: problems.append(f'{what}: the picture did not change within {timeout_s:.0f} s')
        else: done.append(f'{what}: picture changed in {seconds:.1f} s ({shot_before.name}, {shot_after.name})')
    return done, problems


def check_notebook(browser, url, token, nb: Path, out: Path, timeout_s: float, allow_stderr: bool, workspace: str) -> dict:
    rel = nb.relative_to(REPO).as_posix()
    res = dict(notebook=rel, problems=[], notes=[], widgets=[], screenshots=[], executed=0, code=0, seconds=0.)
    page = browser.new_page(viewport={'width': 1400, 'height': 1000})
    t0 = time.time()
    try:
        page.goto(f'{url}/lab/workspaces/{workspace}/tree/{rel}?token={token}', wait_until='domcontentloaded', timeout=120_000)
        page.wait_for_function(f'({STATE_JS})()?.ready && ({STATE_JS})().status === "idle"', timeout=180_000, polling=500)
        page.locator('.jp-Notebook').first.click(position={'x': 5, 'y': 5})
        page.locator('.lm-MenuBar-itemLabel', has_text=re.compile(r'^Run$')).click()
        page.locator('.lm-Menu-itemLabel', has_text=re.compile(r'^Run All Cells$')).click()
        page.wait_for_timeout(2000)
        quiet, state = 0, None
        while True:
            state = page.evaluate(STATE_JS)
            idle = state and state['status'] == 'idle' and state['busy'] == 0
            quiet = quiet + 1 if idle else 0
            if quiet >= 3: break
            if time.time() - t0 > timeout_s:
                res['problems'].append(f"timeout after {timeout_s:.0f} s: kernel {state and state['status']}, "
                                       f"{state and state['busy']} cell(s) queued or running"); break
            page.wait_for_timeout(1000)
        res['seconds'] = time.time() - t0
        errors, stderr, progress, not_run, res['executed'], res['code'] = classify(state['cells'] if state else [])
        for i, msg, tb in errors: res['problems'].append(f"cell {i}: error output {msg}\n{tb[-800:]}")
        for i, text in stderr:
            (res['notes'] if allow_stderr else res['problems']).append(f"cell {i}: stderr: {text}")
        if progress: res['notes'].append(f"{len(progress)} progress-bar stderr output(s) (allowed)")
        if not_run and not errors:
            res['problems'].append(f"{len(not_run)} code cell(s) did not run: {not_run[:10]}")
        first_bad = errors[0][0] if errors else (not_run[0] if not_run else None)
        if nb.stem == '15_widgets' and not res['problems']:
            res['widgets'], problems = exercise_widgets(page, out, nb.stem, timeout_s=120)
            res['problems'] += problems
        # the first failing cell if any, else the end of the notebook
        page.evaluate("""(i) => { const p = window.jupyterapp.shell.currentWidget; const cs = p.content.widgets;
                          const c = i === null ? cs[cs.length - 1] : cs[i]; c.node.scrollIntoView({block: i === null ? 'end' : 'start'}); }""",
                      first_bad)
        page.wait_for_timeout(500)
        shot = out/f'{nb.stem}.png'; page.screenshot(path=str(shot)); res['screenshots'].insert(0, shown(shot))
        res['screenshots'] += [shown(out/f) for w in res['widgets'] for f in re.findall(r'[\w.-]+\.png', w)]
    except Exception as e:
        res['problems'].append(f"check failed: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}")
        try: shot = out/f'{nb.stem}.png'; page.screenshot(path=str(shot)); res['screenshots'].append(shown(shot))
        except Exception: pass
    finally:
        try: page.evaluate("async () => { const p = window.jupyterapp.shell.currentWidget; if (p && p.sessionContext) await p.sessionContext.shutdown(); }")
        except Exception: pass
        page.close()          # no beforeunload prompt, nothing saved
        res['seconds'] = res['seconds'] or time.time() - t0
    return res


def git_status() -> set:
    r = subprocess.run(['git', 'status', '--porcelain', '--untracked-files=all'], cwd=REPO, capture_output=True, text=True)
    return set(r.stdout.splitlines()) if r.returncode == 0 else set()


def digests(nbs) -> dict:
    return {nb: hashlib.sha1(nb.read_bytes()).hexdigest() for nb in nbs}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--only', nargs='*', default=None, help='notebook name globs, e.g. "13_*" (default: all of nbs/)')
    p.add_argument('--timeout', type=float, default=1500, help='seconds per notebook (Run All to idle)')
    p.add_argument('--allow-stderr', action='store_true', help='list stderr outputs (warnings) instead of failing on them')
    p.add_argument('--out', default=str(REPO/'bench'/'out'/'lab'), help='screenshots and the server log')
    p.add_argument('--browser', default=os.environ.get('CHROMIUM', '/usr/bin/chromium'))
    args = p.parse_args()
    if not shutil.which(args.browser):
        print(f"lab_check: no Chromium at {args.browser}; install it (Debian/Ubuntu: apt-get install -y chromium)"); sys.exit(2)
    try: from playwright.sync_api import sync_playwright
    except ImportError: print("lab_check: the playwright package is missing: pip install 'playwright>=1.40'"); sys.exit(2)

    nbs = sorted(p for p in (REPO/'nbs').glob('*.ipynb')
                 if not args.only or any(fnmatch.fnmatch(p.name, Path(g).name) or fnmatch.fnmatch(p.stem, Path(g).name) for g in args.only))
    if not nbs: print(f"lab_check: no notebook in nbs/ matches --only {args.only}"); sys.exit(2)   # checking nothing is no pass
    out = Path(args.out); out.mkdir(parents=True, exist_ok=True)
    status_before, nb_before = git_status(), digests(nbs)
    token, port = secrets.token_hex(16), free_port()
    results, server, t_all = [], None, time.time()
    with tempfile.TemporaryDirectory(prefix='physir_lab_check_') as scratch:
        try:
            server, url = start_server(port, token, Path(scratch), out/'jupyterlab.log')
            print(f"JupyterLab {url} (pid {server.pid}); {len(nbs)} notebook(s), timeout {args.timeout:.0f} s each", flush=True)
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=args.browser, args=CHROMIUM_FLAGS)
                try:
                    for k, nb in enumerate(nbs):
                        r = check_notebook(browser, url, token, nb, out, args.timeout, args.allow_stderr, f'lab-check-{k}')
                        results.append(r)
                        print(f"{'OK  ' if not r['problems'] else 'FAIL'} {r['notebook']}: {r['executed']}/{r['code']} code cells "
                              f"ran in {r['seconds']:.0f} s" + (f", {len(r['widgets'])} widget interaction(s)" if r['widgets'] else ''),
                              flush=True)
                        for line in r['problems']: print('     ✗ ' + line.replace('\n', '\n       '))
                        for line in r['notes']: print('     · ' + line)
                        for line in r['widgets']: print('     ✓ ' + line)
                finally: browser.close()
        except Exception:
            traceback.print_exc()
            results.append(dict(notebook='<lab_check>', problems=['the check itself failed'], notes=[], widgets=[],
                                screenshots=[], executed=0, code=0, seconds=0))
        finally:
            stop_server(server)
    changed = sorted(git_status() - status_before)
    rewritten = [nb.name for nb, h in nb_before.items() if nb.exists() and hashlib.sha1(nb.read_bytes()).hexdigest() != h]
    failed = [r['notebook'] for r in results if r['problems']]
    print(f"\n== lab_check summary ({time.time() - t_all:.0f} s)")
    print(f"notebooks: {len(results) - len(failed)} passed, {len(failed)} failed" + (f" ({', '.join(failed)})" if failed else ''))
    print(f"code cells run: {sum(r['executed'] for r in results)} of {sum(r['code'] for r in results)}")
    print(f"widget interactions: {sum(len(r['widgets']) for r in results)} (picture changed each time)"
          if any(r['widgets'] for r in results) else "widget interactions: 0")
    print(f"screenshots: {shown(out)}/ ({sum(len(r['screenshots']) for r in results)} files)")
    for r in results:
        for s in r['screenshots']: print(f"  {s}")
    if rewritten: print(f"notebooks rewritten on disk during the check: {rewritten}")
    if changed: print("files the notebooks left in the repo (not git-ignored):\n  " + '\n  '.join(changed))
    else: print("git status: unchanged (nothing left outside git-ignored folders)")
    sys.exit(1 if failed or changed or rewritten else 0)


if __name__ == '__main__': main()
