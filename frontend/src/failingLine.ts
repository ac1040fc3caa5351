/**
 * The line a failed step's traceback points at, highlighted in the cell's
 * editor as a CodeMirror line decoration (it stays on its line while the
 * user edits, and is redrawn with the editor).
 */
import { StateEffect, StateField } from '@codemirror/state';
import type { DecorationSet } from '@codemirror/view';
import { Decoration, EditorView } from '@codemirror/view';
import type { CodeEditor } from '@jupyterlab/codeeditor';
import type { CodeMirrorEditor } from '@jupyterlab/codemirror';

const setLine = StateEffect.define<number | null>();

const failingLineField = StateField.define<DecorationSet>({
  create: () => Decoration.none,
  update(deco, tr) {
    deco = deco.map(tr.changes);
    for (const e of tr.effects) {
      if (!e.is(setLine)) {
        continue;
      }
      const n = e.value;
      if (n === null || n < 1 || n > tr.state.doc.lines) {
        deco = Decoration.none;
      } else {
        const line = tr.state.doc.line(n);
        deco = Decoration.set([Decoration.line({ class: 'di-failing-line' }).range(line.from)]);
      }
    }
    return deco;
  },
  provide: f => EditorView.decorations.from(f)
});

const injected = new WeakSet<object>();

/** Marks line (1-based) of the editor as failing; null clears the mark. */
export function markFailingLine(editor: CodeEditor.IEditor, line: number | null): void {
  const cm = editor as Partial<CodeMirrorEditor>;
  if (typeof cm.injectExtension !== 'function' || !cm.editor) {
    return;
  }
  if (!injected.has(cm)) {
    if (line === null) {
      return;
    }
    cm.injectExtension(failingLineField);
    injected.add(cm);
  }
  cm.editor.dispatch({ effects: setLine.of(line) });
}
