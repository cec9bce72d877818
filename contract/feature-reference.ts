// Reading a per-feature reference (FeatureReferenceFile, as `clinops reference --features-out` writes
// it): the server needs each feature's name and edges, the operator also the holdout's counts. One
// parser for both, so a file one accepts the other reads the same way.
import type { FeatureReferenceFile } from './monitoring.js';

export const MAX_EDGES = 1000;

type Feature = FeatureReferenceFile['features'][number];

/**
 * The features of a reference file, checked: names unique and non-empty, 1 to MAX_EDGES finite edges
 * in increasing order, and — when `withCounts` — one whole count per bin (edges + 1), not all zero.
 */
export function parseFeatureReference(text: string, where: string, withCounts: true): Feature[];
export function parseFeatureReference(text: string, where: string, withCounts: false): Array<Omit<Feature, 'counts'>>;
export function parseFeatureReference(text: string, where: string, withCounts: boolean): Array<Omit<Feature, 'counts'> & { counts?: number[] }> {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new Error(`${where}: not valid JSON`);
  }
  const features = (doc as { features?: unknown })?.features;
  if (!Array.isArray(features) || features.length === 0) {
    throw new Error(`${where}: needs {"features": [{"name": …, "edges": […]${withCounts ? ', "counts": […]' : ''}}, …]} (clinops reference --features-out)`);
  }
  const names = new Set<string>();
  return features.map((f: { name?: unknown; edges?: unknown; counts?: unknown }, i: number) => {
    if (typeof f?.name !== 'string' || f.name === '' || names.has(f.name)) throw new Error(`${where}: features[${i}] needs a name of its own`);
    names.add(f.name);
    const e = f.edges;
    if (!Array.isArray(e) || e.length === 0 || e.length > MAX_EDGES || e.some((x, k) => typeof x !== 'number' || !Number.isFinite(x) || (k > 0 && x <= (e[k - 1] as number)))) {
      throw new Error(`${where}: features[${i}] ("${f.name}") needs 1 to ${MAX_EDGES} finite edges in increasing order`);
    }
    if (!withCounts) return { name: f.name, edges: e as number[] };
    const c = f.counts;
    if (!Array.isArray(c) || c.length !== e.length + 1 || !c.every((x) => Number.isInteger(x) && x >= 0) || c.every((x) => x === 0)) {
      throw new Error(`${where}: features[${i}] ("${f.name}") needs one whole count per bin (edges + 1 of them), not all zero`);
    }
    return { name: f.name, edges: e as number[], counts: c as number[] };
  });
}
