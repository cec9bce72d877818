// Turning an uploaded PNG or JPEG into the model's input tensor: decode (sharp, libvips, off the
// event loop), resize to width×height ignoring aspect ratio (as the seed pipeline's Resize does),
// convert to 1 (grayscale) or 3 (RGB) channels, scale to [0, 1], normalize per channel with
// (x − mean) / std, lay out as CHW.
import sharp from 'sharp';
import { fail } from '../errors.js';
import type { ImagePreprocessing } from '../../contract/image-preprocessing.js';

const MAX_PIXELS = 50_000_000;

/** The image format from its first bytes: only PNG and JPEG are served. */
export function sniffFormat(b: Uint8Array): 'png' | 'jpeg' | string | undefined {
  if (b.length >= 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47) return 'png';
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpeg';
  if (b.length >= 4 && b[0] === 0x47 && b[1] === 0x49 && b[2] === 0x46) return 'gif';
  if (b.length >= 12 && String.fromCharCode(...b.subarray(8, 12)) === 'WEBP') return 'webp';
  if (b.length >= 2 && b[0] === 0x42 && b[1] === 0x4d) return 'bmp';
  return undefined;
}

/** Decode base64 (optionally a data: URL) strictly: a stray character is an error, not silently dropped. */
export function decodeBase64(s: unknown, field: string): Buffer {
  if (typeof s !== 'string') throw fail('notBase64String', {}, field);
  const body = s.replace(/^data:image\/[a-z+.-]+;base64,/i, '').replace(/\s+/g, '');
  if (body.length === 0 || body.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(body)) {
    throw fail('invalidBase64', {}, field);
  }
  return Buffer.from(body, 'base64');
}

export async function imageToTensor(bytes: Uint8Array, p: ImagePreprocessing, field: string): Promise<Float32Array> {
  const format = sniffFormat(bytes);
  if (format !== 'png' && format !== 'jpeg') {
    throw fail('unsupportedImageFormat', { format: format ? ` ${format}` : '' }, field);
  }
  let raw: Buffer;
  try {
    let img = sharp(bytes, { failOn: 'error', limitInputPixels: MAX_PIXELS }).resize(p.width, p.height, { fit: 'fill' });
    img = p.channels === 1 ? img.grayscale() : img.toColourspace('srgb');
    raw = await img.removeAlpha().raw().toBuffer();
  } catch (err) {
    throw fail('imageUndecodable', { format: format.toUpperCase(), reason: (err as Error).message.split('\n')[0] }, field);
  }
  const c = p.channels;
  const hw = p.width * p.height;
  if (raw.length !== hw * c) throw fail('imageSizeMismatch', { got: raw.length, expected: hw * c }, field);
  const out = new Float32Array(c * hw);
  for (let ch = 0; ch < c; ch++) {
    const mean = p.mean[ch]!;
    const std = p.std[ch]!;
    for (let i = 0; i < hw; i++) out[ch * hw + i] = (raw[i * c + ch]! / 255 - mean) / std;
  }
  return out;
}
