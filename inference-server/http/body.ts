// Reading a request body, the one place that does: the bytes up to the configured limit (413 past it,
// before reading when Content-Length already says so), gzip or deflate undone within the same limit,
// then what the content type says it is — JSON, the Open Inference Protocol's binary tensor extension
// (a JSON header of Inference-Header-Content-Length bytes, then raw tensor bytes), an uploaded image, or
// images uploaded as a multipart form (busboy parses it: each file within its own limit, the request
// within the body limit).
import type { IncomingMessage } from 'node:http';
import { promisify } from 'node:util';
import { gunzip, inflate } from 'node:zlib';
import busboy from 'busboy';
import { fail, ServerError } from '../errors.js';
import { isDicom } from '../preprocess/dicom.js';
import { type Part, parseRelated, relatedType } from '../dicomweb/multipart.js';

export type RequestBody =
  | { kind: 'json'; value: unknown }
  /** `binary` lies in a buffer of this request's own, aligned for its tensors: it may be viewed and moved, not copied. */
  | { kind: 'tensors'; header: unknown; binary: Uint8Array; owned: boolean }
  | { kind: 'image'; bytes: Buffer }
  /** multipart/form-data: the uploaded files, in order, each with its form field's name. */
  | { kind: 'images'; files: Array<{ field: string; bytes: Buffer }> }
  /** multipart/related (STOW-RS): the parts, views of the request's bytes. */
  | { kind: 'related'; parts: Part[] };

export interface UploadLimits {
  /** Bytes per uploaded file. */
  fileBytes: number;
  /** Files per request. */
  files: number;
}

export interface Accepts {
  /** The OIP binary tensor extension. */
  tensors?: boolean;
  /** image/png and image/jpeg as the raw body, or files of a multipart form within these limits. */
  images?: boolean;
  uploads?: UploadLimits;
  /** multipart/related of DICOM instances (STOW-RS), at most this many parts. */
  related?: number;
}

const unzip = { gzip: promisify(gunzip), 'x-gzip': promisify(gunzip), deflate: promisify(inflate) } as const;

/**
 * The body as bytes, at most `limit` of them after decompression. When Content-Length gives the size,
 * the bytes go straight into one buffer of the request's own (no concatenation), placed so that
 * `alignAt` bytes in is 8-byte aligned; `owned` says so.
 */
export async function readBytes(req: IncomingMessage, limit: number, alignAt = 0): Promise<{ bytes: Buffer; owned: boolean }> {
  const tooLarge = () => fail('bodyTooLarge', { limit }, 'body');
  const declared = Number(req.headers['content-length']);
  if (declared > limit) throw tooLarge();
  const encoding = (req.headers['content-encoding'] ?? 'identity').toLowerCase().trim();
  if (encoding !== 'identity' && !(encoding in unzip)) {
    throw fail('unsupportedEncoding', { encoding: encoding.slice(0, 32) }, 'content-encoding');
  }
  const sized = encoding === 'identity' && Number.isSafeInteger(declared) && declared > 0;
  const pad = (8 - (alignAt % 8)) % 8;
  const into = sized ? Buffer.from(new ArrayBuffer(declared + pad), pad, declared) : undefined;
  const raw = await new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (c: Buffer) => {
      if (size + c.length > limit || (into && size + c.length > into.length)) {
        req.off('data', onData); // the rest is read and discarded after the answer (lingering close, app.ts)
        reject(size + c.length > limit ? tooLarge() : fail('bodyLongerThanDeclared', {}, 'body'));
        return;
      }
      if (into) c.copy(into, size);
      else chunks.push(c);
      size += c.length;
    };
    req.on('data', onData);
    req.once('end', () => resolve(into ? into.subarray(0, size) : Buffer.concat(chunks, size)));
    req.once('aborted', () => reject(fail('requestAborted', {}, 'body')));
    req.once('error', () => reject(fail('requestUnreadable', {}, 'body')));
  });
  if (encoding === 'identity') return { bytes: raw, owned: sized };
  try {
    return { bytes: await unzip[encoding as keyof typeof unzip](raw, { maxOutputLength: limit }), owned: false };
  } catch (err) {
    if (err instanceof RangeError) throw tooLarge();
    throw fail('bodyNotDecodable', { encoding }, 'content-encoding');
  }
}

/** Read and decode the body as the request's headers say, refusing what the route does not take. */
export async function readBody(req: IncomingMessage, limit: number, accepts: Accepts = {}): Promise<RequestBody> {
  const type = (req.headers['content-type'] ?? '').toLowerCase();
  const headerLength = req.headers['inference-header-content-length'];
  if (accepts.tensors && headerLength !== undefined) {
    const len = Number(headerLength);
    const { bytes, owned } = await readBytes(req, limit, Number.isSafeInteger(len) && len > 0 ? len : 0);
    if (!Number.isSafeInteger(len) || len < 2 || len > bytes.length) {
      throw fail('badInferenceHeaderLength', { max: bytes.length }, 'inference-header-content-length');
    }
    const header = parseJson(bytes.subarray(0, len), 'inferenceHeaderNotJson');
    return { kind: 'tensors', header, binary: bytes.subarray(len), owned };
  }
  if (/^multipart\/related\b/.test(type)) {
    if (!accepts.related) throw unsupported(type);
    const { boundary } = relatedType(req.headers['content-type'] ?? '');
    return { kind: 'related', parts: parseRelated((await readBytes(req, limit)).bytes, boundary, accepts.related) };
  }
  if (/^multipart\/form-data\b/.test(type)) {
    if (!accepts.images) throw unsupported(type);
    return { kind: 'images', files: await readForm(req, limit, accepts.uploads ?? { fileBytes: limit, files: 16 }) };
  }
  if (/^image\//.test(type) || /^application\/dicom\b/.test(type)) {
    if (!accepts.images) throw unsupported(type);
    if (!/^(image\/(png|jpeg|jpg)|application\/dicom)\b/.test(type)) {
      throw fail('unsupportedImageType', { type: type.slice(0, 64) }, 'content-type');
    }
    const { bytes } = await readBytes(req, limit);
    if (type.startsWith('application/dicom') && !isDicom(bytes)) throw notDicom('body');
    return { kind: 'image', bytes };
  }
  // OIP clients (tritonclient among them) send JSON with no Content-Type at all; read that as JSON.
  if (type !== '' && !/^application\/json\b/.test(type)) throw unsupported(type);
  const charset = /;\s*charset=("?)([^";]+)\1/.exec(type)?.[2];
  if (charset && charset !== 'utf-8' && charset !== 'utf8') {
    throw fail('unsupportedCharset', { charset: charset.slice(0, 32) }, 'content-type');
  }
  return { kind: 'json', value: parseJson((await readBytes(req, limit)).bytes, 'bodyNotJson') };
}

/** How deep a request's JSON may nest, and how many arrays and objects it may hold (a tensor of 1,024 rows needs 1,025). */
const JSON_DEPTH = 32;
const JSON_CONTAINERS = 65_536;

/**
 * JSON.parse makes an object for every `[` and `{`: ten megabytes of `[[[[` or `[{},{},…` would become
 * gigabytes of heap. The body's structure is counted first, byte by byte outside strings, and refused
 * past JSON_DEPTH levels or JSON_CONTAINERS containers before anything is built.
 */
export function checkJsonShape(b: Uint8Array, field = 'body'): void {
  // Native byte searches from one structural character to the next: a tensor's numbers, most of a
  // large body, are skipped at memchr speed instead of looked at one by one here.
  const buf = Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  const chars = [0x22, 0x5b, 0x7b, 0x5d, 0x7d]; // " [ { ] }
  const next = chars.map((c) => buf.indexOf(c));
  let depth = 0;
  let containers = 0;
  for (;;) {
    let k = -1;
    for (let j = 0; j < 5; j++) if (next[j]! >= 0 && (k < 0 || next[j]! < next[k]!)) k = j;
    if (k < 0) return;
    const at = next[k]!;
    if (k === 0) {
      // A string: its end is the next quote not escaped (an even run of backslashes before it).
      let end = buf.indexOf(0x22, at + 1);
      for (;;) {
        if (end < 0) return; // unterminated: JSON.parse refuses it
        let slashes = 0;
        while (buf[end - 1 - slashes] === 0x5c) slashes++;
        if (slashes % 2 === 0) break;
        end = buf.indexOf(0x22, end + 1);
      }
      for (let j = 0; j < 5; j++) if (next[j]! >= 0 && next[j]! <= end) next[j] = buf.indexOf(chars[j]!, end + 1);
      continue;
    }
    if (k <= 2) {
      if (++depth > JSON_DEPTH) throw fail('jsonTooDeep', { max: JSON_DEPTH }, field);
      if (++containers > JSON_CONTAINERS) throw fail('jsonTooManyContainers', { max: JSON_CONTAINERS }, field);
    } else {
      depth--;
    }
    next[k] = buf.indexOf(chars[k]!, at + 1);
  }
}

function parseJson(bytes: Buffer, invalid: 'bodyNotJson' | 'inferenceHeaderNotJson'): unknown {
  if (bytes.length === 0) throw fail('bodyEmpty', {}, 'body');
  checkJsonShape(bytes);
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    throw fail(invalid, {}, 'body');
  }
}

function notDicom(field: string): ServerError {
  return fail('dicomUnreadable', { reason: 'no "DICM" after its 128-byte preamble: not a DICOM Part 10 file' }, field);
}

function unsupported(type: string): ServerError {
  return fail('unsupportedContentType', { type: type.slice(0, 64) }, 'content-type');
}

/** Form fields other than files a form may carry (they are ignored, but each costs the parser). */
const FORM_FIELDS = 32;

const IMAGE_TYPES = /^(image\/(png|jpeg|jpg)|application\/dicom)$/;

/**
 * The files of a multipart form: PNG, JPEG or DICOM (as their part's Content-Type says, or as their first
 * bytes say when that is application/octet-stream), each within `uploads.fileBytes`, at most
 * `uploads.files`, the whole form (fields too) within `limit`. Form fields other than files are ignored,
 * at most FORM_FIELDS of them (more is 413).
 */
async function readForm(req: IncomingMessage, limit: number, uploads: UploadLimits): Promise<Array<{ field: string; bytes: Buffer }>> {
  const declared = Number(req.headers['content-length']);
  if (declared > limit) throw fail('bodyTooLarge', { limit }, 'body');
  if ((req.headers['content-encoding'] ?? 'identity').toLowerCase().trim() !== 'identity') {
    throw fail('unsupportedEncoding', { encoding: String(req.headers['content-encoding']).slice(0, 32) }, 'content-encoding');
  }
  let form: busboy.Busboy;
  try {
    form = busboy({ headers: req.headers, limits: { fileSize: uploads.fileBytes, files: uploads.files, fields: FORM_FIELDS, parts: uploads.files + FORM_FIELDS } });
  } catch {
    throw fail('badMultipart', { reason: 'no boundary in its Content-Type' }, 'content-type');
  }
  return new Promise((resolve, reject) => {
    const files: Array<{ field: string; bytes: Buffer }> = [];
    let total = 0;
    let failed = false;
    const stop = (err: ServerError) => {
      if (failed) return;
      failed = true;
      req.unpipe(form); // the rest is read and discarded after the answer (lingering close, app.ts)
      reject(err);
    };
    form.on('file', (field, stream, info) => {
      const name = field.slice(0, 64);
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => {
        if (!failed) chunks.push(c);
      });
      stream.on('limit', () => stop(fail('uploadTooLarge', { limit: uploads.fileBytes }, name)));
      stream.on('end', () => {
        if (failed) return;
        const bytes = Buffer.concat(chunks);
        const type = info.mimeType.toLowerCase();
        const sniffed = type === 'application/octet-stream' ? sniff(bytes) : type;
        if (!IMAGE_TYPES.test(sniffed ?? '')) stop(fail('unsupportedImageType', { type: type.slice(0, 64) }, name));
        else if (sniffed === 'application/dicom' && !isDicom(bytes)) stop(notDicom(name));
        else files.push({ field: name, bytes });
      });
    });
    form.on('filesLimit', () => stop(fail('tooManyUploads', { max: uploads.files }, 'body')));
    form.on('fieldsLimit', () => stop(fail('tooManyFormFields', { max: FORM_FIELDS }, 'body')));
    form.on('partsLimit', () => stop(fail('tooManyFormFields', { max: FORM_FIELDS }, 'body')));
    form.on('error', (err: Error) => stop(fail('badMultipart', { reason: err.message.slice(0, 120) }, 'body')));
    form.on('close', () => {
      if (failed) return;
      if (files.length === 0) stop(fail('noUploads', {}, 'body'));
      else resolve(files);
    });
    req.once('aborted', () => stop(fail('requestAborted', {}, 'body')));
    // Every byte of the form counts toward the body limit: files, fields and boundaries alike.
    req.on('data', (c: Buffer) => {
      total += c.length;
      if (total > limit) stop(fail('bodyTooLarge', { limit }, 'body'));
    });
    req.pipe(form);
  });
}

/** PNG, JPEG or DICOM by their first bytes. */
function sniff(b: Buffer): string | undefined {
  if (isDicom(b)) return 'application/dicom';
  if (b.length >= 8 && b.readUInt32BE(0) === 0x89504e47) return 'image/png';
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'image/jpeg';
  return undefined;
}
