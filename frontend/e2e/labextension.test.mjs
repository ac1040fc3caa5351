// The prebuilt extension, the way a user's JupyterLab 4 gets it: the
// datainsight Python package installed with pip into a prefix of its own
// puts the extension in share/jupyter/labextensions, and the app loads it
// from there as JupyterLab loads prebuilt extensions (a module federation
// container sharing the host's JupyterLab packages) instead of the panel
// from source. The panel then draws the notebook's pipeline and runs it.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { browser, Lab, openNotebook, OUT, PYTHON, repo, screenshot } from './harness.mjs';

const PANEL = '@datainsight/jupyterlab';

let prefix;
let lab;
let chromium;
let page;
const pageErrors = [];
const consoleErrors = [];
const panelFiles = [];

/** The folder under prefix holding PANEL's package.json (pip's scheme decides where share/ is). */
function findLabextensions(dir) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (!entry.isDirectory()) {
      continue;
    }
    if (entry.name === 'labextensions' && fs.existsSync(path.join(p, PANEL, 'package.json'))) {
      return p;
    }
    const found = findLabextensions(p);
    if (found) {
      return found;
    }
  }
  return undefined;
}

before(async () => {
  const built = path.join(repo, 'kernelgw', 'python', 'labextension', 'package.json');
  if (!fs.existsSync(built)) {
    throw new Error(`the prebuilt extension is not built (${built} is missing): run hack/frontend/build.sh`);
  }
  prefix = fs.mkdtempSync(path.join(os.tmpdir(), 'datainsight-pip-'));
  // pip builds in the source folder: install from a copy of it.
  const src = path.join(prefix, 'src');
  fs.cpSync(path.join(repo, 'kernelgw', 'python'), src, {
    recursive: true,
    filter: p => !p.includes('__pycache__') && !p.endsWith('.egg-info')
  });
  execFileSync(
    PYTHON,
    ['-m', 'pip', 'install', '--quiet', '--no-deps', '--no-index', '--no-build-isolation', '--prefix', path.join(prefix, 'install'), src],
    { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, PIP_DISABLE_PIP_VERSION_CHECK: '1', PIP_ROOT_USER_ACTION: 'ignore' } }
  );
  const labextensions = findLabextensions(path.join(prefix, 'install'));
  assert.ok(labextensions, `pip installed no ${PANEL} under share/jupyter/labextensions`);
  process.env.DATAINSIGHT_LAB_EXTENSIONS = labextensions;
  try {
    lab = await Lab.start();
  } finally {
    delete process.env.DATAINSIGHT_LAB_EXTENSIONS;
  }
  chromium = await browser();
  page = await chromium.newPage({ viewport: { width: 1500, height: 950 } });
  page.setDefaultTimeout(30_000);
  page.on('pageerror', e => pageErrors.push(e.message));
  page.on('console', m => m.type() === 'error' && consoleErrors.push(m.text()));
  page.on('response', r => {
    if (r.url().includes(`/lab/extensions/${PANEL}/`)) {
      panelFiles.push([new URL(r.url()).pathname, r.status()]);
    }
  });
});

after(async () => {
  await chromium?.close();
  await lab?.stop();
  if (prefix) {
    fs.rmSync(prefix, { recursive: true, force: true });
  }
  console.log(`UI test screenshots: ${OUT}`);
});

describe('the prebuilt extension, installed with pip', () => {
  it('loads in place of the source panel, draws the pipeline and runs it to Succeeded', async () => {
    try {
      await openNotebook(page, lab, 'iris.ipynb');
      assert.equal(await page.getAttribute('body', 'data-datainsight-panel'), 'prebuilt');
      // The page config lists it, and its remote entry came from the install.
      const listed = await page.evaluate(() => JSON.parse(document.getElementById('jupyter-config-data').textContent).federated_extensions);
      assert.deepEqual(listed.map(e => e.name), [PANEL]);
      const entry = panelFiles.find(([p]) => p.endsWith(listed[0].load));
      assert.ok(entry, `the remote entry ${listed[0].load} was not fetched: ${JSON.stringify(panelFiles)}`);
      assert.equal(entry[1], 200);
      // The plugins are the container's: its module registered the panel's commands.
      assert.equal(await page.evaluate(n => typeof window._JUPYTERLAB?.[n]?.get, PANEL), 'function');
      assert.ok(await page.evaluate(() => window.jupyterapp.commands.hasCommand('datainsight:open')));
      await page.locator('.jp-Cell .di-CellChip-step[data-step="split"]').waitFor();
      // Its style came with it: the cells' chips are laid out by the extension's CSS.
      const chip = await page.$eval('.jp-Cell .di-CellChip', el => [getComputedStyle(el).display, getComputedStyle(el).columnGap]);
      assert.deepEqual(chip, ['flex', '4px']);

      const steps = await page.$$eval('#datainsight-panel .di-DagNode', ns => ns.map(n => n.getAttribute('data-step')).sort());
      assert.deepEqual(steps, ['evaluate', 'features', 'load_data', 'split', 'train_forest', 'train_logreg']);
      await screenshot(page, 'prebuilt-pipeline');

      await page.click('#datainsight-panel .di-RunButton');
      await page.waitForSelector('#datainsight-panel .di-RunDetail[data-phase="Succeeded"]', { timeout: 180_000 });
      const phases = await page.$$eval('#datainsight-panel .di-Steps .di-Step', rows => rows.map(r => r.dataset.phase));
      assert.deepEqual(phases, Array(6).fill('Succeeded'));
      await page.waitForFunction(() => document.querySelectorAll('.jp-Cell.di-cell-succeeded').length === 6);
      await screenshot(page, 'prebuilt-run-succeeded');

      // Shared singletons resolved to the host's copies: webpack reports a
      // version it could not satisfy, or a second copy, as a console error.
      assert.deepEqual(pageErrors, []);
      assert.deepEqual(consoleErrors.filter(t => /datainsight|shared|singleton|version/i.test(t)), []);
    } catch (e) {
      await screenshot(page, 'FAILED-prebuilt').catch(() => undefined);
      console.log(`--- Jupyter server log (end) ---\n${lab?.logTail()}`);
      throw e;
    }
  });
});
