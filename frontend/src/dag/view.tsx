/**
 * The pipeline drawn as SVG from a dagre layout: steps in their colours
 * with their run state, data edges labelled with the names that flow, file
 * edges dashed. Steps are buttons: Enter or a click goes to the step's
 * first cell; hovering (or focusing) shows what the step reads and writes.
 */
import * as React from 'react';

import type { Layout, PlacedEdge, PlacedNode } from './model';
import { shortLabel, stepSummary } from './model';

export interface IDagViewProps {
  layout: Layout;
  /** Each step's phase in the run shown, by step name. */
  phases: Map<string, string>;
  onOpenStep: (step: string) => void;
}

function path(e: PlacedEdge): string {
  return e.points.map((p, i) => `${i === 0 ? 'M' : 'L'}${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(' ');
}

function Node(props: { n: PlacedNode; phase: string | undefined; onOpen: () => void }): JSX.Element {
  const { n, phase } = props;
  const x = n.x - n.width / 2;
  const y = n.y - n.height / 2;
  const state = phase ? ` di-state-${phase.toLowerCase()}` : '';
  const label = `Step ${n.id}${phase ? `, ${phase}` : ''}${n.problem ? `, has ${n.problem}s` : ''}`;
  return (
    <g
      className={`di-DagNode${state}${n.problem ? ` di-mod-${n.problem}` : ''}`}
      data-step={n.id}
      data-phase={phase ?? ''}
      tabIndex={0}
      role="button"
      aria-label={label}
      style={{ ['--di-step-color' as string]: n.color }}
      onClick={props.onOpen}
      onKeyDown={e => {
        if (e.key === 'Enter' || e.key === ' ') {
          e.preventDefault();
          props.onOpen();
        }
      }}
    >
      <title>{stepSummary(n) + (phase ? `\nState: ${phase}` : '')}</title>
      <rect x={x} y={y} width={n.width} height={n.height} rx={6} ry={6} className="di-DagNode-box" />
      <rect x={x} y={y} width={6} height={n.height} rx={3} className="di-DagNode-band" />
      <text x={n.x + 3} y={n.y} dominantBaseline="central" textAnchor="middle" className="di-DagNode-label">
        {n.id}
      </text>
      {n.gpus > 0 && (
        <text x={x + n.width - 4} y={y + 9} textAnchor="end" className="di-DagNode-gpu">
          GPU
        </text>
      )}
    </g>
  );
}

export function DagView(props: IDagViewProps): JSX.Element {
  const { layout } = props;
  if (layout.nodes.length === 0) {
    return <p className="di-Empty">No steps yet: tag a cell with a step name, or add ## headings.</p>;
  }
  return (
    <div className="di-Dag">
      <svg
        width={layout.width}
        height={layout.height}
        style={{ maxWidth: '100%', height: 'auto' }}
        viewBox={`0 0 ${layout.width} ${layout.height}`}
        role="group"
        aria-label={`Pipeline of ${layout.nodes.length} steps`}
      >
        <defs>
          <marker id="di-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
            <path d="M0,0 L10,5 L0,10 z" className="di-DagArrow" />
          </marker>
        </defs>
        {layout.edges.map((e, i) => (
          <g key={`e${i}`} className={`di-DagEdge di-mod-${e.kind}`} data-from={e.from} data-to={e.to} data-kind={e.kind}>
            <title>
              {e.kind === 'data'
                ? `${e.from} → ${e.to}: ${e.label}`
                : e.kind === 'file'
                  ? `${e.from} → ${e.to} through the file ${e.label}`
                  : `${e.to} runs after ${e.from}`}
            </title>
            <path d={path(e)} markerEnd="url(#di-arrow)" className="di-DagEdge-line" />
            {e.label && (
              <text x={e.labelX} y={e.labelY} textAnchor="middle" dominantBaseline="central" className="di-DagEdge-label">
                {shortLabel(e.label)}
              </text>
            )}
          </g>
        ))}
        {layout.nodes.map(n => (
          <Node key={n.id} n={n} phase={props.phases.get(n.id)} onOpen={() => props.onOpenStep(n.id)} />
        ))}
      </svg>
    </div>
  );
}
