// A decode thread: one request's files at a time into model rows (decode-images.ts), so a large or
// hostile file costs this thread's time, never the HTTP thread's. Messages: decode → done | refused.
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import type { ImagePreprocessing } from '../../contract/image-preprocessing.js';
import { ServerError } from '../errors.js';
import { decodeImages, type DecodedImages, type DecodeLimits } from './decode-images.js';

export interface DecodeThreadInit {
  preprocessing: ImagePreprocessing;
  limits: DecodeLimits;
}

/** The decode threads' niceness (0 is the HTTP thread's; 19 the lowest). */
const DECODE_NICE = 10;

export type ToDecoder = { kind: 'decode'; id: number; images: Uint8Array[]; fields: string[] };
export type FromDecoder =
  | { kind: 'done'; id: number; decoded: DecodedImages }
  | { kind: 'refused'; id: number; error: { code: ServerError['code']; message: string; field?: string } }
  | { kind: 'failed'; id: number; error: string };

const port = parentPort!;
const init = workerData as DecodeThreadInit;

// Decoding yields the CPU to the HTTP thread: on Linux this thread (its own task id) runs at a lower
// priority, so a burst of studies slows the studies, not the answers to everything else.
try {
  const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
  if (Number.isInteger(tid) && tid > 0) setPriority(tid, DECODE_NICE);
} catch {
  // not Linux, or not allowed: decoding runs at the process's priority
}

port.on('message', (m: ToDecoder) => {
  decodeImages(m.images, m.fields, init.preprocessing, init.limits).then(
    (decoded) => port.postMessage({ kind: 'done', id: m.id, decoded } satisfies FromDecoder, [decoded.data.buffer as ArrayBuffer]),
    (err: unknown) => port.postMessage(err instanceof ServerError
      ? { kind: 'refused', id: m.id, error: { code: err.code, message: err.message, ...(err.field === undefined ? {} : { field: err.field }) } } satisfies FromDecoder
      : { kind: 'failed', id: m.id, error: (err as Error).message } satisfies FromDecoder),
  );
});
