/**
 * The live analysis of one open notebook: re-analysed by the sidecar a
 * moment after each edit (debounced), sending only the cells that changed
 * since the last analysis when the cells are the same ones in the same
 * order (analyze's base and edits), else the whole notebook. The notebook
 * is never blocked: analysis runs beside editing and a newer edit
 * supersedes an older answer.
 */
import type { INotebookModel } from '@jupyterlab/notebook';
import type { ISignal } from '@lumino/signaling';
import { Signal } from '@lumino/signaling';

import type { Analysis, AnalyzeParams, CellEdit } from './rpc/api.gen';
import { ErrorCode } from './rpc/api.gen';
import { describeError, RpcError, SidecarClient } from './rpc/client';

/** What a cell was when last sent: to find the cells an edit changed. */
interface SentCell {
  id: string;
  source: string;
  tags: string;
}

export interface IAnalysisState {
  analysis: Analysis | null;
  /** Why the last analysis failed, in words ('' if it did not). */
  error: string;
  /** An analysis is under way. */
  busy: boolean;
  /** When the shown analysis was asked for and answered (ms, performance.now()). */
  askedAt: number;
  answeredAt: number;
}

export class NotebookAnalysis {
  constructor(
    private readonly client: SidecarClient,
    private readonly model: INotebookModel,
    private path: string,
    ready: Promise<unknown>,
    private readonly debounceMs = 250
  ) {
    // Cells' sources, tags and outputs, cells added or moved (contentChanged),
    // and the notebook's settings (metadataChanged); _analyze sends only
    // what the analysis reads.
    model.contentChanged.connect(this._schedule, this);
    model.metadataChanged.connect(this._onMetadata, this);
    client.reconnected.connect(this._onReconnect, this);
    client.stateChanged.connect(this._onState, this);
    // The first analysis once the notebook's content is in: an empty model
    // is not worth a call.
    void ready.then(() => {
      this._ready = true;
      this.refresh();
    });
  }

  get state(): IAnalysisState {
    return this._state;
  }

  /** Emitted when an analysis arrives, fails or starts. */
  get changed(): ISignal<this, IAnalysisState> {
    return this._changed;
  }

  /** The notebook was renamed or moved. */
  setPath(path: string): void {
    if (path !== this.path) {
      this.path = path;
      this._sent = null;
      this.refresh();
    }
  }

  /** Analyses now, without waiting for the debounce. */
  refresh(): void {
    if (this._timer) {
      clearTimeout(this._timer);
      this._timer = null;
    }
    void this._analyze();
  }

  dispose(): void {
    if (this._disposed) {
      return;
    }
    this._disposed = true;
    if (this._timer) {
      clearTimeout(this._timer);
    }
    Signal.clearData(this);
  }

  get isDisposed(): boolean {
    return this._disposed;
  }

  private _onMetadata(): void {
    // Notebook-level settings are not cell edits: the next call sends the
    // whole notebook.
    this._sent = null;
    this._schedule();
  }

  private _onReconnect(): void {
    this._sent = null; // the new connection has no draft of ours
    this.refresh();
  }

  private _onState(): void {
    if (this.client.state === 'open' && this._state.analysis === null && !this._inFlight) {
      this.refresh();
    }
  }

  private _schedule(): void {
    if (this._disposed) {
      return;
    }
    if (this._timer) {
      clearTimeout(this._timer);
    }
    this._timer = setTimeout(() => {
      this._timer = null;
      void this._analyze();
    }, this.debounceMs);
  }

  private _snapshot(): SentCell[] {
    const out: SentCell[] = [];
    const cells = this.model.cells;
    for (let i = 0; i < cells.length; i++) {
      const c = cells.get(i);
      const tags = c.getMetadata('tags');
      out.push({ id: c.id, source: c.sharedModel.getSource(), tags: JSON.stringify(Array.isArray(tags) ? tags : []) });
    }
    return out;
  }

  /** The edits from the last sent notebook to now, or null if the cells were added, removed or moved. */
  private _edits(now: SentCell[]): CellEdit[] | null {
    const sent = this._sent;
    if (!sent || !this._revision || sent.length !== now.length) {
      return null;
    }
    const edits: CellEdit[] = [];
    for (let i = 0; i < now.length; i++) {
      const a = sent[i];
      const b = now[i];
      if (a.id !== b.id || !b.id) {
        return null;
      }
      if (a.source !== b.source || a.tags !== b.tags) {
        const e: CellEdit = { id: b.id, source: b.source };
        if (a.tags !== b.tags) {
          e.tags = JSON.parse(b.tags);
        }
        edits.push(e);
      }
    }
    return edits;
  }

  private async _analyze(): Promise<void> {
    if (this._disposed || !this._ready) {
      return;
    }
    if (this._inFlight) {
      // One call at a time: an edit while one is out is sent after it.
      this._again = true;
      return;
    }
    const now = this._snapshot();
    const edits = this._edits(now);
    if (edits !== null && edits.length === 0 && this._state.analysis) {
      return; // nothing the analysis reads changed (outputs, selection)
    }
    const params: AnalyzeParams =
      edits !== null
        ? { path: this.path, base: this._revision, edits }
        : { path: this.path, body: this.model.toJSON() };
    this._inFlight = true;
    const askedAt = performance.now();
    this._update({ busy: true });
    try {
      let res;
      try {
        res = await this.client.call('analyze', params);
      } catch (e) {
        if (edits !== null && e instanceof RpcError && (e.code === ErrorCode.Conflict || e.code === ErrorCode.InvalidParams)) {
          // The sidecar no longer has our base (or takes no edits): send the whole notebook.
          res = await this.client.call('analyze', { path: this.path, body: this.model.toJSON() });
        } else {
          throw e;
        }
      }
      if (this._disposed) {
        return;
      }
      this._sent = now;
      this._revision = res.revision ?? '';
      this._update({ analysis: res.analysis, error: '', busy: false, askedAt, answeredAt: performance.now() });
    } catch (e) {
      this._sent = null;
      this._revision = '';
      this._update({ error: describeError(e), busy: false });
    } finally {
      this._inFlight = false;
      if (this._again) {
        this._again = false;
        this._schedule();
      }
    }
  }

  private _update(s: Partial<IAnalysisState>): void {
    if (this._disposed) {
      return;
    }
    this._state = { ...this._state, ...s };
    this._changed.emit(this._state);
  }

  private _state: IAnalysisState = { analysis: null, error: '', busy: false, askedAt: 0, answeredAt: 0 };
  private _changed = new Signal<this, IAnalysisState>(this);
  private _timer: ReturnType<typeof setTimeout> | null = null;
  private _inFlight = false;
  private _again = false;
  private _sent: SentCell[] | null = null;
  private _revision = '';
  private _disposed = false;
  private _ready = false;
}
