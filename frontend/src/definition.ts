/**
 * A run's definition (run.definition): the Argo Workflow an Argo run
 * carries out, or the pipeline a local run ran, as YAML in a read-only view
 * in the main area, with a button to download it.
 */
import { MainAreaWidget } from '@jupyterlab/apputils';
import type { Message } from '@lumino/messaging';
import { Widget } from '@lumino/widgets';

import type { DefinitionResult } from './rpc/api.gen';

/** The file name a run's definition downloads as. */
export function definitionFileName(run: string, kind: string): string {
  return `${run.replace(/[^A-Za-z0-9._-]+/g, '_')}.${kind.toLowerCase() || 'definition'}.yaml`;
}

/** Saves text as a file through the browser. */
export function download(name: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: 'application/yaml' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** The view's content; activated, the YAML takes the focus, so the keyboard scrolls it at once. */
class DefinitionView extends Widget {
  protected onActivateRequest(msg: Message): void {
    super.onActivateRequest(msg);
    this.node.querySelector<HTMLElement>('.di-Definition-yaml')?.focus();
  }
}

/** The view's content: what it is, a Download button, and the YAML. */
export function definitionWidget(run: string, def: DefinitionResult): Widget {
  const w = new DefinitionView();
  w.addClass('di-Definition');
  w.node.dataset.kind = def.kind;
  w.node.dataset.run = run;
  const head = document.createElement('div');
  head.className = 'di-Definition-head';
  const what = document.createElement('span');
  what.className = 'di-Definition-kind';
  what.textContent = `${def.kind} of run ${run}`;
  const button = document.createElement('button');
  button.className = 'di-Button di-Definition-download';
  button.textContent = 'Download';
  const name = definitionFileName(run, def.kind);
  button.title = `Download ${name}`;
  button.addEventListener('click', () => download(name, def.yaml));
  head.append(what, button);
  const pre = document.createElement('pre');
  pre.className = 'di-Definition-yaml';
  pre.tabIndex = 0;
  pre.setAttribute('aria-label', `${def.kind} of run ${run}, in YAML`);
  pre.textContent = def.yaml;
  w.node.append(head, pre);
  return w;
}

export function openDefinition(add: (w: Widget) => void, run: string, def: DefinitionResult): MainAreaWidget {
  const content = definitionWidget(run, def);
  const w = new MainAreaWidget({ content });
  w.id = `datainsight-definition-${Math.random().toString(36).slice(2)}`;
  w.title.label = `${def.kind} · ${run}`;
  w.title.closable = true;
  add(w);
  return w;
}
