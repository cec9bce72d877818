// The PACS path's delivery (inference-server/dicomweb/destination.ts) against an HTTPS STOW-RS receiver
// of our own on loopback, with a certificate from a throwaway CA: verified against the CA given (and
// refused without it), credentials read from their files at each delivery (a rotated token is used at
// once), the DICOM Failure Reason of a refusal named, and which refusals are permanent.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPki, servingCert } from '../../../hack/cluster/certs.js';
import { DeliveryError, stow } from '../../../inference-server/dicomweb/destination.js';
import { parseRelated, relatedType } from '../../../inference-server/dicomweb/multipart.js';

let dir: string;
let server: Server;
let url: string;
let ca: string;
const seen: Array<{ path: string; authorization?: string; parts: Buffer[] }> = [];
let answer: { status: number; body: string } = { status: 200, body: '{}' };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dicom-destination-'));
  const pki = await createPki(dir);
  ca = pki.caCert;
  const cert = await servingCert(dir, 'pacs', ['127.0.0.1']);
  server = createServer({ cert: readFileSync(cert.cert), key: readFileSync(cert.key) }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const { boundary } = relatedType(req.headers['content-type'] ?? '');
      seen.push({ path: req.url ?? '', ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}), parts: parseRelated(Buffer.concat(chunks), boundary, 10).map((p) => Buffer.from(p.bytes)) });
      res.writeHead(answer.status, { 'content-type': 'application/dicom+json' }).end(answer.body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/dicom-web`;
});

afterAll(() => new Promise<void>((r) => server.close(() => r())));

const credentials = (files: Record<string, string>) => {
  const d = mkdtempSync(join(dir, 'creds-'));
  for (const [k, v] of Object.entries(files)) writeFileSync(join(d, k), v);
  return d;
};

it('stores the SR at URL/studies over HTTPS verified against the CA given, with a bearer token read at each delivery', async () => {
  const creds = credentials({ token: 'first-token\n' });
  const sr = Buffer.from('an SR would be here');
  await stow({ url, credentialsDir: creds, caFile: ca }, [sr]);
  expect(seen.at(-1)).toEqual({ path: '/dicom-web/studies', authorization: 'Bearer first-token', parts: [sr] });
  writeFileSync(join(creds, 'token'), 'rotated-token');
  await stow({ url, credentialsDir: creds, caFile: ca }, [sr]);
  expect(seen.at(-1)!.authorization).toBe('Bearer rotated-token');
});

it('uses HTTP Basic from username and password; refuses credentials that hold neither', async () => {
  await stow({ url, credentialsDir: credentials({ username: 'clinops', password: 's3cret' }), caFile: ca }, [Buffer.from('x')]);
  expect(seen.at(-1)!.authorization).toBe(`Basic ${Buffer.from('clinops:s3cret').toString('base64')}`);
  await expect(stow({ url, credentialsDir: credentials({ username: 'only' }), caFile: ca }, [Buffer.from('x')]))
    .rejects.toThrow('the destination credentials hold neither token nor username and password');
});

it('refuses a destination whose certificate the CA given did not sign (none given: the system\'s)', async () => {
  const before = seen.length;
  const err = await stow({ url }, [Buffer.from('x')]).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(DeliveryError);
  expect((err as DeliveryError).message).toMatch(/^the destination cannot be reached: (SELF_SIGNED|UNABLE_TO_VERIFY|DEPTH_ZERO)/);
  expect((err as DeliveryError).permanent).toBe(false);
  const other = join(dir, 'other');
  mkdirSync(other);
  const otherCa = (await createPki(other)).caCert;
  await expect(stow({ url, caFile: otherCa }, [Buffer.from('x')])).rejects.toThrow(/cannot be reached/);
  expect(seen.length).toBe(before);
});

it('names the PACS\'s refusal with its DICOM Failure Reason; a 409 is permanent, a 503 or 401 is retried', async () => {
  answer = { status: 409, body: JSON.stringify({ '00081198': { vr: 'SQ', Value: [{ '00081197': { vr: 'US', Value: [0xa900] } }] } }) };
  const refused = await stow({ url, caFile: ca }, [Buffer.from('x')]).catch((e: unknown) => e) as DeliveryError;
  expect(refused.message).toBe('the destination answered HTTP 409 (DICOM Failure Reason 0xA900)');
  expect(refused.permanent).toBe(true);
  for (const status of [503, 401, 429]) {
    answer = { status, body: 'busy' };
    const e = await stow({ url, caFile: ca }, [Buffer.from('x')]).catch((x: unknown) => x) as DeliveryError;
    expect(e.message).toBe(`the destination answered HTTP ${status}`);
    expect(e.permanent).toBe(false);
  }
  answer = { status: 200, body: '{}' };
});
