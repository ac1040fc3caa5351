/**
 * The sidebar panel: for the notebook in focus, its pipeline (settings,
 * live DAG, diagnostics, the active cell's tags, Run/Check/Compile) and
 * its runs (states pushed live, logs, reports, metrics, cancel, retry,
 * resubmit, delete, explore).
 */
import type { INotebookModel } from '@jupyterlab/notebook';
import type { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { ReactWidget, UseSignal } from '@jupyterlab/ui-components';
import type { Widget } from '@lumino/widgets';
import * as React from 'react';

import type { NotebookState, PanelController } from './controller';
import { LayoutClient } from './dag/layoutClient';
import type { ILayoutWorker } from './dag/layoutClient';
import { LAYOUT_WORKER_SOURCE } from './dag/layoutWorker.gen';
import type { Layout } from './dag/model';
import { buildGraph, sortedDiagnostics, stepColor } from './dag/model';
import { DagView } from './dag/view';
import { namespaceLine } from './config';
import { download, openDefinition } from './definition';
import { TextField } from './fields';
import { openReport } from './report';
import type { Analysis, Backend, Diagnostic, Parameter, Run, StepStatus } from './rpc/api.gen';
import { describeError } from './rpc/client';
import { isDone } from './runs';
import type { MarshalValue } from './settings';
import { withMarshal } from './settings';
import { TagEditor } from './tagEditor';

export interface IPanelOptions {
  controller: PanelController;
  rendermime: IRenderMimeRegistry;
  addToMainArea: (w: Widget) => void;
}

export class DatainsightPanel extends ReactWidget {
  constructor(private readonly options: IPanelOptions) {
    super();
    this.addClass('di-Panel');
  }

  /** Shows a tab (and focuses what the command asks for). */
  show_(tab: Tab, focus?: string): void {
    this._tab = tab;
    this._focus = focus ?? '';
    this.update();
  }

  render(): JSX.Element {
    const c = this.options.controller;
    return (
      <UseSignal signal={c.changed}>
        {() => (
          <PanelView
            {...this.options}
            tab={this._tab}
            focus={this._focus}
            onTab={t => {
              this._tab = t;
              this._focus = '';
              this.update();
            }}
          />
        )}
      </UseSignal>
    );
  }

  private _tab: Tab = 'pipeline';
  private _focus = '';
}

export type Tab = 'pipeline' | 'runs';

interface IViewProps extends IPanelOptions {
  tab: Tab;
  focus: string;
  onTab: (t: Tab) => void;
}

function PanelView(props: IViewProps): JSX.Element {
  const c = props.controller;
  const s = c.current;
  const notice = c.notice;
  const tabs: [Tab, string][] = [
    ['pipeline', 'Pipeline'],
    ['runs', 'Runs']
  ];
  // The times of the analysis shown (performance.now(), ms): for the
  // benchmarks, which read them from the page.
  return (
    <div
      className="di-PanelBody"
      data-analysis-asked={s?.analysis.state.askedAt ?? 0}
      data-analysis-answered={s?.analysis.state.answeredAt ?? 0}
    >
      <Connection controller={c} />
      {notice && (
        <div className={`di-Notice${notice.error ? ' di-mod-error' : ''}`} role={notice.error ? 'alert' : 'status'}>
          <span>{notice.text}</span>
          <button className="di-IconButton" aria-label="Dismiss the message" onClick={() => c.setNotice('')}>
            ×
          </button>
        </div>
      )}
      {!s ? (
        <p className="di-Empty">Open a notebook to see its pipeline.</p>
      ) : (
        <>
          <div className="di-Header">
            <span className="di-Header-name" title={s.panel.context.path}>
              {s.panel.context.path}
            </span>
            {s.analysis.state.busy && <span className="di-Busy">analysing…</span>}
          </div>
          <div className="di-Tabs" role="tablist" aria-label="Datainsight views">
            {tabs.map(([t, label]) => (
              <button
                key={t}
                role="tab"
                id={`di-tab-${t}`}
                aria-selected={props.tab === t}
                aria-controls={`di-tabpanel-${t}`}
                className={`di-Tab${props.tab === t ? ' di-mod-active' : ''}`}
                onClick={() => props.onTab(t)}
                onKeyDown={e => {
                  if (e.key === 'ArrowRight' || e.key === 'ArrowLeft') {
                    props.onTab(t === 'pipeline' ? 'runs' : 'pipeline');
                  }
                }}
              >
                {label}
                {t === 'runs' && s.runs.runs.some(r => !isDone(r.phase)) ? ' ●' : ''}
              </button>
            ))}
          </div>
          <div role="tabpanel" id={`di-tabpanel-${props.tab}`} aria-labelledby={`di-tab-${props.tab}`} className="di-TabPanel">
            {props.tab === 'pipeline' ? <PipelineTab {...props} state={s} /> : <RunsTab {...props} state={s} />}
          </div>
        </>
      )}
    </div>
  );
}

function Connection(props: { controller: PanelController }): JSX.Element | null {
  const client = props.controller.client;
  if (client.state === 'open') {
    return null;
  }
  if (client.state === 'connecting') {
    return (
      <div className="di-Connection di-mod-connecting" role="status">
        Connecting to the Datainsight sidecar…
      </div>
    );
  }
  return (
    <div className="di-Connection di-mod-down" role="alert">
      <strong>The Datainsight sidecar is unreachable</strong>
      <span>{client.problem || 'it does not answer'}. Retrying by itself.</span>
      <button className="di-Button" onClick={() => client.reconnect()}>
        Retry now
      </button>
    </div>
  );
}

/** Starts the layout worker from its bundled code (a Blob URL: nothing to serve beside the extension). */
function startLayoutWorker(): ILayoutWorker | null {
  if (typeof Worker === 'undefined') {
    return null;
  }
  const url = URL.createObjectURL(new Blob([LAYOUT_WORKER_SOURCE], { type: 'text/javascript' }));
  try {
    return new Worker(url, { name: 'datainsight-layout' }) as unknown as ILayoutWorker;
  } finally {
    // The worker has its script once started; the URL is not needed after.
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  }
}

const layouts = new LayoutClient(startLayoutWorker);

/**
 * The layout of a notebook's pipeline: at once for a graph of the shape
 * last laid out (typing inside a step), else from the worker, the last
 * layout of this notebook staying on screen until the new one arrives.
 */
function useLayout(s: NotebookState, a: Analysis | null): Layout | null {
  const graph = React.useMemo(() => (a ? buildGraph(a) : null), [a]);
  const now = React.useMemo(() => (graph ? layouts.cached(graph) : null), [graph]);
  const [laid, setLaid] = React.useState<{ of: NotebookState; layout: Layout } | null>(null);
  React.useEffect(() => {
    if (graph && !now) {
      layouts.request(graph, layout => setLaid({ of: s, layout }));
    }
  }, [graph, now, s]);
  if (now) {
    return now;
  }
  return laid && laid.of === s ? laid.layout : null;
}

interface ITabProps extends IViewProps {
  state: NotebookState;
}

function PipelineTab(props: ITabProps): JSX.Element {
  const { controller: c, state: s } = props;
  const a = s.analysis.state.analysis;
  const graph = useLayout(s, a);
  const run = s.shownRun;
  const phases = new Map<string, string>();
  for (const st of run?.steps ?? []) {
    phases.set(st.name, st.cached && st.phase === 'Succeeded' ? 'Cached' : st.phase);
  }
  const active = s.panel.content.activeCell;
  const activeIndex = s.panel.content.activeCellIndex;
  const model = s.panel.context.model;
  const openStep = (step: string) => {
    const st = a?.steps?.find(x => x?.name === step);
    if (st?.cells?.length) {
      c.jumpTo(st.cells[0]);
    }
  };
  return (
    <>
      <RunBar {...props} />
      <section className="di-Section" aria-labelledby="di-dag-title">
        <h3 id="di-dag-title" className="di-SectionTitle">
          Pipeline{a ? ` · ${(a.steps ?? []).length} steps` : ''}
          {run && (
            <span className="di-SectionNote">
              showing run {run.id.slice(0, 12)} ({run.phase})
            </span>
          )}
        </h3>
        {s.analysis.state.error && (
          <p className="di-Error" role="alert">
            Analysis failed: {s.analysis.state.error}
          </p>
        )}
        {graph ? (
          <DagView layout={graph} phases={phases} onOpenStep={openStep} />
        ) : (
          !s.analysis.state.error && (
            <p className="di-Empty" role="status">
              {a ? 'Laying out the pipeline…' : 'Analysing the notebook…'}
            </p>
          )
        )}
        {a && <Diagnostics items={sortedDiagnostics(a)} onJump={(cell, line) => c.jumpTo(cell, line)} />}
      </section>
      <section className="di-Section" aria-label="The active cell's tags">
        {active && active.model.type === 'code' ? (
          <TagEditor
            key={active.model.id}
            model={model}
            cell={active.model}
            cellIndex={activeIndex}
            analysis={a}
            onNotice={(t, e) => c.setNotice(t, e)}
          />
        ) : (
          <p className="di-Empty">Select a code cell to edit its pipeline tags.</p>
        )}
      </section>
      <Settings model={model} controller={c} />
    </>
  );
}

function Diagnostics(props: { items: Diagnostic[]; onJump: (cell: number, line: number) => void }): JSX.Element | null {
  if (props.items.length === 0) {
    return <p className="di-Ok">No problems found.</p>;
  }
  return (
    <ul className="di-Diagnostics" aria-label="Problems">
      {props.items.map((d, i) => (
        <li key={i} className={`di-Diagnostic di-mod-${d.severity}`}>
          {d.cell !== null ? (
            <button className="di-LinkButton" onClick={() => props.onJump(d.cell!, d.line)} title="Go to the cell">
              <span className="di-Severity">{d.severity}</span> cell {d.cell}
              {d.line ? `, line ${d.line}` : ''}: {d.message}
            </button>
          ) : (
            <span>
              <span className="di-Severity">{d.severity}</span> {d.message}
            </span>
          )}
        </li>
      ))}
    </ul>
  );
}

function RunBar(props: ITabProps): JSX.Element {
  const { controller: c, state: s } = props;
  const a = s.analysis.state.analysis;
  const params: Parameter[] = a?.parameters ?? [];
  // The backend the user picked, else the sidecar's default.
  const [picked, setBackend] = React.useState<Backend | null>(null);
  const backend: Backend = picked ?? c.config.defaultBackend ?? 'local';
  const [overrides, setOverrides] = React.useState<Record<string, string>>({});
  const [showParams, setShowParams] = React.useState(false);
  const down = c.client.state !== 'open';
  const errors = (a?.diagnostics ?? []).filter(d => d.severity === 'error').length;
  const body = () => s.panel.context.model.toJSON();
  const path = s.panel.context.path;

  const run = () =>
    c.act('Run', async () => {
      const changed: Record<string, string> = {};
      for (const p of params) {
        const v = overrides[p.name];
        if (v !== undefined && v !== p.default) {
          changed[p.name] = v;
        }
      }
      const r = await s.runs.start({ body: body(), backend, params: changed });
      c.selectRun(r.id);
      c.setNotice(`Run ${r.id} started (${backend}).`);
      props.onTab('runs');
    });
  const check = () =>
    c.act('Check', async () => {
      const kernel = s.panel.sessionContext.session?.kernel?.id;
      if (!kernel) {
        c.setNotice('Check looks into the notebook\'s kernel: start the kernel and run the cells first.', true);
        return;
      }
      const res = await c.client.call('check', { path, body: body(), kernel });
      const bad = res.unsavable ?? [];
      const missing = res.missing ?? [];
      c.setNotice(
        bad.length
          ? `Check: ${bad.length} value(s) cannot be passed between steps: ` +
              bad.map(u => `${u.name} (${u.type}, step ${u.step}): ${u.reason}`).join('; ')
          : `Check: all ${res.checked} output value(s) in the kernel can be passed between steps` +
              (missing.length ? `; not in the kernel yet (their cells have not run): ${missing.join(', ')}` : '.'),
        bad.length > 0
      );
    });
  const compile = () =>
    c.act('Compile', async () => {
      const res = await c.client.call('compile', { path, body: body() });
      const name = path.replace(/^.*\//, '').replace(/\.ipynb$/, '') + '.workflow.yaml';
      download(name, res.workflow);
      c.setNotice(`Compiled: ${name} downloaded.`);
    });
  return (
    <section className="di-Section di-RunBar" aria-label="Run the pipeline">
      <div className="di-RunBar-row">
        <label htmlFor="di-backend" className="di-Label">
          On
        </label>
        <select id="di-backend" value={backend} onChange={e => setBackend(e.target.value as Backend)}>
          <option value="local">this machine</option>
          <option value="argo">the cluster (Argo)</option>
        </select>
        <button
          className="di-Button di-mod-accept di-RunButton"
          disabled={down || c.isBusy('Run') || errors > 0}
          title={errors ? 'Fix the errors first' : 'Run the notebook as a pipeline'}
          onClick={run}
        >
          {c.isBusy('Run') ? 'Starting…' : 'Run'}
        </button>
        <button className="di-Button" disabled={down || c.isBusy('Check')} onClick={check} title="Check that each step's outputs can be passed on, in the live kernel">
          Check
        </button>
        <button className="di-Button" disabled={down || c.isBusy('Compile') || errors > 0} onClick={compile} title="Download the Argo Workflow">
          Compile
        </button>
      </div>
      {params.length > 0 && (
        <details open={showParams} onToggle={e => setShowParams((e.target as HTMLDetailsElement).open)}>
          <summary>Parameters for the next run ({params.length})</summary>
          {params.map(p => (
            <div className="di-Field di-Param" key={p.name}>
              <label htmlFor={`di-param-${p.name}`}>
                {p.name} <span className="di-Type">{p.type}</span>
              </label>
              <input
                id={`di-param-${p.name}`}
                value={overrides[p.name] ?? p.default}
                spellCheck={false}
                onChange={e => setOverrides({ ...overrides, [p.name]: e.target.value })}
              />
            </div>
          ))}
        </details>
      )}
    </section>
  );
}

interface SettingsValue {
  name?: string;
  description?: string;
  image?: string;
  parallelism?: number;
  timeout?: string;
  marshal?: MarshalValue;
  [k: string]: unknown;
}

/** The notebook's pipeline settings (metadata.datainsight), edited through the model. */
function Settings(props: { model: INotebookModel; controller: PanelController }): JSX.Element {
  const { model } = props;
  const config = props.controller.config;
  // Read again at each change, not from this render: two changes in a row
  // come before the panel redraws, and the second must keep the first.
  const current = () => ((model.getMetadata('datainsight') as SettingsValue | undefined) ?? {}) as SettingsValue;
  const value = current();
  const kale = (model.getMetadata('kubeflow_notebook') as Record<string, unknown> | undefined) ?? {};
  const set = (key: string, v: unknown) => {
    const next: SettingsValue = { ...current() };
    if (v === '' || v === undefined || v === null || (typeof v === 'object' && Object.keys(v as object).length === 0)) {
      delete next[key];
    } else {
      next[key] = v;
    }
    model.sharedModel.transact(() => {
      if (Object.keys(next).length === 0) {
        model.deleteMetadata('datainsight');
      } else {
        model.setMetadata('datainsight', next);
      }
    });
  };
  const setMarshal = (key: keyof MarshalValue, v: string) => set('marshal', withMarshal(current().marshal, key, v));
  const marshalField = (key: 'pvc' | 'size' | 'storage_class', label: string, placeholder: string) => (
    <TextField
      id={`di-setting-marshal-${key.replace('_', '-')}`}
      label={label}
      value={value.marshal?.[key] ?? ''}
      placeholder={placeholder}
      onCommit={v => setMarshal(key, v)}
    />
  );
  const field = (key: 'name' | 'description' | 'image' | 'timeout', label: string, placeholder: string) => (
    <TextField
      id={`di-setting-${key}`}
      label={label}
      value={String(value[key] ?? '')}
      placeholder={placeholder}
      onCommit={v => set(key, v)}
    />
  );
  return (
    <details className="di-Section di-Settings">
      <summary>Pipeline settings</summary>
      {field('name', 'Name', String(kale['pipeline_name'] ?? 'the notebook\'s name'))}
      {field('description', 'Description', String(kale['pipeline_description'] ?? ''))}
      {field('image', 'Default image', String(kale['docker_image'] ?? 'the configured image'))}
      {field('timeout', 'Timeout', 'e.g. 2h')}
      <div className="di-Field">
        <label htmlFor="di-setting-marshal">Values between steps</label>
        <select id="di-setting-marshal" value={value.marshal?.mode ?? ''} onChange={e => setMarshal('mode', e.target.value)}>
          <option value="">default</option>
          <option value="pvc">a shared volume (pvc)</option>
          <option value="artifacts">artifacts in object storage</option>
        </select>
      </div>
      {value.marshal?.mode !== 'artifacts' && (
        <>
          {marshalField('pvc', 'Existing claim', 'none: a new volume per run')}
          {!value.marshal?.pvc && (
            <>
              {marshalField('size', 'Volume size', '1Gi')}
              {marshalField('storage_class', 'Storage class', String(kale['storage_class_name'] ?? 'the cluster\'s default'))}
              <div className="di-Field">
                <label htmlFor="di-setting-marshal-access-mode">Access mode</label>
                <select
                  id="di-setting-marshal-access-mode"
                  value={value.marshal?.access_mode ?? ''}
                  onChange={e => setMarshal('access_mode', e.target.value)}
                >
                  <option value="">ReadWriteOnce (default: steps share one node)</option>
                  <option value="ReadWriteMany">ReadWriteMany</option>
                  <option value="ReadWriteOncePod">ReadWriteOncePod</option>
                </select>
              </div>
            </>
          )}
        </>
      )}
      <TextField
        id="di-setting-parallelism"
        label="Steps at once"
        value={value.parallelism ? String(value.parallelism) : ''}
        placeholder="one per core"
        onCommit={v => set('parallelism', v ? Number(v) : undefined)}
      />
      <p className="di-Field di-Namespace" role="status" data-namespace={config.value?.namespace ?? ''}>
        {namespaceLine(config.value, config.error)}
      </p>
      <p className="di-FieldHelp">
        The namespace of cluster runs comes from the sidecar's configuration, never from the notebook. Other volumes and
        settings are kept as they are; problems with them show under the pipeline.
      </p>
    </details>
  );
}

/** The phases in which a step's message is shown under it. */
const STEP_MESSAGE_PHASES = new Set(['Failed', 'Error', 'Pending']);

function when(t?: string): string {
  if (!t) {
    return '';
  }
  const d = new Date(t);
  return Number.isNaN(d.getTime()) ? t : d.toLocaleString();
}

function duration(from?: string, to?: string): string {
  if (!from) {
    return '';
  }
  const a = new Date(from).getTime();
  const b = to ? new Date(to).getTime() : Date.now();
  if (Number.isNaN(a) || Number.isNaN(b)) {
    return '';
  }
  const s = Math.max(0, Math.round((b - a) / 1000));
  return s < 60 ? `${s}s` : s < 3600 ? `${Math.floor(s / 60)}m ${s % 60}s` : `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
}

function PhaseBadge(props: { phase: string; cached?: boolean }): JSX.Element {
  const p = props.cached && props.phase === 'Succeeded' ? 'Cached' : props.phase;
  return <span className={`di-Phase di-state-${p.toLowerCase()}`}>{p}</span>;
}

function RunsTab(props: ITabProps): JSX.Element {
  const { controller: c, state: s } = props;
  const runs = s.runs.runs;
  const selected = s.shownRun;
  return (
    <>
      {s.runs.error && (
        <p className="di-Error" role="alert">
          {s.runs.error}
        </p>
      )}
      <section className="di-Section" aria-labelledby="di-runs-title">
        <h3 id="di-runs-title" className="di-SectionTitle">
          Runs of this notebook
          <button className="di-LinkButton" onClick={() => void s.runs.refresh()} disabled={s.runs.loading}>
            {s.runs.loading ? 'reading…' : 'refresh'}
          </button>
        </h3>
        {runs.length === 0 ? (
          <p className="di-Empty">No runs yet: Run starts one.</p>
        ) : (
          <ul className="di-RunList">
            {runs.map(r => (
              <li key={r.id}>
                <button
                  className={`di-RunItem${selected?.id === r.id ? ' di-mod-selected' : ''}`}
                  aria-pressed={selected?.id === r.id}
                  data-run={r.id}
                  onClick={() => c.selectRun(r.id)}
                >
                  <PhaseBadge phase={r.phase} />
                  <span className="di-RunItem-id">{r.id}</span>
                  <span className="di-RunItem-meta">
                    {r.backend} · {when(r.started ?? r.created)} · {duration(r.started, r.finished)}
                  </span>
                  {r.parameters && Object.keys(r.parameters).length > 0 && (
                    <span className="di-RunItem-params">
                      {Object.entries(r.parameters)
                        .map(([k, v]) => `${k}=${v}`)
                        .join(' ')}
                    </span>
                  )}
                </button>
              </li>
            ))}
          </ul>
        )}
      </section>
      {selected && <RunDetail {...props} run={selected} />}
      <MetricsTable runs={runs} />
    </>
  );
}

function RunDetail(props: ITabProps & { run: Run }): JSX.Element {
  const { controller: c, state: s, run } = props;
  const [logStep, setLogStep] = React.useState<string>('');
  const done = isDone(run.phase);
  const kernel = () => s.panel.sessionContext.session?.kernel?.id;
  return (
    <section
      className="di-Section di-RunDetail"
      aria-labelledby="di-run-title"
      data-run={run.id}
      data-phase={run.phase}
      data-last-notification={c.client.lastNotificationAt}
    >
      <h3 id="di-run-title" className="di-SectionTitle">
        Run {run.id} <PhaseBadge phase={run.phase} />
      </h3>
      {run.message && <p className={run.phase === 'Failed' || run.phase === 'Error' ? 'di-Error' : 'di-FieldHelp'}>{run.message}</p>}
      <div className="di-RunActions">
        <button className="di-Button" disabled={done} onClick={() => c.act('Cancel', () => s.runs.cancel(run.id))}>
          Cancel
        </button>
        <button className="di-Button" disabled={!done || run.phase === 'Succeeded'} onClick={() => c.act('Retry', () => s.runs.retry(run.id))}>
          Retry failed
        </button>
        <button
          className="di-Button"
          disabled={!done}
          onClick={() =>
            c.act('Resubmit', async () => {
              const r = await s.runs.resubmit(run.id);
              if (r) {
                c.selectRun(r.id);
              }
            })
          }
        >
          Resubmit
        </button>
        <button
          className="di-Button di-mod-warn"
          disabled={!done}
          onClick={() =>
            c.act('Delete', async () => {
              if (window.confirm(`Delete run ${run.id} and its records?`)) {
                await s.runs.remove(run.id);
                c.selectRun('');
              }
            })
          }
        >
          Delete
        </button>
        <button
          className="di-Button"
          aria-label={`Definition of run ${run.id}: what it carries out, in YAML`}
          disabled={c.isBusy('Definition')}
          onClick={() =>
            c.act('Definition', async () => {
              const def = await s.runs.definition(run.id);
              openDefinition(props.addToMainArea, run.id, def);
            })
          }
        >
          Definition
        </button>
      </div>
      <ul className="di-Steps" aria-label={`Steps of run ${run.id}`}>
        {(run.steps ?? []).map((st: StepStatus) => (
          <li key={st.name} className="di-Step" data-step={st.name} data-phase={st.phase}>
            <div className="di-Step-head">
              <span className="di-StepDot" style={{ ['--di-step-color' as string]: stepColor(st.name, s.analysis.state.analysis) }}>
                {st.name}
              </span>
              <PhaseBadge phase={st.phase} cached={st.cached} />
              {(st.attempt ?? 1) > 1 && (
                <span className="di-Mark" title="Retried">
                  retry {st.attempt! - 1}
                </span>
              )}
              <span className="di-Step-time">{duration(st.started, st.finished)}</span>
            </div>
            {/* Why a step failed or waits: on a cluster often the node's or
                the scheduler's words (out of memory, no GPU free), which
                the step's logs do not have. */}
            {st.message && STEP_MESSAGE_PHASES.has(st.phase) && (
              <p className={`di-Step-message${st.phase === 'Pending' ? '' : ' di-mod-error'}`}>{st.message}</p>
            )}
            <div className="di-StepActions">
              <button className="di-LinkButton" aria-label={`Logs of step ${st.name}`} aria-pressed={logStep === st.name} onClick={() => setLogStep(logStep === st.name ? '' : st.name)}>
                logs
              </button>
              <button
                className="di-LinkButton"
                aria-label={`Report of step ${st.name}`}
                disabled={!isDone(st.phase) || st.phase === 'Skipped'}
                onClick={() =>
                  c.act('Report', async () => {
                    const text = await s.runs.report(run.id, st.name);
                    openReport(props.addToMainArea, props.rendermime, `${st.name} · ${run.id}`, text);
                  })
                }
              >
                report
              </button>
              {st.phase === 'Failed' && (
                <button className="di-LinkButton di-mod-error" aria-label={`Show where step ${st.name} failed`} onClick={() => c.revealFailure(st.name)}>
                  show the cell
                </button>
              )}
              {run.backend === 'local' && isDone(run.phase) && (
                <button
                  className="di-LinkButton"
                  aria-label={`Explore step ${st.name}: load its inputs into the kernel`}
                  onClick={() =>
                    c.act('Explore', async () => {
                      const k = kernel();
                      if (!k) {
                        c.setNotice('Explore loads values into the notebook\'s kernel: start the kernel first.', true);
                        return;
                      }
                      const res = await c.client.call('explore', { run: run.id, step: st.name, kernel: k, path: s.panel.context.path });
                      const bound = (res.bound ?? []).map(b => `${b.name} (${b.type})`).join(', ') || 'nothing';
                      const missing = (res.unavailable ?? []).map(u => `${u.name}: ${u.reason}`).join('; ');
                      c.setNotice(`Explore ${st.name}: bound ${bound} in the kernel.${missing ? ` Not loaded: ${missing}` : ''}`, !!missing);
                    })
                  }
                >
                  explore
                </button>
              )}
            </div>
          </li>
        ))}
      </ul>
      {logStep && <Logs state={s} run={run} step={logStep} />}
    </section>
  );
}

/** A step's output: what the sidecar has, then each line it pushes. */
function Logs(props: { state: NotebookState; run: Run; step: string }): JSX.Element {
  const { state: s, run, step } = props;
  const [text, setText] = React.useState('');
  const [error, setError] = React.useState('');
  const ref = React.useRef<HTMLPreElement>(null);
  React.useEffect(() => {
    let gone = false;
    let loaded = false;
    setText('');
    setError('');
    s.runs
      .logs(run.id, step)
      .then(t => {
        if (!gone) {
          loaded = true;
          setText(t);
        }
      })
      .catch(e => !gone && setError(describeError(e)));
    // Lines pushed once the output so far is in.
    const onLine = (_: unknown, l: { run: string; step: string; line: string }) => {
      if (loaded && l.run === run.id && l.step === step) {
        setText(t => t + l.line + '\n');
      }
    };
    s.runs.logged.connect(onLine);
    return () => {
      gone = true;
      s.runs.logged.disconnect(onLine);
    };
  }, [run.id, step]);
  React.useEffect(() => {
    if (ref.current) {
      ref.current.scrollTop = ref.current.scrollHeight;
    }
  }, [text]);
  return (
    <div className="di-Logs">
      <h4 className="di-SectionTitle">Output of {step}</h4>
      {error ? (
        <p className="di-Error" role="alert">
          {error}
        </p>
      ) : (
        <pre ref={ref} className="di-LogText" tabIndex={0} aria-label={`Output of step ${step}`} aria-live="polite">
          {text || (isDone(run.phase) ? '(no output)' : '(waiting for output…)')}
        </pre>
      )}
    </div>
  );
}

function MetricsTable(props: { runs: readonly Run[] }): JSX.Element | null {
  const rows = new Map<string, Map<string, unknown>>();
  const runs = props.runs.filter(r => (r.steps ?? []).some(s => s.metrics && Object.keys(s.metrics).length)).slice(0, 6);
  for (const r of runs) {
    for (const s of r.steps ?? []) {
      for (const [k, v] of Object.entries(s.metrics ?? {})) {
        const m = rows.get(k) ?? new Map<string, unknown>();
        m.set(r.id, v);
        rows.set(k, m);
      }
    }
  }
  if (rows.size === 0) {
    return null;
  }
  const fmt = (v: unknown) => (typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toPrecision(4)) : v === undefined ? '' : JSON.stringify(v));
  return (
    <section className="di-Section" aria-labelledby="di-metrics-title">
      <h3 id="di-metrics-title" className="di-SectionTitle">
        Metrics, side by side
      </h3>
      <div className="di-Scroll">
        <table className="di-Metrics">
          <thead>
            <tr>
              <th scope="col">Metric</th>
              {runs.map(r => (
                <th scope="col" key={r.id} title={r.id}>
                  {r.id.slice(0, 10)}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {[...rows].map(([k, m]) => (
              <tr key={k}>
                <th scope="row">{k}</th>
                {runs.map(r => (
                  <td key={r.id}>{fmt(m.get(r.id))}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
