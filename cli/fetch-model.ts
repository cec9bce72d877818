// Download a model artifact and verify it before anything can load it: the file appears at `out`
// only when its SHA-256 matches, written to a temporary name first and renamed; bounded in size (refused
// from its Content-Length, or cut off as it streams) and in time.
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { MODEL_FETCH_MAX_BYTES, MODEL_FETCH_TIMEOUT_MS } from '../contract/model-fetch.js';

export async function fetchModel(url: string, sha256: string, out: string, fetchFn: typeof fetch = fetch,
  limits: { maxBytes: number; timeoutMs: number } = { maxBytes: MODEL_FETCH_MAX_BYTES, timeoutMs: MODEL_FETCH_TIMEOUT_MS }): Promise<number> {
  if (!/^[0-9a-fA-F]{64}$/.test(sha256)) throw new Error(`--sha256 must be 64 hex characters, got "${sha256}"`);
  if (!url.startsWith('https://')) throw new Error(`--url must be an https URL, got "${url}"`);
  const signal = AbortSignal.timeout(limits.timeoutMs);
  const res = await fetchFn(url, { signal });
  if (!res.ok || !res.body) throw new Error(`GET ${url} answered ${res.status} ${res.statusText}`);
  const tooLarge = () => new Error(`${url} is larger than ${limits.maxBytes} bytes (--max-bytes); not written`);
  if (Number(res.headers.get('content-length')) > limits.maxBytes) {
    await res.body.cancel().catch(() => undefined);
    throw tooLarge();
  }
  const hash = createHash('sha256');
  let bytes = 0;
  const tmp = `${out}.partial`;
  const body = Readable.fromWeb(res.body as never);
  body.on('data', (chunk: Buffer) => {
    hash.update(chunk);
    bytes += chunk.length;
    if (bytes > limits.maxBytes) body.destroy(tooLarge());
  });
  try {
    await pipeline(body, createWriteStream(tmp, { mode: 0o444 }));
  } catch (err) {
    await rm(tmp, { force: true });
    if (signal.aborted) throw new Error(`${url} did not arrive within ${limits.timeoutMs / 1000} s; not written`);
    throw err;
  }
  const got = hash.digest('hex');
  if (got !== sha256.toLowerCase()) {
    await rm(tmp, { force: true });
    throw new Error(`sha256 of ${url} is ${got}, expected ${sha256.toLowerCase()}; the file was not written`);
  }
  await rename(tmp, out);
  return bytes;
}
