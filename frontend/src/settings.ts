/**
 * The notebook's pipeline settings (metadata.datainsight) as the panel
 * edits them: each change writes only the keys that have a value, so that
 * the metadata the sidecar decodes strictly never holds empty ones.
 */

/** metadata.datainsight.marshal: how values pass between cluster steps. */
export interface MarshalValue {
  mode?: string;
  pvc?: string;
  size?: string;
  storage_class?: string;
  access_mode?: string;
}

/** The marshal object with key set to v, or without it when v is empty; undefined when nothing is left. */
export function withMarshal(m: MarshalValue | undefined, key: keyof MarshalValue, v: string): MarshalValue | undefined {
  const next: MarshalValue = { ...(m ?? {}) };
  if (v) {
    next[key] = v;
  } else {
    delete next[key];
  }
  return Object.keys(next).length ? next : undefined;
}
