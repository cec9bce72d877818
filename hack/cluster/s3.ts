// A real S3-compatible object store for the tests: MinIO, built from its Go module (hack/minio.sh), its
// data under a directory of the caller's, on a free port. It listens on loopback; with `podBridge` (a
// model in a real pod fetches from it) on every address, and as root an iptables rule drops what
// reaches its port from anywhere but loopback and the pods' bridge, removed at stop. Buckets and
// objects are made with the AWS SDK's S3 client, the one fetch-model uses.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { freePort, repoRoot } from './controlplane.js';
import { until } from './wait.js';

const run = promisify(execFile);

export interface ObjectStore {
  /** Its S3 endpoint on loopback. */
  endpoint: string;
  port: number;
  /** The root credentials (the tests' Secrets hold them, or a wrong secret key). */
  accessKeyId: string;
  secretAccessKey: string;
  put(bucket: string, key: string, body: Uint8Array): Promise<void>;
  stop(): Promise<void>;
}

export interface ObjectStoreOptions {
  dir: string;
  /** Also accept connections from the pods' bridge (a model in a real pod fetching from it). */
  podBridge?: string;
}

export function minioBinary(): string {
  const bin = join(repoRoot, 'bin', 'minio');
  if (!existsSync(bin)) throw new Error('bin/minio is missing: run `make binaries` (it builds MinIO from its Go module)');
  return bin;
}

export async function startObjectStore(o: ObjectStoreOptions): Promise<ObjectStore> {
  const port = await freePort();
  const consolePort = await freePort();
  const accessKeyId = `clinops${randomBytes(4).toString('hex')}`;
  const secretAccessKey = randomBytes(18).toString('base64url');
  mkdirSync(join(o.dir, 'data'), { recursive: true });
  const guarded = o.podBridge !== undefined && process.getuid?.() === 0;
  if (o.podBridge && !guarded) throw new Error('an object store open to the pods needs root (its iptables guard)');
  const rules = guarded
    ? [['INPUT', '-p', 'tcp', '--dport', String(port), '-i', o.podBridge!, '-j', 'ACCEPT'], ['INPUT', '-p', 'tcp', '--dport', String(port), '!', '-i', 'lo', '-j', 'DROP']]
    : [];
  for (const r of [...rules].reverse()) await run('iptables', ['-w', '-I', ...r]);
  const proc: ChildProcess = spawn(minioBinary(), ['server', join(o.dir, 'data'), '--address', `${o.podBridge ? '' : '127.0.0.1'}:${port}`,
    '--console-address', `127.0.0.1:${consolePort}`, '--quiet', '--anonymous'], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, MINIO_ROOT_USER: accessKeyId, MINIO_ROOT_PASSWORD: secretAccessKey, MINIO_BROWSER: 'off', MINIO_UPDATE: 'off', HOME: o.dir },
  });
  let log = '';
  proc.stderr!.on('data', (c: Buffer) => (log = (log + c.toString()).slice(-4000)));
  const exited = new Promise((r) => proc.once('exit', r));
  const endpoint = `http://127.0.0.1:${port}`;
  try {
    await until('MinIO live', async () => {
      if (proc.exitCode !== null) throw new Error(`MinIO exited (${proc.exitCode}): ${log}`);
      return (await fetch(`${endpoint}/minio/health/live`).catch(() => undefined))?.ok === true;
    }, 60_000, 200);
  } catch (err) {
    proc.kill('SIGKILL');
    for (const r of rules) await run('iptables', ['-w', '-D', ...r]).catch(() => undefined);
    throw err;
  }
  const client = new S3Client({ region: 'us-east-1', endpoint, forcePathStyle: true, credentials: { accessKeyId, secretAccessKey } });
  const buckets = new Set<string>();
  return {
    endpoint, port, accessKeyId, secretAccessKey,
    put: async (bucket, key, body) => {
      if (!buckets.has(bucket)) {
        await client.send(new CreateBucketCommand({ Bucket: bucket })).catch((err: { name?: string }) => {
          if (err.name !== 'BucketAlreadyOwnedByYou') throw err;
        });
        buckets.add(bucket);
      }
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
    },
    stop: async () => {
      client.destroy();
      if (proc.exitCode === null) {
        proc.kill('SIGTERM');
        await exited;
      }
      for (const r of rules) await run('iptables', ['-w', '-D', ...r]).catch(() => undefined);
    },
  };
}
