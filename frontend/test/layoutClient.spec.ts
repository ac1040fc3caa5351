// Node's modules, without @types/node.
declare const require: (m: string) => any; // eslint-disable-line @typescript-eslint/no-explicit-any
declare const __dirname: string;
const fs = require('fs');
const path = require('path');
const vm = require('vm');

import { answerLayout, ILayoutWorker, LayoutClient, LayoutMessage, LayoutReply } from '../src/dag/layoutClient';
import { buildGraph, computeLayout, layoutGraph, layoutRequest, PipelineGraph } from '../src/dag/model';
import type { Analysis, Step } from '../src/rpc/api.gen';

function step(name: string, after: string[], ins: Record<string, string> = {}): Step {
  return { name, cells: [0], after, ins, outs: [], params: [], metrics: [], imports: [], settings: {}, langs: ['Python'] };
}

function graph(...steps: Step[]): PipelineGraph {
  const a: Analysis = { steps, file_edges: [], parameters: [], local_modules: [], diagnostics: [], language: 'python' };
  return buildGraph(a);
}

const chain = graph(step('a', []), step('b', ['a'], { x: 'a' }), step('c', ['b']));
const fork = graph(step('a', []), step('b', ['a']), step('c', ['a']));
const single = graph(step('a', []));

/** A worker that answers only when the test says so, through the real message handler. */
class FakeWorker implements ILayoutWorker {
  onmessage: ((e: { data: LayoutReply }) => void) | null = null;
  onerror: ((e: unknown) => void) | null = null;
  sent: LayoutMessage[] = [];
  terminated = false;
  postMessage(m: LayoutMessage): void {
    this.sent.push(m);
  }
  terminate(): void {
    this.terminated = true;
  }
  /** Answers the oldest message not yet answered. */
  answer(): void {
    const m = this.sent.shift()!;
    this.onmessage!({ data: answerLayout(JSON.parse(JSON.stringify(m))) });
  }
}

describe('the layout worker', () => {
  it('is bundled with dagre into a script that answers layout messages', () => {
    const gen = path.join(__dirname, '..', 'src', 'dag', 'layoutWorker.gen.ts');
    if (!fs.existsSync(gen)) {
      throw new Error('src/dag/layoutWorker.gen.ts is missing: run npm run build:worker');
    }
    const source = /LAYOUT_WORKER_SOURCE = (".*");/.exec(fs.readFileSync(gen, 'utf8'))![1];
    const replies: LayoutReply[] = [];
    const self: { onmessage: ((e: { data: LayoutMessage }) => void) | null; postMessage: (r: LayoutReply) => void } = {
      onmessage: null,
      postMessage: r => replies.push(r)
    };
    // The script alone, with nothing but a worker's global scope.
    vm.runInNewContext(JSON.parse(source), { self, Math, JSON, Object, Array, Map, Set, Number, String, Error, Symbol, Infinity, structuredClone: (v: unknown) => JSON.parse(JSON.stringify(v)) });
    const request = layoutRequest(chain);
    self.onmessage!({ data: { id: 7, request } });
    expect(replies).toHaveLength(1);
    expect(replies[0].id).toBe(7);
    expect(replies[0].error).toBeUndefined();
    expect(JSON.parse(JSON.stringify(replies[0].result))).toEqual(JSON.parse(JSON.stringify(computeLayout(request))));
  });

  it('answers an error as a message', () => {
    const r = answerLayout({ id: 1, request: { nodes: [], edges: [{ from: 'x', to: 'y', labelWidth: 0, labelHeight: 0 }] } as never });
    expect(r.id).toBe(1);
    expect(r.result ?? r.error).toBeDefined();
  });
});

describe('LayoutClient', () => {
  it('lays out in the worker, the same as on the main thread', () => {
    const w = new FakeWorker();
    const c = new LayoutClient(() => w);
    const got: unknown[] = [];
    c.request(chain, l => got.push(l));
    expect(got).toEqual([]);
    expect(w.sent).toHaveLength(1);
    w.answer();
    expect(got).toEqual([layoutGraph(chain)]);
  });

  it('drops a stale answer: a newer request supersedes the one being laid out and any waiting', () => {
    const w = new FakeWorker();
    const c = new LayoutClient(() => w);
    const got: string[] = [];
    c.request(chain, () => got.push('chain'));
    c.request(fork, () => got.push('fork'));
    c.request(single, l => got.push(`single:${l.nodes.length}`));
    // One at a time: the chain is being laid out, only the newest waits.
    expect(w.sent).toHaveLength(1);
    w.answer();
    expect(got).toEqual([]);
    expect(w.sent).toHaveLength(1);
    expect(w.sent[0].request.nodes.map(n => n.id)).toEqual(['a']);
    w.answer();
    expect(got).toEqual(['single:1']);
    expect(c.computed).toBe(1);
  });

  it('places a graph of the last shape at once, with its new details', () => {
    const w = new FakeWorker();
    const c = new LayoutClient(() => w);
    expect(c.cached(chain)).toBeNull();
    c.request(chain, () => undefined);
    w.answer();
    const recoloured = { ...chain, nodes: chain.nodes.map(n => ({ ...n, problem: 'error' as const })) };
    const now = c.cached(recoloured)!;
    expect(now.nodes.map(n => n.problem)).toEqual(['error', 'error', 'error']);
    let again = 0;
    c.request(recoloured, () => again++);
    expect(again).toBe(1);
    expect(w.sent).toHaveLength(0);
    expect(c.cached(fork)).toBeNull();
  });

  it('a request for the shown shape drops the answer still on its way', () => {
    const w = new FakeWorker();
    const c = new LayoutClient(() => w);
    const got: string[] = [];
    c.request(chain, () => got.push('chain'));
    w.answer();
    c.request(fork, () => got.push('fork'));
    c.request(chain, () => got.push('chain again'));
    w.answer();
    expect(got).toEqual(['chain', 'chain again']);
  });

  it('lays out on the main thread where no worker starts, or the worker fails', async () => {
    const none = new LayoutClient(() => {
      throw new Error('blocked');
    });
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    const l = await new Promise(resolve => none.request(chain, resolve));
    expect(l).toEqual(layoutGraph(chain));

    const w = new FakeWorker();
    const failing = new LayoutClient(() => w);
    const p = new Promise(resolve => failing.request(fork, resolve));
    w.onerror!(new Error('boom'));
    expect(w.terminated).toBe(true);
    expect(await p).toEqual(layoutGraph(fork));
    warn.mockRestore();
  });
});
