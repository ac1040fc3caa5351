// The panel's Run on the cluster, started by frontend/cluster_test.go
// (which starts the real Kubernetes + Argo test stack and gives the
// sidecar its kubeconfig and namespace): the namespace shown read-only in
// the settings, a run started on Argo from the panel followed live to
// Succeeded in the panel and the cells, and its definition, the Workflow;
// a step the cluster fails marked in its cell; a run held on the cluster
// cancelled from the panel. kwok stands in for the nodes: pods complete,
// fail or stay running by their labels (hack/stack/README.md), which the
// notebooks here set with label: tags.
// Not a *.test.mjs file: the UI tests (node --test e2e/) do not start it.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { browser, Lab, openNotebook, screenshot } from './harness.mjs';

/** A notebook of two steps, the first with these tags too. */
function twoSteps(firstTags) {
  const cell = (id, tags, source) => ({ cell_type: 'code', execution_count: null, id, metadata: { tags }, outputs: [], source });
  return JSON.stringify({
    cells: [cell('a', ['block:first', ...firstTags], ['x = 1']), cell('b', ['block:second'], ['print(x)'])],
    metadata: { kernelspec: { name: 'python3', display_name: 'Python 3', language: 'python' } },
    nbformat: 4,
    nbformat_minor: 5
  });
}

const ns = process.env.DATAINSIGHT_NAMESPACE;
let lab;
let chromium;
let page;

before(async () => {
  assert.ok(ns && process.env.KUBECONFIG, 'run by frontend/cluster_test.go, which sets KUBECONFIG and DATAINSIGHT_NAMESPACE');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'datainsight-cluster-ui-'));
  const extra = {
    'cluster-fails.ipynb': twoSteps(['label:datainsight.io/test-fail:true', 'annotation:datainsight.io/test-fail-message:the node ran out of disk']),
    'cluster-holds.ipynb': twoSteps(['label:datainsight.io/test-hold:true'])
  };
  for (const [name, body] of Object.entries(extra)) {
    fs.writeFileSync(path.join(dir, name), body);
  }
  try {
    lab = await Lab.start({ extra: Object.keys(extra).map(n => path.join(dir, n)) });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  chromium = await browser();
  page = await chromium.newPage({ viewport: { width: 1500, height: 950 } });
  page.setDefaultTimeout(30_000);
});

after(async () => {
  await chromium?.close();
  await lab?.stop();
});

describe('the panel on the cluster', () => {
  it('runs notebooks as Argo Workflows in the configured namespace: to Succeeded in the panel and the cells, a failed step marked, a held run cancelled', async () => {
    try {
      await openNotebook(page, lab, 'iris.ipynb');
      await page.click('#datainsight-panel .di-Settings summary');
      await page.waitForFunction(n => document.querySelector('#datainsight-panel .di-Namespace')?.dataset.namespace === n, ns);
      assert.match(await page.textContent('#datainsight-panel .di-Namespace'), new RegExp(`^Namespace: ${ns}\\b`));
      await page.click('#datainsight-panel .di-Settings summary');

      await page.selectOption('#di-backend', 'argo');
      await page.click('#datainsight-panel .di-RunButton');
      await page.waitForSelector('#datainsight-panel .di-RunDetail');
      await page.waitForSelector('#datainsight-panel .di-RunDetail[data-phase="Succeeded"]', { timeout: 180_000 });
      const phases = await page.$$eval('#datainsight-panel .di-Steps .di-Step', rows => rows.map(r => [r.dataset.step, r.dataset.phase]));
      assert.deepEqual(phases.map(([s]) => s).sort(), ['evaluate', 'features', 'load_data', 'split', 'train_forest', 'train_logreg']);
      for (const [step, phase] of phases) {
        assert.equal(phase, 'Succeeded', `step ${step}`);
      }
      await page.waitForFunction(() => document.querySelectorAll('.jp-Cell.di-cell-succeeded').length === 6);
      const item = page.locator('#datainsight-panel .di-RunList .di-RunItem').first();
      assert.match(await item.textContent(), /argo/);
      await screenshot(page, 'cluster-run-succeeded');

      // Its definition is the Workflow the cluster ran.
      await page.locator('#datainsight-panel .di-RunActions button:has-text("Definition")').click();
      const view = page.locator('.di-Definition');
      await view.waitFor();
      assert.equal(await view.getAttribute('data-kind'), 'Workflow');
      const yaml = await view.locator('.di-Definition-yaml').textContent();
      assert.match(yaml, /kind: Workflow/);
      assert.match(yaml, new RegExp(`namespace: ${ns}`));
      await screenshot(page, 'cluster-run-definition');
      await page.evaluate(() => {
        for (const w of window.jupyterapp.shell.widgets('main')) {
          if (w.id.startsWith('datainsight-definition-')) {
            w.close();
          }
        }
      });

      // A step the cluster fails: the run and the step Failed, the next
      // step never Succeeded, the step's cell marked failed.
      await openNotebook(page, lab, 'cluster-fails.ipynb');
      await page.selectOption('#di-backend', 'argo');
      await page.click('#datainsight-panel .di-RunButton');
      await page.waitForSelector('#datainsight-panel .di-RunDetail[data-phase="Failed"]', { timeout: 180_000 });
      assert.equal(await page.getAttribute('#datainsight-panel .di-Steps .di-Step[data-step="first"]', 'data-phase'), 'Failed');
      assert.notEqual(await page.getAttribute('#datainsight-panel .di-Steps .di-Step[data-step="second"]', 'data-phase'), 'Succeeded');
      await page.waitForSelector('.jp-Cell.di-cell-failed .di-CellChip-step[data-step="first"]');
      // The cluster's reason, which no log has, under the step.
      assert.match(await page.textContent('#datainsight-panel .di-Step[data-step="first"] .di-Step-message'), /the node ran out of disk/);
      await screenshot(page, 'cluster-step-failed');

      // A run held on the cluster, cancelled from the panel.
      await openNotebook(page, lab, 'cluster-holds.ipynb');
      await page.selectOption('#di-backend', 'argo');
      await page.click('#datainsight-panel .di-RunButton');
      await page.waitForSelector('#datainsight-panel .di-Steps .di-Step[data-step="first"][data-phase="Running"]', { timeout: 180_000 });
      await page.waitForSelector('.jp-Cell.di-cell-running');
      await page.click('#datainsight-panel .di-RunActions button:has-text("Cancel")');
      await page.waitForSelector('#datainsight-panel .di-RunDetail[data-phase="Cancelled"]', { timeout: 120_000 });
      assert.notEqual(await page.getAttribute('#datainsight-panel .di-Steps .di-Step[data-step="second"]', 'data-phase'), 'Succeeded');
      await screenshot(page, 'cluster-run-cancelled');
    } catch (e) {
      await screenshot(page, 'FAILED-cluster').catch(() => undefined);
      console.log(`--- Jupyter server log (end) ---\n${lab?.logTail()}`);
      throw e;
    }
  });
});
