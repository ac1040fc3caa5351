import { NotebookModel } from '@jupyterlab/notebook';

import { cellTags, declaredSteps, editCellTags, renameStep } from '../src/notebookTags';
import * as tags from '../src/tags';

/** A real notebook model with cells of these tags (null: no tags key). */
function notebook(cellTagLists: (string[] | null)[]): NotebookModel {
  const model = new NotebookModel();
  model.sharedModel.insertCells(
    0,
    cellTagLists.map((t, i) => ({
      cell_type: 'code' as const,
      source: `x${i} = ${i}`,
      metadata: t === null ? {} : { tags: t }
    }))
  );
  // Filling the notebook is not an edit the user can undo.
  model.sharedModel.clearUndoHistory();
  return model;
}

function tagsInJSON(model: NotebookModel): (string[] | undefined)[] {
  return model.toJSON().cells.map(c => (c.metadata as { tags?: string[] }).tags);
}

describe('editCellTags', () => {
  it('writes tags into metadata.tags as Kale does, and undo takes the edit back', () => {
    const model = notebook([['imports'], null]);
    const cell = model.cells.get(1);
    expect(editCellTags(model, cell, t => tags.setStep(t, 'train'))).toBe(true);
    expect(editCellTags(model, cell, t => tags.setGPUs(t, 1))).toBe(true);
    expect(tagsInJSON(model)).toEqual([['imports'], ['block:train', 'limit:nvidia.com/gpu:1']]);
    expect(model.dirty).toBe(true);

    model.sharedModel.undo();
    expect(cellTags(cell)).toEqual(['block:train']);
    model.sharedModel.undo();
    expect(cell.getMetadata('tags')).toBeUndefined();
    expect(tagsInJSON(model)).toEqual([['imports'], undefined]);
    model.sharedModel.redo();
    expect(cellTags(cell)).toEqual(['block:train']);
  });

  it('does nothing, and leaves nothing to undo, when the tags do not change', () => {
    const model = notebook([['block:a']]);
    expect(editCellTags(model, model.cells.get(0), t => tags.setStep(t, 'a'))).toBe(false);
    expect(model.sharedModel.canUndo()).toBe(false);
  });

  it('removes the tags key when the last tag goes', () => {
    const model = notebook([['skip']]);
    editCellTags(model, model.cells.get(0), t => tags.setRole(t, null));
    expect('tags' in (model.toJSON().cells[0].metadata as object)).toBe(false);
  });
});

describe('renameStep', () => {
  it('renames the step in every cell and every prev: that names it, as one undo step', () => {
    const model = notebook([['block:load'], ['block:load'], ['block:train', 'prev:load'], ['block:report', 'prev:loader'], null]);
    expect(renameStep(model, 'load', 'read')).toBe(3);
    expect(tagsInJSON(model)).toEqual([
      ['block:read'],
      ['block:read'],
      ['block:train', 'prev:read'],
      ['block:report', 'prev:loader'],
      undefined
    ]);
    expect(declaredSteps(model)).toEqual(['read', 'train', 'report']);

    model.sharedModel.undo();
    expect(tagsInJSON(model)).toEqual([
      ['block:load'],
      ['block:load'],
      ['block:train', 'prev:load'],
      ['block:report', 'prev:loader'],
      undefined
    ]);
  });

  it('changes nothing for a name no cell uses', () => {
    const model = notebook([['block:a']]);
    expect(renameStep(model, 'zzz', 'b')).toBe(0);
    expect(model.sharedModel.canUndo()).toBe(false);
  });
});
