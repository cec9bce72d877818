// Download a model artifact and verify it before anything can load it: the file appears at `out`
// only when its SHA-256 matches, written to a temporary name first and renamed; bounded in size (refused
// from its Content-Length, or cut off as it streams) and in time. From an https URL, or from an
// S3-compatible store (s3://BUCKET/KEY) with the AWS SDK's S3 client and credentials read from a folder
// (a mounted Secret). Every failure starts with a stable word the operator puts in status
// (CredentialsRejected, AccessDenied, NotFound, Unreachable, TimedOut, TooLarge, DigestMismatch,
// BadCredentials); no message carries a credential.
import { createHash } from 'node:crypto';
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { MODEL_FETCH_MAX_BYTES, MODEL_FETCH_TIMEOUT_MS } from '../contract/model-fetch.js';

export type FetchFailure = 'CredentialsRejected' | 'AccessDenied' | 'NotFound' | 'Unreachable' | 'TimedOut' | 'TooLarge' | 'DigestMismatch' | 'BadCredentials' | 'FetchFailed';

/** A failed fetch: `word` is what status shows the reason as; the message is for people. */
export class FetchError extends Error {
  constructor(readonly word: FetchFailure, message: string) {
    super(`${word}: ${message}`);
    this.name = 'FetchError';
  }
}

export interface FetchLimits { maxBytes: number; timeoutMs: number }
const DEFAULT_LIMITS: FetchLimits = { maxBytes: MODEL_FETCH_MAX_BYTES, timeoutMs: MODEL_FETCH_TIMEOUT_MS };

/** What a credentials folder (a mounted Secret) holds for an S3-compatible store. */
export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  endpoint?: string;
  region: string;
  ca?: string;
}

/** Read the folder: accessKeyId and secretAccessKey required; sessionToken, endpoint, region, ca.crt optional. */
export function readS3Credentials(dir: string): S3Credentials {
  const read = (name: string, required: boolean): string | undefined => {
    const path = join(dir, name);
    if (!existsSync(path)) {
      if (required) throw new FetchError('BadCredentials', `the credentials Secret has no "${name}"`);
      return undefined;
    }
    const value = readFileSync(path, 'utf8').trim();
    if (required && value === '') throw new FetchError('BadCredentials', `the credentials Secret's "${name}" is empty`);
    return value === '' ? undefined : value;
  };
  const endpoint = read('endpoint', false);
  if (endpoint !== undefined && !/^https?:\/\/[^\s/]+(\/.*)?$/.test(endpoint)) throw new FetchError('BadCredentials', 'the credentials Secret\'s "endpoint" is not an http or https URL');
  const token = read('sessionToken', false);
  const ca = read('ca.crt', false);
  return {
    accessKeyId: read('accessKeyId', true)!,
    secretAccessKey: read('secretAccessKey', true)!,
    ...(token ? { sessionToken: token } : {}),
    ...(endpoint ? { endpoint } : {}),
    region: read('region', false) ?? 'us-east-1',
    ...(ca ? { ca } : {}),
  };
}

/** The stable word for an S3 error (by the service's code, or the network's). */
export function s3Failure(err: unknown): FetchFailure {
  const e = err as { name?: string; Code?: string; code?: string; $metadata?: { httpStatusCode?: number } };
  const code = e?.Code ?? e?.name ?? '';
  if (['InvalidAccessKeyId', 'SignatureDoesNotMatch', 'InvalidToken', 'ExpiredToken', 'InvalidSecurity', 'AuthorizationHeaderMalformed'].includes(code)) return 'CredentialsRejected';
  if (code === 'AccessDenied' || e?.$metadata?.httpStatusCode === 403) return 'AccessDenied';
  if (code === 'NoSuchKey' || code === 'NoSuchBucket' || code === 'NotFound' || e?.$metadata?.httpStatusCode === 404) return 'NotFound';
  if (code === 'TimeoutError' || code === 'AbortError') return 'TimedOut';
  if (['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ECONNRESET', 'ETIMEDOUT', 'EAI_AGAIN', 'CERT_HAS_EXPIRED', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN'].includes(e?.code ?? '')) return 'Unreachable';
  return 'FetchFailed';
}

const WHY: Record<FetchFailure, string> = {
  CredentialsRejected: 'the store refused the credentials (access key or secret key wrong, or the token expired)',
  AccessDenied: 'the credentials may not read this object',
  NotFound: 'no such bucket or key',
  Unreachable: 'the store cannot be reached',
  TimedOut: 'the store did not answer in time',
  TooLarge: 'the object is too large',
  DigestMismatch: 'the object is not the declared file',
  BadCredentials: 'the credentials Secret is incomplete',
  FetchFailed: 'the store answered with an error',
};

export async function fetchModel(url: string, sha256: string, out: string, fetchFn: typeof fetch = fetch,
  limits: FetchLimits = DEFAULT_LIMITS, credentialsDir?: string): Promise<number> {
  if (!/^[0-9a-fA-F]{64}$/.test(sha256)) throw new Error(`--sha256 must be 64 hex characters, got "${sha256}"`);
  if (url.startsWith('s3://')) {
    if (!credentialsDir) throw new Error('an s3:// URL needs --credentials (a folder with accessKeyId, secretAccessKey and endpoint)');
    return fetchS3(url, sha256, out, limits, readS3Credentials(credentialsDir));
  }
  if (!url.startsWith('https://')) throw new Error(`--url must be an https or s3 URL, got "${url}"`);
  const signal = AbortSignal.timeout(limits.timeoutMs);
  const res = await fetchFn(url, { signal }).catch((err: unknown) => {
    throw signal.aborted ? new FetchError('TimedOut', `${url} did not answer within ${limits.timeoutMs / 1000} s`) : new FetchError('Unreachable', `${url}: ${(err as Error).message}`);
  });
  if (!res.ok || !res.body) {
    const word = res.status === 404 ? 'NotFound' : res.status === 401 ? 'CredentialsRejected' : res.status === 403 ? 'AccessDenied' : 'FetchFailed';
    throw new FetchError(word, `GET ${url} answered ${res.status} ${res.statusText}`);
  }
  const length = Number(res.headers.get('content-length'));
  if (length > limits.maxBytes) {
    await res.body.cancel().catch(() => undefined);
    throw new FetchError('TooLarge', `${url} is larger than ${limits.maxBytes} bytes (--max-bytes); not written`);
  }
  return writeVerified(Readable.fromWeb(res.body as never), url, sha256, out, limits, signal);
}

async function fetchS3(url: string, sha256: string, out: string, limits: FetchLimits, c: S3Credentials): Promise<number> {
  const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(url);
  if (!m) throw new Error(`--url ${url} must be s3://BUCKET/KEY`);
  const signal = AbortSignal.timeout(limits.timeoutMs);
  // The pinned SDK supports the image's Node 20; its notice that later releases will not would be the
  // first line of every fetch's log (and of a failed fetch's termination message).
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const client = new S3Client({
    region: c.region,
    ...(c.endpoint ? { endpoint: c.endpoint } : {}),
    // Path-style requests: MinIO, Ceph RGW and SeaweedFS serve them on any host name.
    forcePathStyle: true,
    credentials: { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey, ...(c.sessionToken ? { sessionToken: c.sessionToken } : {}) },
    maxAttempts: 3,
    ...(c.ca ? { requestHandler: new NodeHttpHandler({ httpsAgent: new Agent({ ca: c.ca }) }) } : {}),
  });
  try {
    const res = await client.send(new GetObjectCommand({ Bucket: m[1], Key: m[2] }), { abortSignal: signal }).catch((err: unknown) => {
      const word = signal.aborted ? 'TimedOut' : s3Failure(err);
      throw new FetchError(word, `${url}: ${WHY[word]}${word === 'FetchFailed' ? ` (${String((err as { name?: string }).name ?? 'error').slice(0, 64)})` : ''}`);
    });
    if ((res.ContentLength ?? 0) > limits.maxBytes) {
      (res.Body as Readable | undefined)?.destroy();
      throw new FetchError('TooLarge', `${url} is ${res.ContentLength} bytes, larger than ${limits.maxBytes} (--max-bytes); not written`);
    }
    if (!res.Body) throw new FetchError('FetchFailed', `${url}: the store answered without a body`);
    return await writeVerified(res.Body as Readable, url, sha256, out, limits, signal);
  } finally {
    client.destroy();
  }
}

/** Stream `body` to `out` through a hash, within the limits; the file appears only when its sha256 matches. */
async function writeVerified(body: Readable, url: string, sha256: string, out: string, limits: FetchLimits, signal: AbortSignal): Promise<number> {
  const hash = createHash('sha256');
  let bytes = 0;
  const tmp = `${out}.partial`;
  const tooLarge = () => new FetchError('TooLarge', `${url} is larger than ${limits.maxBytes} bytes (--max-bytes); not written`);
  body.on('data', (chunk: Buffer) => {
    hash.update(chunk);
    bytes += chunk.length;
    if (bytes > limits.maxBytes) body.destroy(tooLarge());
  });
  const onAbort = () => body.destroy(new FetchError('TimedOut', `${url} did not arrive within ${limits.timeoutMs / 1000} s; not written`));
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    await pipeline(body, createWriteStream(tmp, { mode: 0o444 }));
  } catch (err) {
    await rm(tmp, { force: true });
    if (err instanceof FetchError) throw err;
    if (signal.aborted) throw new FetchError('TimedOut', `${url} did not arrive within ${limits.timeoutMs / 1000} s; not written`);
    throw new FetchError('Unreachable', `${url}: the transfer broke off (${(err as Error).message.slice(0, 200)}); not written`);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
  const got = hash.digest('hex');
  if (got !== sha256.toLowerCase()) {
    await rm(tmp, { force: true });
    throw new FetchError('DigestMismatch', `sha256 of ${url} is ${got}, expected ${sha256.toLowerCase()}; the file was not written`);
  }
  await rename(tmp, out);
  return bytes;
}
