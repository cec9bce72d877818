// The per-feature and label references a ClinicalModel's reference ConfigMap holds besides the
// confidences (sample-file.ts), as `clinops reference` writes them; parsed and checked here, with
// messages that say which key is wrong and how.
import { binsDigest } from '../../contract/bins.js';
import { parseFeatureReference } from '../../contract/feature-reference.js';

export interface FeatureReference {
  /** Feature names, in input order (the ClinicalModel's spec.monitoring.features). */
  names: string[];
  /** The holdout's count per bin, per feature. */
  counts: number[][];
  /** Which bins these are: what the server's counts must report (contract/bins.ts). */
  bins: string;
}

const isCount = (x: unknown) => typeof x === 'number' && Number.isInteger(x) && x >= 0;

/** A feature reference whose features must be `names`, in that order. */
export function referenceForFeatures(text: string, where: string, names: readonly string[]): FeatureReference {
  const features = parseFeatureReference(text, where, true);
  const found = features.map((f) => f.name);
  if (found.join('\n') !== names.join('\n')) {
    throw new Error(`${where}: the reference's features are [${found.join(', ')}], spec.monitoring.features is [${names.join(', ')}]; they must match, in input order`);
  }
  return { names: [...names], counts: features.map((f) => f.counts), bins: binsDigest(features) };
}

/** The holdout's predicted-label counts: a JSON object, label to count. */
export function parseLabelCounts(text: string, where: string): Record<string, number> {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new Error(`${where}: not valid JSON`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc) || !Object.values(doc).every(isCount) ||
      Object.values(doc).every((c) => c === 0)) {
    throw new Error(`${where}: needs a JSON object of label to count, such as {"Normal": 812, "Pneumonia": 188} (clinops reference --labels-out)`);
  }
  return doc as Record<string, number>;
}
