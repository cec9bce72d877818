// `clinops accept`: clinical acceptance of a model file before it reaches a cluster — its sha256
// checked, the model run on a labelled holdout, each metric judged against the protocol's thresholds
// (operator/acceptance/report.ts), per subgroup too. Exit 0 pass, 1 fail, 2 error.
import { readFile } from 'node:fs/promises';
import { type AcceptanceReport, acceptance, type Thresholds } from '../operator/acceptance/report.js';
import { fileSha256 } from '../inference-server/main.js';
import { modelProbabilities } from '../inference-server/model/probabilities.js';
import type { CalibrationFile } from '../operator/drift/reference-files.js';
import { fitCalibration } from '../statistics/isotonic.js';

/**
 * A labelled holdout: {"instances": [...], "labels": [...], "subgroups": [...]?, "subgroup": "sex"?} —
 * one label (one of the model's) and, optionally, one subgroup value per instance.
 */
export interface Holdout {
  instances: unknown[];
  labels: string[];
  subgroups?: string[];
  subgroup?: string;
}

export function parseHoldout(text: string, where: string, modelLabels: readonly string[]): Holdout {
  let doc: Partial<Holdout>;
  try {
    doc = JSON.parse(text) as Partial<Holdout>;
  } catch (err) {
    throw new Error(`${where}: not JSON (${(err as Error).message})`);
  }
  const shape = '{"instances": [...], "labels": [...], "subgroups": [...] (optional)}';
  if (!doc || typeof doc !== 'object' || !Array.isArray(doc.instances) || doc.instances.length === 0) throw new Error(`${where}: needs ${shape} with at least one instance`);
  const n = doc.instances.length;
  if (!Array.isArray(doc.labels) || doc.labels.length !== n) throw new Error(`${where}: "labels" needs one label per instance (${n})`);
  doc.labels.forEach((l, i) => {
    if (!modelLabels.includes(l)) throw new Error(`${where}: labels[${i}] is ${JSON.stringify(l)}, not one of the model's labels (${modelLabels.join(', ')})`);
  });
  if (doc.subgroups !== undefined) {
    if (!Array.isArray(doc.subgroups) || doc.subgroups.length !== n) throw new Error(`${where}: "subgroups" needs one value per instance (${n})`);
    doc.subgroups.forEach((g, i) => {
      if (typeof g !== 'string' || g === '') throw new Error(`${where}: subgroups[${i}] must be a non-empty string`);
    });
  }
  return doc as Holdout;
}

export async function acceptModel(o: { model: string; sha256: string; holdout: string; labels: string[]; positive?: string }, t: Thresholds): Promise<AcceptanceReport & { model: { sha256: string }; holdout: { sha256: string; subgroup?: string }; calibration: CalibrationFile }> {
  const actual = await fileSha256(o.model);
  if (actual !== o.sha256.toLowerCase()) throw new Error(`sha256 of ${o.model} is ${actual}, expected ${o.sha256.toLowerCase()}; not run`);
  const positive = o.positive ?? o.labels[o.labels.length - 1]!;
  const p = o.labels.indexOf(positive);
  if (p < 0) throw new Error(`--positive ${JSON.stringify(positive)} is not one of --labels (${o.labels.join(', ')})`);
  const text = await readFile(o.holdout, 'utf8');
  const holdout = parseHoldout(text, o.holdout, o.labels);
  const rows = await modelProbabilities(o.model, holdout.instances, o.holdout);
  if (rows[0]!.length !== o.labels.length) throw new Error(`--labels names ${o.labels.length} labels; the model has ${rows[0]!.length} classes`);
  const cases = rows.map((row, i) => {
    let top = 0;
    for (let k = 1; k < row.length; k++) if (row[k]! > row[top]!) top = k;
    return { score: row[p]!, predictedPositive: top === p, actuallyPositive: holdout.labels[i] === positive };
  });
  const report = acceptance(cases, positive, t, holdout.subgroups);
  const { createHash } = await import('node:crypto');
  return {
    calibration: calibrationOf(cases, positive),
    model: { sha256: actual },
    holdout: { sha256: createHash('sha256').update(text).digest('hex'), ...(holdout.subgroup ? { subgroup: holdout.subgroup } : {}) },
    ...report,
  };
}

/**
 * The positive label's calibration on the holdout (isotonic, kept when it lowers the error out of sample),
 * for the operator's performance estimate without labels (spec.monitoring.reference.calibrationKey).
 */
export function calibrationOf(cases: ReadonlyArray<{ score: number; actuallyPositive: boolean }>, positiveLabel: string): CalibrationFile {
  const fit = fitCalibration(cases.map((c) => c.score), cases.map((c) => c.actuallyPositive));
  const round = (x: number) => Number(x.toPrecision(6));
  return {
    method: fit.map ? 'isotonic' : 'none',
    positiveLabel,
    cases: fit.cases,
    ece: { raw: round(fit.ece.raw), isotonic: round(fit.ece.isotonic) },
    ...(fit.map ? { map: fit.map } : {}),
  };
}

/**
 * The report in at most 4,096 bytes (a container's termination message): the verdict, the case count,
 * each metric's estimate, the holdout's digest and as many failures as fit.
 */
export function summary(r: Omit<Awaited<ReturnType<typeof acceptModel>>, 'calibration'>): string {
  const metrics = Object.fromEntries(r.metrics.map((m) => [m.name, Number(m.value.toPrecision(6))]));
  const doc = { pass: r.pass, sha256: r.model.sha256, cases: r.n, positives: r.positives, metrics, holdout: r.holdout.sha256, failures: [] as string[] };
  for (const f of r.failures) {
    const next = JSON.stringify({ ...doc, failures: [...doc.failures, f.slice(0, 300)] });
    if (Buffer.byteLength(next) > 4000) break;
    doc.failures.push(f.slice(0, 300));
  }
  return JSON.stringify(doc);
}
