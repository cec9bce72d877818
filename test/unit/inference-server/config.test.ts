// The server's settings table: every refusal of a bad value names a flag that `clinops serve` really
// has (the CLI's options are made from the same table), beside its environment variable; flags win
// over the environment, defaults fill the rest, and the result is frozen all the way down.
import { Command } from 'commander';
import { addOptions } from '../../../contract/settings.js';
import { loadServerConfig, serverSettings } from '../../../inference-server/config.js';

const base = {
  CLINOPS_MODEL_PATH: '/models/m.onnx', CLINOPS_MODEL_NAME: 'm', CLINOPS_MODEL_VERSION: '1',
  CLINOPS_MODEL_SHA256: 'a'.repeat(64), CLINOPS_MODEL_LABELS: 'a,b', CLINOPS_API_KEYS_FILE: '/keys/keys.json',
};
const serve = addOptions(new Command('serve'), serverSettings(2));

it.each([
  ['CLINOPS_MODEL_SHA256', 'abc'], ['CLINOPS_MODEL_NAME', 'Not A Name'], ['CLINOPS_MODEL_LABELS', '[1]'],
  ['CLINOPS_PREPROCESSING', '{"width": 0}'], ['CLINOPS_MODEL_CARD', '[]'], ['CLINOPS_BODY_LIMIT', 'lots'],
  ['CLINOPS_EXECUTION_PROVIDER', 'tpu'], ['CLINOPS_LOG_LEVEL', 'loud'], ['CLINOPS_PORT', '70000'],
  ['CLINOPS_TIMEOUT_MS', '0'], ['CLINOPS_MAX_BATCH', '0'], ['CLINOPS_BATCH_DELAY_MS', '-1'], ['CLINOPS_MAX_QUEUE', 'x'],
  ['CLINOPS_BATCH_WAIT', 'sometimes'], ['CLINOPS_ALLOW_SPINNING', 'yes'],
  ['CLINOPS_WORKERS', '0'], ['CLINOPS_INTRA_OP_THREADS', '0'], ['CLINOPS_WINDOW_SIZE', '0'], ['CLINOPS_FEEDBACK_CAPACITY', '0'],
  ['CLINOPS_DRAIN_DELAY_MS', '-5'], ['CLINOPS_DRAIN_TIMEOUT_MS', '0'], ['CLINOPS_PROTECT_HEALTH', 'maybe'],
])('a bad %s names a flag of clinops serve and what it takes', (name, value) => {
  let message = '';
  try {
    loadServerConfig({}, { ...base, [name]: value }, 2);
  } catch (err) {
    message = (err as Error).message;
  }
  const flag = /^invalid setting (--[a-z0-9-]+) \(([A-Z0-9_]+)\): .* must /.exec(message);
  expect(flag?.[2]).toBe(name);
  expect(serve.options.map((o) => o.long)).toContain(flag![1]);
});

it('refuses a missing required setting by name', () => {
  const { CLINOPS_MODEL_SHA256: _, ...env } = base;
  expect(() => loadServerConfig({}, env, 2)).toThrow('invalid setting --sha256 (CLINOPS_MODEL_SHA256): is required');
});

it('takes flags over the environment, fills defaults from the usable cores, and freezes the result', () => {
  const c = loadServerConfig({ maxBatch: '16', name: 'flagged' }, { ...base, CLINOPS_MAX_BATCH: '4', CLINOPS_BODY_LIMIT: '512kb', CLINOPS_MODEL_LABELS: '["x","y"]' }, 4);
  expect(c).toMatchObject({
    maxBatchSize: 16, modelName: 'flagged', bodyLimitBytes: 512 * 1024, labels: ['x', 'y'], workers: 2, intraOpThreads: 2,
    allowSpinning: false, batchWait: 'busy', maxQueueDelayMs: 2, port: 8080, terminationLog: '/dev/termination-log',
  });
  expect(Object.isFrozen(c)).toBe(true);
  expect(Object.isFrozen(c.labels)).toBe(true);
  // Threads that leave a core for the HTTP thread may spin.
  expect(loadServerConfig({ workers: '1', intraOpThreads: '1' }, base, 4).allowSpinning).toBe(true);
});

it('fills image preprocessing mean and std per channel, and refuses a mismatch', () => {
  const c = loadServerConfig({}, { ...base, CLINOPS_PREPROCESSING: '{"width":224,"height":224,"channels":3}' }, 2);
  expect(c.preprocessing).toEqual({ width: 224, height: 224, channels: 3, mean: [0, 0, 0], std: [1, 1, 1] });
  expect(() => loadServerConfig({}, { ...base, CLINOPS_PREPROCESSING: '{"width":2,"height":2,"channels":3,"mean":[0]}' }, 2)).toThrow('one value per channel');
});

it('has help for every flag, naming its variable', () => {
  for (const o of serve.options) expect(o.description).toMatch(/\(env CLINOPS_[A-Z0-9_]+/);
});

it('refuses to start without API keys unless told to serve anyone, and not both', () => {
  const { CLINOPS_API_KEYS_FILE: _keys, ...open } = base;
  expect(() => loadServerConfig({}, open, 2)).toThrow('invalid setting --api-keys (CLINOPS_API_KEYS_FILE): no API keys: every caller would be served unauthenticated. ' +
    'Give a key file, or --allow-unauthenticated (CLINOPS_ALLOW_UNAUTHENTICATED=true) to serve anyone who can reach the port');
  expect(loadServerConfig({ allowUnauthenticated: true }, open, 2).allowUnauthenticated).toBe(true);
  expect(loadServerConfig({}, { ...open, CLINOPS_ALLOW_UNAUTHENTICATED: 'true' }, 2).apiKeysFile).toBeUndefined();
  expect(() => loadServerConfig({ allowUnauthenticated: true }, base, 2)).toThrow('--allow-unauthenticated (CLINOPS_ALLOW_UNAUTHENTICATED): cannot be given with --api-keys');
});
