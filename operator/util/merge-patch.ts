// The JSON merge patch (RFC 7386) that turns one JSON object into another (pure): changed and new
// fields with their new values, removed fields as null; nested objects are patched field by field,
// arrays replaced whole. Used for status, which only this operator writes: a merge patch costs the
// API server far less than a server-side apply of the same status (the apply body is parsed as YAML
// and merged against the CRD's schema).
import { jsonEqual } from './json-equal.js';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The patch from `from` to `to`; an empty object when they are equal. */
export function mergePatch(from: Record<string, unknown> | undefined, to: Record<string, unknown>): Record<string, Json> {
  const patch: Record<string, Json> = {};
  for (const [k, v] of Object.entries(to)) {
    if (v === undefined) continue;
    const old = from?.[k];
    if (isObject(v) && isObject(old)) {
      const inner = mergePatch(old, v);
      if (Object.keys(inner).length > 0) patch[k] = inner;
    } else if (!jsonEqual(old, v)) {
      patch[k] = v as Json;
    }
  }
  for (const k of Object.keys(from ?? {})) {
    if (from![k] !== undefined && to[k] === undefined) patch[k] = null;
  }
  return patch;
}
