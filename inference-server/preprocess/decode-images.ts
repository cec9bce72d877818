// One request's images and studies into the model's input rows: PNG and JPEG by libvips, DICOM by
// dicom.ts, all within one decode budget taken from each file's header before its pixels are decoded.
// Pure work on bytes, run in a decode thread (decode-pool.ts), never on the HTTP thread.
import type { ImagePreprocessing } from '../../contract/image-preprocessing.js';
import { fail } from '../errors.js';
import { DecodeBudget, imageDimensions } from './decode-budget.js';
import { decodeDicom, framesToTensor, isDicom, measureDeflated } from './dicom.js';
import { imageToTensor } from './image.js';

/** A DICOM row's digests for the audit record: nothing else of its header. */
export interface DicomDigests {
  sopInstanceUidSha256?: string;
  pixelDataSha256: string;
}

export interface DecodeLimits {
  /** Bytes of decoded pixels one request may make (--decode-budget). */
  budgetBytes: number;
  /** Rows one request may give the model. */
  maxRows: number;
}

/** The rows, laid end to end as the model's [rows, channels, height, width] input, and each row's digests. */
export interface DecodedImages {
  data: Float32Array;
  rows: number;
  audits: Array<DicomDigests | undefined>;
}

/** PNG, JPEG or DICOM files into rows: one each, a DICOM with every frame one a frame when the model takes all. */
export async function decodeImages(images: Uint8Array[], fields: string[], p: ImagePreprocessing, limits: DecodeLimits): Promise<DecodedImages> {
  const budget = new DecodeBudget(limits.budgetBytes, limits.maxRows);
  const tensorBytes = p.channels * p.height * p.width * 4;
  const decoded = await Promise.all(images.map(async (b, i): Promise<Array<{ t: Float32Array; audit?: DicomDigests }>> => {
    const field = fields[i] ?? 'body';
    if (!isDicom(b)) {
      const size = imageDimensions(b);
      // PNG and JPEG decode to at most 4 bytes a pixel (libvips, with its own pixel limit), then the model's input.
      if (size) budget.take(size.width * size.height * 4 + tensorBytes, 1, `a ${size.width}×${size.height} image`, field);
      return [{ t: await imageToTensor(b, p, field) }];
    }
    await measureDeflated(b, budget, field);
    const d = decodeDicom(b, p.dicom ?? {}, field, budget, tensorBytes);
    const audit = { ...(d.sopInstanceUidSha256 ? { sopInstanceUidSha256: d.sopInstanceUidSha256 } : {}), pixelDataSha256: d.pixelDataSha256 };
    return d.frames.map((f) => ({ t: framesToTensor(d, f, p), audit }));
  }));
  const rows = decoded.flat();
  if (rows.length > limits.maxRows) throw fail('tooManyImages', { max: limits.maxRows }, 'body');
  const per = p.channels * p.height * p.width;
  const data = new Float32Array(rows.length * per);
  rows.forEach((r, i) => data.set(r.t, i * per));
  return { data, rows: rows.length, audits: rows.map((r) => r.audit) };
}
