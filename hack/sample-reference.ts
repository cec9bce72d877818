// Writes the samples' reference distributions:
// - samples/sepsis-early-warning-reference.yaml: the top-class confidence, the predicted labels' counts
//   and each input feature's reference bins of the generated MLP (test/models) on a holdout set of 1,000
//   patients' 8 standardized vitals and labs, as `clinops reference` computes them. A test checks the
//   committed file equals a fresh run (--check).
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
import { SEPSIS_FEATURES } from '../test/models/drift-traffic.js';
import { generateAll, mlpInputs, rng } from '../test/models/generate.js';

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

export async function sampleReferenceYaml(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'clinops-ref-'));
  const model = generateAll(dir, false).mlp!;
  const holdout = mlpInputs(101, 1000);
  writeFileSync(join(dir, 'holdout.json'), JSON.stringify(holdout));
  const { predicted } = await buildReference(model.path, join(dir, 'holdout.json'), join(dir, 'ref.json'));
  const values = (JSON.parse(readFileSync(join(dir, 'ref.json'), 'utf8')) as number[]).map((v) => Number(v.toFixed(6)));
  // The server reads the holdout as FP32; the reference bins the values it will see.
  const features = featureReference(holdout.map((x) => x.map((v) => Math.fround(v))), SEPSIS_FEATURES, 100);
  return configMapYaml(`# Reference distributions of samples/sepsis-early-warning.yaml, from its 1,000-patient holdout set: the
# model's top-class confidence (confidence.json), how often it predicted each label (labels.json), and
# each input feature's bins and counts (features.json, which the pods mount to count their inputs' bins).
# Written by \`node dist/hack/sample-reference.js\`; for your own model \`clinops reference\` does the same:
#   clinops reference --model model.onnx --holdout holdout.json --out confidence.json \\
#     --labels 'No sepsis,Sepsis' --labels-out labels.json --features heart_rate,…,spo2 --features-out features.json
`, 'sepsis-reference', 'icu', values, {
    'labels.json': JSON.stringify(labelReference(['No sepsis', 'Sepsis'], predicted)),
    'features.json': featuresJson(features),
  });
}

if (process.argv[1]?.endsWith('sample-reference.js')) {
  const text = await sampleReferenceYaml();
  if (process.argv.includes('--check')) {
    if (readFileSync(SAMPLE_REFERENCE, 'utf8') !== text) {
      console.error(`${SAMPLE_REFERENCE} differs from a fresh run: regenerate it`);
      process.exit(1);
    }
  } else {
    writeFileSync(SAMPLE_REFERENCE, text);
  }
  if (process.argv.includes('--pneumonia')) writeFileSync(join(repoRoot, 'samples', 'pneumonia-cxr-reference.yaml'), await pneumoniaReferenceYaml());
}
