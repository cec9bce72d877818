// The pieces of DICOM decoding that are ours: the PackBits segments of RLE Lossless, the VOI window's
// linear function, and the model-side resize and channels. (Whole files are tested against pydicom in
// test/integration/server/dicom.test.ts.)
import { decodeRle, framesToTensor, isDicom, voi } from '../../../../inference-server/preprocess/dicom.js';

const bad = (what: string) => new Error(what);

/** An RLE frame: the 64-byte header and the given PackBits segments. */
function rleFrame(segments: number[][]): Uint8Array {
  const header = new DataView(new ArrayBuffer(64));
  header.setUint32(0, segments.length, true);
  let offset = 64;
  segments.forEach((s, i) => {
    header.setUint32(4 + i * 4, offset, true);
    offset += s.length;
  });
  return new Uint8Array([...new Uint8Array(header.buffer), ...segments.flat()]);
}

describe('RLE Lossless (PS3.5 G.3)', () => {
  it('decodes literal runs, replicate runs and no-ops; 16-bit samples from their high and low segments', () => {
    // High bytes: literal [1, 2], then 0x00 three times; low bytes: 0xff five times. A 128 no-op between.
    const frame = rleFrame([[1, 1, 2, 128, 254, 0], [252, 0xff]]);
    const out: number[] = [];
    decodeRle(frame, 5, 1, 2, (_s, i, v) => (out[i] = v), bad);
    expect(out).toEqual([0x01ff, 0x02ff, 0x00ff, 0x00ff, 0x00ff]);
  });

  it('three samples, one segment each', () => {
    const frame = rleFrame([[1, 10, 20], [255, 7], [1, 30, 40]]);
    const out: number[][] = [[], [], []];
    decodeRle(frame, 2, 3, 1, (s, i, v) => (out[s]![i] = v), bad);
    expect(out).toEqual([[10, 20], [7, 7], [30, 40]]);
  });

  it('refuses a frame whose segments do not fit it, or decode short', () => {
    expect(() => decodeRle(new Uint8Array(10), 4, 1, 1, () => undefined, bad)).toThrow('an RLE frame shorter than its header');
    expect(() => decodeRle(rleFrame([[0, 1]]), 4, 1, 2, () => undefined, bad)).toThrow('an RLE frame of 1 segments for 1 samples of 2 bytes');
    expect(() => decodeRle(rleFrame([[0, 1]]), 4, 1, 1, () => undefined, bad)).toThrow('RLE segment 1 decodes to 1 of 4 bytes');
  });
});

describe('the VOI window (PS3.3 C.11.2.1.2.1) to [0, 1]', () => {
  it('is the linear function of the rescaled values, clipped; MONOCHROME1 inverted; no window: the frame\'s range', () => {
    const x = Float64Array.from([-1000, -160, 40, 239, 240, 1000]);
    const y = [...voi(x, 1, 0, { center: 40, width: 400 }, false)];
    expect(y[0]).toBe(0);
    expect(y[1]).toBe(0); // x ≤ c − 0.5 − (w − 1)/2 = −160
    expect(y[2]).toBeCloseTo((40 - 39.5) / 399 + 0.5, 7);
    expect(y[3]).toBeCloseTo((239 - 39.5) / 399 + 0.5, 7);
    expect(y[4]).toBe(1); // x > c − 0.5 + (w − 1)/2 = 239
    expect([...voi(x, 1, 0, { center: 40, width: 400 }, true)][0]).toBe(1);
    expect([...voi(Float64Array.from([10, 20, 30]), 1, 0, undefined, false)]).toEqual([0, 0.5, 1]);
    expect([...voi(Float64Array.from([5, 5]), 1, 0, undefined, false)]).toEqual([0, 0]);
    // Rescale first: stored 1064 at slope 1, intercept −1024 is 40 HU, the window's centre.
    expect(voi(Int32Array.from([1064]), 1, -1024, { center: 40, width: 400 }, false)[0]).toBeCloseTo((40 - 39.5) / 399 + 0.5, 6);
    // A negative slope: the range's ends swap.
    expect([...voi(Int32Array.from([0, 10]), -2, 0, undefined, false)]).toEqual([1, 0]);
  });
});

describe('to the model\'s input', () => {
  it('keeps the size when it matches, resizes bilinearly otherwise, repeats grey for RGB models, normalizes', () => {
    const d = { rows: 2, columns: 2, samples: 1 as const, frames: [], pixelDataSha256: '' };
    const frame = Float32Array.from([0, 1, 1, 0]);
    expect([...framesToTensor(d, frame, { width: 2, height: 2, channels: 1, mean: [0.5], std: [0.5] })]).toEqual([-1, 1, 1, -1]);
    expect([...framesToTensor(d, frame, { width: 1, height: 1, channels: 3, mean: [0, 0, 0], std: [1, 1, 1] })]).toEqual([0.5, 0.5, 0.5]);
    const rgb = { ...d, samples: 3 as const };
    const planes = Float32Array.from([1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(framesToTensor(rgb, planes, { width: 2, height: 2, channels: 1, mean: [0], std: [1] })[0]).toBeCloseTo(0.299, 6);
  });

  it('knows a Part 10 file by "DICM" after its preamble', () => {
    const b = new Uint8Array(132);
    b.set([0x44, 0x49, 0x43, 0x4d], 128);
    expect(isDicom(b)).toBe(true);
    expect(isDicom(b.subarray(0, 131))).toBe(false);
  });
});
