/**
 * The sidecar's configuration (the config method) as the panel shows it:
 * read once per connection to the sidecar, and again after a reconnect,
 * since a restarted sidecar may have been configured otherwise.
 */
import type { ISignal } from '@lumino/signaling';
import { Signal } from '@lumino/signaling';

import type { Backend, ConfigResult } from './rpc/api.gen';
import type { ConnectionState } from './rpc/client';
import { describeError } from './rpc/client';

/** What SidecarConfig needs of the client (a test passes a fake). */
export interface IConfigClient {
  readonly state: ConnectionState;
  readonly stateChanged: ISignal<unknown, ConnectionState>;
  call(method: 'config', params: Record<string, never>): Promise<ConfigResult>;
}

export class SidecarConfig {
  constructor(private readonly client: IConfigClient) {
    client.stateChanged.connect(this._onState, this);
    if (client.state === 'open') {
      void this.refresh();
    }
  }

  /** The configuration last read, or null before the first answer. */
  get value(): ConfigResult | null {
    return this._value;
  }

  /** Why it could not be read ('' when it could). */
  get error(): string {
    return this._error;
  }

  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /** Where runs go unless the user picks otherwise. */
  get defaultBackend(): Backend | null {
    const b = this._value?.backend;
    return b === 'local' || b === 'argo' ? b : null;
  }

  async refresh(): Promise<void> {
    const asked = ++this._asked;
    try {
      const v = await this.client.call('config', {});
      if (asked === this._asked) {
        this._value = v;
        this._error = '';
      }
    } catch (e) {
      if (asked === this._asked) {
        this._error = describeError(e);
      }
    }
    if (asked === this._asked && !this._disposed) {
      this._changed.emit();
    }
  }

  dispose(): void {
    this._disposed = true;
    Signal.clearData(this);
  }

  /** Each time the connection opens (the first time and after each reconnect): once per connection. */
  private _onState(_: unknown, state: ConnectionState): void {
    if (state === 'open') {
      void this.refresh();
    }
  }

  private _value: ConfigResult | null = null;
  private _error = '';
  private _asked = 0;
  private _disposed = false;
  private _changed = new Signal<this, void>(this);
}

/** The settings' namespace line: the namespace cluster runs go to, or why there is none. */
export function namespaceLine(config: ConfigResult | null, error: string): string {
  if (error) {
    return `Namespace: unknown (the sidecar's configuration could not be read: ${error})`;
  }
  if (!config) {
    return 'Namespace: reading the sidecar\'s configuration…';
  }
  if (config.namespace) {
    return `Namespace: ${config.namespace}`;
  }
  return `Namespace: none (${config.namespace_error || 'no cluster configured'})`;
}
