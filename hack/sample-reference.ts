// Writes the samples' reference distributions:
// - samples/sepsis-early-warning-reference.yaml: the top-class confidence, the predicted labels' counts,
//   each input feature's reference bins and the calibration of the generated sepsis model (test/models,
//   logisticWeights) on a labelled holdout set of 1,000 patients' 8 standardized vitals and labs, as
//   `clinops reference` and `clinops accept` compute them. A test checks the committed file equals a
//   fresh run, the model passes the protocol's thresholds there, and the sample declares its sha256 and
//   the baseline it was accepted at (--check).
// - samples/pneumonia-cxr-reference.yaml (--pneumonia, ~20 s): the ResNet-18-cost CNN on 300
//   synthetic 224×224 radiographs (the real model's holdout set is not in this repository).
//   node dist/hack/sample-reference.js [--check] [--pneumonia]
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildReference } from '../cli/drift.js';
import { featureReference, labelReference } from '../contract/feature-reference.js';
import type { FeatureReferenceFile } from '../contract/monitoring.js';
import { repoRoot } from './cluster/controlplane.js';
import { acceptModel } from '../cli/accept.js';
import { PROTOCOL } from '../operator/acceptance/report.js';
import { calibrationRefusal } from '../operator/drift/reference-files.js';
import { SEPSIS_FEATURES, sepsisHoldout } from '../test/models/drift-traffic.js';
import { generateAll, rng } from '../test/models/generate.js';

export const SAMPLE_REFERENCE = join(repoRoot, 'samples', 'sepsis-early-warning-reference.yaml');

function configMapYaml(header: string, name: string, namespace: string, values: number[], extra: Record<string, string> = {}): string {
  const lines: string[] = [];
  for (let i = 0; i < values.length; i += 10) lines.push(`    ${values.slice(i, i + 10).join(', ')}${i + 10 < values.length ? ',' : ''}`);
  return `${header}apiVersion: v1
kind: ConfigMap
metadata:
  name: ${name}
  namespace: ${namespace}
data:
  confidence.json: |
    [
${lines.join('\n')}
    ]
${Object.entries(extra).map(([key, text]) => `  ${key}: |\n${text.split('\n').map((l) => `    ${l}`).join('\n')}\n`).join('')}`;
}

/** A feature reference as JSON with one feature per line (edges rounded as written, counts as counted). */
function featuresJson(file: FeatureReferenceFile): string {
  return `{"features": [\n${file.features.map((f) => `  ${JSON.stringify(f)}`).join(',\n')}\n]}`;
}

/** The pneumonia sample's reference: top-class confidences of the CNN on synthetic radiographs. */
export async function pneumoniaReferenceYaml(): Promise<string> {
  const ort = (await import('onnxruntime-node')).default;
  const dir = mkdtempSync(join(tmpdir(), 'clinops-ref-'));
  const model = generateAll(dir, true)['cnn-resnet18']!;
  const session = await ort.InferenceSession.create(model.path);
  const size = 224;
  const r = rng(303);
  const values: number[] = [];
  for (let b = 0; b < 300; b += 10) {
    const data = new Float32Array(10 * size * size);
    // A smooth vertical gradient (lungs darker than mediastinum) plus noise, normalized like the sample.
    for (let i = 0; i < data.length; i++) {
      const y = Math.floor((i % (size * size)) / size) / size;
      data[i] = ((0.3 + 0.4 * y + (r() - 0.5) * 0.2) - 0.485) / 0.229;
    }
    const out = await session.run({ input: new ort.Tensor('float32', data, [10, 1, size, size]) });
    const probs = out[session.outputNames[0]!]!.data as Float32Array;
    for (let i = 0; i < 10; i++) values.push(Number(Math.max(probs[2 * i]!, probs[2 * i + 1]!).toFixed(6)));
  }
  return configMapYaml(`# Reference distribution of samples/pneumonia-cxr.yaml: the model's top-class confidence on its holdout
# set (here 300 synthetic radiographs through the repository's ResNet-18-cost test CNN, whose sha256 the
# sample declares). Written by \`node dist/hack/sample-reference.js --pneumonia\`; for your own model use
# clinops reference --model model.onnx --holdout holdout.json --out confidence.json.
`, 'pneumonia-reference', 'radiology', values);
}

/** The sepsis sample's labelled holdout: 1,000 patients, diagnoses drawn from the model's own probabilities. */
export const SAMPLE_HOLDOUT = { seed: 101, n: 1000 };

export async function sampleReferenceYaml(): Promise<{ yaml: string; sha256: string; baseline: Record<string, number> }> {
  const dir = mkdtempSync(join(tmpdir(), 'clinops-ref-'));
  const model = generateAll(dir, false).logistic!;
  const holdout = sepsisHoldout(SAMPLE_HOLDOUT.seed, SAMPLE_HOLDOUT.n);
  writeFileSync(join(dir, 'instances.json'), JSON.stringify(holdout.instances));
  writeFileSync(join(dir, 'holdout.json'), JSON.stringify(holdout));
  const { predicted } = await buildReference(model.path, join(dir, 'instances.json'), join(dir, 'ref.json'));
  const values = (JSON.parse(readFileSync(join(dir, 'ref.json'), 'utf8')) as number[]).map((v) => Number(v.toFixed(6)));
  // What `clinops accept --calibration-out` makes of the same holdout: the protocol's thresholds must pass,
  // and the calibration is what the operator's estimate without labels (CBPE) reads.
  const accepted = await acceptModel({ model: model.path, sha256: model.sha256, holdout: join(dir, 'holdout.json'), labels: ['No sepsis', 'Sepsis'] }, PROTOCOL);
  if (!accepted.pass) throw new Error(`the sample model fails the protocol on its holdout: ${accepted.failures.join("; ")}`);
  const refused = calibrationRefusal(accepted.calibration);
  if (refused) throw new Error(`the sample model's calibration is refused: ${refused}`);
  const baseline = Object.fromEntries(accepted.metrics.filter((m) => ['auroc', 'sensitivity', 'specificity'].includes(m.name)).map((m) => [m.name, Number(m.value.toFixed(2))]));
  // The server reads the holdout as FP32; the reference bins the values it will see.
  const features = featureReference(holdout.instances.map((x) => x.map((v) => Math.fround(v))), SEPSIS_FEATURES, 100);
  const yaml = configMapYaml(`# Reference distributions of samples/sepsis-early-warning.yaml, from its 1,000-patient holdout set: the
# model's top-class confidence (confidence.json), how often it predicted each label (labels.json), each
# input feature's bins and counts (features.json, which the pods mount to count their inputs' bins), and
# the model's calibration on the labelled holdout (calibration.json: ECE ${accepted.calibration.ece.raw} as scored, ${accepted.calibration.ece.isotonic}
# isotonic out of sample, so ${accepted.calibration.method === 'none' ? 'no map is kept' : 'the isotonic map is kept'}), which the operator's estimate of performance before labels arrive reads.
# Written by \`node dist/hack/sample-reference.js\`; for your own model \`clinops reference\` and \`clinops accept\`:
#   clinops reference --model model.onnx --holdout holdout.json --out confidence.json \\
#     --labels 'No sepsis,Sepsis' --labels-out labels.json --features heart_rate,…,spo2 --features-out features.json
#   clinops accept --model model.onnx --sha256 … --holdout labelled.json --labels '["No sepsis","Sepsis"]' --calibration-out calibration.json
`, 'sepsis-reference', 'icu', values, {
    'labels.json': JSON.stringify(labelReference(['No sepsis', 'Sepsis'], predicted)),
    'features.json': featuresJson(features),
    'calibration.json': JSON.stringify(accepted.calibration),
  });
  return { yaml, sha256: model.sha256, baseline };
}

/** What the sample ClinicalModel must declare for this model: its sha256 and the baseline it was accepted at. */
function sampleProblems(sha256: string, baseline: Record<string, number>): string[] {
  const sample = readFileSync(join(repoRoot, 'samples', 'sepsis-early-warning.yaml'), 'utf8');
  const problems: string[] = [];
  if (!sample.includes(`sha256: ${sha256}`)) problems.push(`spec.model.sha256 is not the generated model's ${sha256}`);
  const declared = `baseline: {auroc: ${baseline.auroc!.toFixed(2)}, sensitivity: ${baseline.sensitivity!.toFixed(2)}, specificity: ${baseline.specificity!.toFixed(2)}}`;
  if (!sample.includes(declared)) problems.push(`spec.monitoring.performance should declare ${declared} (the acceptance on the holdout)`);
  return problems;
}

if (process.argv[1]?.endsWith('sample-reference.js')) {
  const { yaml: text, sha256, baseline } = await sampleReferenceYaml();
  const problems = sampleProblems(sha256, baseline);
  if (process.argv.includes('--check')) {
    if (readFileSync(SAMPLE_REFERENCE, 'utf8') !== text) problems.unshift(`${SAMPLE_REFERENCE} differs from a fresh run: regenerate it`);
  } else {
    writeFileSync(SAMPLE_REFERENCE, text);
  }
  if (problems.length > 0) {
    console.error(`samples/sepsis-early-warning.yaml: ${problems.join('; ')}`);
    process.exit(1);
  }
  if (process.argv.includes('--pneumonia')) writeFileSync(join(repoRoot, 'samples', 'pneumonia-cxr-reference.yaml'), await pneumoniaReferenceYaml());
}
