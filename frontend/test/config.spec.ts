import { Signal } from '@lumino/signaling';

import { namespaceLine, SidecarConfig } from '../src/config';
import { definitionFileName, definitionWidget } from '../src/definition';
import type { ConfigResult } from '../src/rpc/api.gen';
import type { ConnectionState } from '../src/rpc/client';
import { RpcError } from '../src/rpc/client';
import { RunsModel } from '../src/runs';

/** A client that answers config with the next of its answers, and can drop and reopen its connection. */
class FakeClient {
  state: ConnectionState = 'connecting';
  stateChanged = new Signal<this, ConnectionState>(this);
  reconnected = new Signal<this, void>(this);
  notified = new Signal<this, unknown>(this);
  calls: [string, unknown][] = [];
  answers: (ConfigResult | Error)[] = [];
  handlers: Record<string, (params: unknown) => unknown> = {};

  async call(method: string, params: unknown): Promise<any> {
    this.calls.push([method, params]);
    if (method === 'config') {
      const a = this.answers.shift();
      if (a instanceof Error) {
        throw a;
      }
      return a;
    }
    const h = this.handlers[method];
    if (!h) {
      throw new RpcError(`${method}: no such method`, -32601);
    }
    return h(params);
  }

  setState(s: ConnectionState): void {
    const was = this.state;
    this.state = s;
    this.stateChanged.emit(s);
    if (s === 'open' && was !== 'open' && this.opened++) {
      this.reconnected.emit();
    }
  }

  opened = 0;
}

const flush = () => new Promise(r => setTimeout(r, 0));

describe('the sidecar configuration', () => {
  it('is read once per connection, and again after a reconnect', async () => {
    const client = new FakeClient();
    client.answers.push({ backend: 'argo', namespace: 'team-a', jupyter: true }, { backend: 'local', namespace_error: 'no cluster configuration: no kubeconfig', jupyter: true });
    const config = new SidecarConfig(client as never);
    let changes = 0;
    config.changed.connect(() => changes++);
    expect(config.value).toBeNull();
    expect(namespaceLine(config.value, config.error)).toMatch(/reading/);
    client.setState('open');
    await flush();
    expect(client.calls.filter(c => c[0] === 'config')).toHaveLength(1);
    expect(config.defaultBackend).toBe('argo');
    expect(namespaceLine(config.value, config.error)).toBe('Namespace: team-a');
    expect(changes).toBe(1);
    // Down and back: read afresh, a sidecar restarted may say otherwise.
    client.setState('down');
    client.setState('connecting');
    await flush();
    expect(client.calls.filter(c => c[0] === 'config')).toHaveLength(1);
    client.setState('open');
    await flush();
    expect(client.calls.filter(c => c[0] === 'config')).toHaveLength(2);
    expect(config.defaultBackend).toBe('local');
    expect(namespaceLine(config.value, config.error)).toBe('Namespace: none (no cluster configuration: no kubeconfig)');
    config.dispose();
  });

  it('reads at once when the connection is already open, and says why it could not', async () => {
    const client = new FakeClient();
    client.state = 'open';
    client.answers.push(new RpcError('config: the sidecar is unreachable: it does not answer', -1));
    const config = new SidecarConfig(client as never);
    await flush();
    expect(client.calls).toHaveLength(1);
    expect(config.value).toBeNull();
    expect(config.defaultBackend).toBeNull();
    expect(namespaceLine(config.value, config.error)).toBe(
      "Namespace: unknown (the sidecar's configuration could not be read: config: the sidecar is unreachable: it does not answer)"
    );
    expect(namespaceLine({ backend: 'local', jupyter: false }, '')).toBe('Namespace: none (no cluster configured)');
  });
});

describe('a run\'s definition', () => {
  it('is asked for with the run\'s notebook and backend, and shown read-only with its kind', async () => {
    const client = new FakeClient();
    client.state = 'open';
    const yaml = 'name: iris\nsteps:\n- name: load_data\n- name: split\n';
    client.handlers['runs'] = () => ({ runs: [{ id: 'r1', backend: 'local', phase: 'Succeeded', steps: [] }] });
    client.handlers['run.definition'] = () => ({ kind: 'Pipeline', yaml });
    const runs = new RunsModel(client as never, 'dir/iris.ipynb');
    await flush();
    const def = await runs.definition('r1');
    expect(client.calls.find(c => c[0] === 'run.definition')).toEqual(['run.definition', { run: 'r1', path: 'dir/iris.ipynb', backend: 'local' }]);
    const w = definitionWidget('r1', def);
    expect(w.node.dataset.kind).toBe('Pipeline');
    expect(w.node.querySelector('.di-Definition-kind')!.textContent).toBe('Pipeline of run r1');
    const pre = w.node.querySelector('pre')!;
    expect(pre.textContent).toBe(yaml);
    expect(pre.tabIndex).toBe(0);
    expect(w.node.querySelector('button')!.textContent).toBe('Download');
    expect(definitionFileName('r1', 'Workflow')).toBe('r1.workflow.yaml');
    runs.dispose();
  });

  it('fails with the sidecar\'s message', async () => {
    const client = new FakeClient();
    client.state = 'open';
    client.handlers['runs'] = () => ({ runs: [] });
    client.handlers['run.definition'] = () => {
      throw new RpcError('run r9: not found', -32003);
    };
    const runs = new RunsModel(client as never, 'iris.ipynb');
    await expect(runs.definition('r9')).rejects.toThrow('run r9: not found');
    runs.dispose();
  });
});
