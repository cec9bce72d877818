// Reading a request body, the one place that does: the bytes up to the configured limit (413 past it,
// before reading when Content-Length already says so), gzip or deflate undone within the same limit,
// then what the content type says it is — JSON, the Open Inference Protocol's binary tensor extension
// (a JSON header of Inference-Header-Content-Length bytes, then raw tensor bytes), or an uploaded image.
import type { IncomingMessage } from 'node:http';
import { promisify } from 'node:util';
import { gunzip, inflate } from 'node:zlib';
import { fail, ServerError } from '../errors.js';

export type RequestBody =
  | { kind: 'json'; value: unknown }
  /** `binary` lies in a buffer of this request's own, aligned for its tensors: it may be viewed and moved, not copied. */
  | { kind: 'tensors'; header: unknown; binary: Uint8Array; owned: boolean }
  | { kind: 'image'; bytes: Buffer };

export interface Accepts {
  /** The OIP binary tensor extension. */
  tensors?: boolean;
  /** image/png and image/jpeg as the raw body. */
  images?: boolean;
}

const unzip = { gzip: promisify(gunzip), 'x-gzip': promisify(gunzip), deflate: promisify(inflate) } as const;

/**
 * The body as bytes, at most `limit` of them after decompression. When Content-Length gives the size,
 * the bytes go straight into one buffer of the request's own (no concatenation), placed so that
 * `alignAt` bytes in is 8-byte aligned; `owned` says so.
 */
export async function readBytes(req: IncomingMessage, limit: number, alignAt = 0): Promise<{ bytes: Buffer; owned: boolean }> {
  const tooLarge = () => fail('bodyTooLarge', { limit }, 'body', { connection: 'close' });
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
        req.off('data', onData);
        req.resume(); // discard the rest; the connection closes after the answer
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
  if (/^image\//.test(type)) {
    if (!accepts.images) throw unsupported(type);
    if (!/^image\/(png|jpeg|jpg)\b/.test(type)) {
      throw fail('unsupportedImageType', { type: type.slice(0, 64) }, 'content-type');
    }
    return { kind: 'image', bytes: (await readBytes(req, limit)).bytes };
  }
  // OIP clients (tritonclient among them) send JSON with no Content-Type at all; read that as JSON.
  if (type !== '' && !/^application\/json\b/.test(type)) throw unsupported(type);
  const charset = /;\s*charset=("?)([^";]+)\1/.exec(type)?.[2];
  if (charset && charset !== 'utf-8' && charset !== 'utf8') {
    throw fail('unsupportedCharset', { charset: charset.slice(0, 32) }, 'content-type');
  }
  return { kind: 'json', value: parseJson((await readBytes(req, limit)).bytes, 'bodyNotJson') };
}

function parseJson(bytes: Buffer, invalid: 'bodyNotJson' | 'inferenceHeaderNotJson'): unknown {
  if (bytes.length === 0) throw fail('bodyEmpty', {}, 'body');
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    throw fail(invalid, {}, 'body');
  }
}

function unsupported(type: string): ServerError {
  return fail('unsupportedContentType', { type: type.slice(0, 64) }, 'content-type');
}
