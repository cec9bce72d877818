// A DICOM Part 10 file (a CT slice, an X-ray) into the values a model sees. The format is read by
// dicom-parser (cornerstone's parser: small, no dependencies, reads implicit and explicit VR, deflated
// data sets with the inflater given here, and encapsulated pixel data); pixels are taken from the
// uncompressed syntaxes as they lie, from RLE Lossless by its PackBits segments (PS3.5 Annex G), from
// JPEG Baseline by jpeg-js and from JPEG Lossless by jpeg-lossless-decoder-js (cornerstone's).
// Then, as PS3.3 C.11 says: Modality LUT (Rescale Slope and Intercept: Hounsfield units for CT), VOI LUT
// (the window — the model's own, else the file's first Window Center/Width, else the frame's own range —
// by the linear function of C.11.2.1.2.1, to [0, 1]), MONOCHROME1 inverted. The model's image
// preprocessing follows as for PNG (size, channels, mean and std).
// Nothing of the header leaves this module but what the model needs and two digests for the audit
// record (the SOP Instance UID's and the pixel data's sha256): no name, id or date is read at all, and
// errors name only DICOM's own structure (a transfer syntax, a Modality).
import { createInflateRaw, inflateRawSync } from 'node:zlib';
import dicomParser from 'dicom-parser';
import jpegBaseline from 'jpeg-js';
import { Decoder as LosslessDecoder } from 'jpeg-lossless-decoder-js';
import { sha256Hex } from '../audit/audit-log.js';
import { fail, ServerError } from '../errors.js';
import { DecodeBudget, jpegDimensions } from './decode-budget.js';
import type { DicomOptions } from '../../contract/image-preprocessing.js';

export interface DicomFrames {
  rows: number;
  columns: number;
  /** 1 (monochrome, windowed, in [0, 1]) or 3 (RGB, in [0, 1], planar). */
  samples: 1 | 3;
  frames: Float32Array[];
  /** For the audit record: digests only. */
  sopInstanceUidSha256?: string;
  pixelDataSha256: string;
}

export const TRANSFER_SYNTAXES: Record<string, string> = {
  '1.2.840.10008.1.2': 'Implicit VR Little Endian',
  '1.2.840.10008.1.2.1': 'Explicit VR Little Endian',
  '1.2.840.10008.1.2.1.99': 'Deflated Explicit VR Little Endian',
  '1.2.840.10008.1.2.5': 'RLE Lossless',
  '1.2.840.10008.1.2.4.50': 'JPEG Baseline',
  '1.2.840.10008.1.2.4.57': 'JPEG Lossless',
  '1.2.840.10008.1.2.4.70': 'JPEG Lossless SV1',
};
const JPEG_BASELINE = '1.2.840.10008.1.2.4.50';
const JPEG_LOSSLESS = new Set(['1.2.840.10008.1.2.4.57', '1.2.840.10008.1.2.4.70']);
const OTHER_SYNTAXES: Record<string, string> = {
  '1.2.840.10008.1.2.2': 'Explicit VR Big Endian',
  '1.2.840.10008.1.2.4.51': 'JPEG Extended',
  '1.2.840.10008.1.2.4.80': 'JPEG-LS Lossless',
  '1.2.840.10008.1.2.4.81': 'JPEG-LS Near-Lossless',
  '1.2.840.10008.1.2.4.90': 'JPEG 2000 Lossless',
  '1.2.840.10008.1.2.4.91': 'JPEG 2000',
};

/** A DICOM Part 10 file: "DICM" after the 128-byte preamble. */
export function isDicom(b: Uint8Array): boolean {
  return b.length >= 132 && b[128] === 0x44 && b[129] === 0x49 && b[130] === 0x43 && b[131] === 0x4d;
}

/**
 * Deflated Explicit VR Little Endian: the data set after the meta header is raw deflate, inflated within
 * what is left of the request's decode budget (the inflated data set is taken from it: a deflate bomb
 * stops at the budget, not at a gigabyte).
 */
function inflaterWithin(budget: DecodeBudget, field: string) {
  return (bytes: Uint8Array, position: number): Uint8Array => {
    let inflated: Buffer;
    try {
      inflated = inflateRawSync(bytes.subarray(position), { maxOutputLength: Math.max(1, budget.remaining - position) });
    } catch (err) {
      if (err instanceof RangeError || (err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
        throw fail('decodeBudget', { what: 'the deflated data set', need: `more than ${budget.remaining}`, budget: budget.bytes }, field);
      }
      throw err;
    }
    budget.take(position + inflated.length, 0, 'the deflated data set', field);
    const out = new Uint8Array(position + inflated.length);
    out.set(bytes.subarray(0, position));
    out.set(inflated, position);
    return out;
  };
}

const DEFLATED = '1.2.840.10008.1.2.1.99';

/**
 * A deflated data set is measured before it is inflated: streamed through inflate with nothing kept,
 * stopping as soon as it passes what is left of the budget, so a deflate bomb costs a bounded moment of
 * a decode thread and no memory. A file that is not deflated, or whose meta header cannot be read (the
 * parser says why, after), passes untouched.
 */
export async function measureDeflated(bytes: Uint8Array, budget: DecodeBudget, field: string): Promise<void> {
  let meta: dicomParser.DataSet & { position?: number };
  try {
    meta = dicomParser.readPart10Header(bytes);
  } catch {
    return;
  }
  if ((meta.string('x00020010') ?? '').replace(/\0/g, '').trim() !== DEFLATED || meta.position === undefined) return;
  const limit = budget.remaining - meta.position;
  const over = await new Promise<boolean>((resolve) => {
    const z = createInflateRaw();
    let n = 0;
    z.on('data', (chunk: Buffer) => {
      n += chunk.length;
      if (n > limit) {
        z.destroy();
        resolve(true);
      }
    });
    z.on('end', () => resolve(false));
    z.on('error', () => resolve(false)); // corrupt: the parser names it
    z.end(bytes.subarray(meta.position));
  });
  if (over) throw fail('decodeBudget', { what: 'the deflated data set', need: `more than ${budget.remaining}`, budget: budget.bytes }, field);
}

/**
 * Decode one DICOM file into its frames' values, or fail with a 400/415 that names no header value but
 * DICOM's own, or a 413 when what its header says it holds would pass the request's decode budget (taken
 * before any pixel buffer is made). `tensorBytesPerFrame`: what the model's input takes per frame after.
 */
export function decodeDicom(bytes: Uint8Array, opts: DicomOptions, field: string, budget: DecodeBudget, tensorBytesPerFrame = 0): DicomFrames {
  let ds: dicomParser.DataSet;
  try {
    ds = dicomParser.parseDicom(bytes, { inflater: inflaterWithin(budget, field) } as dicomParser.ParseDicomOptions);
  } catch (err) {
    if (err instanceof ServerError) throw err;
    // The parser's reasons are about structure (a missing prefix, a truncated element), never values.
    const reason = (typeof err === 'string' ? err : err instanceof Error ? err.message : 'unreadable').replace(/^dicomParser\.\w+: /, '').slice(0, 160);
    throw fail('dicomUnreadable', { reason }, field);
  }
  const syntax = (ds.string('x00020010') ?? '').replace(/\0/g, '').trim();
  if (!TRANSFER_SYNTAXES[syntax]) {
    throw fail('dicomTransferSyntax', { syntax: `${syntax.slice(0, 64) || '(none)'} (${OTHER_SYNTAXES[syntax] ?? 'not supported'})`, supported: Object.values(TRANSFER_SYNTAXES).join(', ') }, field);
  }
  const modality = ds.string('x00080060')?.trim().toUpperCase();
  if (opts.modalities?.length && !opts.modalities.some((m) => m.toUpperCase() === modality)) {
    throw fail('dicomModality', { given: modality?.slice(0, 16) || '(none)', expected: opts.modalities.join(', ') }, field);
  }
  const bodyPart = ds.string('x00180015')?.trim().toUpperCase();
  if (opts.bodyParts?.length && !opts.bodyParts.some((m) => m.toUpperCase() === bodyPart)) {
    throw fail('dicomBodyPart', { given: bodyPart?.slice(0, 16) || '(none)', expected: opts.bodyParts.join(', ') }, field);
  }
  const rows = ds.uint16('x00280010') ?? 0;
  const columns = ds.uint16('x00280011') ?? 0;
  const spp = ds.uint16('x00280002') ?? 1;
  const bitsAllocated = ds.uint16('x00280100') ?? 0;
  const bitsStored = ds.uint16('x00280101') ?? bitsAllocated;
  const signed = ds.uint16('x00280103') === 1;
  const photometric = (ds.string('x00280004') ?? '').trim();
  const planar = ds.uint16('x00280006') ?? 0;
  const frameCount = Math.max(1, Number.parseInt(ds.string('x00280008') ?? '1', 10) || 1);
  const pixels = ds.elements.x7fe00010;
  const unsupported = (what: string) => fail('dicomPixels', { what }, field);
  if (!pixels) throw unsupported('it has no Pixel Data (7FE0,0010)');
  if (rows < 1 || columns < 1) throw unsupported(`${rows}×${columns} pixels`);
  if (bitsAllocated !== 8 && bitsAllocated !== 16) throw unsupported(`Bits Allocated ${bitsAllocated} (8 and 16 are)`);
  if (bitsStored < 1 || bitsStored > bitsAllocated) throw unsupported(`Bits Stored ${bitsStored} with Bits Allocated ${bitsAllocated}`);
  const mono = photometric === 'MONOCHROME1' || photometric === 'MONOCHROME2';
  // A baseline JPEG's YCbCr comes out of its decoder as RGB.
  const rgb = photometric === 'RGB' || (syntax === JPEG_BASELINE && photometric.startsWith('YBR_FULL'));
  if (!(mono && spp === 1) && !(rgb && spp === 3)) throw unsupported(`Photometric Interpretation ${photometric.slice(0, 16) || '(none)'} with ${spp} samples (MONOCHROME1, MONOCHROME2 and RGB are)`);

  const n = rows * columns;
  const bytesPerSample = bitsAllocated / 8;
  const wanted = opts.frames === 'all' ? frameCount : 1;
  const rle = syntax === '1.2.840.10008.1.2.5';
  const encapsulated = rle || syntax === JPEG_BASELINE || JPEG_LOSSLESS.has(syntax);
  if (syntax === JPEG_BASELINE && bitsAllocated !== 8) throw unsupported(`JPEG Baseline with ${bitsAllocated} bits allocated`);
  // The budget, from the header, before any buffer: per frame the stored values (Int32), RLE's segments
  // (Uint32), a JPEG decoder's output (at most 4 bytes a sample), the windowed values (Float32) and the
  // model's input; as many frames as are taken.
  const perFrame = n * spp * (4 + 4 + (encapsulated ? 4 : 0)) + tensorBytesPerFrame;
  budget.take(perFrame * wanted, wanted, `a ${rows}×${columns}${spp > 1 ? `×${spp}-sample` : ''}${wanted > 1 ? `×${wanted}-frame` : ''} study`, field);
  // Each frame's samples, as stored values (before the Modality LUT), planar: sample s of pixel i at s*n + i.
  // Each frame's stored values (Bits Stored of each sample, sign-extended), planar: sample s of pixel i at s*n + i.
  const mask = bitsStored >= 32 ? -1 : 2 ** bitsStored - 1;
  const signBit = signed ? 2 ** (bitsStored - 1) : 0;
  const plain = !signed && bitsStored === bitsAllocated;
  const raw: Int32Array[] = [];
  const digest: Uint8Array[] = [];
  for (let f = 0; f < wanted; f++) {
    const values = new Int32Array(n * spp);
    if (encapsulated) {
      if (!pixels.encapsulatedPixelData) throw unsupported(`${TRANSFER_SYNTAXES[syntax]} pixel data that is not encapsulated`);
      let frame: Uint8Array;
      try {
        frame = pixels.fragments && pixels.fragments.length === frameCount
          ? dicomParser.readEncapsulatedPixelDataFromFragments(ds, pixels, f, 1)
          : dicomParser.readEncapsulatedImageFrame(ds, pixels, f, pixels.basicOffsetTable?.length ? undefined : dicomParser.createJPEGBasicOffsetTable(ds, pixels));
      } catch {
        throw unsupported(`frame ${f + 1} cannot be found in its fragments`);
      }
      digest.push(frame);
      if (rle) decodeRle(frame, n, spp, bytesPerSample, (s, i, v) => (values[s * n + i] = v), unsupported);
      else decodeJpeg(syntax, frame, rows, columns, spp, bytesPerSample, values, unsupported);
    } else {
      const frameBytes = n * spp * bytesPerSample;
      const start = pixels.dataOffset + f * frameBytes;
      if (start + frameBytes > ds.byteArray.length || (pixels.length > 0 && (f + 1) * frameBytes > pixels.length)) throw unsupported(`frame ${f + 1}: the Pixel Data is shorter than ${rows}×${columns}×${spp} samples of ${bitsAllocated} bits`);
      const data = ds.byteArray.subarray(start, start + frameBytes);
      digest.push(data);
      // Little endian, as every supported syntax is: a typed view (copied when the offset is odd).
      const aligned = bytesPerSample === 1 || data.byteOffset % 2 === 0 ? data : data.slice();
      const samples = bytesPerSample === 1 ? aligned : new Uint16Array(aligned.buffer, aligned.byteOffset, aligned.byteLength / 2);
      if (spp === 1 || planar === 1) values.set(samples);
      else {
        // Planar Configuration 0: R1 G1 B1 R2 …
        for (let i = 0; i < n; i++) for (let s = 0; s < spp; s++) values[s * n + i] = samples[i * spp + s]!;
      }
    }
    if (!plain) {
      for (let i = 0; i < values.length; i++) {
        const v = values[i]! & mask;
        values[i] = signBit && v >= signBit ? v - 2 * signBit : v;
      }
    }
    raw.push(values);
  }
  const sop = ds.string('x00080018');
  const out: DicomFrames = {
    rows, columns, samples: mono ? 1 : 3,
    frames: [],
    ...(sop ? { sopInstanceUidSha256: sha256Hex(sop.replace(/\0/g, '').trim()) } : {}),
    pixelDataSha256: sha256Hex(concat(digest)),
  };
  if (!mono) {
    // RGB: no Modality or VOI LUT; stored 0..2^bits−1 to [0, 1].
    const max = 2 ** bitsStored - 1;
    for (const v of raw) out.frames.push(Float32Array.from(v, (x) => x / max));
    return out;
  }
  const slope = ds.floatString('x00281053') ?? 1;
  const intercept = ds.floatString('x00281052') ?? 0;
  const fileWindow = ds.floatString('x00281050', 0) !== undefined && ds.floatString('x00281051', 0) !== undefined
    ? { center: ds.floatString('x00281050', 0)!, width: ds.floatString('x00281051', 0)! } : undefined;
  const window = opts.window ?? (fileWindow && fileWindow.width >= 1 ? fileWindow : undefined);
  for (const v of raw) out.frames.push(voi(v, slope, intercept, window, photometric === 'MONOCHROME1'));
  return out;
}

/**
 * Modality LUT (x·slope + intercept), then the VOI LUT to [0, 1]: the linear window function of PS3.3
 * C.11.2.1.2.1, or (no window) the frame's own range; MONOCHROME1 (white is low) inverted.
 */
export function voi(stored: ArrayLike<number>, slope: number, intercept: number, window: { center: number; width: number } | undefined, invert: boolean): Float32Array {
  const n = stored.length;
  const out = new Float32Array(n);
  if (window) {
    const c = window.center - 0.5;
    const w = Math.max(1, window.width) - 1;
    for (let i = 0; i < n; i++) {
      const x = stored[i]! * slope + intercept;
      const y = w === 0 ? (x <= c ? 0 : 1) : x <= c - w / 2 ? 0 : x > c + w / 2 ? 1 : (x - c) / w + 0.5;
      out[i] = invert ? 1 - y : y;
    }
    return out;
  }
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < n; i++) {
    const x = stored[i]!;
    if (x < lo) lo = x;
    if (x > hi) hi = x;
  }
  // The range of the rescaled values (a negative slope swaps its ends).
  const a = lo * slope + intercept;
  const b = hi * slope + intercept;
  const min = Math.min(a, b);
  const span = Math.abs(b - a);
  for (let i = 0; i < n; i++) {
    const y = span > 0 ? (stored[i]! * slope + intercept - min) / span : 0;
    out[i] = invert ? 1 - y : y;
  }
  return out;
}

/**
 * One RLE Lossless frame (PS3.5 G.3): a 64-byte header (the number of segments and their offsets), one
 * segment per byte of each sample, most significant byte first, each PackBits-coded.
 */
export function decodeRle(frame: Uint8Array, n: number, spp: number, bytesPerSample: number, put: (sample: number, pixel: number, value: number) => void, bad: (what: string) => Error): void {
  if (frame.length < 64) throw bad('an RLE frame shorter than its header');
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const segments = view.getUint32(0, true);
  if (segments !== spp * bytesPerSample) throw bad(`an RLE frame of ${segments} segments for ${spp} samples of ${bytesPerSample} bytes`);
  const offsets = Array.from({ length: segments }, (_, i) => view.getUint32(4 + i * 4, true));
  const values = new Uint32Array(n * spp);
  for (let seg = 0; seg < segments; seg++) {
    const start = offsets[seg]!;
    const end = seg + 1 < segments ? offsets[seg + 1]! : frame.length;
    if (start < 64 || end > frame.length || start > end) throw bad(`RLE segment ${seg + 1} outside its frame`);
    const sample = Math.floor(seg / bytesPerSample);
    const shift = 8 * (bytesPerSample - 1 - (seg % bytesPerSample));
    let out = 0;
    let p = start;
    const emit = (b: number) => {
      if (out < n) values[sample * n + out] = values[sample * n + out]! + (b << shift);
      out++;
    };
    while (p < end && out < n) {
      const h = frame[p++]!;
      if (h < 128) {
        for (let k = 0; k <= h && p < end; k++) emit(frame[p++]!);
      } else if (h > 128) {
        const b = frame[p++]!;
        for (let k = 0; k < 257 - h; k++) emit(b);
      }
      // 128: no operation.
    }
    if (out < n) throw bad(`RLE segment ${seg + 1} decodes to ${out} of ${n} bytes`);
  }
  for (let s = 0; s < spp; s++) for (let i = 0; i < n; i++) put(s, i, values[s * n + i]!);
}

/**
 * One JPEG frame into planar samples: Baseline (8 bits) by jpeg-js, Lossless (Process 14) by
 * jpeg-lossless-decoder-js; a stream whose size is not the header's is refused.
 */
function decodeJpeg(syntax: string, frame: Uint8Array, rows: number, columns: number, spp: number, bytesPerSample: number, values: Int32Array, bad: (what: string) => Error): void {
  const n = rows * columns;
  // The stream's own size first: a frame larger than the header says (which the budget was taken for) is never decoded.
  const sof = jpegDimensions(frame);
  if (!sof) throw bad('its JPEG frame cannot be decoded (no start-of-frame marker before its scan)');
  if (sof.width !== columns || sof.height !== rows || sof.components !== spp) {
    throw bad(`its JPEG frame is ${sof.width}×${sof.height} with ${sof.components} components, not the ${columns}×${rows} with ${spp} its header says`);
  }
  let samples: ArrayLike<number>;
  let stride: number;
  try {
    if (syntax === JPEG_BASELINE) {
      const img = jpegBaseline.decode(frame, { useTArray: true, formatAsRGBA: false, maxResolutionInMP: Math.ceil(n / 1e6), maxMemoryUsageInMB: Math.ceil((n * 4 * 4) / 2 ** 20) + 16 });
      if (img.width !== columns || img.height !== rows) throw new Error(`a ${img.width}×${img.height} image for ${columns}×${rows}`);
      // Always three channels out: grey repeated, or RGB.
      samples = img.data;
      stride = 3;
    } else {
      const own = frame.buffer.slice(frame.byteOffset, frame.byteOffset + frame.byteLength) as ArrayBuffer;
      samples = new LosslessDecoder().decode(own, 0, own.byteLength, bytesPerSample);
      stride = spp;
      if (samples.length < n * spp) throw new Error(`${samples.length} samples for ${n * spp}`);
    }
  } catch (err) {
    throw bad(`its JPEG frame cannot be decoded (${(err instanceof Error ? err.message : String(err)).slice(0, 120)})`);
  }
  for (let i = 0; i < n; i++) for (let s = 0; s < spp; s++) values[s * n + i] = samples[i * stride + s]!;
}

function concat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** The model's input from decoded frames: its size (bilinear, half-pixel centres), channels, mean and std; CHW. */
export function framesToTensor(d: DicomFrames, frame: Float32Array, p: { width: number; height: number; channels: 1 | 3; mean: number[]; std: number[] }): Float32Array {
  const hw = p.width * p.height;
  const out = new Float32Array(p.channels * hw);
  const plane = (s: number) => frame.subarray(s * d.rows * d.columns, (s + 1) * d.rows * d.columns);
  // The source's planes as the model's channels: grey repeated for RGB models; RGB to luma (Rec. 601) for grey ones.
  const sources: Float32Array[] = [];
  if (d.samples === 1) sources.push(plane(0));
  else if (p.channels === 3) sources.push(plane(0), plane(1), plane(2));
  else {
    const [r, g, b] = [plane(0), plane(1), plane(2)];
    sources.push(Float32Array.from(r, (x, i) => 0.299 * x + 0.587 * g[i]! + 0.114 * b[i]!));
  }
  for (let ch = 0; ch < p.channels; ch++) {
    const src = sources[Math.min(ch, sources.length - 1)]!;
    const resized = d.rows === p.height && d.columns === p.width ? src : bilinear(src, d.columns, d.rows, p.width, p.height);
    const mean = p.mean[ch]!;
    const std = p.std[ch]!;
    for (let i = 0; i < hw; i++) out[ch * hw + i] = (resized[i]! - mean) / std;
  }
  return out;
}

function bilinear(src: Float32Array, w: number, h: number, W: number, H: number): Float32Array {
  const out = new Float32Array(W * H);
  const sx = w / W;
  const sy = h / H;
  for (let y = 0; y < H; y++) {
    const fy = Math.min(Math.max((y + 0.5) * sy - 0.5, 0), h - 1);
    const y0 = Math.floor(fy);
    const y1 = Math.min(y0 + 1, h - 1);
    const dy = fy - y0;
    for (let x = 0; x < W; x++) {
      const fx = Math.min(Math.max((x + 0.5) * sx - 0.5, 0), w - 1);
      const x0 = Math.floor(fx);
      const x1 = Math.min(x0 + 1, w - 1);
      const dx = fx - x0;
      const top = src[y0 * w + x0]! * (1 - dx) + src[y0 * w + x1]! * dx;
      const bottom = src[y1 * w + x0]! * (1 - dx) + src[y1 * w + x1]! * dx;
      out[y * W + x] = top * (1 - dy) + bottom * dy;
    }
  }
  return out;
}
