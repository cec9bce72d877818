// The model's check history (pure): one small entry per judged check — the level, the drift verdict and its
// strongest signals, the estimated and realized performance, per subgroup — kept by the operator in a
// record of its own (ConfigMap NAME-history, gzipped, the last MAX_ENTRIES checks), so a hospital without
// Prometheus still gets its report (`clinops report`). Numbers only: no prediction, id or input.
import { gunzipSync, gzipSync } from 'node:zlib';
import type { ClinicalModel } from '../api/types.js';

/** An estimate as [value, low, high]. */
export type Range = [number, number, number];

export interface HistoryEntry {
  /** When the check ran (RFC 3339). */
  t: string;
  level: number;
  verdict: string;
  psi?: number;
  /** The drifted signals, strongest first: [name, PSI]. */
  signals?: Array<[string, number]>;
  /** Estimated (CBPE) AUROC, sensitivity and specificity. */
  est?: { auroc?: Range; sensitivity?: Range; specificity?: Range };
  /** Realized, on the sliding window of labelled predictions, when labels were judged. */
  real?: { labelled: number; auroc?: number; sensitivity?: number; specificity?: number };
  /** Per subgroup: its estimated AUROC and realized AUROC, and its level. */
  groups?: Array<{ name: string; est?: Range; real?: number; level?: number }>;
}

/** About 7 days of 5-minute checks, 83 days of hourly ones; under 100 KB gzipped. */
export const MAX_ENTRIES = 2000;
export const HISTORY_KEY = 'history.json.gz';
/** A stored history that would inflate past this is not ours: refused, not inflated. */
const MAX_DECODED_BYTES = 8 * 1024 * 1024;

export function historyName(model: string): string {
  return `${model}-history`;
}

const range = (r: { value: number; low: number; high: number } | undefined): Range | undefined => (r ? [r.value, r.low, r.high] : undefined);

/** The entry a check leaves, from the model's status after it (undefined when the check judged nothing). */
export function historyEntry(cr: ClinicalModel): HistoryEntry | undefined {
  const d = cr.status?.drift;
  if (!d?.lastCheckTime || d.verdict === undefined) return undefined;
  const p = d.performance;
  const e: HistoryEntry = { t: d.lastCheckTime, level: cr.status?.escalation?.level ?? 0, verdict: d.verdict };
  if (d.psi !== undefined) e.psi = d.psi;
  if (d.signals?.length) e.signals = d.signals.map((s) => [s.name, s.psi]);
  if (p?.estimated) {
    e.est = {};
    for (const k of ['auroc', 'sensitivity', 'specificity'] as const) {
      const r = range(p.estimated[k]);
      if (r) e.est[k] = r;
    }
  }
  if (p?.judgedOn === 'realized') {
    e.real = { labelled: p.labelled, ...(p.auroc !== undefined ? { auroc: p.auroc } : {}), ...(p.sensitivity !== undefined ? { sensitivity: p.sensitivity } : {}),
      ...(p.specificity !== undefined ? { specificity: p.specificity } : {}) };
  }
  if (p?.subgroups?.length) {
    e.groups = p.subgroups.map((g) => ({
      name: g.name,
      ...(g.estimated?.auroc ? { est: range(g.estimated.auroc)! } : {}),
      ...(g.realized?.auroc !== undefined ? { real: g.realized.auroc } : {}),
      ...(g.level !== undefined ? { level: g.level } : {}),
    }));
  }
  return e;
}

/** The history with an entry added (one per check time: a repeat replaces), the last `max` kept. */
export function appended(entries: readonly HistoryEntry[], entry: HistoryEntry, max = MAX_ENTRIES): HistoryEntry[] {
  const kept = entries.length > 0 && entries[entries.length - 1]!.t === entry.t ? entries.slice(0, -1) : entries;
  return [...kept, entry].slice(-max);
}

export function encodeHistory(entries: readonly HistoryEntry[]): Buffer {
  return gzipSync(JSON.stringify({ v: 1, entries }));
}

/** The entries a stored history holds; why it could not be read, if it could not. */
export function decodeHistory(bytes: Buffer): { entries: HistoryEntry[]; problem?: string } {
  try {
    const doc = JSON.parse(gunzipSync(bytes, { maxOutputLength: MAX_DECODED_BYTES }).toString('utf8')) as { v?: number; entries?: unknown };
    if (doc.v !== 1 || !Array.isArray(doc.entries)) throw new Error('not a version 1 history');
    const entries = doc.entries.filter((e): e is HistoryEntry => typeof e === 'object' && e !== null && typeof (e as HistoryEntry).t === 'string');
    return { entries: entries.slice(-MAX_ENTRIES) };
  } catch (err) {
    return { entries: [], problem: `the stored history cannot be read (${(err as Error).message}); starting afresh` };
  }
}
