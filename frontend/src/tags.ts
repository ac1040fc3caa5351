/**
 * The cell-tag language (Kale's tags and Datainsight's additions), read and
 * edited as lists of strings exactly as Kale writes them into a cell's
 * `metadata.tags`. Every edit keeps the tags it does not touch, in their
 * order, so a notebook stays Kale-compatible and nothing the user typed by
 * hand is lost.
 */

/** Tags that give a cell a role other than "part of a step". */
export const ROLES = [
  'imports',
  'functions',
  'pipeline-parameters',
  'pipeline-metrics',
  'skip'
] as const;
export type Role = (typeof ROLES)[number];

/** Step names: Kale's rule. */
export const STEP_NAME = /^[_a-z][_a-z0-9]*$/;

/** The resource a GPU limit names. */
export const GPU_RESOURCE = 'nvidia.com/gpu';

/** What a cell's tags say, for display and for the editor's fields. */
export interface CellTagInfo {
  /** The step the cell starts or continues (block:/step:), '' to continue the previous one, null if none. */
  step: string | null;
  /** Steps named by prev: tags. */
  prev: string[];
  /** imports, functions, pipeline-parameters, pipeline-metrics or skip. */
  role: Role | null;
  /** limit:RESOURCE:QTY tags. */
  limits: Record<string, string>;
  /** request:RESOURCE:QTY tags. */
  requests: Record<string, string>;
  /** The GPU count of limit:nvidia.com/gpu, 0 without one. */
  gpus: number;
  image: string | null;
  retry: number | null;
  timeout: string | null;
  cacheOff: boolean;
  /** Tags this editor has no field for (annotation:, label:, env:, secret:, node:, toleration:, and foreign tags), verbatim. */
  other: string[];
}

/** Reads a cell's tags. */
export function describe(tags: readonly string[]): CellTagInfo {
  const info: CellTagInfo = {
    step: null,
    prev: [],
    role: null,
    limits: {},
    requests: {},
    gpus: 0,
    image: null,
    retry: null,
    timeout: null,
    cacheOff: false,
    other: []
  };
  for (const tag of tags) {
    const [kind, rest] = split(tag);
    if ((kind === 'block' || kind === 'step') && rest !== null && info.step === null) {
      info.step = rest;
    } else if (kind === 'prev' && rest !== null) {
      info.prev.push(rest);
    } else if ((ROLES as readonly string[]).includes(tag) && info.role === null) {
      info.role = tag as Role;
    } else if ((kind === 'limit' || kind === 'request') && rest !== null && rest.includes(':')) {
      const i = rest.lastIndexOf(':');
      const target = kind === 'limit' ? info.limits : info.requests;
      target[rest.slice(0, i)] = rest.slice(i + 1);
    } else if (kind === 'image' && rest !== null) {
      info.image = rest;
    } else if (kind === 'retry' && rest !== null && /^\d+$/.test(rest)) {
      info.retry = Number(rest);
    } else if (kind === 'timeout' && rest !== null) {
      info.timeout = rest;
    } else if (tag === 'cache:off') {
      info.cacheOff = true;
    } else {
      info.other.push(tag);
    }
  }
  const gpu = info.limits[GPU_RESOURCE];
  info.gpus = gpu !== undefined && /^\d+$/.test(gpu) ? Number(gpu) : 0;
  return info;
}

/** Splits "kind:rest" at its first colon; rest is null for a tag without one. */
function split(tag: string): [string, string | null] {
  const i = tag.indexOf(':');
  return i < 0 ? [tag, null] : [tag.slice(0, i), tag.slice(i + 1)];
}

/** Whether a tag starts with one of the prefixes ("limit:nvidia.com/gpu:" and such). */
function hasPrefix(tag: string, prefixes: readonly string[]): boolean {
  return prefixes.some(p => tag.startsWith(p));
}

/**
 * Replaces the tags matched by `match` with `replacement`, placed where the
 * first matched tag was (or at the end). Other tags keep their order.
 */
export function replace(
  tags: readonly string[],
  match: (tag: string) => boolean,
  replacement: readonly string[]
): string[] {
  const out: string[] = [];
  let placed = false;
  for (const tag of tags) {
    if (match(tag)) {
      if (!placed) {
        out.push(...replacement);
        placed = true;
      }
      continue;
    }
    out.push(tag);
  }
  if (!placed) {
    out.push(...replacement);
  }
  return dedupe(out);
}

function dedupe(tags: string[]): string[] {
  return tags.filter((t, i) => tags.indexOf(t) === i);
}

/**
 * Makes the cell start (or continue) step `name`, as Kale writes it
 * (block:NAME), and drops a role tag: a cell is a step's or has a role.
 * An empty name continues the previous step; null removes the step tag.
 */
export function setStep(tags: readonly string[], name: string | null): string[] {
  const isStep = (t: string) => t.startsWith('block:') || t.startsWith('step:');
  const kept = tags.filter(t => !(ROLES as readonly string[]).includes(t));
  return replace(kept, isStep, name === null ? [] : [`block:${name}`]);
}

/** Sets the role of a cell (null: an ordinary cell); a role drops step and prev tags. */
export function setRole(tags: readonly string[], role: Role | null): string[] {
  const isRoleOrStep = (t: string) =>
    (ROLES as readonly string[]).includes(t) ||
    (role !== null && (t.startsWith('block:') || t.startsWith('step:') || t.startsWith('prev:')));
  return replace(tags, isRoleOrStep, role === null ? [] : [role]);
}

/** Sets the prev: steps of a cell, in the order given. */
export function setPrev(tags: readonly string[], steps: readonly string[]): string[] {
  return replace(
    tags,
    t => t.startsWith('prev:'),
    steps.map(s => `prev:${s}`)
  );
}

/** Sets limit:RESOURCE:QTY (request: with kind 'request'); an empty quantity removes it. */
export function setResource(
  tags: readonly string[],
  resource: string,
  qty: string,
  kind: 'limit' | 'request' = 'limit'
): string[] {
  const prefix = `${kind}:${resource}:`;
  return replace(
    tags,
    t => t.startsWith(prefix),
    qty.trim() === '' ? [] : [prefix + qty.trim()]
  );
}

/** Sets the GPU count (limit:nvidia.com/gpu:N); 0 removes it. */
export function setGPUs(tags: readonly string[], n: number): string[] {
  return setResource(tags, GPU_RESOURCE, n > 0 ? String(Math.floor(n)) : '');
}

/** Sets a single-valued tag (image:, retry:, timeout:); an empty value removes it. */
export function setValue(
  tags: readonly string[],
  kind: 'image' | 'retry' | 'timeout',
  value: string
): string[] {
  const v = value.trim();
  return replace(tags, t => hasPrefix(t, [`${kind}:`]), v === '' ? [] : [`${kind}:${v}`]);
}

/** Turns cache:off on or off. */
export function setCacheOff(tags: readonly string[], off: boolean): string[] {
  return replace(tags, t => t === 'cache:off', off ? ['cache:off'] : []);
}

/** Replaces the tags the editor has no field for with `other`. */
export function setOther(tags: readonly string[], other: readonly string[]): string[] {
  const known = describe(tags);
  const isOther = (t: string) => known.other.includes(t);
  return replace(
    tags,
    isOther,
    other.map(t => t.trim()).filter(t => t !== '')
  );
}

/**
 * Renames step `from` to `to` in one cell's tags: its block:/step: tag and
 * every prev: that names it. Returns the tags unchanged (the same array)
 * when nothing names the step.
 */
export function renameInCell(tags: readonly string[], from: string, to: string): readonly string[] {
  let changed = false;
  const out = tags.map(t => {
    for (const kind of ['block', 'step', 'prev']) {
      if (t === `${kind}:${from}`) {
        changed = true;
        return `${kind}:${to}`;
      }
    }
    return t;
  });
  return changed ? dedupe(out) : tags;
}

/** Why a step name is not valid, or null if it is. */
export function stepNameProblem(name: string): string | null {
  if (name === '') {
    return 'A step needs a name.';
  }
  if (!STEP_NAME.test(name)) {
    return 'Use lowercase letters, digits and _, not starting with a digit (as Kale does).';
  }
  return null;
}

/** Checks a free-form tag the user typed: null if it is one the analyzer knows. */
export function tagProblem(tag: string): string | null {
  const [kind, rest] = split(tag);
  const withValue = [
    'block',
    'step',
    'prev',
    'annotation',
    'label',
    'limit',
    'request',
    'image',
    'env',
    'secret',
    'node',
    'toleration',
    'retry',
    'timeout',
    'cache'
  ];
  if ((ROLES as readonly string[]).includes(tag)) {
    return null;
  }
  if (withValue.includes(kind) && rest !== null && rest !== '') {
    return null;
  }
  return `"${tag}" is not a pipeline tag; the analyzer will report it.`;
}
