/**
 * The active cell's pipeline tags as a form: its role, step name, prev:
 * steps, resources, image, retries, timeout, cache and the other tags, all
 * without typing tag strings. Every change is one undoable edit of the
 * notebook model (notebookTags.ts); renaming a step renames it in every
 * cell and every prev: that names it.
 */
import type { ICellModel } from '@jupyterlab/cells';
import type { INotebookModel } from '@jupyterlab/notebook';
import * as React from 'react';

import { stepColor } from './dag/model';
import { NumberField, TextField } from './fields';
import { cellTags, declaredSteps, editCellTags, renameStep } from './notebookTags';
import type { Analysis } from './rpc/api.gen';
import * as tags from './tags';

export interface ITagEditorProps {
  model: INotebookModel;
  cell: ICellModel;
  cellIndex: number;
  analysis: Analysis | null;
  /** Says what an edit did, for the panel's live region. */
  onNotice: (text: string, error?: boolean) => void;
}

type RoleChoice = 'step' | 'continue' | tags.Role;

const ROLE_LABELS: [RoleChoice, string][] = [
  ['step', 'Starts a step'],
  ['continue', 'Continues the step above'],
  ['imports', 'Imports (prepended to every step)'],
  ['functions', 'Functions (prepended to every step)'],
  ['pipeline-parameters', 'Pipeline parameters'],
  ['pipeline-metrics', 'Pipeline metrics'],
  ['skip', 'Skipped (not in the pipeline)']
];

/** The step the analysis puts the cell in (for a cell that continues one). */
function stepOfCell(a: Analysis | null, index: number): string | null {
  for (const s of a?.steps ?? []) {
    if (s && (s.cells ?? []).includes(index)) {
      return s.name;
    }
  }
  return null;
}

export function TagEditor(props: ITagEditorProps): JSX.Element {
  const { model, cell, cellIndex, analysis } = props;
  const current = cellTags(cell);
  const info = tags.describe(current);
  const role: RoleChoice = info.role ?? (info.step ? 'step' : 'continue');
  const inStep = info.step || stepOfCell(analysis, cellIndex);
  const id = `di-tags-${cell.id}`;
  const [nameDraft, setNameDraft] = React.useState(info.step ?? '');
  const [nameError, setNameError] = React.useState('');
  const [otherDraft, setOtherDraft] = React.useState(info.other.join(' '));
  React.useEffect(() => {
    setNameDraft(info.step ?? '');
    setNameError('');
    setOtherDraft(info.other.join(' '));
  }, [cell.id, JSON.stringify(current)]);

  const edit = (what: string, f: (t: string[]) => string[]) => {
    if (editCellTags(model, cell, f)) {
      props.onNotice(`${what}. Undo with Z in command mode.`);
    }
  };

  // Steps that start before this cell: candidates for prev:.
  const before: string[] = [];
  for (const s of analysis?.steps ?? []) {
    if (s && (s.cells ?? []).some(c => c < cellIndex) && s.name !== inStep) {
      before.push(s.name);
    }
  }
  for (const p of info.prev) {
    if (!before.includes(p)) {
      before.push(p);
    }
  }

  const applyName = () => {
    const name = nameDraft.trim();
    if (name === (info.step ?? '')) {
      return;
    }
    const problem = tags.stepNameProblem(name);
    if (problem) {
      setNameError(problem);
      return;
    }
    setNameError('');
    const old = info.step;
    const exists = declaredSteps(model).includes(name);
    if (old && !exists) {
      const n = renameStep(model, old, name);
      props.onNotice(`Renamed step ${old} to ${name} in ${n} cell${n === 1 ? '' : 's'}. Undo with Z in command mode.`);
    } else {
      edit(exists ? `This cell now belongs to step ${name}` : `This cell starts step ${name}`, t => tags.setStep(t, name));
    }
  };

  const setRole = (r: RoleChoice) => {
    if (r === 'step') {
      const name = info.step || inStep || suggestName(model);
      edit(`This cell starts step ${name}`, t => tags.setStep(tags.setRole(t, null), name));
    } else if (r === 'continue') {
      edit('This cell continues the step above', t => tags.setStep(tags.setRole(t, null), null));
    } else {
      edit(`This cell is now ${r}`, t => tags.setRole(t, r));
    }
  };

  const isStepCell = role === 'step' || role === 'continue';
  return (
    <div className="di-TagEditor" aria-labelledby={`${id}-title`}>
      <h3 id={`${id}-title`} className="di-SectionTitle">
        Cell {cellIndex}
        {inStep && (
          <span className="di-StepDot" style={{ ['--di-step-color' as string]: stepColor(inStep, analysis) }}>
            {inStep}
          </span>
        )}
      </h3>
      <div className="di-Field">
        <label htmlFor={`${id}-role`}>Role</label>
        <select id={`${id}-role`} className="di-TagEditor-role" value={role} onChange={e => setRole(e.target.value as RoleChoice)}>
          {ROLE_LABELS.map(([v, l]) => (
            <option key={v} value={v}>
              {l}
            </option>
          ))}
        </select>
      </div>
      {role === 'step' && (
        <div className="di-Field">
          <label htmlFor={`${id}-name`}>Step name</label>
          <input
            id={`${id}-name`}
            className="di-TagEditor-name"
            value={nameDraft}
            spellCheck={false}
            aria-invalid={nameError !== ''}
            aria-describedby={`${id}-name-help`}
            onChange={e => setNameDraft(e.target.value)}
            onBlur={applyName}
            onKeyDown={e => {
              if (e.key === 'Enter') {
                e.preventDefault();
                applyName();
              } else if (e.key === 'Escape') {
                setNameDraft(info.step ?? '');
                setNameError('');
              }
            }}
          />
          <span id={`${id}-name-help`} className={nameError ? 'di-FieldError' : 'di-FieldHelp'}>
            {nameError || 'Enter applies; renaming updates every cell and prev: that names the step.'}
          </span>
        </div>
      )}
      {isStepCell && (
        <>
          {before.length > 0 && role === 'step' && (
            <fieldset className="di-Field di-TagEditor-prev">
              <legend>Runs after (prev:), besides what the data says</legend>
              {before.map(p => (
                <label key={p} className="di-Check">
                  <input
                    type="checkbox"
                    checked={info.prev.includes(p)}
                    onChange={e =>
                      edit(
                        e.target.checked ? `Step now runs after ${p}` : `prev:${p} removed`,
                        t => tags.setPrev(t, e.target.checked ? [...info.prev, p] : info.prev.filter(x => x !== p))
                      )
                    }
                  />
                  {p}
                </label>
              ))}
            </fieldset>
          )}
          {role === 'step' && (
            <div className="di-FieldRow">
              <NumberField
                id={`${id}-gpu`}
                label="GPUs"
                value={info.gpus}
                onCommit={n => edit(n ? `GPU limit set to ${n}` : 'GPU limit removed', t => tags.setGPUs(t, n))}
              />
              <TextField
                id={`${id}-cpu`}
                label="CPU limit"
                value={info.limits['cpu'] ?? ''}
                placeholder="e.g. 2"
                onCommit={v => edit('CPU limit set', t => tags.setResource(t, 'cpu', v))}
              />
              <TextField
                id={`${id}-mem`}
                label="Memory limit"
                value={info.limits['memory'] ?? ''}
                placeholder="e.g. 4Gi"
                onCommit={v => edit('Memory limit set', t => tags.setResource(t, 'memory', v))}
              />
            </div>
          )}
          {role === 'step' && (
            <div className="di-FieldRow">
              <TextField
                id={`${id}-image`}
                label="Image"
                value={info.image ?? ''}
                placeholder="the pipeline's"
                onCommit={v => edit(v ? `Image set to ${v}` : 'Image removed', t => tags.setValue(t, 'image', v))}
              />
              <NumberField
                id={`${id}-retry`}
                label="Retries"
                value={info.retry ?? 0}
                onCommit={n => edit(n ? `Retries set to ${n}` : 'Retries removed', t => tags.setValue(t, 'retry', n ? String(n) : ''))}
              />
              <TextField
                id={`${id}-timeout`}
                label="Timeout"
                value={info.timeout ?? ''}
                placeholder="e.g. 30m"
                onCommit={v => edit(v ? `Timeout set to ${v}` : 'Timeout removed', t => tags.setValue(t, 'timeout', v))}
              />
            </div>
          )}
          {role === 'step' && (
            <label className="di-Check">
              <input
                type="checkbox"
                checked={info.cacheOff}
                onChange={e => edit(e.target.checked ? 'Caching off for this step' : 'Caching on', t => tags.setCacheOff(t, e.target.checked))}
              />
              Always run (cache:off)
            </label>
          )}
        </>
      )}
      <div className="di-Field">
        <label htmlFor={`${id}-other`}>Other tags</label>
        <input
          id={`${id}-other`}
          className="di-TagEditor-other"
          value={otherDraft}
          spellCheck={false}
          placeholder="env:NAME=VALUE label:team:ml annotation:… node:… toleration:…"
          aria-describedby={`${id}-other-help`}
          onChange={e => setOtherDraft(e.target.value)}
          onBlur={() => edit('Tags updated', t => tags.setOther(t, otherDraft.split(/\s+/)))}
          onKeyDown={e => {
            if (e.key === 'Enter') {
              e.preventDefault();
              edit('Tags updated', t => tags.setOther(t, otherDraft.split(/\s+/)));
            }
          }}
        />
        <span id={`${id}-other-help`} className="di-FieldHelp">
          {otherDraft
            .split(/\s+/)
            .filter(Boolean)
            .map(tags.tagProblem)
            .filter(Boolean)
            .join(' ') || 'Separated by spaces.'}
        </span>
      </div>
      <p className="di-TagEditor-raw" aria-label="The cell's tags as written">
        {current.length ? current.map(t => <code key={t}>{t}</code>) : <em>No tags.</em>}
      </p>
    </div>
  );
}

/** A step name no cell uses yet. */
function suggestName(model: INotebookModel): string {
  const used = new Set(declaredSteps(model));
  for (let i = 1; ; i++) {
    const n = `step_${i}`;
    if (!used.has(n)) {
      return n;
    }
  }
}
