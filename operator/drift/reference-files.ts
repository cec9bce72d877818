// The per-feature and label references and the calibration a ClinicalModel's reference ConfigMap holds
// besides the confidences (sample-file.ts), as `clinops reference` and `clinops accept` write them; parsed and checked here, with
// messages that say which key is wrong and how.
import { binsDigest } from '../../contract/bins.js';
import { parseFeatureReference } from '../../contract/feature-reference.js';
import { type IsotonicMap, isotonicProblem } from '../../statistics/isotonic.js';

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

/** An out-of-sample calibration error above this leaves performance to the labels: no estimate would mean anything. */
export const MAX_CALIBRATION_ERROR = 0.1;

/** The model's calibration on its acceptance holdout, as `clinops accept --calibration-out` writes it. */
export interface CalibrationFile {
  /** isotonic: the map below; none: the scores are used as they are (calibrating did not help out of sample). */
  method: 'isotonic' | 'none';
  /** The label whose probability is calibrated. */
  positiveLabel: string;
  /** Holdout cases it was fitted on. */
  cases: number;
  /** Expected calibration error out of sample (10-fold cross-validation) of the raw scores and of the isotonic map. */
  ece: { raw: number; isotonic: number };
  map?: IsotonicMap;
}

/** The error of the calibration in use, out of sample. */
export function calibrationErrorOf(c: Pick<CalibrationFile, 'method' | 'ece'>): number {
  return c.method === 'isotonic' ? c.ece.isotonic : c.ece.raw;
}

/** Why the calibration cannot carry an estimate, or undefined when it can. */
export function calibrationRefusal(c: Pick<CalibrationFile, 'method' | 'ece' | 'cases'>): string | undefined {
  const e = calibrationErrorOf(c);
  if (e <= MAX_CALIBRATION_ERROR) return undefined;
  return `the holdout (${c.cases} cases) shows the model too badly calibrated for a performance estimate to mean anything: ` +
    `expected calibration error ${Number(e.toPrecision(3))} out of sample${c.method === 'isotonic' ? ' after isotonic calibration' : ''}, ` +
    `at most ${MAX_CALIBRATION_ERROR} allowed; performance is judged from labels only`;
}

export function parseCalibration(text: string, where: string): CalibrationFile {
  let doc: Partial<CalibrationFile> & { map?: { x?: unknown; y?: unknown } };
  try {
    doc = JSON.parse(text);
  } catch {
    throw new Error(`${where}: not valid JSON`);
  }
  const shape = '{"method": "isotonic"|"none", "positiveLabel", "cases", "ece": {"raw", "isotonic"}, "map": {"x": [...], "y": [...]}} (clinops accept --calibration-out)';
  const num = (x: unknown) => typeof x === 'number' && Number.isFinite(x) && x >= 0;
  if (typeof doc !== 'object' || doc === null || (doc.method !== 'isotonic' && doc.method !== 'none') || typeof doc.positiveLabel !== 'string' ||
      !Number.isInteger(doc.cases) || !num(doc.ece?.raw) || !num(doc.ece?.isotonic)) {
    throw new Error(`${where}: needs ${shape}`);
  }
  if (doc.method === 'isotonic') {
    const problem = doc.map ? isotonicProblem(doc.map) : 'no map';
    if (problem) throw new Error(`${where}: the isotonic map is unusable: ${problem}`);
  }
  const refused = calibrationRefusal(doc as CalibrationFile);
  if (refused) throw new Error(`${where}: ${refused}`);
  return doc as CalibrationFile;
}
