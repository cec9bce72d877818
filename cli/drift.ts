// `clinops drift` and `clinops reference`: the operator's drift statistics at the command line.
import type { FeatureReferenceFile } from '../contract/monitoring.js';
import { featureReference, parseFeatureReference } from '../contract/feature-reference.js';
import { modelProbabilities } from '../inference-server/model/probabilities.js';
import { IMAGE_SUMMARIES, imageSummaries } from '../contract/image-summaries.js';
import { readFile, writeFile } from 'node:fs/promises';
import { ks2samp } from '../statistics/ks-2samp.js';
import { psi } from '../statistics/psi.js';
import { parseSample } from '../operator/drift/sample-file.js';
import { featureStatistics, judgeSignals, type SignalJudgement } from '../operator/drift/signals.js';
import { type DriftThresholds, signalVerdict, type Verdict } from '../operator/drift/verdict.js';

export { parseSample };

export interface DriftOptions {
  reference: string;
  current: string;
  bins: number;
  minSamples: number;
  moderate: number;
  significant: number;
  pValue: number;
  /** The smallest KS D that counts as drift. */
  minStatistic: number;
}

export interface DriftReport {
  reference: { file: string; samples: number };
  current: { file: string; samples: number };
  ks: { statistic: number; pValue: number; method: string };
  psi: number;
  verdict: Verdict;
}

async function readText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw new Error(`${file}: cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
}

export async function driftReport(o: DriftOptions): Promise<DriftReport> {
  const ref = parseSample(await readText(o.reference), o.reference);
  const cur = parseSample(await readText(o.current), o.current);
  const ks = ks2samp(ref, cur);
  const p = psi(ref, cur, o.bins).psi;
  const verdict = signalVerdict({ samples: cur.length, psi: p, ksPValue: ks.pValue, ksStatistic: ks.statistic },
    { minSamples: o.minSamples, psiModerate: o.moderate, psiSignificant: o.significant, ksPValue: o.pValue, ksMinStatistic: o.minStatistic });
  return {
    reference: { file: o.reference, samples: ref.length },
    current: { file: o.current, samples: cur.length },
    ks: { statistic: ks.statistic, pValue: ks.pValue, method: ks.method },
    psi: p,
    verdict,
  };
}

/** Exit status for a verdict: 0 no drift, 1 drift, 3 too few samples to tell (2 is an error). */
export function exitCodeOf(v: Verdict): number {
  return v === 'NoDrift' ? 0 : v === 'InsufficientData' ? 3 : 1;
}

export function formatReport(r: DriftReport): string {
  return [
    `reference  ${r.reference.samples} values (${r.reference.file})`,
    `current    ${r.current.samples} values (${r.current.file})`,
    `KS         D = ${r.ks.statistic.toFixed(6)}, p = ${r.ks.pValue.toPrecision(6)} (${r.ks.method})`,
    `PSI        ${r.psi.toFixed(6)}`,
    `verdict    ${r.verdict}`,
  ].join('\n');
}

/**
 * `clinops reference`: the top-class confidence of a model on each instance of a holdout set (a
 * JSON array of instances, each the model's input without the batch dimension), written as the
 * JSON array a ClinicalModel's reference ConfigMap holds.
 */
export async function buildReference(modelPath: string, holdoutPath: string, outPath: string | undefined): Promise<{ n: number; predicted: number[] }> {
  const instances = JSON.parse(await readFile(holdoutPath, 'utf8')) as unknown;
  if (!Array.isArray(instances) || instances.length === 0) throw new Error(`${holdoutPath}: expected a non-empty JSON array of instances`);
  const rows = await modelProbabilities(modelPath, instances, holdoutPath);
  const confidences: number[] = [];
  /** How often each class was the top one. */
  const predicted = new Array<number>(rows[0]!.length).fill(0);
  for (const row of rows) {
    const top = row.indexOf(Math.max(...row));
    confidences.push(row[top]!);
    predicted[top]! += 1;
  }
  const text = JSON.stringify(confidences) + '\n';
  if (outPath) await writeFile(outPath, text);
  else process.stdout.write(text);
  return { n: confidences.length, predicted };
}

/** `clinops reference --features`: read a holdout's rows, check their width, write the feature reference. */
export async function buildFeatureReference(holdoutPath: string, names: readonly string[], bins: number, outPath: string): Promise<void> {
  const rows = JSON.parse(await readFile(holdoutPath, 'utf8')) as unknown;
  if (!Array.isArray(rows) || rows.length === 0) throw new Error(`${holdoutPath}: expected a non-empty JSON array of instances`);
  rows.forEach((r, i) => {
    if (!Array.isArray(r) || r.length !== names.length || r.some((v) => typeof v !== 'number' || !Number.isFinite(v))) {
      throw new Error(`${holdoutPath}: instance ${i} must be ${names.length} finite numbers, one per feature (${names.join(', ')})`);
    }
  });
  await writeFile(outPath, JSON.stringify(featureReference(rows as number[][], names, bins)) + '\n');
}

/**
 * `clinops reference --image-summaries`: the per-image summaries (contract/image-summaries.ts) of a
 * holdout of images as the model takes them (each [channels][height][width]), as a feature reference.
 */
export async function buildImageSummaryReference(holdoutPath: string, bins: number, outPath: string): Promise<void> {
  const images = JSON.parse(await readText(holdoutPath)) as unknown;
  if (!Array.isArray(images) || images.length === 0) throw new Error(`${holdoutPath}: expected a non-empty JSON array of instances`);
  const rows = images.map((img, i) => {
    const dims = [img, img?.[0], img?.[0]?.[0]].map((a) => (Array.isArray(a) ? a.length : 0));
    const flat = Array.isArray(img) ? (img.flat(2) as unknown[]) : [];
    if (dims.includes(0) || flat.length !== dims[0]! * dims[1]! * dims[2]! || flat.some((v) => typeof v !== 'number' || !Number.isFinite(v))) {
      throw new Error(`${holdoutPath}: instance ${i} must be an image [channels][height][width] of finite numbers`);
    }
    const s = imageSummaries(flat as number[], 0, dims[0]!, dims[1]!, dims[2]!);
    return IMAGE_SUMMARIES.map((k) => s[k]);
  });
  await writeFile(outPath, JSON.stringify(featureReference(rows, IMAGE_SUMMARIES, bins)) + '\n');
}

export interface FeatureDriftReport {
  verdict: 'NoDrift' | 'Moderate' | 'Significant';
  signals: SignalJudgement[];
  drivers: string[];
}

/**
 * `clinops drift-features`: the per-feature judgement from a reference (`clinops reference
 * --features-out`) and current counts over the same bins (the body of GET /v1/monitoring/features), by
 * the same functions the operator's checks use.
 */
export async function featureDriftReport(referencePath: string, currentPath: string, t: Omit<DriftThresholds, 'minSamples'>): Promise<FeatureDriftReport> {
  const ref = parseFeatureReference(await readText(referencePath), referencePath, true);
  let cur: { features?: Array<{ name: string; counts: number[] }> };
  try {
    cur = JSON.parse(await readText(currentPath)) as typeof cur;
  } catch (err) {
    throw err instanceof SyntaxError ? new Error(`${currentPath}: not valid JSON`) : err;
  }
  if (!Array.isArray(cur.features)) throw new Error(`${currentPath}: needs {"features": [{"name", "counts"}, …]} (the body of GET /v1/monitoring/features)`);
  const signals = ref.map((f) => {
    const c = cur.features!.find((x) => x.name === f.name);
    if (!c) throw new Error(`${currentPath}: no counts for feature "${f.name}"`);
    if (c.counts.length !== f.counts.length) throw new Error(`feature "${f.name}": ${f.counts.length} reference bins, ${c.counts.length} current`);
    return featureStatistics(f.name, f.counts, c.counts);
  });
  const j = judgeSignals(signals, t);
  return { verdict: j.verdict, signals: j.signals, drivers: j.drivers.map((d) => d.signal) };
}

export function formatFeatureReport(r: FeatureDriftReport): string {
  const width = Math.max(7, ...r.signals.map((s) => s.signal.length));
  return [
    `${'feature'.padEnd(width)}  PSI        KS D       p          p (BH)     verdict`,
    ...r.signals.map((s) => `${s.signal.padEnd(width)}  ${s.psi.toFixed(6)}   ${s.effect.toFixed(6)}   ${s.pValue.toPrecision(4).padEnd(9)}  ${s.adjustedP.toPrecision(4).padEnd(9)}  ${s.verdict}`),
    `verdict    ${r.verdict}${r.drivers.length > 0 ? ` (${r.drivers.join(', ')})` : ''}`,
  ].join('\n');
}
