/**
 * Form fields that keep a draft while the user types and hand the value
 * on when the field is left or Enter is pressed, so that the notebook's
 * metadata changes once per edit (one undo step), not once per key.
 */
import * as React from 'react';

function commitOnEnter(e: React.KeyboardEvent, commit: () => void): void {
  if (e.key === 'Enter') {
    e.preventDefault();
    commit();
  }
}

/** A text field; what is handed on is trimmed, and only when it changed. */
export function TextField(props: {
  id: string;
  label: string;
  value: string;
  placeholder?: string;
  onCommit: (v: string) => void;
}): JSX.Element {
  const [draft, setDraft] = React.useState(props.value);
  React.useEffect(() => setDraft(props.value), [props.value]);
  const commit = () => {
    if (draft.trim() !== props.value) {
      props.onCommit(draft.trim());
    }
  };
  return (
    <div className="di-Field">
      <label htmlFor={props.id}>{props.label}</label>
      <input
        id={props.id}
        value={draft}
        placeholder={props.placeholder}
        spellCheck={false}
        onChange={e => setDraft(e.target.value)}
        onBlur={commit}
        onKeyDown={e => commitOnEnter(e, commit)}
      />
    </div>
  );
}

/** A count (0 for none); a value that is not one goes back to the last. */
export function NumberField(props: { id: string; label: string; value: number; onCommit: (n: number) => void }): JSX.Element {
  const [draft, setDraft] = React.useState(String(props.value || ''));
  React.useEffect(() => setDraft(String(props.value || '')), [props.value]);
  const commit = () => {
    const n = draft.trim() === '' ? 0 : Math.max(0, Math.floor(Number(draft)));
    if (!Number.isNaN(n) && n !== props.value) {
      props.onCommit(n);
    } else {
      setDraft(String(props.value || ''));
    }
  };
  return (
    <div className="di-Field">
      <label htmlFor={props.id}>{props.label}</label>
      <input
        id={props.id}
        type="number"
        min={0}
        value={draft}
        onChange={e => setDraft(e.target.value)}
        onBlur={commit}
        onKeyDown={e => commitOnEnter(e, commit)}
      />
    </div>
  );
}
