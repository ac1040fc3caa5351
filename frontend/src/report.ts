/**
 * A step's report (the cells it ran, with their outputs) opened in the main
 * area, its outputs rendered by JupyterLab's own output renderers.
 */
import { MainAreaWidget } from '@jupyterlab/apputils';
import type * as nbformat from '@jupyterlab/nbformat';
import { OutputArea, OutputAreaModel } from '@jupyterlab/outputarea';
import { IRenderMimeRegistry, MimeModel } from '@jupyterlab/rendermime';
import { Panel, Widget } from '@lumino/widgets';

interface ReportCell {
  cell_type: string;
  source: string | string[];
  outputs?: nbformat.IOutput[];
  metadata?: { datainsight?: { cell?: number; role?: string; skipped?: boolean } };
}

function text(s: string | string[]): string {
  return Array.isArray(s) ? s.join('') : s;
}

/** The report as a widget: each cell's source, then its outputs. */
export function reportWidget(rendermime: IRenderMimeRegistry, report: string): Widget {
  const doc = JSON.parse(report) as { cells?: ReportCell[] };
  const panel = new Panel();
  panel.addClass('di-Report');
  for (const c of doc.cells ?? []) {
    const box = new Panel();
    box.addClass('di-ReportCell');
    const where = c.metadata?.datainsight?.cell;
    const head = new Widget();
    head.addClass('di-ReportCell-head');
    head.node.textContent =
      c.cell_type === 'markdown' ? '' : `cell ${where ?? '?'}${c.metadata?.datainsight?.role ? ` (${c.metadata.datainsight.role})` : ''}`;
    box.addWidget(head);
    if (c.cell_type === 'markdown') {
      const md = rendermime.createRenderer('text/markdown');
      void md.renderModel(new MimeModel({ data: { 'text/markdown': text(c.source) }, trusted: false }));
      md.addClass('di-ReportCell-markdown');
      box.addWidget(md);
    } else {
      const src = new Widget({ node: document.createElement('pre') });
      src.addClass('di-ReportCell-source');
      src.node.textContent = text(c.source);
      box.addWidget(src);
    }
    if (c.outputs && c.outputs.length) {
      const model = new OutputAreaModel({ values: c.outputs, trusted: false });
      const out = new OutputArea({ model, rendermime });
      box.addWidget(out);
    }
    panel.addWidget(box);
  }
  return panel;
}

export function openReport(
  add: (w: Widget) => void,
  rendermime: IRenderMimeRegistry,
  title: string,
  report: string
): void {
  const content = reportWidget(rendermime, report);
  const w = new MainAreaWidget({ content });
  w.id = `datainsight-report-${Math.random().toString(36).slice(2)}`;
  w.title.label = title;
  w.title.closable = true;
  add(w);
}
