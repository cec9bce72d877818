// multipart/related, as DICOMweb's STOW-RS sends studies (PS3.18 8.6.1.1): parts split on the boundary
// the Content-Type names, each part's headers read (Content-Type only) and its bytes taken as a view of
// the request's buffer (nothing is copied). Bounded: at most `maxParts` parts, part headers of at most
// 8 KiB each. And the same form for what this server sends on (the SRs it stores at the destination).
import { randomBytes } from 'node:crypto';
import { fail } from '../errors.js';

export interface Part {
  type: string;
  bytes: Buffer;
}

const PART_HEADERS = 8192;

/** The boundary and the type of a `multipart/related; type="application/dicom"; boundary=…` Content-Type. */
export function relatedType(contentType: string): { boundary: string; type: string } {
  if (!/^multipart\/related\b/i.test(contentType)) {
    throw fail('unsupportedContentType', { type: contentType.slice(0, 64) }, 'content-type');
  }
  const param = (name: string) => new RegExp(`;\\s*${name}=(?:"([^"]*)"|([^;\\s]*))`, 'i').exec(contentType);
  const b = param('boundary');
  const boundary = b?.[1] ?? b?.[2] ?? '';
  // RFC 2046 5.1.1 says 1 to 70 characters; Orthanc sends 73 (two UUIDs): up to 200 are taken.
  if (boundary.length < 1 || boundary.length > 200) throw fail('badMultipart', { reason: 'no boundary (1–200 characters) in its Content-Type' }, 'content-type');
  const t = param('type');
  const type = (t?.[1] ?? t?.[2] ?? 'application/dicom').toLowerCase();
  if (type !== 'application/dicom') throw fail('stowType', { type: type.slice(0, 64) }, 'content-type');
  return { boundary, type };
}

/** The parts of a multipart/related body. */
export function parseRelated(body: Buffer, boundary: string, maxParts: number): Part[] {
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: Part[] = [];
  let at = body.indexOf(delimiter);
  if (at < 0) throw fail('badMultipart', { reason: 'the boundary never appears in the body' }, 'body');
  for (;;) {
    at += delimiter.length;
    // "--" after a delimiter closes the body.
    if (body[at] === 0x2d && body[at + 1] === 0x2d) break;
    const headersAt = body.indexOf('\r\n', at);
    if (headersAt < 0) throw fail('badMultipart', { reason: 'the body ends inside a part' }, 'body');
    const headersEnd = body.indexOf('\r\n\r\n', headersAt);
    if (headersEnd < 0 || headersEnd - headersAt > PART_HEADERS) throw fail('badMultipart', { reason: `part ${parts.length + 1}'s headers end nowhere within ${PART_HEADERS} bytes` }, 'body');
    const next = body.indexOf(Buffer.from(`\r\n--${boundary}`), headersEnd + 4);
    if (next < 0) throw fail('badMultipart', { reason: 'the closing boundary is missing' }, 'body');
    if (parts.length >= maxParts) throw fail('tooManyStudyParts', { max: maxParts }, 'body');
    const headers = body.subarray(headersAt + 2, headersEnd).toString('latin1');
    const type = /^content-type:\s*([^;\r\n]+)/im.exec(headers)?.[1]?.trim().toLowerCase() ?? 'application/dicom';
    parts.push({ type, bytes: body.subarray(headersEnd + 4, next) });
    at = next + 2;
  }
  if (parts.length === 0) throw fail('badMultipart', { reason: 'no part' }, 'body');
  return parts;
}

/** A multipart/related body of DICOM instances, and its Content-Type. */
export function related(instances: readonly Buffer[]): { body: Buffer; contentType: string } {
  const boundary = `clinops-${randomBytes(12).toString('hex')}`;
  const chunks: Buffer[] = [];
  for (const bytes of instances) chunks.push(Buffer.from(`--${boundary}\r\nContent-Type: application/dicom\r\n\r\n`), bytes, Buffer.from('\r\n'));
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(chunks), contentType: `multipart/related; type="application/dicom"; boundary=${boundary}` };
}
