/**
 * A JSON-RPC 2.0 client of the sidecar over one WebSocket
 * ({base_url}datainsight/ws, proxied by the Jupyter server extension under
 * Jupyter's own login). It reconnects by itself, with backoff, and says
 * where it stands (state, stateChanged) so the panel can show a sidecar
 * that is down and recover when it is back. Calls are typed by the
 * declarations generated from the sidecar's method list (api.gen.ts).
 */
import { ISignal, Signal } from '@lumino/signaling';

import type { MethodName, Methods, NotificationName, Notifications } from './api.gen';
import { ErrorCode } from './api.gen';

export type ConnectionState = 'connecting' | 'open' | 'down';

/** An error the sidecar answered with, or one of the connection. */
export class RpcError extends Error {
  constructor(
    message: string,
    readonly code: number,
    readonly data?: unknown
  ) {
    super(message);
    this.name = 'RpcError';
  }

  /** The field a params error names (data.field), if any. */
  get field(): string | undefined {
    const d = this.data as { field?: unknown } | undefined;
    return typeof d?.field === 'string' ? d.field : undefined;
  }
}

/** Error codes of the connection itself (not the sidecar's). */
export const ConnectionError = {
  /** The sidecar could not be reached. */
  Unreachable: -1,
  /** The call did not get an answer in time. */
  NoAnswer: -2
} as const;

export interface Notification<N extends NotificationName = NotificationName> {
  method: N;
  params: Notifications[N];
}

export interface IClientOptions {
  /** The WebSocket URL (ws:// or wss://). */
  url: string;
  /** Says why the sidecar is down (its status), when the socket cannot open. */
  diagnose?: () => Promise<string>;
  /** The WebSocket class (a test's). */
  WebSocket?: typeof WebSocket;
  /** How long a call waits for its answer, in ms (default 5 minutes). */
  callTimeout?: number;
  /** The longest wait between reconnects, in ms (default 10 s). */
  maxBackoff?: number;
}

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

export class SidecarClient {
  constructor(private readonly options: IClientOptions) {
    this._WS = options.WebSocket ?? WebSocket;
    this._connect();
  }

  get state(): ConnectionState {
    return this._state;
  }

  /** Why the sidecar is down, in words ('' while it is up). */
  get problem(): string {
    return this._problem;
  }

  /** Emitted when the state or the problem changes. */
  get stateChanged(): ISignal<this, ConnectionState> {
    return this._stateChanged;
  }

  /** Emitted after a reconnect: server-side state of the old connection (subscriptions, revisions) is gone. */
  get reconnected(): ISignal<this, void> {
    return this._reconnected;
  }

  /** When the last notification arrived (performance.now(), ms): the panel shows it, for latency measurements. */
  get lastNotificationAt(): number {
    return this._lastNotificationAt;
  }

  /** Notifications the sidecar pushes (run.event, run.log). */
  get notified(): ISignal<this, Notification> {
    return this._notified;
  }

  /** Calls a method; waits for the connection if it is (re)connecting. */
  call<M extends MethodName>(
    method: M,
    params: Methods[M]['params'],
    timeout?: number
  ): Promise<Methods[M]['result']> {
    const id = this._nextId++;
    const text = JSON.stringify({ jsonrpc: '2.0', id, method, params });
    return new Promise<Methods[M]['result']>((resolve, reject) => {
      const timer = setTimeout(() => {
        this._pending.delete(id);
        reject(new RpcError(`${method}: no answer from the sidecar in time`, ConnectionError.NoAnswer));
      }, timeout ?? this.options.callTimeout ?? 300_000);
      this._pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      if (this._state === 'open' && this._ws) {
        this._ws.send(text);
      } else if (this._state === 'down') {
        this._fail(id, method);
      } else {
        this._queue.push([id, text, method]);
      }
    });
  }

  /** Reconnects now instead of after the backoff (the panel's "Retry"). */
  reconnect(): void {
    if (this._disposed || this._state === 'open') {
      return;
    }
    if (this._retryTimer) {
      clearTimeout(this._retryTimer);
      this._retryTimer = null;
    }
    this._connect();
  }

  dispose(): void {
    if (this._disposed) {
      return;
    }
    this._disposed = true;
    if (this._retryTimer) {
      clearTimeout(this._retryTimer);
    }
    this._ws?.close();
    this._rejectAll('the panel closed its connection', ConnectionError.Unreachable);
    Signal.clearData(this);
  }

  get isDisposed(): boolean {
    return this._disposed;
  }

  private _fail(id: number, method: string): void {
    const p = this._pending.get(id);
    if (p) {
      clearTimeout(p.timer);
      this._pending.delete(id);
      p.reject(new RpcError(`${method}: the sidecar is unreachable: ${this._problem}`, ConnectionError.Unreachable));
    }
  }

  private _setState(state: ConnectionState, problem: string): void {
    if (state === this._state && problem === this._problem) {
      return;
    }
    this._state = state;
    this._problem = problem;
    this._stateChanged.emit(state);
  }

  private _connect(): void {
    if (this._disposed) {
      return;
    }
    this._setState('connecting', this._problem);
    let ws: WebSocket;
    try {
      ws = new this._WS(this.options.url);
    } catch (e) {
      this._down(`cannot open ${this.options.url}: ${(e as Error).message}`);
      return;
    }
    this._ws = ws;
    let opened = false;
    ws.onopen = () => {
      opened = true;
      const wasOpen = this._everOpen;
      this._everOpen = true;
      this._backoff = 500;
      this._setState('open', '');
      const queue = this._queue;
      this._queue = [];
      for (const [id, text] of queue) {
        if (this._pending.has(id)) {
          ws.send(text);
        }
      }
      if (wasOpen) {
        this._reconnected.emit();
      }
    };
    ws.onmessage = ev => this._onMessage(ev.data);
    ws.onclose = ev => {
      if (this._ws !== ws) {
        return;
      }
      this._ws = null;
      // Calls in flight on this connection get no answer now.
      this._rejectAll('the connection to the sidecar closed', ConnectionError.Unreachable, true);
      const why = opened
        ? `the connection closed (${ev.code}${ev.reason ? ': ' + ev.reason : ''})`
        : 'it does not answer';
      console.warn(`datainsight: sidecar WebSocket closed: ${ev.code} ${ev.reason}`);
      this._down(why);
    };
  }

  private _down(why: string): void {
    if (this._disposed) {
      return;
    }
    const delay = this._backoff;
    this._backoff = Math.min(this._backoff * 2, this.options.maxBackoff ?? 10_000);
    this._setState('down', why);
    // Queued calls fail now rather than wait out the backoff.
    const queue = this._queue;
    this._queue = [];
    for (const [id, , method] of queue) {
      this._fail(id, method);
    }
    if (this.options.diagnose) {
      this.options
        .diagnose()
        .then(d => {
          if (d && this._state === 'down') {
            this._setState('down', d);
          }
        })
        .catch(() => undefined);
    }
    this._retryTimer = setTimeout(() => {
      this._retryTimer = null;
      this._connect();
    }, delay);
  }

  private _rejectAll(why: string, code: number, sentOnly = false): void {
    const queued = new Set(this._queue.map(q => q[0]));
    for (const [id, p] of this._pending) {
      if (sentOnly && queued.has(id)) {
        continue;
      }
      clearTimeout(p.timer);
      this._pending.delete(id);
      p.reject(new RpcError(why, code));
    }
  }

  private _onMessage(data: unknown): void {
    if (typeof data !== 'string') {
      return;
    }
    let msgs: unknown;
    try {
      msgs = JSON.parse(data);
    } catch {
      return;
    }
    for (const m of Array.isArray(msgs) ? msgs : [msgs]) {
      this._handle(m as Record<string, unknown>);
    }
  }

  private _handle(m: Record<string, unknown>): void {
    if (m === null || typeof m !== 'object') {
      return;
    }
    if (typeof m.method === 'string' && m.id === undefined) {
      this._lastNotificationAt = performance.now();
      this._notified.emit({ method: m.method as NotificationName, params: m.params as never });
      return;
    }
    const id = m.id as number;
    const p = this._pending.get(id);
    if (!p) {
      return;
    }
    clearTimeout(p.timer);
    this._pending.delete(id);
    const err = m.error as { code: number; message: string; data?: unknown } | undefined;
    if (err) {
      p.reject(new RpcError(err.message, err.code, err.data));
    } else {
      p.resolve(m.result);
    }
  }

  private _WS: typeof WebSocket;
  private _ws: WebSocket | null = null;
  private _state: ConnectionState = 'connecting';
  private _problem = '';
  private _everOpen = false;
  private _backoff = 500;
  private _retryTimer: ReturnType<typeof setTimeout> | null = null;
  private _nextId = 1;
  private _pending = new Map<number, Pending>();
  private _queue: [number, string, string][] = [];
  private _disposed = false;
  private _lastNotificationAt = 0;
  private _stateChanged = new Signal<this, ConnectionState>(this);
  private _reconnected = new Signal<this, void>(this);
  private _notified = new Signal<this, Notification>(this);
}

/** An error as a sentence for the user: never a stack. */
export function describeError(e: unknown): string {
  if (e instanceof RpcError) {
    const d = e.data as { diagnostics?: { message: string; cell: number | null }[] } | undefined;
    if (e.code === ErrorCode.Failed && Array.isArray(d?.diagnostics) && d!.diagnostics.length) {
      const first = d!.diagnostics[0];
      return `${e.message} (${first.cell !== null ? `cell ${first.cell}: ` : ''}${first.message})`;
    }
    return e.message;
  }
  if (e instanceof Error) {
    return e.message;
  }
  return String(e);
}
