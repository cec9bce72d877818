// Writes samples/sepsis-early-warning-reference.yaml: the reference distribution of the sepsis
// sample, i.e. the top-class confidence of the generated MLP (test/models) on a holdout set of 1,000
// patients' 8 standardized vitals and labs, as `clinops reference` computes it. Deterministic; a test
// checks the committed file equals a fresh run.
//   node dist/hack/sample-reference.js [--check]
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildReference } from '../cli/drift.js';
import { repoRoot } from '../test/harness/controlplane.js';
import { generateAll, rng } from '../test/models/generate.js';

export const SAMPLE_REFERENCE = join(repoRoot, 'samples', 'sepsis-early-warning-reference.yaml');

/** The holdout set: n instances of 8 features, uniform on (−1, 1), from a seeded generator. */
export function holdout(seed: number, n: number, scale = 1): number[][] {
  const r = rng(seed);
  return Array.from({ length: n }, () => Array.from({ length: 8 }, () => (r() * 2 - 1) * scale));
}

export async function sampleReferenceYaml(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'clinops-ref-'));
  const model = generateAll(dir, false).mlp!;
  writeFileSync(join(dir, 'holdout.json'), JSON.stringify(holdout(101, 1000)));
  await buildReference(model.path, join(dir, 'holdout.json'), join(dir, 'ref.json'));
  const values = (JSON.parse(readFileSync(join(dir, 'ref.json'), 'utf8')) as number[]).map((v) => Number(v.toFixed(6)));
  const lines: string[] = [];
  for (let i = 0; i < values.length; i += 10) lines.push(`    ${values.slice(i, i + 10).join(', ')}${i + 10 < values.length ? ',' : ''}`);
  return `# Reference distribution of samples/sepsis-early-warning.yaml: the model's top-class confidence on its
# 1,000-patient holdout set. Written by \`node dist/hack/sample-reference.js\` (\`clinops reference\` does the
# same for your own model: clinops reference --model model.onnx --holdout holdout.json --out confidence.json).
apiVersion: v1
kind: ConfigMap
metadata:
  name: sepsis-reference
  namespace: icu
data:
  confidence.json: |
    [
${lines.join('\n')}
    ]
`;
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
}
