// The decode budget of one request: what its images and studies may decode to, in bytes and in frames,
// taken from each file's header before any buffer for its pixels is made. Every decoder asks first;
// the first that would pass the budget is refused with a 413 that names the budget and its flag, and
// nothing of it is allocated. A deflated DICOM data set is inflated within what is left.
import { fail } from '../errors.js';

export class DecodeBudget {
  private bytesLeft: number;
  private framesLeft: number;

  /** `bytes`: --decode-budget; `frames`: the rows one request may give the model. */
  constructor(readonly bytes: number, readonly frames: number) {
    this.bytesLeft = bytes;
    this.framesLeft = frames;
  }

  /** What is left, for a decoder that needs a bound of its own (inflate's maxOutputLength). */
  get remaining(): number {
    return this.bytesLeft;
  }

  /** Take `bytes` and `frames` for `what` (e.g. "a 8192×8192×6-frame study"), or refuse with 413 naming `field`. */
  take(bytes: number, frames: number, what: string, field: string): void {
    if (frames > this.framesLeft) throw fail('decodeFrames', { what, frames, max: this.frames }, field);
    if (!(bytes <= this.bytesLeft)) throw fail('decodeBudget', { what, need: Math.ceil(bytes), budget: this.bytes }, field);
    this.bytesLeft -= bytes;
    this.framesLeft -= frames;
  }
}

/**
 * A PNG's or JPEG's width and height from its header (PNG: IHDR; JPEG: the first start-of-frame marker),
 * without decoding it; undefined when the header cannot be found.
 */
export function imageDimensions(b: Uint8Array): { width: number; height: number; components?: number } | undefined {
  if (b.length >= 24 && b[0] === 0x89 && b[1] === 0x50 && b[12] === 0x49 && b[13] === 0x48 && b[14] === 0x44 && b[15] === 0x52) {
    const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
    return { width: v.getUint32(16), height: v.getUint32(20) };
  }
  return jpegDimensions(b);
}

/** SOF0–SOF15 but DHT (C4), JPG (C8) and DAC (CC): the markers that carry a frame's size. */
const SOF = new Set([0xc0, 0xc1, 0xc2, 0xc3, 0xc5, 0xc6, 0xc7, 0xc9, 0xca, 0xcb, 0xcd, 0xce, 0xcf]);

/** A JPEG stream's frame size from its start-of-frame marker (ITU T.81 B.2.2), scanning segment by segment. */
export function jpegDimensions(b: Uint8Array): { width: number; height: number; components: number } | undefined {
  if (b.length < 4 || b[0] !== 0xff || b[1] !== 0xd8) return undefined;
  let p = 2;
  while (p + 9 < b.length) {
    if (b[p] !== 0xff) return undefined;
    const marker = b[p + 1]!;
    if (marker === 0xff) {
      p++;
      continue;
    }
    if (marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
      p += 2;
      continue;
    }
    const length = (b[p + 2]! << 8) | b[p + 3]!;
    if (SOF.has(marker)) {
      return { height: (b[p + 5]! << 8) | b[p + 6]!, width: (b[p + 7]! << 8) | b[p + 8]!, components: b[p + 9]! };
    }
    if (marker === 0xda || length < 2) return undefined;
    p += 2 + length;
  }
  return undefined;
}
