// Browser tests of the panel against the real parts (harness.mjs): a notebook
// opened in JupyterLab, its pipeline drawn, a cell tagged with the keyboard
// and saved, a cell edited, local runs followed to their end, Check of the
// values in the notebook's kernel, a run's step inputs explored into the
// kernel (both asserted against what the kernel holds), a run cancelled, a
// failing step marked in its cell, the failed run retried, a run resubmitted
// and deleted, a notebook compiled, the metrics table, the dark theme, and
// the sidecar dying and coming back. Each stage leaves a screenshot in OUT.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, it } from 'node:test';

import { browser, command, fileSatisfies, kernelExecute, kernelIdle, kernelJSON, Lab, openNotebook, OUT, screenshot } from './harness.mjs';

let lab;
let chromium;
let page;
let failed = false;
const pageErrors = [];

/** A test that, when it fails, leaves a screenshot of where it stopped. */
function stage(name, fn) {
  it(name, async () => {
    try {
      await fn();
    } catch (e) {
      failed = true;
      const slug = name.replace(/[^a-z0-9]+/gi, '-').slice(0, 40);
      await screenshot(page, `FAILED-${slug}`).catch(() => undefined);
      throw e;
    }
  });
}

before(async () => {
  lab = await Lab.start();
  chromium = await browser();
  page = await chromium.newPage({ viewport: { width: 1500, height: 950 } });
  page.setDefaultTimeout(30_000);
  page.on('pageerror', e => pageErrors.push(e.message));
});

after(async () => {
  await chromium?.close();
  if (lab && failed) {
    console.log(`--- Jupyter server log (end) ---\n${lab.logTail()}`);
  }
  await lab?.stop();
  console.log(`UI test screenshots: ${OUT}`);
});

/** The steps the panel's graph shows. */
async function dagSteps() {
  return page.$$eval('#datainsight-panel .di-DagNode', ns => ns.map(n => n.getAttribute('data-step')).sort());
}

async function activeCellIndex() {
  return page.evaluate(() => window.jupyterapp.shell.currentWidget.content.activeCellIndex);
}

async function showTab(name) {
  await page.click(`#datainsight-panel .di-Tab:has-text("${name}")`);
}

/** The ids of the runs the panel lists. */
async function runIds() {
  return page.$$eval('#datainsight-panel .di-RunList .di-RunItem', bs => bs.map(b => b.dataset.run));
}

/** A button of the selected run's actions. */
function runAction(name) {
  return page.locator(`#datainsight-panel .di-RunActions button:has-text("${name}")`);
}

/** Takes the panel's message away, so that the next one cannot be mistaken for it. */
async function dismissNotice() {
  const button = page.locator('#datainsight-panel .di-Notice button[aria-label="Dismiss the message"]');
  if (await button.count()) {
    await button.click();
  }
  await page.waitForSelector('#datainsight-panel .di-Notice', { state: 'detached' });
}

/** The panel's message once it matches re: its text, whether it is shown as an error, its role. */
async function noticeMatching(re) {
  await page.waitForFunction(
    ([src, flags]) => new RegExp(src, flags).test(document.querySelector('#datainsight-panel .di-Notice span')?.textContent || ''),
    [re.source, re.flags]
  );
  const notice = page.locator('#datainsight-panel .di-Notice');
  return {
    text: await notice.locator('span').textContent(),
    error: (await notice.getAttribute('class')).split(' ').includes('di-mod-error'),
    role: await notice.getAttribute('role')
  };
}

/** Runs every cell of the notebook in focus in its kernel, and waits until the kernel is done. */
async function runAllCells() {
  await command(page, 'notebook:run-all-cells');
  await kernelIdle(page);
}

async function clickCheck() {
  await showTab('Pipeline');
  await dismissNotice();
  await page.click('#datainsight-panel .di-RunBar button:has-text("Check")');
  return noticeMatching(/^Check/);
}

/** The values iris.ipynb's steps output (datainsight analyze), which Check looks for in the kernel. */
const IRIS_OUTS = ['df', 'features', 'forest', 'forest_accuracy', 'labels', 'logreg', 'logreg_accuracy', 'x_test', 'x_train', 'y_test', 'y_train'];

describe('the Datainsight panel', () => {
  stage('opens with the notebook and draws its pipeline', async () => {
    await openNotebook(page, lab, 'iris.ipynb');
    assert.deepEqual(await dagSteps(), ['evaluate', 'features', 'load_data', 'split', 'train_forest', 'train_logreg']);
    // Data edges carry the names that flow.
    const edge = page.locator('.di-DagEdge[data-from="load_data"][data-to="features"]');
    assert.equal(await edge.getAttribute('data-kind'), 'data');
    assert.equal((await edge.locator('.di-DagEdge-label').textContent()).trim(), 'df');
    // Each code cell of a step has its chip, in the step's colour.
    const chip = page.locator('.jp-Cell .di-CellChip-step[data-step="split"]');
    await chip.waitFor();
    assert.match(await page.locator('.jp-Cell:has(.di-CellChip-step[data-step="split"]) .di-CellChip-reads').textContent(), /features ← features/);
    assert.equal(await page.locator('#datainsight-panel .di-Connection').count(), 0);
    // Every step a colour of its own (two of iris's names hash to the same
    // one), and each cell's chip in its step's colour.
    const colours = await page.$$eval('#datainsight-panel .di-DagNode', ns =>
      Object.fromEntries(ns.map(n => [n.getAttribute('data-step'), n.style.getPropertyValue('--di-step-color')]))
    );
    assert.equal(new Set(Object.values(colours)).size, 6, JSON.stringify(colours));
    const chipColour = await page.$eval('.jp-Cell .di-CellChip-step[data-step="split"]', n => n.style.getPropertyValue('--di-step-color'));
    assert.equal(chipColour, colours.split);
    await screenshot(page, 'pipeline');
  });

  stage('tags a cell with the keyboard alone; a rename reaches prev:, and the saved file has the tags as Kale writes them', async () => {
    // The notebook has the focus; j moves down in command mode, to load_data's cell.
    await command(page, 'notebook:enter-command-mode');
    await page.keyboard.press('Escape');
    while ((await activeCellIndex()) < 3) {
      await page.keyboard.press('j');
    }
    assert.equal(await activeCellIndex(), 3);
    await page.keyboard.press('Alt+Shift+T');
    await page.waitForFunction(() => document.activeElement?.classList.contains('di-TagEditor-role'));
    await page.keyboard.press('Tab');
    await page.waitForFunction(() => document.activeElement?.classList.contains('di-TagEditor-name'));
    await page.keyboard.press('Control+A');
    await page.keyboard.type('read_data');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#datainsight-panel .di-DagNode[data-step="read_data"]');
    assert.deepEqual(await dagSteps(), ['evaluate', 'features', 'read_data', 'split', 'train_forest', 'train_logreg']);
    // A name Kale would refuse is refused, with the reason, and nothing is written.
    await page.keyboard.press('Control+A');
    await page.keyboard.type('Bad-Name');
    await page.keyboard.press('Enter');
    await page.waitForSelector('.di-TagEditor .di-FieldError');
    assert.match(await page.locator('.di-TagEditor .di-FieldError').textContent(), /lowercase/);
    await page.keyboard.press('Escape');
    // A GPU, typed into its field.
    while (!(await page.evaluate(() => document.activeElement?.id?.endsWith('-gpu')))) {
      await page.keyboard.press('Tab');
    }
    await page.keyboard.type('1');
    await page.keyboard.press('Enter');
    await page.waitForSelector('.jp-Cell .di-CellChip-badge.di-mod-gpu');
    await screenshot(page, 'tagged-with-keyboard');
    await page.keyboard.press('Control+S');
    const nb = await fileSatisfies(lab, 'iris.ipynb', d => (d.cells[3].metadata.tags || []).includes('limit:nvidia.com/gpu:1'));
    assert.deepEqual(nb.cells[3].metadata.tags, ['block:read_data', 'limit:nvidia.com/gpu:1']);
    // features named load_data in a prev: tag: the rename changed it too.
    assert.deepEqual(nb.cells[4].metadata.tags, ['block:features', 'prev:read_data']);
    assert.deepEqual(nb.cells[1].metadata.tags, ['imports']);
  });

  stage('redraws the pipeline as a cell is edited', async () => {
    // train_forest starts reading df (last changed by features): a new edge, labelled df.
    await command(page, 'notebook:enter-command-mode');
    while ((await activeCellIndex()) < 6) {
      await page.keyboard.press('j');
    }
    await page.keyboard.press('Enter');
    await page.keyboard.press('Control+End');
    await page.keyboard.press('Enter');
    await page.keyboard.type('rows = len(df)');
    const edge = '.di-DagEdge[data-from="features"][data-to="train_forest"]';
    await page.waitForSelector(edge);
    assert.equal((await page.locator(`${edge} .di-DagEdge-label`).textContent()).trim(), 'df');
    await screenshot(page, 'pipeline-after-edit');
    // Taking the line out takes the edge out.
    await page.keyboard.press('Shift+Home');
    await page.keyboard.press('Backspace');
    await page.keyboard.press('Backspace');
    await page.waitForSelector(edge, { state: 'detached' });
    await page.keyboard.press('Escape');
  });

  stage('runs the notebook locally and every step reaches Succeeded, in the panel and in the cells', async () => {
    await page.click('#datainsight-panel .di-RunButton');
    await page.waitForSelector('#datainsight-panel .di-RunDetail');
    await page.waitForSelector('#datainsight-panel .di-RunDetail[data-phase="Succeeded"]', { timeout: 180_000 });
    const phases = await page.$$eval('#datainsight-panel .di-Steps .di-Step', rows => rows.map(r => [r.dataset.step, r.dataset.phase]));
    assert.equal(phases.length, 6);
    for (const [step, phase] of phases) {
      assert.equal(phase, 'Succeeded', `step ${step}`);
    }
    // The cells of every step show it.
    await page.waitForFunction(() => document.querySelectorAll('.jp-Cell.di-cell-succeeded').length === 6);
    assert.equal(await page.locator('.jp-Cell .di-CellChip-state.di-state-succeeded').count(), 6);
    await screenshot(page, 'run-succeeded');
    await showTab('Pipeline');
    await page.waitForFunction(() => document.querySelectorAll('#datainsight-panel .di-DagNode.di-state-succeeded').length === 6);
    await screenshot(page, 'run-succeeded-graph');
  });

  stage('shows the namespace in the settings, and a run\'s definition from the keyboard', async () => {
    // No kubeconfig here: the settings say why there is no namespace.
    await page.click('#datainsight-panel .di-Settings summary');
    const ns = page.locator('#datainsight-panel .di-Settings .di-Namespace');
    await page.waitForFunction(() => /^Namespace: none \(/.test(document.querySelector('#datainsight-panel .di-Namespace')?.textContent || ''));
    assert.match(await ns.textContent(), /^Namespace: none \(.*no cluster configuration.*\)$/);
    await ns.scrollIntoViewIfNeeded();
    await screenshot(page, 'settings-namespace');
    // The marshal volume's settings, typed and chosen, reach the file as
    // DESIGN's keys; an existing claim hides the new volume's fields; and
    // clearing them all removes the object.
    const marshalOnDisk = async ok => (await fileSatisfies(lab, 'iris.ipynb', d => ok(d.metadata.datainsight?.marshal))).metadata.datainsight?.marshal;
    await page.fill('#di-setting-marshal-size', '2Gi');
    await page.press('#di-setting-marshal-size', 'Enter');
    await page.selectOption('#di-setting-marshal-access-mode', 'ReadWriteMany');
    await command(page, 'docmanager:save');
    assert.deepEqual(await marshalOnDisk(m => m?.access_mode === 'ReadWriteMany'), { size: '2Gi', access_mode: 'ReadWriteMany' });
    await page.fill('#di-setting-marshal-pvc', 'shared-data');
    await page.press('#di-setting-marshal-pvc', 'Enter');
    await page.locator('#di-setting-marshal-size').waitFor({ state: 'detached' });
    assert.equal(await page.locator('#di-setting-marshal-access-mode').count(), 0);
    await screenshot(page, 'settings-marshal-claim');
    await page.fill('#di-setting-marshal-pvc', '');
    await page.press('#di-setting-marshal-pvc', 'Enter');
    await page.fill('#di-setting-marshal-size', '');
    await page.press('#di-setting-marshal-size', 'Enter');
    await page.selectOption('#di-setting-marshal-access-mode', '');
    await command(page, 'docmanager:save');
    assert.equal(await marshalOnDisk(m => m === undefined), undefined);
    await page.click('#datainsight-panel .di-Settings summary');
    await showTab('Runs');
    const steps = await page.$$eval('#datainsight-panel .di-Steps .di-Step', rows => rows.map(r => r.dataset.step));
    assert.equal(steps.length, 6);
    const button = page.locator('#datainsight-panel .di-RunActions button:has-text("Definition")');
    await button.focus();
    await page.keyboard.press('Enter');
    const view = page.locator('.di-Definition');
    await view.waitFor();
    assert.equal(await view.getAttribute('data-kind'), 'Pipeline');
    assert.match(await view.locator('.di-Definition-kind').textContent(), /^Pipeline of run /);
    const yaml = await view.locator('.di-Definition-yaml').textContent();
    for (const step of steps) {
      assert.ok(yaml.includes(step), `step ${step} in the definition:\n${yaml}`);
    }
    // The YAML has the focus; Tab-reachable Download button beside it.
    await page.waitForFunction(() => document.activeElement?.classList.contains('di-Definition-yaml'));
    await page.keyboard.press('Shift+Tab');
    await page.waitForFunction(() => document.activeElement?.classList.contains('di-Definition-download'));
    const [file] = await Promise.all([page.waitForEvent('download'), page.keyboard.press('Enter')]);
    assert.match(file.suggestedFilename(), /\.pipeline\.yaml$/);
    await screenshot(page, 'run-definition');
    await page.evaluate(() => {
      for (const w of window.jupyterapp.shell.widgets('main')) {
        if (w.id.startsWith('datainsight-definition-')) {
          w.close();
        }
      }
    });
    await view.waitFor({ state: 'detached' });
  });

  stage('shows a step\'s logs and its report', async () => {
    await showTab('Runs');
    await page.click('button[aria-label="Logs of step split"]');
    await page.waitForFunction(() => /training rows/.test(document.querySelector('.di-LogText')?.textContent || ''));
    await page.click('button[aria-label="Report of step split"]');
    const report = page.locator('.di-Report');
    await report.waitFor();
    await page.waitForFunction(() => /105 training rows/.test(document.querySelector('.di-Report')?.textContent || ''));
    assert.equal(await report.locator('.di-ReportCell-source', { hasText: 'train_test_split(' }).count(), 1);
    await screenshot(page, 'logs-and-report');
  });

  stage('puts the run\'s pipeline metrics in a table', async () => {
    await showTab('Runs');
    const table = page.locator('#datainsight-panel table.di-Metrics');
    await table.waitFor();
    const rows = await table.locator('tbody tr').evaluateAll(trs =>
      trs.map(tr => [tr.querySelector('th').textContent, [...tr.querySelectorAll('td')].map(td => td.textContent)])
    );
    const names = rows.map(([k]) => k);
    assert.ok(names.some(k => /forest.accuracy/.test(k)) && names.some(k => /logreg.accuracy/.test(k)), `metrics ${names}`);
    for (const [k, values] of rows) {
      const v = Number(values[0]);
      assert.ok(v > 0 && v <= 1, `metric ${k} = ${values[0]}`);
    }
    await table.scrollIntoViewIfNeeded();
    await screenshot(page, 'metrics');
  });

  stage('checks the values in the kernel: none there before the cells ran, then all 11 outputs can be passed between steps', async () => {
    const nb = 'iris.ipynb';
    await command(page, 'docmanager:open', { path: nb });
    const inKernel = `sorted(n for n in ${JSON.stringify(IRIS_OUTS)} if n in globals())`;
    assert.deepEqual(await kernelJSON(page, nb, inKernel), [], 'the kernel is fresh: no cell has run');
    let notice = await clickCheck();
    const fresh = notice.text.match(/^Check: all 0 output value\(s\) in the kernel can be passed between steps; not in the kernel yet \(their cells have not run\): (.*)$/);
    assert.ok(fresh, notice.text);
    assert.deepEqual(fresh[1].split(', ').sort(), IRIS_OUTS);
    assert.equal(notice.error, false);
    await runAllCells();
    assert.deepEqual(await kernelJSON(page, nb, inKernel), IRIS_OUTS, 'every step\'s cells ran in the kernel');
    notice = await clickCheck();
    assert.equal(notice.text, `Check: all ${IRIS_OUTS.length} output value(s) in the kernel can be passed between steps.`);
    assert.equal(notice.error, false);
    assert.equal(notice.role, 'status');
    await screenshot(page, 'check-all-passable');
  });

  stage('explores steps of the local run: their inputs, as the run saved them, and their parameters are bound in the kernel', async () => {
    const nb = 'iris.ipynb';
    // What the kernel computed itself when its cells ran (the run computed the same: same data, same seed).
    const splits = `{n: [list(v.shape), str(int(__import__("pandas").util.hash_pandas_object(v).sum()))] for n, v in (("x_train", x_train), ("x_test", x_test), ("y_train", y_train), ("y_test", y_test))}`;
    const mine = await kernelJSON(page, nb, splits);
    assert.deepEqual(mine.x_train[0], [105, 5]);
    assert.deepEqual(mine.y_test[0], [45]);
    assert.deepEqual(await kernelJSON(page, nb, '[list(df.shape), "petal_ratio" in df.columns]'), [[150, 6], true]);
    // Taken away or changed, so that only Explore can bring them back.
    await kernelExecute(page, nb, 'del df, x_train, x_test, y_train, y_test\nN_ESTIMATORS = SEED = TEST_SIZE = 0');
    await showTab('Runs');
    await page.waitForSelector('#datainsight-panel .di-RunDetail[data-phase="Succeeded"]');
    const explore = step => page.locator(`#datainsight-panel button[aria-label="Explore step ${step}: load its inputs into the kernel"]`);

    // features reads df as read_data saved it: before features added its column.
    await dismissNotice();
    await explore('features').click();
    let notice = await noticeMatching(/^Explore features/);
    assert.equal(notice.text, 'Explore features: bound df (pandas.core.frame.DataFrame) in the kernel.');
    assert.equal(notice.error, false);
    const state = `{"others": sorted(n for n in ("x_train", "x_test", "y_train", "y_test") if n in globals()), "params": [N_ESTIMATORS, SEED, TEST_SIZE]}`;
    assert.deepEqual(
      await kernelJSON(page, nb, `{"df": [list(df.shape), "petal_ratio" in df.columns, bool(df.equals(iris.frame.rename(columns=lambda c: c.replace(" (cm)", "").replace(" ", "_"))))], **${state}}`),
      { df: [[150, 5], false, true], others: [], params: [0, 0, 0] }
    );
    await screenshot(page, 'explore-features');

    // train_forest, from the keyboard: split's four values and its two parameters, not TEST_SIZE.
    await dismissNotice();
    await explore('train_forest').focus();
    await page.keyboard.press('Enter');
    notice = await noticeMatching(/^Explore train_forest/);
    const bound = notice.text.match(/^Explore train_forest: bound (.*) in the kernel\.$/);
    assert.ok(bound, notice.text);
    assert.deepEqual(bound[1].split(', ').sort(), [
      'N_ESTIMATORS (int)',
      'SEED (int)',
      'x_test (pandas.core.frame.DataFrame)',
      'x_train (pandas.core.frame.DataFrame)',
      'y_test (pandas.core.series.Series)',
      'y_train (pandas.core.series.Series)'
    ]);
    assert.equal(notice.error, false);
    assert.deepEqual(await kernelJSON(page, nb, splits), mine, 'the run\'s splits equal the kernel\'s own');
    assert.deepEqual((await kernelJSON(page, nb, state)).params, [50, 7, 0]);
    await screenshot(page, 'explore-train-forest');
  });

  stage('check names the values the kernel holds that cannot be passed on, with their steps; without a kernel it says to start one', async () => {
    const nb = 'unsavable.ipynb';
    await openNotebook(page, lab, nb);
    await page.evaluate(name => [...window.jupyterapp.shell.widgets('main')].find(w => w.context?.path === name).sessionContext.shutdown(), nb);
    await page.waitForFunction(name => ![...window.jupyterapp.shell.widgets('main')].find(w => w.context?.path === name).sessionContext.session, nb);
    let notice = await clickCheck();
    assert.equal(notice.text, 'Check looks into the notebook\'s kernel: start the kernel and run the cells first.');
    assert.equal(notice.error, true);
    assert.equal(notice.role, 'alert');
    await screenshot(page, 'check-no-kernel');
    await page.evaluate(name => [...window.jupyterapp.shell.widgets('main')].find(w => w.context?.path === name).sessionContext.changeKernel({ name: 'python3' }), nb);
    await page.waitForFunction(name => [...window.jupyterapp.shell.widgets('main')].find(w => w.context?.path === name).sessionContext.session?.kernel?.status === 'idle', nb, { timeout: 60_000 });
    await runAllCells();
    // What the kernel holds: squares only it knows to be a generator (the analysis sees a call).
    assert.deepEqual(await kernelJSON(page, nb, '[type(squares).__name__, type(log).__module__ + "." + type(log).__qualname__, count, total]'), ['generator', '_io.TextIOWrapper', 4, 14]);
    notice = await clickCheck();
    assert.match(notice.text, /^Check: 2 value\(s\) cannot be passed between steps: /);
    assert.ok(notice.text.includes('squares (generator, step produce): generators cannot be pickled'), notice.text);
    assert.ok(notice.text.includes('log (_io.TextIOWrapper, step produce): open files cannot be passed between steps'), notice.text);
    assert.doesNotMatch(notice.text, /\bcount\b/);
    assert.equal(notice.error, true);
    assert.equal(notice.role, 'alert');
    await screenshot(page, 'check-unsavable');
  });

  stage('cancels a run', async () => {
    await openNotebook(page, lab, 'slow.ipynb');
    await page.click('#datainsight-panel .di-RunButton');
    await page.waitForSelector('#datainsight-panel .di-Steps .di-Step[data-step="wait"][data-phase="Running"]', { timeout: 120_000 });
    await page.waitForSelector('.jp-Cell.di-cell-running');
    await screenshot(page, 'run-going');
    await page.click('#datainsight-panel .di-RunActions button:has-text("Cancel")');
    await page.waitForSelector('#datainsight-panel .di-RunDetail[data-phase="Cancelled"]', { timeout: 60_000 });
    assert.notEqual(await page.getAttribute('#datainsight-panel .di-Steps .di-Step[data-step="wait"]', 'data-phase'), 'Succeeded');
    await screenshot(page, 'run-cancelled');
  });

  stage('marks the cell where a step failed, with the line', async () => {
    await openNotebook(page, lab, 'fails.ipynb');
    await page.click('#datainsight-panel .di-RunButton');
    await page.waitForSelector('#datainsight-panel .di-RunDetail[data-phase="Failed"]', { timeout: 120_000 });
    assert.equal(await page.getAttribute('#datainsight-panel .di-Steps .di-Step[data-step="prepare"]', 'data-phase'), 'Succeeded');
    assert.equal(await page.getAttribute('#datainsight-panel .di-Steps .di-Step[data-step="divide"]', 'data-phase'), 'Failed');
    const failure = page.locator('.jp-Cell.di-cell-failing .di-CellChip-failure');
    await failure.waitFor();
    const text = await failure.locator('.di-CellChip-failureHead').textContent();
    assert.match(text, /Step divide failed here at line 2: ZeroDivisionError/);
    // One click from the runs view to the cell.
    await command(page, 'notebook:enter-command-mode');
    await page.keyboard.press('k');
    await page.click('button[aria-label="Show where step divide failed"]');
    await page.waitForFunction(() => window.jupyterapp.shell.currentWidget.content.activeCellIndex === 2);
    await page.waitForSelector('.jp-Cell.di-cell-failing .cm-line.di-failing-line');
    assert.match(await page.locator('.jp-Cell.di-cell-failing .cm-line.di-failing-line').textContent(), /x \/ 0/);
    await screenshot(page, 'failed-step-marked');
  });

  stage('retries the failed run in place: the failed step runs again, the one that succeeded does not', async () => {
    const ids = await runIds();
    const id = await page.getAttribute('#datainsight-panel .di-RunDetail', 'data-run');
    assert.equal(await runAction('Retry failed').isEnabled(), true);
    // Every phase the run shows from here on, so a retry that never left Failed is caught.
    await page.evaluate(() => {
      window.__diPhases = [];
      const seen = () => window.__diPhases.push(document.querySelector('#datainsight-panel .di-RunDetail')?.dataset.phase);
      window.__diPhaseObserver = new MutationObserver(seen);
      window.__diPhaseObserver.observe(document.querySelector('#datainsight-panel'), { subtree: true, childList: true, attributes: true, attributeFilter: ['data-phase'] });
    });
    await runAction('Retry failed').focus();
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => window.__diPhases.some(p => p && p !== 'Failed'));
    await page.waitForSelector(`#datainsight-panel .di-RunDetail[data-run="${id}"][data-phase="Failed"]`, { timeout: 120_000 });
    const phases = await page.evaluate(() => {
      window.__diPhaseObserver.disconnect();
      return window.__diPhases;
    });
    assert.ok(phases.some(p => p === 'Pending' || p === 'Running'), `phases seen: ${phases}`);
    // The same run, attempted again: no new run in the list.
    assert.deepEqual(await runIds(), ids);
    assert.equal(await page.getAttribute('#datainsight-panel .di-Steps .di-Step[data-step="prepare"]', 'data-phase'), 'Succeeded');
    assert.equal(await page.getAttribute('#datainsight-panel .di-Steps .di-Step[data-step="divide"]', 'data-phase'), 'Failed');
    await page.waitForSelector('.jp-Cell.di-cell-failing .di-CellChip-failure');
    await screenshot(page, 'run-retried');
  });

  stage('resubmits a finished run as a new one, and deletes that one', async () => {
    const before = await runIds();
    const old = await page.getAttribute('#datainsight-panel .di-RunDetail', 'data-run');
    await runAction('Resubmit').click();
    // A new run, selected, at the end of which the list has one more.
    await page.waitForFunction(
      ([old, n]) => {
        const d = document.querySelector('#datainsight-panel .di-RunDetail');
        return d && d.dataset.run !== old && document.querySelectorAll('#datainsight-panel .di-RunList .di-RunItem').length === n + 1;
      },
      [old, before.length]
    );
    const id = await page.getAttribute('#datainsight-panel .di-RunDetail', 'data-run');
    assert.ok(!before.includes(id), `resubmitted run ${id} is new`);
    assert.deepEqual((await runIds()).filter(r => r !== id).sort(), [...before].sort());
    assert.equal(await page.getAttribute(`#datainsight-panel .di-RunItem[data-run="${id}"]`, 'aria-pressed'), 'true');
    await page.waitForSelector(`#datainsight-panel .di-RunDetail[data-run="${id}"][data-phase="Failed"]`, { timeout: 120_000 });
    assert.equal(await page.getAttribute('#datainsight-panel .di-Steps .di-Step[data-step="divide"]', 'data-phase'), 'Failed');
    await screenshot(page, 'run-resubmitted');
    // Delete asks first; the answer is yes.
    const asked = [];
    const answer = d => {
      asked.push(d.message());
      void d.accept();
    };
    page.on('dialog', answer);
    try {
      await runAction('Delete').click();
      await page.waitForSelector(`#datainsight-panel .di-RunItem[data-run="${id}"]`, { state: 'detached' });
    } finally {
      page.off('dialog', answer);
    }
    assert.deepEqual(asked, [`Delete run ${id} and its records?`]);
    assert.equal(await page.locator(`#datainsight-panel .di-RunDetail[data-run="${id}"]`).count(), 0);
    // Gone from the records too, not only from the list: a refresh reads them again.
    await page.click('#datainsight-panel #di-runs-title .di-LinkButton');
    await page.waitForSelector('#datainsight-panel #di-runs-title .di-LinkButton:has-text("refresh")');
    await page.waitForFunction(n => document.querySelectorAll('#datainsight-panel .di-RunList .di-RunItem').length === n, before.length);
    assert.deepEqual((await runIds()).sort(), [...before].sort());
    assert.ok(!(await runIds()).includes(id));
    await screenshot(page, 'run-deleted');
  });

  stage('compiles the notebook: the downloaded workflow names its steps', async () => {
    await showTab('Pipeline');
    const button = page.locator('#datainsight-panel .di-RunBar button:has-text("Compile")');
    const [file] = await Promise.all([page.waitForEvent('download'), button.click()]);
    assert.equal(file.suggestedFilename(), 'fails.workflow.yaml');
    const yaml = fs.readFileSync(await file.path(), 'utf8');
    assert.match(yaml, /^kind: Workflow$/m);
    for (const step of ['prepare', 'divide']) {
      assert.match(yaml, new RegExp(`name: ${step}\\b`), `step ${step} in the workflow:\n${yaml}`);
    }
    await page.waitForFunction(() => /Compiled: fails\.workflow\.yaml downloaded/.test(document.querySelector('#datainsight-panel')?.textContent || ''));
    await screenshot(page, 'compiled');
  });

  stage('follows the dark theme', async () => {
    await command(page, 'apputils:change-theme', { theme: 'JupyterLab Dark' });
    await page.waitForSelector('body[data-jp-theme-light="false"]', { state: 'attached' });
    await showTab('Pipeline');
    const luminance = await page.evaluate(() => {
      const c = getComputedStyle(document.querySelector('#datainsight-panel')).backgroundColor;
      const [r, g, b] = c.match(/\d+/g).map(Number);
      return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255;
    });
    assert.ok(luminance < 0.3, `panel background luminance ${luminance} in the dark theme`);
    await screenshot(page, 'dark-theme');
    await command(page, 'apputils:change-theme', { theme: 'JupyterLab Light' });
    await page.waitForSelector('body[data-jp-theme-light="true"]', { state: 'attached' });
  });

  stage('says when the sidecar is unreachable, and recovers by itself', async () => {
    const before = await lab.get('/datainsight/status');
    assert.equal(before.running, true);
    process.kill(before.pid, 'SIGKILL');
    await page.waitForSelector('#datainsight-panel .di-Connection', { timeout: 20_000 });
    await screenshot(page, 'sidecar-unreachable');
    await page.waitForSelector('#datainsight-panel .di-Connection', { state: 'detached', timeout: 90_000 });
    const now = await lab.get('/datainsight/status');
    assert.notEqual(now.pid, before.pid);
    // The panel works again: an edit is analysed.
    await command(page, 'notebook:enter-command-mode');
    await page.keyboard.press('Escape');
    await page.keyboard.press('b'); // a new cell below: the notebook changed
    await page.waitForSelector('#datainsight-panel .di-DagNode[data-step="divide"]');
    await page.waitForFunction(() => !document.querySelector('#datainsight-panel .di-Busy'));
    assert.equal(await page.locator('#datainsight-panel .di-PanelBody > .di-Error, #datainsight-panel section > .di-Error').count(), 0);
    await screenshot(page, 'sidecar-back');
  });

  stage('raised no uncaught error in the page', () => {
    assert.deepEqual(pageErrors, []);
  });
});
