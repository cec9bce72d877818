// STOW-RS to the PACS that files the results (spec.integration.dicom.destination → --dicom-destination):
// one POST of multipart/related per SR to `<url>/studies`, with HTTP Basic credentials or a bearer token
// read from files (a mounted Secret: `username` and `password`, or `token`; read at each send, so a
// rotated Secret is used at once) and, for https, the CA bundle given. An answer other than 200 is a
// failure with its reason: the HTTP status, and the DICOM Failure Reason when the PACS gives one.
import { readFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { related } from './multipart.js';

export interface Destination {
  url: string;
  /** A directory holding `username` and `password`, or `token`. */
  credentialsDir?: string;
  /** PEM CA bundle for an https URL. */
  caFile?: string;
  timeoutMs?: number;
}

export class DeliveryError extends Error {
  /** A permanent refusal (4xx other than 408/429): retrying the same SR cannot help. */
  constructor(message: string, readonly permanent = false) {
    super(message);
  }
}

async function optional(path: string): Promise<string | undefined> {
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch {
    return undefined;
  }
}

async function authorization(dir: string | undefined): Promise<string | undefined> {
  if (!dir) return undefined;
  const token = await optional(join(dir, 'token'));
  if (token) return `Bearer ${token}`;
  const [user, password] = await Promise.all([optional(join(dir, 'username')), optional(join(dir, 'password'))]);
  if (user === undefined || password === undefined) throw new DeliveryError('the destination credentials hold neither token nor username and password');
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

/** Store the instances at the destination; resolves when it answered 200, throws DeliveryError otherwise. */
export async function stow(d: Destination, instances: readonly Buffer[]): Promise<void> {
  const { body, contentType } = related(instances);
  const url = new URL(`${d.url.replace(/\/+$/, '')}/studies`);
  const auth = await authorization(d.credentialsDir);
  const ca = url.protocol === 'https:' && d.caFile ? await readFile(d.caFile) : undefined;
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  const headers: Record<string, string | number> = { 'content-type': contentType, 'content-length': body.length, accept: 'application/dicom+json' };
  if (auth) headers.authorization = auth;
  await new Promise<void>((resolve, reject) => {
    const req = request(url, { method: 'POST', headers, ...(ca ? { ca } : {}), timeout: d.timeoutMs ?? 30_000 }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size <= 65_536) chunks.push(c);
      });
      res.on('end', () => {
        const status = res.statusCode ?? 0;
        if (status === 200) return resolve();
        const reason = failureReason(Buffer.concat(chunks).toString('utf8'));
        reject(new DeliveryError(`the destination answered HTTP ${status}${reason ? ` (${reason})` : ''}`, status >= 400 && status < 500 && status !== 408 && status !== 429 && status !== 401 && status !== 403));
      });
      res.on('error', () => reject(new DeliveryError('the destination\'s answer broke off')));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', (err: NodeJS.ErrnoException) => reject(new DeliveryError(`the destination cannot be reached: ${err.code ?? err.message}`.slice(0, 160))));
    req.end(body);
  });
}

/** The DICOM Failure Reason (0008,1197) of a STOW-RS answer's Failed SOP Sequence, in hexadecimal. */
function failureReason(json: string): string | undefined {
  try {
    const doc = JSON.parse(json) as Record<string, { Value?: Array<Record<string, { Value?: unknown[] }>> }>;
    const failed = doc['00081198']?.Value?.[0]?.['00081197']?.Value?.[0];
    return typeof failed === 'number' ? `DICOM Failure Reason 0x${failed.toString(16).toUpperCase().padStart(4, '0')}` : undefined;
  } catch {
    return undefined;
  }
}
