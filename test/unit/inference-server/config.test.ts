// Every refusal of a bad server setting names a flag that `clinops serve` really has, beside its
// environment variable, so the person reading it can fix whichever they used.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadServerConfig } from '../../../inference-server/config.js';

const root = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');
const cli = readFileSync(join(root, 'cli', 'main.ts'), 'utf8');
const base = {
  CLINOPS_MODEL_PATH: '/models/m.onnx', CLINOPS_MODEL_NAME: 'm', CLINOPS_MODEL_VERSION: '1',
  CLINOPS_MODEL_SHA256: 'a'.repeat(64), CLINOPS_MODEL_LABELS: 'a,b',
};

it.each([
  ['CLINOPS_MODEL_SHA256', 'abc'], ['CLINOPS_MODEL_NAME', 'Not A Name'], ['CLINOPS_MODEL_LABELS', '[1]'],
  ['CLINOPS_PREPROCESSING', '{"width": 0}'], ['CLINOPS_MODEL_CARD', '[]'], ['CLINOPS_BODY_LIMIT', 'lots'],
  ['CLINOPS_EXECUTION_PROVIDER', 'tpu'], ['CLINOPS_LOG_LEVEL', 'loud'], ['CLINOPS_PORT', '70000'],
  ['CLINOPS_TIMEOUT_MS', '0'], ['CLINOPS_MAX_BATCH', '0'], ['CLINOPS_BATCH_DELAY_MS', '-1'], ['CLINOPS_MAX_QUEUE', 'x'],
  ['CLINOPS_WORKERS', '0'], ['CLINOPS_INTRA_OP_THREADS', '0'], ['CLINOPS_WINDOW_SIZE', '0'], ['CLINOPS_FEEDBACK_CAPACITY', '0'],
  ['CLINOPS_DRAIN_DELAY_MS', '-5'], ['CLINOPS_DRAIN_TIMEOUT_MS', '0'],
])('a bad %s names a flag of clinops serve', (name, value) => {
  let message = '';
  try {
    loadServerConfig({}, { ...base, [name]: value }, 2);
  } catch (err) {
    message = (err as Error).message;
  }
  const flag = /^invalid setting (--[a-z0-9-]+) \(([A-Z0-9_]+)\)/.exec(message);
  expect(flag?.[2]).toBe(name);
  expect(cli).toContain(`.option('${flag![1]} `);
});
