// The real parts the browser tests run against: a Jupyter server (Debian's
// jupyter_server with jupyterlab_server) serving the JupyterLab app built
// from npm with the panel, the datainsight server extension running the
// sidecar, an IPython kernel, and headless Chromium driven by
// playwright-core. Each run gets its own notebook folder, Jupyter folders,
// port and token.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import pw from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
export const frontend = path.resolve(here, '..');
export const repo = path.resolve(frontend, '..');

export const PYTHON = '/usr/bin/python3';
export const CHROMIUM = process.env.DATAINSIGHT_CHROMIUM || '/usr/bin/chromium';

/** Where screenshots go: $DATAINSIGHT_UI_OUT, else frontend/test-output/ui. */
export const OUT = path.resolve(process.env.DATAINSIGHT_UI_OUT || path.join(frontend, 'test-output', 'ui'));

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Fails, naming what to install, when a part is missing: never a skip. */
function requireParts(bin) {
  const missing = [];
  if (!bin || !fs.existsSync(bin)) {
    missing.push(`the datainsight binary (DATAINSIGHT_BIN=${bin || 'unset'}; hack/test-ui.sh builds it)`);
  }
  if (!fs.existsSync(CHROMIUM)) {
    missing.push(`${CHROMIUM} (apt-get install -y chromium)`);
  }
  if (!fs.existsSync(path.join(frontend, 'app', 'build', 'static', 'bundle.js'))) {
    missing.push('the JupyterLab app (hack/frontend/build.sh)');
  }
  if (missing.length) {
    throw new Error('the UI tests cannot run: missing ' + missing.join('; '));
  }
}

export async function sleep(ms) {
  await new Promise(r => setTimeout(r, ms));
}

/** A Jupyter server with the app and the datainsight extension, on a notebook folder of its own. */
export class Lab {
  /** Starts a server; extra files are copied into its notebook folder too. */
  static async start({ extra = [] } = {}) {
    const bin = process.env.DATAINSIGHT_BIN;
    requireParts(bin);
    const lab = new Lab();
    lab.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'datainsight-ui-'));
    lab.root = path.join(lab.dir, 'notebooks');
    fs.mkdirSync(lab.root);
    fs.copyFileSync(path.join(repo, 'examples', 'iris.ipynb'), path.join(lab.root, 'iris.ipynb'));
    for (const f of fs.readdirSync(path.join(here, 'fixtures'))) {
      fs.copyFileSync(path.join(here, 'fixtures', f), path.join(lab.root, f));
    }
    for (const f of extra) {
      fs.copyFileSync(f, path.join(lab.root, path.basename(f)));
    }
    lab.port = await freePort();
    lab.token = Math.random().toString(36).slice(2) + Math.random().toString(36).slice(2);
    lab.url = `http://127.0.0.1:${lab.port}`;
    const env = { ...process.env };
    for (const d of ['config', 'data', 'runtime', 'ipython', 'home']) {
      fs.mkdirSync(path.join(lab.dir, d));
    }
    Object.assign(env, {
      PYTHONPATH: [path.join(frontend, 'app'), path.join(repo, 'kernelgw', 'python')].join(':'),
      JUPYTER_CONFIG_DIR: path.join(lab.dir, 'config'),
      JUPYTER_DATA_DIR: path.join(lab.dir, 'data'),
      JUPYTER_RUNTIME_DIR: path.join(lab.dir, 'runtime'),
      JUPYTER_PLATFORM_DIRS: '1',
      IPYTHONDIR: path.join(lab.dir, 'ipython'),
      DATAINSIGHT_RUNTIME_DIR: path.join(lab.dir, 'runtime'),
      DATAINSIGHT_PYTHON: process.env.DATAINSIGHT_PYTHON || PYTHON,
      XDG_CONFIG_HOME: path.join(lab.dir, 'home')
    });
    delete env.JUPYTER_TOKEN;
    lab.logPath = path.join(lab.dir, 'server.log');
    const log = fs.openSync(lab.logPath, 'a');
    lab.proc = spawn(
      PYTHON,
      [
        '-c',
        'import datainsight_lab; datainsight_lab.main()',
        `--port=${lab.port}`,
        '--ip=127.0.0.1',
        '--no-browser',
        `--ServerApp.token=${lab.token}`,
        `--ServerApp.root_dir=${lab.root}`,
        '--ServerApp.allow_root=True',
        '--ServerApp.port_retries=0',
        `--DatainsightExtension.binary=${path.resolve(process.env.DATAINSIGHT_BIN)}`
      ],
      { env, cwd: lab.dir, stdio: ['ignore', log, log], detached: true }
    );
    lab.exited = new Promise(resolve => lab.proc.on('exit', (code, sig) => resolve(code ?? sig)));
    const deadline = Date.now() + 120_000;
    for (;;) {
      if (lab.proc.exitCode !== null) {
        throw new Error(`the Jupyter server exited with ${lab.proc.exitCode}:\n${lab.logTail()}`);
      }
      try {
        const st = await lab.get('/datainsight/status');
        if (st.running) {
          break;
        }
      } catch {
        // not up yet
      }
      if (Date.now() > deadline) {
        throw new Error(`the Jupyter server and its sidecar did not start in 2 minutes:\n${lab.logTail()}`);
      }
      await sleep(300);
    }
    return lab;
  }

  /** GET a JSON API of the server, with its token. */
  async get(p) {
    const res = await fetch(this.url + p, { headers: { Authorization: `token ${this.token}` } });
    if (!res.ok) {
      throw new Error(`GET ${p}: ${res.status}`);
    }
    return res.json();
  }

  /** The app's URL for a notebook, logged in by the token. */
  notebookUrl(name) {
    return `${this.url}/lab/tree/${encodeURIComponent(name)}?token=${this.token}`;
  }

  notebook(name) {
    return JSON.parse(fs.readFileSync(path.join(this.root, name), 'utf8'));
  }

  logTail(n = 60) {
    try {
      return fs.readFileSync(this.logPath, 'utf8').split('\n').slice(-n).join('\n');
    } catch {
      return '(no log)';
    }
  }

  /** Stops the server (its kernels and sidecar with it) and removes its folders. */
  async stop() {
    await this._stop();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  async _stop() {
    if (!this.proc || this.proc.exitCode !== null) {
      return;
    }
    // The server's process group: the server, its kernels, the sidecar.
    try {
      process.kill(-this.proc.pid, 'SIGTERM');
    } catch {
      return;
    }
    const done = await Promise.race([this.exited.then(() => true), sleep(15_000).then(() => false)]);
    if (!done) {
      try {
        process.kill(-this.proc.pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  }
}

/** Headless Chromium (Debian's) with a page on the lab. */
export async function browser() {
  return pw.chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync'
    ]
  });
}

let shots = 0;

/** Saves a screenshot of the page under OUT, numbered in the order taken. */
export async function screenshot(page, name) {
  fs.mkdirSync(OUT, { recursive: true });
  shots++;
  const file = path.join(OUT, `${String(shots).padStart(2, '0')}-${name}.png`);
  await page.screenshot({ path: file });
  return file;
}

/** Waits until the notebook's kernel is idle, as the status bar says. */
export async function kernelIdle(page, timeout = 60_000) {
  await page.waitForFunction(
    () =>
      [...document.querySelectorAll('#jp-main-statusbar .jp-StatusBar-TextItem')].some(e =>
        /\|\s*Idle$/.test((e.textContent || '').trim())
      ),
    null,
    { timeout }
  );
}

/** Drags the left sidebar's edge so the panel is `width` pixels wide (for readable screenshots). */
async function widenSidebar(page, width) {
  const handle = page.locator('#jp-main-split-panel > .lm-SplitPanel-handle').first();
  const box = await handle.boundingBox();
  if (!box) {
    return;
  }
  const y = box.y + box.height / 2;
  await page.mouse.move(box.x + box.width / 2, y);
  await page.mouse.down();
  await page.mouse.move(width + 33, y, { steps: 5 });
  await page.mouse.up();
}

/**
 * Opens a notebook and waits for the panel to draw its pipeline: the first
 * by loading the app at its URL, later ones inside the app (navigating
 * away from a notebook with changes would stop at JupyterLab's prompt).
 */
export async function openNotebook(page, lab, name) {
  if (!page.url().startsWith(lab.url)) {
    await page.goto(lab.notebookUrl(name));
    await page.waitForSelector('body[data-datainsight-lab="ready"]', { state: 'attached', timeout: 60_000 });
  } else {
    await command(page, 'docmanager:open', { path: name });
  }
  await page.waitForFunction(
    n => document.querySelector('#datainsight-panel .di-Header-name')?.textContent === n,
    name,
    { timeout: 60_000 }
  );
  await page.click('#datainsight-panel .di-Tab:has-text("Pipeline")');
  await page.waitForSelector('#datainsight-panel .di-DagNode', { timeout: 60_000 });
  if ((await page.locator('#datainsight-panel').boundingBox()).width < 360) {
    await widenSidebar(page, 380);
  }
  await kernelIdle(page);
}

/** Runs a command of the app (window.jupyterapp). */
export async function command(page, id, args = {}) {
  await page.evaluate(([id, args]) => window.jupyterapp.commands.execute(id, args).then(() => undefined), [id, args]);
}

/** Waits until the notebook file on disk satisfies ok (it is saved asynchronously). */
export async function fileSatisfies(lab, name, ok, timeout = 15_000) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      last = lab.notebook(name);
      if (ok(last)) {
        return last;
      }
    } catch {
      // being written
    }
    if (Date.now() > deadline) {
      throw new Error(`${name} on disk did not change as expected; it has tags ${JSON.stringify(last?.cells?.map(c => c.metadata?.tags))}`);
    }
    await sleep(200);
  }
}

/**
 * Runs code in the kernel of the open notebook `name` (as a request of its
 * own: no cell is added, nothing enters the history) and returns what it
 * printed; fails with the kernel's error if the code raised.
 */
export async function kernelExecute(page, name, code) {
  return page.evaluate(
    async ([name, code]) => {
      const nb = [...window.jupyterapp.shell.widgets('main')].find(w => w.context?.path === name);
      const kernel = nb?.sessionContext?.session?.kernel;
      if (!kernel) {
        throw new Error(`${name} has no kernel`);
      }
      const future = kernel.requestExecute({ code, store_history: false, allow_stdin: false });
      let out = '';
      let error = '';
      future.onIOPub = msg => {
        if (msg.header.msg_type === 'stream') {
          out += msg.content.text;
        } else if (msg.header.msg_type === 'error') {
          error = `${msg.content.ename}: ${msg.content.evalue}`;
        }
      };
      const reply = await future.done;
      if (error || reply.content.status !== 'ok') {
        throw new Error(`the kernel of ${name} raised ${error || reply.content.status} running:\n${code}`);
      }
      return out;
    },
    [name, code]
  );
}

/** The value of a Python expression in the notebook's kernel, through JSON (no name is left in the kernel). */
export async function kernelJSON(page, name, expr) {
  const out = await kernelExecute(page, name, `print(__import__("json").dumps(${expr}))`);
  try {
    return JSON.parse(out);
  } catch {
    throw new Error(`the kernel of ${name} printed no JSON for ${expr}:\n${out}`);
  }
}
