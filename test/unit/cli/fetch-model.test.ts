import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fetchModel, readS3Credentials, s3Failure } from '../../../cli/fetch-model.js';

const bytes = Buffer.from('not really onnx, but bytes all the same');
const sha = createHash('sha256').update(bytes).digest('hex');
const serve = (async () => new Response(bytes)) as unknown as typeof fetch;

describe('fetchModel', () => {
  it('writes the file when its sha256 matches', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'fetch-')), 'model.onnx');
    await expect(fetchModel('https://models.example/m.onnx', sha.toUpperCase(), out, serve)).resolves.toBe(bytes.length);
    expect(readFileSync(out)).toEqual(bytes);
  });

  it('writes nothing when the sha256 differs, and says both digests', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'fetch-')), 'model.onnx');
    await expect(fetchModel('https://models.example/m.onnx', 'f'.repeat(64), out, serve)).rejects.toThrow(`is ${sha}, expected ${'f'.repeat(64)}`);
    expect(existsSync(out)).toBe(false);
    expect(existsSync(`${out}.partial`)).toBe(false);
  });

  it('refuses plain http and malformed digests before any request', async () => {
    await expect(fetchModel('http://models.example/m.onnx', sha, '/tmp/x', serve)).rejects.toThrow('https');
    await expect(fetchModel('https://models.example/m.onnx', 'abc', '/tmp/x', serve)).rejects.toThrow('64 hex');
  });

  it('reports an HTTP error status', async () => {
    const notFound = (async () => new Response('no', { status: 404, statusText: 'Not Found' })) as unknown as typeof fetch;
    await expect(fetchModel('https://models.example/m.onnx', sha, '/tmp/x', notFound)).rejects.toThrow('404');
  });

  it('refuses a file larger than its bound, from its Content-Length or as it streams, and writes nothing', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'fetch-')), 'model.onnx');
    const limits = { maxBytes: 10, timeoutMs: 5000 };
    await expect(fetchModel('https://models.example/m.onnx', sha, out, serve, limits)).rejects.toThrow('is larger than 10 bytes (--max-bytes); not written');
    const streamed = (async () => new Response(new ReadableStream({ pull(c) { c.enqueue(new Uint8Array(8)); } }))) as unknown as typeof fetch;
    await expect(fetchModel('https://models.example/m.onnx', sha, out, streamed, limits)).rejects.toThrow('is larger than 10 bytes');
    expect(existsSync(out)).toBe(false);
    expect(existsSync(`${out}.partial`)).toBe(false);
  });

  it('gives up on a download that does not arrive in time', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'fetch-')), 'model.onnx');
    const slow = (async (_u: string, init?: RequestInit) => new Response(new ReadableStream({
      start(c) {
        c.enqueue(new Uint8Array(1));
        init?.signal?.addEventListener('abort', () => c.error(init.signal!.reason));
      },
    }))) as unknown as typeof fetch;
    await expect(fetchModel('https://models.example/m.onnx', sha, out, slow, { maxBytes: 100, timeoutMs: 100 })).rejects.toThrow('did not arrive within 0.1 s; not written');
    expect(existsSync(`${out}.partial`)).toBe(false);
  });
});

describe('S3 credentials and failures', () => {
  const folder = (values: Record<string, string>) => {
    const d = mkdtempSync(join(tmpdir(), 'creds-'));
    for (const [k, v] of Object.entries(values)) writeFileSync(join(d, k), v);
    return d;
  };

  it('reads the Secret\'s folder: keys required, session token, endpoint, region and CA optional', () => {
    expect(readS3Credentials(folder({ accessKeyId: 'AKIA1\n', secretAccessKey: 's3cret\n' }))).toEqual({ accessKeyId: 'AKIA1', secretAccessKey: 's3cret', region: 'us-east-1' });
    expect(readS3Credentials(folder({ accessKeyId: 'a', secretAccessKey: 'b', sessionToken: 't', endpoint: 'https://s3.hospital.internal:9000', region: 'eu-west-2', 'ca.crt': 'PEM' })))
      .toEqual({ accessKeyId: 'a', secretAccessKey: 'b', sessionToken: 't', endpoint: 'https://s3.hospital.internal:9000', region: 'eu-west-2', ca: 'PEM' });
    expect(() => readS3Credentials(folder({ accessKeyId: 'a' }))).toThrow('BadCredentials: the credentials Secret has no "secretAccessKey"');
    expect(() => readS3Credentials(folder({ accessKeyId: 'a', secretAccessKey: ' ' }))).toThrow('"secretAccessKey" is empty');
    expect(() => readS3Credentials(folder({ accessKeyId: 'a', secretAccessKey: 'b', endpoint: 'ftp://x' }))).toThrow('"endpoint" is not an http or https URL');
  });

  it('gives each S3 error its word', () => {
    expect(s3Failure({ name: 'InvalidAccessKeyId' })).toBe('CredentialsRejected');
    expect(s3Failure({ name: 'SignatureDoesNotMatch' })).toBe('CredentialsRejected');
    expect(s3Failure({ name: 'ExpiredToken' })).toBe('CredentialsRejected');
    expect(s3Failure({ name: 'AccessDenied' })).toBe('AccessDenied');
    expect(s3Failure({ name: 'NoSuchKey' })).toBe('NotFound');
    expect(s3Failure({ name: 'Unknown', $metadata: { httpStatusCode: 404 } })).toBe('NotFound');
    expect(s3Failure({ code: 'ECONNREFUSED' })).toBe('Unreachable');
    expect(s3Failure({ name: 'InternalError' })).toBe('FetchFailed');
  });

  it('refuses an s3:// URL without a credentials folder, and any other scheme', async () => {
    await expect(fetchModel('s3://models/m.onnx', 'a'.repeat(64), '/tmp/x')).rejects.toThrow('needs --credentials');
    await expect(fetchModel('ftp://models/m.onnx', 'a'.repeat(64), '/tmp/x')).rejects.toThrow('https or s3 URL');
  });
});
