/**
 * What the panel shows, for the notebook in focus: its live analysis, its
 * runs, the cells' decorations, and the actions the panel offers. One
 * controller serves every notebook; each open notebook keeps its own
 * analysis and runs while it stays open, so switching back is instant.
 */
import type { Cell } from '@jupyterlab/cells';
import type { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import type { ISignal } from '@lumino/signaling';
import { Signal } from '@lumino/signaling';

import { NotebookAnalysis } from './analysis';
import { CellDecorator, Failure, failingLine } from './cells';
import { SidecarConfig } from './config';
import type { Run } from './rpc/api.gen';
import { describeError, SidecarClient } from './rpc/client';
import { isDone, RunsModel } from './runs';

/** One open notebook's state. */
export class NotebookState {
  constructor(
    readonly panel: NotebookPanel,
    client: SidecarClient,
    onEdit: (cell: Cell) => void
  ) {
    const path = panel.context.path;
    this.analysis = new NotebookAnalysis(client, panel.context.model, path, panel.context.ready);
    this.runs = new RunsModel(client, path);
    this.decorator = new CellDecorator(panel, onEdit);
    panel.context.pathChanged.connect((_, p) => {
      this.analysis.setPath(p);
      this.runs.setPath(p);
    });
  }

  readonly analysis: NotebookAnalysis;
  readonly runs: RunsModel;
  readonly decorator: CellDecorator;
  /** The run the panel's runs view has open ('' for none: the cells then show the latest). */
  selectedRun = '';
  /** Where failed steps of the shown run failed, by "run/step". */
  failures = new Map<string, Failure | null>();

  /** The run the cells show: the selected one, else the latest. */
  get shownRun(): Run | null {
    const runs = this.runs.runs;
    return (this.selectedRun ? runs.find(r => r.id === this.selectedRun) : runs[0]) ?? null;
  }

  dispose(): void {
    this.analysis.dispose();
    this.runs.dispose();
    this.decorator.dispose();
  }
}

export class PanelController {
  constructor(
    readonly client: SidecarClient,
    readonly tracker: INotebookTracker,
    private readonly onEdit: (cell: Cell) => void
  ) {
    client.stateChanged.connect(this._emit, this);
    this.config = new SidecarConfig(client);
    this.config.changed.connect(this._emit, this);
    tracker.currentChanged.connect(this._onCurrent, this);
    this._onCurrent();
  }

  /** The sidecar's configuration, read once per connection. */
  readonly config: SidecarConfig;

  /** Emitted when anything the panel shows changes. */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /** The notebook in focus, or null. */
  get current(): NotebookState | null {
    return this._current;
  }

  /** A message for the user about the last action ('' for none). */
  get notice(): { text: string; error: boolean } | null {
    return this._notice;
  }

  setNotice(text: string, error = false): void {
    this._notice = text ? { text, error } : null;
    this._emit();
  }

  /** Runs an action, showing its failure as a readable message. */
  async act<T>(what: string, f: () => Promise<T>): Promise<T | undefined> {
    try {
      this._busy.add(what);
      this._emit();
      return await f();
    } catch (e) {
      this.setNotice(`${what} failed: ${describeError(e)}`, true);
      return undefined;
    } finally {
      this._busy.delete(what);
      this._emit();
    }
  }

  isBusy(what: string): boolean {
    return this._busy.has(what);
  }

  selectRun(id: string): void {
    const s = this._current;
    if (!s) {
      return;
    }
    s.selectedRun = id;
    this._decorate(s);
    this._emit();
  }

  /** Goes to a cell (and line) of the notebook in focus. */
  jumpTo(cell: number, line?: number): void {
    const s = this._current;
    if (!s) {
      return;
    }
    const nb = s.panel.content;
    if (cell < 0 || cell >= nb.widgets.length) {
      return;
    }
    nb.activeCellIndex = cell;
    void nb.scrollToItem(cell, 'center').then(() => {
      const w = nb.widgets[cell];
      if (line && line > 0 && w.editor) {
        w.editor.setCursorPosition({ line: line - 1, column: 0 });
        nb.mode = 'edit';
        w.editor.focus();
      } else {
        nb.mode = 'command';
        nb.node.focus();
      }
    });
  }

  /** Shows where a step of the shown run failed. */
  revealFailure(step: string): void {
    const s = this._current;
    const run = s?.shownRun;
    if (!s || !run) {
      return;
    }
    const f = s.failures.get(`${run.id}/${step}`);
    if (f) {
      s.decorator.reveal(f);
    }
  }

  dispose(): void {
    for (const s of this._states.values()) {
      s.dispose();
    }
    this._states.clear();
    this.config.dispose();
    Signal.clearData(this);
  }

  private _onCurrent(): void {
    const panel = this.tracker.currentWidget;
    if (!panel) {
      // Keep showing the last notebook while another kind of document has focus.
      if (this._current && this._current.panel.isDisposed) {
        this._current = null;
      }
      this._emit();
      return;
    }
    let s = this._states.get(panel);
    if (!s) {
      const state = new NotebookState(panel, this.client, this.onEdit);
      s = state;
      this._states.set(panel, state);
      state.analysis.changed.connect(() => {
        this._decorate(state);
        if (this._current === state) {
          this._emit();
        }
      });
      state.runs.changed.connect(() => {
        this._decorate(state);
        this._findFailures(state);
        if (this._current === state) {
          this._emit();
        }
      });
      panel.content.activeCellChanged.connect(() => {
        if (this._current === state) {
          this._emit();
        }
      });
      panel.disposed.connect(() => {
        state.dispose();
        this._states.delete(panel);
        if (this._current === state) {
          this._current = null;
        }
        this._emit();
      });
    }
    this._current = s;
    this._emit();
  }

  private _decorate(s: NotebookState): void {
    const run = s.shownRun;
    const failures: Failure[] = [];
    if (run) {
      for (const st of run.steps ?? []) {
        const f = s.failures.get(`${run.id}/${st.name}`);
        if (f && st.phase === 'Failed') {
          failures.push(f);
        }
      }
    }
    s.decorator.update({ analysis: s.analysis.state.analysis, run, failures });
  }

  /**
   * Finds, from a failed step's report, the cell that raised and the line
   * its traceback points at: the report's cells carry their notebook index.
   */
  private _findFailures(s: NotebookState): void {
    const run = s.shownRun;
    if (!run) {
      return;
    }
    for (const st of run.steps ?? []) {
      const key = `${run.id}/${st.name}`;
      if (st.phase !== 'Failed' || s.failures.has(key) || !isDone(run.phase)) {
        continue;
      }
      s.failures.set(key, null); // asked once
      void s.runs
        .report(run.id, st.name)
        .then(text => {
          const f = failureOf(st.name, text);
          if (f) {
            s.failures.set(key, f);
            this._decorate(s);
            this._emit();
          }
        })
        .catch(() => undefined);
    }
  }

  private _emit(): void {
    this._changed.emit();
  }

  private _states = new Map<NotebookPanel, NotebookState>();
  private _current: NotebookState | null = null;
  private _notice: { text: string; error: boolean } | null = null;
  private _busy = new Set<string>();
  private _changed = new Signal<this, void>(this);
}

interface ReportCell {
  metadata?: { datainsight?: { cell?: number } };
  outputs?: { output_type: string; ename?: string; evalue?: string; traceback?: string[] }[];
}

/** The failure a step's report shows: its cell with an error output. */
export function failureOf(step: string, report: string): Failure | null {
  let doc: { cells?: ReportCell[] };
  try {
    doc = JSON.parse(report);
  } catch {
    return null;
  }
  for (const c of doc.cells ?? []) {
    const err = (c.outputs ?? []).find(o => o.output_type === 'error');
    const cell = c.metadata?.datainsight?.cell;
    if (err && typeof cell === 'number') {
      const traceback = err.traceback ?? [];
      return {
        step,
        cell,
        line: failingLine(traceback, cell),
        ename: err.ename ?? 'Error',
        evalue: err.evalue ?? '',
        traceback
      };
    }
  }
  return null;
}
