/**
 * The runs of one notebook, kept up to date by the sidecar's pushed
 * notifications (run.event, run.log) for the runs that are not over: no
 * polling. After a reconnect the subscriptions are made again and the
 * runs read afresh, so nothing pushed while the sidecar was away is missed.
 */
import type { ISignal } from '@lumino/signaling';
import { Signal } from '@lumino/signaling';

import type { Backend, DefinitionResult, Event, LogLine, Run, RunParams, StepStatus } from './rpc/api.gen';
import { describeError, Notification, SidecarClient } from './rpc/client';

/** Phases after which nothing changes. */
export const DONE_PHASES = ['Succeeded', 'Failed', 'Error', 'Cancelled', 'Skipped'];

export function isDone(phase: string | undefined): boolean {
  return phase !== undefined && DONE_PHASES.includes(phase);
}

/** The most log lines kept per step while following a run. */
const MAX_LOG_LINES = 5000;

/** Applies a run.event to a run: the run's or one step's phase. */
export function applyEvent(run: Run, ev: Event): Run {
  if (ev.type === 'run') {
    const r = { ...run };
    if (ev.phase) {
      r.phase = ev.phase;
      if (ev.phase === 'Running' && !r.started) {
        r.started = ev.time;
      }
      if (isDone(ev.phase) && !r.finished) {
        r.finished = ev.time;
      }
    }
    if (ev.message !== undefined) {
      r.message = ev.message;
    }
    return r;
  }
  if (ev.type !== 'step' || !ev.step) {
    return run;
  }
  const steps = [...(run.steps ?? [])];
  let i = steps.findIndex(s => s.name === ev.step);
  if (i < 0) {
    steps.push({ name: ev.step, phase: 'Pending' });
    i = steps.length - 1;
  }
  const s: StepStatus = { ...steps[i] };
  if (ev.phase) {
    if (ev.phase === 'Running' && s.phase !== 'Running') {
      s.started = ev.time;
      s.finished = undefined;
      if (isDone(steps[i].phase)) {
        s.attempt = (s.attempt ?? 1) + 1;
      }
    }
    if (isDone(ev.phase)) {
      s.finished = ev.time;
    }
    s.phase = ev.phase;
  }
  if (ev.message !== undefined) {
    s.message = ev.message;
  }
  if (ev.cached) {
    s.cached = true;
  }
  steps[i] = s;
  return { ...run, steps };
}

export class RunsModel {
  constructor(
    private readonly client: SidecarClient,
    private path: string
  ) {
    client.notified.connect(this._onNotification, this);
    client.reconnected.connect(this._onReconnect, this);
    client.stateChanged.connect(this._onState, this);
    void this.refresh();
  }

  get runs(): readonly Run[] {
    return this._runs;
  }

  get error(): string {
    return this._error;
  }

  get loading(): boolean {
    return this._loading;
  }

  /** Emitted when a run, the list or the error changes. */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /** A line of a followed run's step (for the logs view). */
  get logged(): ISignal<this, LogLine> {
    return this._logged;
  }

  /** When the last notification arrived and was applied (ms, performance.now()): for the panel's latency check. */
  get lastEventAt(): number {
    return this._lastEventAt;
  }

  run(id: string): Run | undefined {
    return this._runs.find(r => r.id === id);
  }

  /** The lines of a followed step seen since the panel started following it. */
  followedLines(run: string, step: string): readonly string[] {
    return this._lines.get(`${run}/${step}`) ?? [];
  }

  setPath(path: string): void {
    if (path !== this.path) {
      this.path = path;
      this._runs = [];
      void this.refresh();
    }
  }

  /** Reads the notebook's runs and follows those not over. */
  async refresh(): Promise<void> {
    if (this.client.state === 'down') {
      return;
    }
    this._loading = true;
    this._changed.emit();
    try {
      const res = await this.client.call('runs', { path: this.path });
      this._runs = (res.runs ?? []).filter((r): r is Run => r !== null);
      this._error = '';
      for (const r of this._runs) {
        if (!isDone(r.phase)) {
          await this._follow(r);
        }
      }
    } catch (e) {
      this._error = describeError(e);
    } finally {
      this._loading = false;
      this._changed.emit();
    }
  }

  /** Starts a run of the notebook (as edited: body) and follows it. */
  async start(params: Omit<RunParams, 'path' | 'subscribe'>): Promise<Run> {
    const res = await this.client.call('run', { ...params, path: this.path, subscribe: true });
    const run = res.run ?? ({ id: res.id, phase: 'Pending', steps: [] } as unknown as Run);
    this._subscribed.add(run.id);
    this._upsert(run);
    return run;
  }

  async cancel(id: string): Promise<void> {
    const r = await this.client.call('run.cancel', this._ref(id));
    if (r) {
      this._upsert(r);
    }
  }

  async retry(id: string): Promise<void> {
    const r = await this.client.call('run.retry', { ...this._ref(id), subscribe: true });
    this._subscribed.add(id);
    if (r) {
      this._upsert(r);
    }
  }

  async resubmit(id: string): Promise<Run | null> {
    const r = await this.client.call('run.resubmit', { ...this._ref(id), subscribe: true });
    if (r) {
      this._subscribed.add(r.id);
      this._upsert(r);
    }
    return r;
  }

  async remove(id: string): Promise<void> {
    await this.client.call('run.delete', this._ref(id));
    this._runs = this._runs.filter(r => r.id !== id);
    this._changed.emit();
  }

  async logs(id: string, step?: string): Promise<string> {
    const res = await this.client.call('run.logs', { ...this._ref(id), step });
    return res.logs + (res.truncated ? '\n… (the rest is left out: read it with `datainsight logs`)' : '');
  }

  async report(id: string, step: string): Promise<string> {
    const res = await this.client.call('run.report', { ...this._ref(id), step });
    return res.report;
  }

  /** What a run carries out: its Argo Workflow, or the pipeline a local run ran, in YAML. */
  async definition(id: string): Promise<DefinitionResult> {
    return this.client.call('run.definition', this._ref(id));
  }

  dispose(): void {
    if (this._disposed) {
      return;
    }
    this._disposed = true;
    Signal.clearData(this);
  }

  get isDisposed(): boolean {
    return this._disposed;
  }

  private _ref(id: string): { run: string; path: string; backend?: Backend } {
    const r = this.run(id);
    const backend = r?.backend === 'argo' || r?.backend === 'local' ? (r.backend as Backend) : undefined;
    return { run: id, path: this.path, backend };
  }

  private async _follow(r: Run): Promise<void> {
    if (this._subscribed.has(r.id)) {
      return;
    }
    this._subscribed.add(r.id);
    try {
      const res = await this.client.call('run.subscribe', this._ref(r.id));
      if (res.run) {
        this._upsert(res.run);
      }
    } catch (e) {
      this._subscribed.delete(r.id);
      this._error = describeError(e);
    }
  }

  private _upsert(run: Run): void {
    const i = this._runs.findIndex(r => r.id === run.id);
    if (i < 0) {
      this._runs = [run, ...this._runs];
    } else {
      const runs = [...this._runs];
      runs[i] = run;
      this._runs = runs;
    }
    this._changed.emit();
  }

  private _onNotification(_: SidecarClient, n: Notification): void {
    if (n.method === 'run.event') {
      const ev = n.params as Event;
      const r = this.run(ev.run);
      if (!r) {
        return;
      }
      this._upsert(applyEvent(r, ev));
      this._lastEventAt = performance.now();
      if (ev.type === 'run' && isDone(ev.phase)) {
        this._subscribed.delete(ev.run);
        // The final record has what events do not carry (metrics, reports).
        void this.client
          .call('run.get', this._ref(ev.run))
          .then(full => full && this._upsert(full))
          .catch(() => undefined);
      }
    } else if (n.method === 'run.log') {
      const l = n.params as LogLine;
      if (!this.run(l.run)) {
        return;
      }
      const key = `${l.run}/${l.step}`;
      const lines = this._lines.get(key) ?? [];
      lines.push(l.line);
      if (lines.length > MAX_LOG_LINES) {
        lines.splice(0, lines.length - MAX_LOG_LINES);
      }
      this._lines.set(key, lines);
      this._logged.emit(l);
    }
  }

  private _onReconnect(): void {
    this._subscribed.clear();
    void this.refresh();
  }

  private _onState(): void {
    if (this.client.state === 'open' && this._error) {
      void this.refresh();
    }
  }

  private _runs: Run[] = [];
  private _error = '';
  private _loading = false;
  private _lastEventAt = 0;
  private _subscribed = new Set<string>();
  private _lines = new Map<string, string[]>();
  private _changed = new Signal<this, void>(this);
  private _logged = new Signal<this, LogLine>(this);
  private _disposed = false;
}
