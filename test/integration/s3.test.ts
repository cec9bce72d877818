// Models from S3-compatible storage, as the fetch-model init container gets them: a real MinIO (built
// from its Go module) on loopback, `clinops fetch-model --url s3://BUCKET/KEY --credentials DIR` run as
// the init container runs it, the folder holding what the model's Secret holds. The right credentials
// write the verified file; a wrong secret key, a missing key, a wrong sha256, an incomplete Secret, a
// store that is down and an object past the size bound each fail with their own word (what status
// shows), write nothing, and never print a credential.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ObjectStore, startObjectStore } from '../../hack/cluster/s3.js';
import { freePort, repoRoot } from '../../hack/cluster/controlplane.js';
import { testModels } from './server/support.js';

let dir: string;
let store: ObjectStore;
let model: Buffer;
let sha: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'clinops-s3-'));
  store = await startObjectStore({ dir: join(dir, 'minio') });
  model = readFileSync(testModels().mlp!.path);
  sha = createHash('sha256').update(model).digest('hex');
  await store.put('models', 'sepsis/1.0.0/model.onnx', model);
}, 120_000);

afterAll(async () => {
  await store?.stop();
});

/** A credentials folder as the Secret's mount makes it: one file per key. */
function credentials(name: string, values: Record<string, string>): string {
  const d = join(dir, name);
  mkdirSync(d, { recursive: true });
  for (const [k, v] of Object.entries(values)) writeFileSync(join(d, k), v);
  return d;
}

function fetchModel(args: string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(repoRoot, 'dist', 'cli', 'main.js'), 'fetch-model', ...args], (err, _stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stderr });
    });
  });
}

const good = () => credentials('good', { accessKeyId: store.accessKeyId, secretAccessKey: store.secretAccessKey, endpoint: store.endpoint, region: 'us-east-1' });

it('fetches the object with the Secret\'s credentials and writes it once its sha256 matches (read-only)', async () => {
  const out = join(dir, 'model.onnx');
  const r = await fetchModel(['--url', 's3://models/sepsis/1.0.0/model.onnx', '--sha256', sha, '--out', out, '--credentials', good()]);
  expect(r).toMatchObject({ code: 0 });
  expect(readFileSync(out).equals(model)).toBe(true);
  expect(statSync(out).mode & 0o777).toBe(0o444);
  expect(r.stderr).toContain('model fetched and verified');
  expect(r.stderr.includes(store.secretAccessKey) || r.stderr.includes(store.accessKeyId)).toBe(false);
});

it('each failure has its word, writes nothing and prints no credential', async () => {
  const cases: Array<{ name: string; url?: string; sha?: string; creds: Record<string, string>; word: string; args?: string[] }> = [
    { name: 'wrong-secret', creds: { accessKeyId: store.accessKeyId, secretAccessKey: 'not-the-secret-key-at-all', endpoint: store.endpoint }, word: 'CredentialsRejected' },
    { name: 'unknown-key-id', creds: { accessKeyId: 'nobody', secretAccessKey: 'not-the-secret-key-at-all', endpoint: store.endpoint }, word: 'CredentialsRejected' },
    { name: 'missing-object', url: 's3://models/sepsis/9.9.9/model.onnx', creds: {}, word: 'NotFound' },
    { name: 'missing-bucket', url: 's3://no-such-bucket/model.onnx', creds: {}, word: 'NotFound' },
    { name: 'wrong-sha', sha: 'f'.repeat(64), creds: {}, word: 'DigestMismatch' },
    { name: 'no-secret-key', creds: { accessKeyId: store.accessKeyId, endpoint: store.endpoint }, word: 'BadCredentials' },
    { name: 'too-large', creds: {}, word: 'TooLarge', args: ['--max-bytes', '10'] },
    { name: 'store-down', creds: { accessKeyId: store.accessKeyId, secretAccessKey: store.secretAccessKey, endpoint: `http://127.0.0.1:${await freePort()}` }, word: 'Unreachable' },
  ];
  for (const c of cases) {
    const out = join(dir, `${c.name}.onnx`);
    const folder = Object.keys(c.creds).length > 0 ? credentials(c.name, c.creds) : good();
    const r = await fetchModel(['--url', c.url ?? 's3://models/sepsis/1.0.0/model.onnx', '--sha256', c.sha ?? sha, '--out', out, '--credentials', folder, '--timeout', '20000', ...(c.args ?? [])]);
    expect({ name: c.name, code: r.code, said: r.stderr.split('\n').find((l) => l.startsWith('clinops fetch-model:')) }).toEqual({ name: c.name, code: 1, said: expect.stringMatching(new RegExp(`^clinops fetch-model: ${c.word}: `)) });
    expect(existsSync(out) || existsSync(`${out}.partial`)).toBe(false);
    expect(r.stderr.includes(store.secretAccessKey) || r.stderr.includes('not-the-secret-key-at-all')).toBe(false);
  }
}, 120_000);

it('an s3:// URL without credentials is refused before anything is asked', async () => {
  const r = await fetchModel(['--url', 's3://models/sepsis/1.0.0/model.onnx', '--sha256', sha, '--out', join(dir, 'none.onnx')]);
  expect(r.code).toBe(1);
  expect(r.stderr).toContain('needs --credentials');
});
