import {
  buildGraph,
  cellSteps,
  layoutGraph,
  PALETTE,
  sortedDiagnostics,
  stepColor,
  stepSummary,
  transitiveReduction
} from '../src/dag/model';
import type { Analysis, Step } from '../src/rpc/api.gen';

function step(name: string, cells: number[], after: string[], ins: Record<string, string>, extra: Partial<Step> = {}): Step {
  return {
    name,
    cells,
    after,
    ins,
    outs: [],
    params: [],
    metrics: [],
    imports: [],
    settings: {},
    langs: ['Python'],
    ...extra
  };
}

/** load → clean (data) → train (data) and report (prev only; reads a file clean wrote). */
const analysis: Analysis = {
  steps: [
    step('load', [2], [], {}, { outs: ['df'] }),
    step('clean', [3], ['load'], { df: 'load' }, { outs: ['df'] }),
    step('train', [4, 5], ['clean'], { df: 'clean', raw: 'load' }, { params: ['lr'], settings: { limits: { 'nvidia.com/gpu': '1' } } }),
    step('report', [6], ['train', 'clean'], {})
  ],
  file_edges: [{ from: 'clean', to: 'report', path: 'out/clean.csv' }],
  parameters: [{ name: 'lr', type: 'float', default: '0.1' }],
  local_modules: [],
  diagnostics: [
    { severity: 'warning', cell: 5, line: 2, col: 1, code: 'x', message: 'careful' },
    { severity: 'info', cell: null, line: 0, col: 0, code: 'y', message: 'note' },
    { severity: 'error', cell: 6, line: 1, col: 3, code: 'undefined-name', message: 'name z is not defined' }
  ],
  language: 'python'
};

describe('buildGraph', () => {
  const g = buildGraph(analysis);

  it('has a node per step, with what it reads, writes and needs', () => {
    expect(g.nodes.map(n => n.id)).toEqual(['load', 'clean', 'train', 'report']);
    const train = g.nodes.find(n => n.id === 'train')!;
    expect(train.gpus).toBe(1);
    expect(train.params).toEqual(['lr']);
    expect(train.problem).toBe('warning');
    expect(g.nodes.find(n => n.id === 'report')!.problem).toBe('error');
    expect(g.nodes.find(n => n.id === 'load')!.problem).toBeNull();
  });

  it('labels data edges with the names that flow, dashes file edges, and keeps prev-only edges', () => {
    const byPair = (from: string, to: string) => g.edges.filter(e => e.from === from && e.to === to);
    expect(byPair('load', 'clean')).toEqual([{ from: 'load', to: 'clean', kind: 'data', label: 'df' }]);
    expect(byPair('load', 'train')).toEqual([{ from: 'load', to: 'train', kind: 'data', label: 'raw' }]);
    expect(byPair('clean', 'report')).toEqual([{ from: 'clean', to: 'report', kind: 'file', label: 'out/clean.csv' }]);
    expect(byPair('train', 'report')).toEqual([{ from: 'train', to: 'report', kind: 'order', label: '' }]);
    expect(g.edges).toHaveLength(5);
  });

  it('tolerates an analysis with nothing in it', () => {
    const empty = buildGraph({ steps: null, file_edges: null, parameters: null, local_modules: null, diagnostics: null, language: '' });
    expect(empty).toEqual({ nodes: [], edges: [] });
    expect(layoutGraph(empty).nodes).toEqual([]);
  });
});

describe('stepColor', () => {
  it('is a palette colour that depends on the name only', () => {
    expect(PALETTE).toContain(stepColor('train'));
    expect(stepColor('train')).toBe(stepColor('train'));
    const colours = new Set(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'].map(n => stepColor(n)));
    expect(colours.size).toBeGreaterThan(3);
  });

  const pipeline = (...names: string[]) => ({ steps: names.map(name => ({ name, cells: [] })) }) as unknown as Analysis;

  it('gives every step of a pipeline a colour of its own, up to the palette\'s size', () => {
    // As many names as colours, whose hashed colours are only two: found, not assumed.
    const two = [PALETTE[0], PALETTE[1]];
    const names: string[] = [];
    for (let i = 0; names.length < PALETTE.length; i++) {
      if (two.includes(stepColor(`step_${i}`))) {
        names.push(`step_${i}`);
      }
    }
    expect(new Set(names.map(n => stepColor(n))).size).toBeLessThanOrEqual(2);
    const a = pipeline(...names);
    expect(new Set(names.map(n => stepColor(n, a))).size).toBe(names.length);
  });

  it('tells apart the iris pipeline\'s steps, two of which share a hashed colour', () => {
    const iris = ['load_data', 'features', 'split', 'train_forest', 'train_logreg', 'evaluate'];
    expect(new Set(iris.map(n => stepColor(n))).size).toBeLessThan(iris.length);
    const a = pipeline(...iris);
    expect(new Set(iris.map(n => stepColor(n, a))).size).toBe(iris.length);
  });

  it('keeps the hashed colour of a step no earlier step has, and of a step not in the pipeline', () => {
    const a = pipeline('load', 'train');
    expect(stepColor('load', a)).toBe(stepColor('load'));
    expect(stepColor('gone', a)).toBe(stepColor('gone'));
    // The same analysis, the same colours: worked out once.
    expect(stepColor('train', a)).toBe(stepColor('train', a));
  });

  it('gives a later step that collides the next free colour, the earlier one keeps its own', () => {
    let other = '';
    for (let i = 0; !other; i++) {
      if (`s${i}` !== 'first' && stepColor(`s${i}`) === stepColor('first')) {
        other = `s${i}`;
      }
    }
    const a = pipeline('first', other);
    expect(stepColor('first', a)).toBe(stepColor('first'));
    expect(stepColor(other, a)).toBe(PALETTE[(PALETTE.indexOf(stepColor('first')) + 1) % PALETTE.length]);
  });
});

describe('layoutGraph', () => {
  it('places every step apart, each edge from its source to its target, top to bottom', () => {
    const l = layoutGraph(buildGraph(analysis));
    expect(l.nodes).toHaveLength(4);
    for (const a of l.nodes) {
      for (const b of l.nodes) {
        if (a !== b) {
          const apart = Math.abs(a.x - b.x) >= (a.width + b.width) / 2 || Math.abs(a.y - b.y) >= (a.height + b.height) / 2;
          expect(apart).toBe(true);
        }
      }
    }
    const y = (id: string) => l.nodes.find(n => n.id === id)!.y;
    expect(y('load')).toBeLessThan(y('clean'));
    expect(y('clean')).toBeLessThan(y('train'));
    expect(y('train')).toBeLessThan(y('report'));
    for (const e of l.edges) {
      expect(e.points.length).toBeGreaterThanOrEqual(2);
      expect(e.points[0].y).toBeLessThan(e.points[e.points.length - 1].y);
    }
    expect(l.width).toBeGreaterThan(0);
    expect(l.height).toBeGreaterThan(0);
  });

  it('keeps positions for the same graph, with the nodes\' new details', () => {
    const first = layoutGraph(buildGraph(analysis));
    const changed: Analysis = { ...analysis, diagnostics: [] };
    const second = layoutGraph(buildGraph(changed));
    expect(second.nodes.map(n => [n.x, n.y])).toEqual(first.nodes.map(n => [n.x, n.y]));
    expect(second.nodes.find(n => n.id === 'report')!.problem).toBeNull();
  });

  it('lays out a 100-step pipeline', () => {
    const steps: Step[] = [];
    for (let i = 0; i < 100; i++) {
      const ins: Record<string, string> = {};
      if (i > 0) {
        ins[`v${i - 1}`] = `s${i - 1}`;
      }
      if (i > 5) {
        ins[`w${i - 5}`] = `s${i - 5}`;
      }
      steps.push(step(`s${i}`, [i], Object.values(ins), ins));
    }
    const l = layoutGraph(buildGraph({ ...analysis, steps, file_edges: [], diagnostics: [] }));
    expect(l.nodes).toHaveLength(100);
    expect(new Set(l.nodes.map(n => `${n.x},${n.y}`)).size).toBe(100);
  });
});

describe('transitiveReduction', () => {
  type E = { from: string; to: string };
  const reaches = (edges: E[], from: string, to: string): boolean => {
    const seen = new Set<string>();
    const todo = [from];
    while (todo.length) {
      const u = todo.pop()!;
      for (const e of edges) {
        if (e.from === u && !seen.has(e.to)) {
          if (e.to === to) {
            return true;
          }
          seen.add(e.to);
          todo.push(e.to);
        }
      }
    }
    return false;
  };
  // A seeded pseudo-random DAG: edges only from lower to higher numbers, many of them long.
  const randomDag = (n: number, m: number, seed: number): { nodes: string[]; edges: E[] } => {
    let x = seed;
    const rnd = (k: number) => {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      return (x >>> 8) % k;
    };
    const nodes = Array.from({ length: n }, (_, i) => `n${i}`);
    const edges: E[] = [];
    for (let k = 0; k < m; k++) {
      const a = rnd(n - 1);
      const b = a + 1 + rnd(n - 1 - a);
      edges.push({ from: nodes[a], to: nodes[b] });
    }
    return { nodes, edges };
  };

  it('drops only implied edges and keeps every path', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const { nodes, edges } = randomDag(30, 90, seed);
      const kept = transitiveReduction(nodes, edges);
      const reduced = edges.filter((_, i) => kept[i]);
      expect(reduced.length).toBeLessThan(edges.length);
      edges.forEach((e, i) => {
        // Every pair the graph connects is still connected.
        expect(reaches(reduced, e.from, e.to)).toBe(true);
        // An edge is dropped exactly when a longer path implies it.
        const others = edges.filter(o => !(o.from === e.from && o.to === e.to));
        expect(kept[i]).toBe(!reaches(others, e.from, e.to));
      });
    }
  });

  it('drops a shortcut, keeps parallel edges together, and keeps everything in a cycle', () => {
    const chain = [
      { from: 'a', to: 'b' },
      { from: 'b', to: 'c' },
      { from: 'a', to: 'c' },
      { from: 'a', to: 'b' }
    ];
    expect(transitiveReduction(['a', 'b', 'c'], chain)).toEqual([true, true, false, true]);
    const cycle = [
      { from: 'a', to: 'b' },
      { from: 'b', to: 'a' },
      { from: 'a', to: 'c' },
      { from: 'b', to: 'c' }
    ];
    expect(transitiveReduction(['a', 'b', 'c'], cycle)).toEqual([true, true, true, true]);
  });

  it('draws every edge of a graph with shortcuts, labelled, from its source to its target', () => {
    const steps: Step[] = [];
    for (let i = 0; i < 12; i++) {
      const ins: Record<string, string> = {};
      for (const back of [1, 3, 7]) {
        if (i >= back) {
          ins[`v${i - back}_${i}`] = `s${i - back}`;
        }
      }
      steps.push(step(`s${i}`, [i], Object.values(ins), ins));
    }
    const file_edges = [{ from: 's0', to: 's11', path: 'model.pkl' }];
    const g = buildGraph({ ...analysis, steps, file_edges, diagnostics: [] });
    const l = layoutGraph(g);
    expect(l.edges.map(e => [e.from, e.to, e.kind, e.label])).toEqual(g.edges.map(e => [e.from, e.to, e.kind, e.label]));
    const byId = new Map(l.nodes.map(n => [n.id, n]));
    for (const e of l.edges) {
      const a = byId.get(e.from)!;
      const b = byId.get(e.to)!;
      expect(a.y).toBeLessThan(b.y);
      const first = e.points[0];
      const last = e.points[e.points.length - 1];
      expect(e.points.length).toBeGreaterThanOrEqual(2);
      // Starts at the source and ends at the target (at their borders, or near them).
      expect(Math.abs(first.y - a.y)).toBeLessThanOrEqual(a.height / 2 + 1);
      expect(Math.abs(first.x - a.x)).toBeLessThanOrEqual(a.width / 2 + 1);
      expect(Math.abs(last.y - b.y)).toBeLessThanOrEqual(b.height / 2 + 1);
      expect(Math.abs(last.x - b.x)).toBeLessThanOrEqual(b.width / 2 + 1);
      expect(Number.isFinite(e.labelX) && Number.isFinite(e.labelY)).toBe(true);
      expect(e.labelY).toBeGreaterThan(a.y);
      expect(e.labelY).toBeLessThan(b.y);
    }
    const file = l.edges.find(e => e.kind === 'file')!;
    expect(file.label).toBe('model.pkl');
    // s0 → s11 is implied (s0 → s1 → … → s11), so it is one of the curves drawn after dagre.
    expect(file.points.length).toBeGreaterThan(2);
  });
});

describe('helpers', () => {
  it('maps cells to steps', () => {
    expect([...cellSteps(analysis)]).toEqual([
      [2, 'load'],
      [3, 'clean'],
      [4, 'train'],
      [5, 'train'],
      [6, 'report']
    ]);
  });

  it('sorts diagnostics errors first', () => {
    expect(sortedDiagnostics(analysis).map(d => d.severity)).toEqual(['error', 'warning', 'info']);
  });

  it('summarises a step for its tooltip', () => {
    const train = buildGraph(analysis).nodes.find(n => n.id === 'train')!;
    const s = stepSummary(train);
    expect(s).toContain('df (from clean)');
    expect(s).toContain('raw (from load)');
    expect(s).toContain('Parameters: lr');
    expect(s).toContain('GPUs: 1');
  });
});
