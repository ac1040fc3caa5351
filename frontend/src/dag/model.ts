/**
 * The pipeline graph of an analysis, and its layout (dagre): the panel
 * draws what this returns. Pure functions of the analysis, so the graph
 * can be tested without a browser.
 */
import * as dagre from '@dagrejs/dagre';

import type { Analysis, Diagnostic, Step } from '../rpc/api.gen';

/** A step of the pipeline, as drawn. */
export interface StepNode {
  id: string;
  /** The step's colour: the same on its node and its cells' chips. */
  color: string;
  cells: number[];
  ins: Record<string, string>;
  outs: string[];
  params: string[];
  metrics: string[];
  gpus: number;
  image: string;
  /** The worst diagnostic of the step's cells: error, warning, or null. */
  problem: 'error' | 'warning' | null;
}

/** An edge: data (names flow), file (a file one writes and the other reads), or order (prev: only). */
export interface StepEdge {
  from: string;
  to: string;
  kind: 'data' | 'file' | 'order';
  /** The names that flow, or the file's path. */
  label: string;
}

export interface PipelineGraph {
  nodes: StepNode[];
  edges: StepEdge[];
}

/** Colours that read on JupyterLab's light and dark themes alike. */
export const PALETTE = [
  '#1f77b4',
  '#ff7f0e',
  '#2ca02c',
  '#d62728',
  '#9467bd',
  '#8c564b',
  '#e377c2',
  '#17becf',
  '#bcbd22',
  '#7f7f7f'
];

function hashIndex(name: string): number {
  let h = 2166136261;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 16777619);
  }
  return (h >>> 0) % PALETTE.length;
}

/** Each analysis's colours, worked out once. */
const coloursOf = new WeakMap<Analysis, Map<string, string>>();

/**
 * A step's colour: from a hash of its name, so that it does not change
 * when other steps are added or removed. Given the pipeline's analysis,
 * a step whose colour an earlier step (in pipeline order) already has
 * takes the next free one instead: up to the palette's size, every step
 * of a pipeline has a colour of its own. A step not in the analysis (of a
 * past run) keeps its hashed colour.
 */
export function stepColor(name: string, a?: Analysis | null): string {
  if (a) {
    let colours = coloursOf.get(a);
    if (!colours) {
      colours = new Map();
      const taken = new Set<number>();
      for (const s of steps(a)) {
        let i = hashIndex(s.name);
        for (let probe = 0; taken.has(i) && probe < PALETTE.length; probe++) {
          i = (i + 1) % PALETTE.length;
        }
        taken.add(i);
        colours.set(s.name, PALETTE[i]);
      }
      coloursOf.set(a, colours);
    }
    const c = colours.get(name);
    if (c) {
      return c;
    }
  }
  return PALETTE[hashIndex(name)];
}

function steps(a: Analysis): Step[] {
  return (a.steps ?? []).filter((s): s is Step => s !== null);
}

/** The graph of an analysis. */
export function buildGraph(a: Analysis): PipelineGraph {
  const all = steps(a);
  const problems = new Map<number, 'error' | 'warning'>();
  for (const d of a.diagnostics ?? []) {
    if (d.cell === null || (d.severity !== 'error' && d.severity !== 'warning')) {
      continue;
    }
    if (problems.get(d.cell) !== 'error') {
      problems.set(d.cell, d.severity);
    }
  }
  const nodes = all.map((s): StepNode => {
    const cells = s.cells ?? [];
    let problem: StepNode['problem'] = null;
    for (const c of cells) {
      const p = problems.get(c);
      if (p === 'error' || (p === 'warning' && problem === null)) {
        problem = p;
      }
    }
    const gpu = s.settings?.limits?.['nvidia.com/gpu'];
    return {
      id: s.name,
      color: stepColor(s.name, a),
      cells,
      ins: s.ins ?? {},
      outs: s.outs ?? [],
      params: s.params ?? [],
      metrics: s.metrics ?? [],
      gpus: gpu && /^\d+$/.test(gpu) ? Number(gpu) : 0,
      image: s.settings?.image ?? '',
      problem
    };
  });
  const names = new Set(all.map(s => s.name));
  const files = new Map<string, string[]>();
  for (const f of a.file_edges ?? []) {
    const key = `${f.from}\u0000${f.to}`;
    files.set(key, [...(files.get(key) ?? []), f.path]);
  }
  const edges: StepEdge[] = [];
  for (const s of all) {
    const flowing = new Map<string, string[]>();
    for (const [name, from] of Object.entries(s.ins ?? {})) {
      flowing.set(from, [...(flowing.get(from) ?? []), name]);
    }
    const preds = new Set<string>([...(s.after ?? []), ...flowing.keys()]);
    for (const from of preds) {
      if (!names.has(from) || from === s.name) {
        continue;
      }
      const data = flowing.get(from);
      const key = `${from}\u0000${s.name}`;
      const paths = files.get(key);
      if (data) {
        edges.push({ from, to: s.name, kind: 'data', label: [...data].sort().join(', ') });
      }
      if (paths) {
        edges.push({ from, to: s.name, kind: 'file', label: paths.join(', ') });
        files.delete(key);
      }
      if (!data && !paths) {
        edges.push({ from, to: s.name, kind: 'order', label: '' });
      }
    }
  }
  // File edges between steps that after does not list.
  for (const [key, paths] of files) {
    const [from, to] = key.split('\u0000');
    if (names.has(from) && names.has(to)) {
      edges.push({ from, to, kind: 'file', label: paths.join(', ') });
    }
  }
  return { nodes, edges };
}

/** A node placed: its centre and size. */
export interface PlacedNode extends StepNode {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** An edge routed: its points and where its label goes. */
export interface PlacedEdge extends StepEdge {
  points: { x: number; y: number }[];
  labelX: number;
  labelY: number;
}

export interface Layout {
  nodes: PlacedNode[];
  edges: PlacedEdge[];
  width: number;
  height: number;
}

export const NODE_HEIGHT = 34;
const CHAR_WIDTH = 7.2;
const LABEL_MAX = 28;

/** Shortens an edge label to what fits beside an edge. */
export function shortLabel(label: string): string {
  return label.length > LABEL_MAX ? label.slice(0, LABEL_MAX - 1) + '…' : label;
}

function nodeWidth(name: string): number {
  return Math.max(70, Math.round(name.length * CHAR_WIDTH) + 34);
}

/** What the layout needs of a graph: sizes and connections only (structured-clonable, for a worker). */
export interface LayoutRequest {
  nodes: { id: string; width: number; height: number }[];
  edges: { from: string; to: string; labelWidth: number; labelHeight: number }[];
}

/** Where dagre put things, in the request's order. */
export interface LayoutResult {
  nodes: { x: number; y: number; width: number; height: number }[];
  edges: { points: { x: number; y: number }[]; labelX: number; labelY: number }[];
  width: number;
  height: number;
}

/** The layout depends only on the graph's shape and labels: this key says when two graphs share one. */
export function layoutKey(g: PipelineGraph): string {
  return JSON.stringify([g.nodes.map(n => n.id), g.edges.map(e => [e.from, e.to, e.kind, e.label])]);
}

/** The sizes and connections of a graph, for computeLayout. */
export function layoutRequest(g: PipelineGraph): LayoutRequest {
  return {
    nodes: g.nodes.map(n => ({ id: n.id, width: nodeWidth(n.id), height: NODE_HEIGHT })),
    edges: g.edges.map(e => {
      const text = shortLabel(e.label);
      return {
        from: e.from,
        to: e.to,
        labelWidth: text ? Math.round(text.length * 6.2) + 8 : 0,
        labelHeight: text ? 16 : 0
      };
    })
  };
}

/**
 * Which edges are in the transitive reduction of the graph: an edge u → v
 * is left out (false) when v can also be reached from u by a longer path,
 * so that the edges kept still connect every pair the graph connects.
 * Parallel edges (a data and a file edge between the same steps) share
 * their fate. A graph with a cycle has no unique reduction: every edge is
 * kept. Edges from or to a node not in nodes are kept.
 */
export function transitiveReduction(nodes: string[], edges: { from: string; to: string }[]): boolean[] {
  const index = new Map<string, number>();
  nodes.forEach((id, i) => index.set(id, i));
  const n = nodes.length;
  const succ: Set<number>[] = nodes.map(() => new Set<number>());
  for (const e of edges) {
    const u = index.get(e.from);
    const v = index.get(e.to);
    if (u !== undefined && v !== undefined && u !== v) {
      succ[u].add(v);
    }
  }
  // Topological order (Kahn); a cycle leaves nodes out of it.
  const indegree = new Array<number>(n).fill(0);
  for (const s of succ) {
    for (const v of s) {
      indegree[v]++;
    }
  }
  const order: number[] = [];
  for (let i = 0; i < n; i++) {
    if (indegree[i] === 0) {
      order.push(i);
    }
  }
  for (let k = 0; k < order.length; k++) {
    for (const v of succ[order[k]]) {
      if (--indegree[v] === 0) {
        order.push(v);
      }
    }
  }
  if (order.length < n) {
    return edges.map(() => true);
  }
  // reach[u]: the nodes reachable from u by a path of one edge or more, as bits.
  const words = Math.ceil(n / 32);
  const reach = nodes.map(() => new Uint32Array(words));
  const has = (bits: Uint32Array, v: number) => (bits[v >>> 5] & (1 << (v & 31))) !== 0;
  for (let k = order.length - 1; k >= 0; k--) {
    const u = order[k];
    const r = reach[u];
    for (const v of succ[u]) {
      r[v >>> 5] |= 1 << (v & 31);
      const rv = reach[v];
      for (let w = 0; w < words; w++) {
        r[w] |= rv[w];
      }
    }
  }
  // u → v is implied when another successor of u reaches v.
  const implied = new Set<string>();
  for (let u = 0; u < n; u++) {
    for (const v of succ[u]) {
      for (const w of succ[u]) {
        if (w !== v && has(reach[w], v)) {
          implied.add(`${u} ${v}`);
          break;
        }
      }
    }
  }
  return edges.map(e => {
    const u = index.get(e.from);
    const v = index.get(e.to);
    return u === undefined || v === undefined || !implied.has(`${u} ${v}`);
  });
}

/** Points along a curve from the bottom of one node to the top of another, for an edge dagre did not route. */
function curve(
  a: { x: number; y: number; height: number },
  b: { x: number; y: number; height: number }
): { x: number; y: number }[] {
  const x0 = a.x;
  const y0 = a.y + a.height / 2;
  const x3 = b.x;
  const y3 = b.y - b.height / 2;
  const bend = Math.max(20, (y3 - y0) / 2);
  const y1 = y0 + bend;
  const y2 = y3 - bend;
  const points: { x: number; y: number }[] = [];
  const steps = 12;
  for (let i = 0; i <= steps; i++) {
    const t = i / steps;
    const s = 1 - t;
    // Cubic Bézier with control points straight below the source and above the target.
    const x = s * s * s * x0 + 3 * s * s * t * x0 + 3 * s * t * t * x3 + t * t * t * x3;
    const y = s * s * s * y0 + 3 * s * s * t * y1 + 3 * s * t * t * y2 + t * t * t * y3;
    points.push({ x, y });
  }
  return points;
}

/**
 * Lays a graph out top to bottom with dagre. Dagre gets only the
 * transitive reduction of the graph (transitiveReduction): an edge implied
 * by a longer path would span many ranks and cost dagre a chain of dummy
 * nodes, for a layout that the longer path decides anyway. Those edges are
 * drawn afterwards as curves from the placed nodes, labels included. Pure,
 * and still slow-ish on large graphs: the panel runs it in a worker
 * (layoutClient.ts, layoutWorker.ts).
 */
export function computeLayout(r: LayoutRequest): LayoutResult {
  const kept = transitiveReduction(
    r.nodes.map(n => n.id),
    r.edges
  );
  const dg = new dagre.graphlib.Graph({ multigraph: true });
  dg.setGraph({ rankdir: 'TB', nodesep: 24, ranksep: 46, edgesep: 12, marginx: 12, marginy: 12 });
  dg.setDefaultEdgeLabel(() => ({}));
  for (const n of r.nodes) {
    dg.setNode(n.id, { width: n.width, height: n.height });
  }
  r.edges.forEach((e, i) => {
    if (kept[i]) {
      dg.setEdge(e.from, e.to, { width: e.labelWidth, height: e.labelHeight, labelpos: 'c' }, `e${i}`);
    }
  });
  dagre.layout(dg);
  const nodes = r.nodes.map(n => {
    const p = dg.node(n.id);
    return { x: p.x ?? 0, y: p.y ?? 0, width: p.width, height: p.height };
  });
  const at = new Map(r.nodes.map((n, i) => [n.id, nodes[i]]));
  const gl = dg.graph();
  const width = gl.width ?? 0;
  const height = gl.height ?? 0;
  const edges = r.edges.map((e, i) => {
    if (!kept[i]) {
      const points = curve(at.get(e.from)!, at.get(e.to)!);
      // The label goes on the curve, as near its middle as it can without
      // covering a step, and inside the drawing.
      const half = e.labelWidth / 2;
      const clampX = (x: number) => (width > 2 * half ? Math.min(Math.max(x, half), width - half) : x);
      const middle = Math.floor(points.length / 2);
      const byCloseness = points
        .map((q, k) => ({ q, d: Math.abs(k - middle) }))
        .sort((u, v) => u.d - v.d)
        .map(u => u.q);
      const clear = (q: { x: number; y: number }) =>
        nodes.every(
          n =>
            Math.abs(clampX(q.x) - n.x) >= half + n.width / 2 ||
            Math.abs(q.y - n.y) >= e.labelHeight / 2 + n.height / 2
        );
      const spot = (e.labelWidth > 0 && byCloseness.find(clear)) || points[middle];
      return { points, labelX: clampX(spot.x), labelY: spot.y };
    }
    const p = dg.edge({ v: e.from, w: e.to, name: `e${i}` });
    const points = (p?.points ?? []).map((q: { x: number; y: number }) => ({ x: q.x, y: q.y }));
    const mid = points[Math.floor(points.length / 2)] ?? { x: 0, y: 0 };
    return { points, labelX: p?.x ?? mid.x, labelY: p?.y ?? mid.y };
  });
  return { nodes, edges, width, height };
}

/** A graph placed by a result computed for it (same nodes and edges, same order). */
export function placeGraph(g: PipelineGraph, r: LayoutResult): Layout {
  return {
    nodes: g.nodes.map((n, i): PlacedNode => ({ ...n, ...r.nodes[i] })),
    edges: g.edges.map((e, i): PlacedEdge => ({ ...e, ...r.edges[i] })),
    width: r.width,
    height: r.height
  };
}

/**
 * Lays the graph out on the calling thread (tests, and the panel where no
 * worker can start). The layout is kept for a graph of the same shape:
 * typing inside a step redraws without laying out again.
 */
export function layoutGraph(g: PipelineGraph): Layout {
  const key = layoutKey(g);
  if (cache && cache.key === key) {
    return reuse(cache.layout, g);
  }
  const layout = placeGraph(g, computeLayout(layoutRequest(g)));
  cache = { key, layout };
  return layout;
}

let cache: { key: string; layout: Layout } | null = null;

/** A layout with the new graph's node details (positions kept); the graph must have the layout's shape. */
export function reuse(l: Layout, g: PipelineGraph): Layout {
  const byId = new Map(g.nodes.map(n => [n.id, n]));
  return {
    ...l,
    nodes: l.nodes.map(n => ({ ...n, ...byId.get(n.id)!, x: n.x, y: n.y, width: n.width, height: n.height }))
  };
}

/** The step each cell belongs to, by cell index. */
export function cellSteps(a: Analysis): Map<number, string> {
  const m = new Map<number, string>();
  for (const s of steps(a)) {
    for (const c of s.cells ?? []) {
      m.set(c, s.name);
    }
  }
  return m;
}

/** Diagnostics, errors first, then by cell and line. */
export function sortedDiagnostics(a: Analysis): Diagnostic[] {
  const rank = (s: string) => (s === 'error' ? 0 : s === 'warning' ? 1 : 2);
  return [...(a.diagnostics ?? [])].sort(
    (x, y) =>
      rank(x.severity) - rank(y.severity) ||
      (x.cell ?? -1) - (y.cell ?? -1) ||
      x.line - y.line ||
      x.col - y.col
  );
}

/** A step's hover text: what it reads, writes and takes. */
export function stepSummary(n: StepNode): string {
  const lines = [`Step ${n.id}`];
  const ins = Object.entries(n.ins).map(([name, from]) => `${name} (from ${from})`);
  lines.push(`Reads: ${ins.length ? ins.join(', ') : 'nothing'}`);
  lines.push(`Writes: ${n.outs.length ? n.outs.join(', ') : 'nothing'}`);
  if (n.params.length) {
    lines.push(`Parameters: ${n.params.join(', ')}`);
  }
  if (n.metrics.length) {
    lines.push(`Metrics: ${n.metrics.join(', ')}`);
  }
  if (n.gpus) {
    lines.push(`GPUs: ${n.gpus}`);
  }
  if (n.image) {
    lines.push(`Image: ${n.image}`);
  }
  lines.push(`Cells: ${n.cells.join(', ')}`);
  return lines.join('\n');
}
