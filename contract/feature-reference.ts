// A per-feature reference (FeatureReferenceFile), made from a holdout (`clinops reference --features-out`,
// the tests, the samples) and read back: the server needs each feature's name and edges, the operator
// also the holdout's counts. One writer and one parser, so a file one makes the others read the same way.
// The label reference (each label's count among the holdout's predictions) is made here too.
import { quantileLinearSorted } from '../statistics/quantile-linear.js';
import { binOf } from './bins.js';
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

/** The label reference (`--labels-out`): each label's count among the holdout's predictions. */
export function labelReference(names: readonly string[], predicted: readonly number[]): Record<string, number> {
  if (names.length !== predicted.length) throw new Error(`--labels names ${names.length} labels; the model has ${predicted.length} classes`);
  return Object.fromEntries(names.map((name, i) => [name, predicted[i]!]));
}

/**
 * The per-feature reference of a tabular holdout (rows of `names.length` values, in the model's input
 * order): for each feature, the edges of `bins` equal-mass bins — numpy's linear quantiles at k/bins,
 * duplicates merged — and the holdout's count in each bin (right-closed, as the server and PSI bin).
 * `clinops serve --feature-reference` reads the edges; the counts are the distribution drift is judged
 * against.
 */
export function featureReference(rows: readonly (readonly number[])[], names: readonly string[], bins = 100): FeatureReferenceFile {
  if (rows.length === 0) throw new Error('the holdout is empty');
  return {
    features: names.map((name, f) => {
      const col = Float64Array.from(rows, (r) => r[f]!).sort();
      const edges = [...new Set(Array.from({ length: bins - 1 }, (_, k) => quantileLinearSorted(col, (k + 1) / bins)))];
      const counts = new Array<number>(edges.length + 1).fill(0);
      for (const v of col) counts[binOf(edges, v)]! += 1;
      return { name, edges, counts };
    }),
  };
}
