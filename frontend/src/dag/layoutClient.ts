/**
 * Layouts off the main thread: the panel asks for a graph's layout and
 * keeps what it shows until the answer comes. Only the newest request is
 * answered: a request made while another is being laid out supersedes it
 * (and any waiting one), so the worker never falls behind the typing. A
 * graph of the last laid-out shape is placed at once, without the worker.
 */
import type { Layout, LayoutRequest, LayoutResult, PipelineGraph } from './model';
import { computeLayout, layoutKey, layoutRequest, placeGraph, reuse } from './model';

/** A request to the worker. */
export interface LayoutMessage {
  id: number;
  request: LayoutRequest;
}

/** The worker's answer. */
export interface LayoutReply {
  id: number;
  result?: LayoutResult;
  error?: string;
}

/** What the worker does with a message (layoutWorker.ts), here to be tested without a worker. */
export function answerLayout(m: LayoutMessage): LayoutReply {
  try {
    return { id: m.id, result: computeLayout(m.request) };
  } catch (e) {
    return { id: m.id, error: e instanceof Error ? e.message : String(e) };
  }
}

/** The part of a Worker the client uses. */
export interface ILayoutWorker {
  postMessage(m: LayoutMessage): void;
  onmessage: ((e: { data: LayoutReply }) => void) | null;
  onerror: ((e: unknown) => void) | null;
  terminate(): void;
}

interface IWanted {
  id: number;
  key: string;
  graph: PipelineGraph;
  done: (l: Layout) => void;
}

export class LayoutClient {
  /**
   * @param makeWorker starts a worker, or returns null where none can
   * start: the layout then runs on the main thread, after the current task.
   */
  constructor(private readonly makeWorker: () => ILayoutWorker | null) {}

  /** The layout of a graph of the last laid-out shape, placed at once; null if the shape is new. */
  cached(g: PipelineGraph): Layout | null {
    const last = this._last;
    return last && last.key === layoutKey(g) ? reuse(last.layout, g) : null;
  }

  /**
   * Lays g out and calls done with the layout, unless a newer request
   * comes first (then done is never called). A graph of the last
   * laid-out shape is answered without the worker.
   */
  request(g: PipelineGraph, done: (l: Layout) => void): void {
    const key = layoutKey(g);
    const id = ++this._seq;
    const last = this._last;
    if (last && last.key === key) {
      this._wanted = null;
      done(reuse(last.layout, g));
      return;
    }
    this._wanted = { id, key, graph: g, done };
    if (this._busy === null) {
      this._send(this._wanted);
    }
  }

  /** Stops the worker; requests not yet answered are dropped. */
  dispose(): void {
    this._worker?.terminate();
    this._worker = null;
    this._wanted = null;
    this._disposed = true;
  }

  /** How many layouts were computed (not reused), for tests. */
  get computed(): number {
    return this._computed;
  }

  private _send(w: IWanted): void {
    this._busy = w.id;
    const worker = this._startWorker();
    const message: LayoutMessage = { id: w.id, request: layoutRequest(w.graph) };
    if (worker) {
      worker.postMessage(message);
    } else {
      setTimeout(() => this._answer(answerLayout(message)), 0);
    }
  }

  private _startWorker(): ILayoutWorker | null {
    if (this._worker || this._noWorker || this._disposed) {
      return this._worker;
    }
    try {
      this._worker = this.makeWorker();
    } catch (e) {
      console.warn('Datainsight: no layout worker, laying out on the main thread', e);
      this._worker = null;
    }
    if (!this._worker) {
      this._noWorker = true;
      return null;
    }
    this._worker.onmessage = e => this._answer(e.data);
    this._worker.onerror = e => {
      // A worker that fails (blocked, or broken) is not used again: the
      // request it had is laid out here.
      console.warn('Datainsight: the layout worker failed, laying out on the main thread', e);
      this._worker?.terminate();
      this._worker = null;
      this._noWorker = true;
      const w = this._wanted;
      this._busy = null;
      if (w) {
        this._send(w);
      }
    };
    return this._worker;
  }

  private _answer(r: LayoutReply): void {
    if (this._disposed || r.id !== this._busy) {
      return;
    }
    this._busy = null;
    const w = this._wanted;
    if (w && w.id === r.id) {
      this._wanted = null;
      if (r.result) {
        this._computed++;
        const layout = placeGraph(w.graph, r.result);
        this._last = { key: w.key, layout };
        w.done(layout);
      } else {
        console.error('Datainsight: laying out the pipeline failed:', r.error);
      }
    } else if (w) {
      // Stale: a newer request came while this one was laid out.
      this._send(w);
    }
  }

  private _seq = 0;
  private _busy: number | null = null;
  private _wanted: IWanted | null = null;
  private _last: { key: string; layout: Layout } | null = null;
  private _worker: ILayoutWorker | null = null;
  private _noWorker = false;
  private _disposed = false;
  private _computed = 0;
}
