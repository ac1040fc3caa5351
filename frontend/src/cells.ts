/**
 * Inline in the notebook: a chip above each code cell with its step (in the
 * step's colour), what the step reads and from which step, badges for its
 * role, GPUs, image, retries and skip, and, while a run goes on, the step's
 * state. A failed step's failing cell shows the error and the line.
 */
import type { Cell } from '@jupyterlab/cells';
import type { NotebookPanel } from '@jupyterlab/notebook';
import { PanelLayout, Widget } from '@lumino/widgets';

import { cellSteps, stepColor } from './dag/model';
import { markFailingLine } from './failingLine';
import { cellTags } from './notebookTags';
import type { Analysis, Run, Step } from './rpc/api.gen';
import { describe } from './tags';

/** Where a step failed: the cell, the line, and the error. */
export interface Failure {
  step: string;
  cell: number;
  line: number | null;
  ename: string;
  evalue: string;
  traceback: string[];
}

export interface IDecoration {
  analysis: Analysis | null;
  /** The run whose states the cells show (the selected or the latest). */
  run: Run | null;
  failures: Failure[];
}

const CHIP_CLASS = 'di-CellChip';
const STATES = ['Pending', 'Running', 'Succeeded', 'Failed', 'Error', 'Cancelled', 'Skipped', 'Cached'];

/** Turns ANSI-coloured traceback text into plain text. */
export function stripAnsi(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/\u001b\[[0-9;]*m/g, '');
}

/** The line of `cell` a traceback points at last ("cell N, line L"), or null. */
export function failingLine(traceback: string[], cell: number): number | null {
  let line: number | null = null;
  const re = /cell (\d+), line (\d+)/g;
  for (const t of traceback) {
    for (const m of stripAnsi(t).matchAll(re)) {
      if (Number(m[1]) === cell) {
        line = Number(m[2]);
      }
    }
  }
  return line;
}

/** The chip of one cell: a widget inserted above the cell's input. */
class Chip extends Widget {
  constructor(private readonly onEdit: () => void) {
    super();
    this.addClass(CHIP_CLASS);
  }

  /** Renders the chip; the signature skips redrawing what did not change. */
  render(signature: string, draw: (node: HTMLElement) => void): void {
    if (signature === this._signature) {
      return;
    }
    this._signature = signature;
    this.node.textContent = '';
    draw(this.node);
    const edit = this.node.querySelector<HTMLButtonElement>('.di-CellChip-step');
    edit?.addEventListener('click', e => {
      e.stopPropagation();
      this.onEdit();
    });
  }

  private _signature = '';
}

export class CellDecorator {
  constructor(
    private readonly panel: NotebookPanel,
    private readonly onEdit: (cell: Cell) => void
  ) {
    panel.content.model?.cells.changed.connect(this._onCells, this);
  }

  /** Shows the analysis and the run's states on the cells. */
  update(d: IDecoration): void {
    this._last = d;
    for (const [cell, chip] of this._chips) {
      if (cell.isDisposed) {
        chip.dispose();
        this._chips.delete(cell);
      }
    }
    const nb = this.panel.content;
    const steps = d.analysis ? cellSteps(d.analysis) : new Map<number, string>();
    const byName = new Map<string, Step>();
    for (const s of d.analysis?.steps ?? []) {
      if (s) {
        byName.set(s.name, s);
      }
    }
    const phases = new Map<string, string>();
    for (const s of d.run?.steps ?? []) {
      phases.set(s.name, s.cached && s.phase === 'Succeeded' ? 'Cached' : s.phase);
    }
    nb.widgets.forEach((cell, i) => {
      if (cell.model.type !== 'code') {
        return;
      }
      const step = steps.get(i) ?? null;
      const info = describe(cellTags(cell.model));
      const s = step ? byName.get(step) : undefined;
      const first = s ? (s.cells ?? [])[0] === i : false;
      const phase = step ? (phases.get(step) ?? null) : null;
      const failure = d.failures.find(f => f.cell === i) ?? null;
      for (const st of STATES) {
        cell.toggleClass(`di-cell-${st.toLowerCase()}`, phase === st);
      }
      cell.toggleClass('di-cell-failing', failure !== null);
      const chip = this._chip(cell);
      if (!chip) {
        return;
      }
      const ins = first && s ? Object.entries(s.ins ?? {}) : [];
      const sig = JSON.stringify([step, info, ins, phase, failure, first]);
      chip.render(sig, node => {
        const edit = document.createElement('button');
        edit.className = 'di-CellChip-step';
        edit.title = 'Edit this cell\'s pipeline tags';
        if (step) {
          edit.style.setProperty('--di-step-color', stepColor(step, d.analysis));
          edit.dataset.step = step;
          edit.textContent = step;
        } else if (info.role) {
          edit.classList.add('di-mod-role');
          edit.textContent = info.role;
        } else {
          edit.classList.add('di-mod-none');
          edit.textContent = 'not in the pipeline';
        }
        edit.setAttribute('aria-label', `Pipeline tags of this cell: ${edit.textContent}. Edit`);
        node.appendChild(edit);
        if (phase) {
          node.appendChild(badge(phase, `di-CellChip-state di-state-${phase.toLowerCase()}`, `Step ${step}: ${phase}`));
        }
        if (ins.length) {
          const reads = document.createElement('span');
          reads.className = 'di-CellChip-reads';
          reads.textContent = 'reads ' + ins.map(([n, from]) => `${n} ← ${from}`).join(', ');
          reads.title = reads.textContent;
          node.appendChild(reads);
        }
        if (info.role && step) {
          node.appendChild(badge(info.role, 'di-CellChip-badge'));
        }
        if (info.gpus) {
          node.appendChild(badge(`GPU ×${info.gpus}`, 'di-CellChip-badge di-mod-gpu'));
        }
        for (const [r, q] of Object.entries(info.limits)) {
          if (r !== 'nvidia.com/gpu') {
            node.appendChild(badge(`${r} ${q}`, 'di-CellChip-badge'));
          }
        }
        if (info.image) {
          node.appendChild(badge(`image ${info.image}`, 'di-CellChip-badge'));
        }
        if (info.retry) {
          node.appendChild(badge(`retry ${info.retry}`, 'di-CellChip-badge'));
        }
        if (info.timeout) {
          node.appendChild(badge(`timeout ${info.timeout}`, 'di-CellChip-badge'));
        }
        if (info.cacheOff) {
          node.appendChild(badge('no cache', 'di-CellChip-badge'));
        }
        if (info.role === 'skip') {
          node.classList.add('di-mod-skip');
        } else {
          node.classList.remove('di-mod-skip');
        }
        if (failure) {
          const box = document.createElement('div');
          box.className = 'di-CellChip-failure';
          box.setAttribute('role', 'alert');
          const head = document.createElement('div');
          head.className = 'di-CellChip-failureHead';
          head.textContent =
            `Step ${failure.step} failed here` +
            (failure.line !== null ? ` at line ${failure.line}` : '') +
            `: ${failure.ename}: ${failure.evalue}`;
          box.appendChild(head);
          const tb = document.createElement('pre');
          tb.className = 'di-CellChip-traceback';
          tb.textContent = failure.traceback.map(stripAnsi).join('\n');
          const details = document.createElement('details');
          const summary = document.createElement('summary');
          summary.textContent = 'Traceback';
          details.append(summary, tb);
          box.appendChild(details);
          node.appendChild(box);
        }
      });
    });
    this._markLines(d.failures);
  }

  /** Highlights the failing line in the failing cells' editors. */
  private _markLines(failures: Failure[]): void {
    this.panel.content.widgets.forEach((cell, i) => {
      const f = failures.find(x => x.cell === i);
      if (cell.editor) {
        markFailingLine(cell.editor, f ? f.line : null);
      }
    });
  }

  /** Moves the cursor to a failure's line and reveals the cell. */
  reveal(f: Failure): void {
    const nb = this.panel.content;
    const cell = nb.widgets[f.cell];
    if (!cell) {
      return;
    }
    nb.activeCellIndex = f.cell;
    nb.mode = 'command';
    void nb.scrollToItem(f.cell, 'center');
    if (f.line !== null && cell.editor) {
      cell.editor.setCursorPosition({ line: Math.max(0, f.line - 1), column: 0 });
    }
  }

  dispose(): void {
    this.panel.content.model?.cells.changed.disconnect(this._onCells, this);
    for (const chip of this._chips.values()) {
      chip.dispose();
    }
    this._chips.clear();
    this.panel.content.widgets.forEach(cell => {
      for (const st of STATES) {
        cell.removeClass(`di-cell-${st.toLowerCase()}`);
      }
      cell.removeClass('di-cell-failing');
    });
  }

  private _onCells(): void {
    // New cells get their chips once their widgets exist.
    requestAnimationFrame(() => {
      if (this._last) {
        this.update(this._last);
      }
    });
  }

  /** The cell's chip, inserted once the cell's DOM exists (cells render lazily). */
  private _chip(cell: Cell): Chip | null {
    const have = this._chips.get(cell);
    if (have && !have.isDisposed && have.parent === cell) {
      return have;
    }
    if (!cell.inputArea || !(cell.layout instanceof PanelLayout)) {
      if (!this._waiting.has(cell)) {
        this._waiting.add(cell);
        void cell.ready.then(() => {
          this._waiting.delete(cell);
          if (this._last && !cell.isDisposed) {
            this.update(this._last);
          }
        });
      }
      return null;
    }
    const chip = new Chip(() => this.onEdit(cell));
    // After the cell's header, above its input.
    (cell.layout as PanelLayout).insertWidget(1, chip);
    this._chips.set(cell, chip);
    return chip;
  }

  private _chips = new Map<Cell, Chip>();
  private _waiting = new Set<Cell>();
  private _last: IDecoration | null = null;
}

function badge(text: string, className: string, title?: string): HTMLElement {
  const b = document.createElement('span');
  b.className = className;
  b.textContent = text;
  if (title) {
    b.title = title;
  }
  return b;
}
