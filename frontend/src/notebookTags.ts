/**
 * Tag edits applied to a notebook through JupyterLab's model: each edit is
 * one transaction of the notebook's shared model, which the notebook's
 * undo (Z in command mode) takes back in one step.
 */
import type { ICellModel } from '@jupyterlab/cells';
import type { INotebookModel } from '@jupyterlab/notebook';

import { renameInCell } from './tags';

/** A cell's tags (metadata.tags), always a list of strings. */
export function cellTags(cell: ICellModel): string[] {
  const tags = cell.getMetadata('tags');
  return Array.isArray(tags) ? tags.filter((t): t is string => typeof t === 'string') : [];
}

/**
 * Runs f as one transaction of the notebook, undone on its own: without
 * stopCapturing, edits less than half a second apart would merge into one
 * undo step.
 */
function undoable(model: INotebookModel, f: () => void): void {
  const um = (model.sharedModel as { undoManager?: { stopCapturing(): void } }).undoManager;
  um?.stopCapturing();
  model.sharedModel.transact(f);
  um?.stopCapturing();
}

function sameTags(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((t, i) => t === b[i]);
}

/** Writes tags into the cell's metadata as Kale does; no tags removes the key. */
function writeTags(cell: ICellModel, tags: readonly string[]): void {
  if (tags.length === 0) {
    cell.deleteMetadata('tags');
  } else {
    cell.setMetadata('tags', [...tags]);
  }
}

/**
 * Changes one cell's tags with `edit`, as one undoable step. Returns
 * whether anything changed.
 */
export function editCellTags(
  model: INotebookModel,
  cell: ICellModel,
  edit: (tags: string[]) => string[]
): boolean {
  const before = cellTags(cell);
  const after = edit([...before]);
  if (sameTags(before, after)) {
    return false;
  }
  undoable(model, () => writeTags(cell, after));
  return true;
}

/**
 * Renames a step everywhere in the notebook: every block:/step: tag that
 * starts or continues it and every prev: that names it, as one undoable
 * step. Returns how many cells changed.
 */
export function renameStep(model: INotebookModel, from: string, to: string): number {
  if (from === to || from === '') {
    return 0;
  }
  const changes: [ICellModel, readonly string[]][] = [];
  for (let i = 0; i < model.cells.length; i++) {
    const cell = model.cells.get(i);
    const tags = cellTags(cell);
    const renamed = renameInCell(tags, from, to);
    if (renamed !== tags) {
      changes.push([cell, renamed]);
    }
  }
  if (changes.length > 0) {
    undoable(model, () => {
      for (const [cell, tags] of changes) {
        writeTags(cell, tags);
      }
    });
  }
  return changes.length;
}

/** The names of the steps the notebook's tags declare, in notebook order. */
export function declaredSteps(model: INotebookModel): string[] {
  const names: string[] = [];
  for (let i = 0; i < model.cells.length; i++) {
    for (const t of cellTags(model.cells.get(i))) {
      const m = /^(?:block|step):(.+)$/.exec(t);
      if (m && !names.includes(m[1])) {
        names.push(m[1]);
      }
    }
  }
  return names;
}
