// Hostile files, made here byte by byte: DICOM Part 10 files whose headers promise far more than they
// hold (a deflate bomb, a huge frame, an RGB RLE study, a hundred thousand frames, a JPEG that lies about
// its size) and a PNG whose header asks for 3.6 gigapixels. Only what a decoder reads is written: a
// minimal explicit-VR little-endian header, no patient module.
import { createDeflateRaw, deflateRawSync } from 'node:zlib';

const EXPLICIT = '1.2.840.10008.1.2.1';
const DEFLATED = '1.2.840.10008.1.2.1.99';
const RLE = '1.2.840.10008.1.2.5';
const JPEG_BASELINE = '1.2.840.10008.1.2.4.50';
const LONG_VRS = new Set(['OB', 'OW', 'OF', 'SQ', 'UT', 'UN']);

function element(group: number, elem: number, vr: string, value: Buffer): Buffer {
  const padded = value.length % 2 === 0 ? value : Buffer.concat([value, Buffer.from([vr === 'UI' ? 0 : 0x20])]);
  const long = LONG_VRS.has(vr);
  const head = Buffer.alloc(long ? 12 : 8);
  head.writeUInt16LE(group, 0);
  head.writeUInt16LE(elem, 2);
  head.write(vr, 4, 'latin1');
  if (long) head.writeUInt32LE(padded.length, 8);
  else head.writeUInt16LE(padded.length, 6);
  return Buffer.concat([head, padded]);
}
const str = (g: number, e: number, vr: string, s: string) => element(g, e, vr, Buffer.from(s, 'latin1'));
const us = (g: number, e: number, v: number) => {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(v);
  return element(g, e, 'US', b);
};

function meta(syntax: string): Buffer {
  const body = Buffer.concat([element(0x0002, 0x0001, 'OB', Buffer.from([0, 1])), str(0x0002, 0x0002, 'UI', '1.2.840.10008.5.1.4.1.1.7'),
    str(0x0002, 0x0003, 'UI', '1.2.826.0.1.3680043.2.1125.1'), str(0x0002, 0x0010, 'UI', syntax)]);
  const length = Buffer.alloc(4);
  length.writeUInt32LE(body.length);
  return Buffer.concat([Buffer.alloc(128), Buffer.from('DICM'), element(0x0002, 0x0000, 'UL', length), body]);
}

interface Image {
  rows: number;
  columns: number;
  samples?: number;
  frames?: number;
  bits?: number;
  photometric?: string;
}

function imageModule(i: Image): Buffer {
  const bits = i.bits ?? 16;
  return Buffer.concat([
    str(0x0008, 0x0016, 'UI', '1.2.840.10008.5.1.4.1.1.7'), str(0x0008, 0x0018, 'UI', '1.2.826.0.1.3680043.2.1125.2'), str(0x0008, 0x0060, 'CS', 'CR'),
    us(0x0028, 0x0002, i.samples ?? 1), str(0x0028, 0x0004, 'CS', i.photometric ?? ((i.samples ?? 1) === 3 ? 'RGB' : 'MONOCHROME2')),
    ...(i.frames && i.frames > 1 ? [str(0x0028, 0x0008, 'IS', String(i.frames))] : []),
    us(0x0028, 0x0010, i.rows), us(0x0028, 0x0011, i.columns), ...((i.samples ?? 1) === 3 ? [us(0x0028, 0x0006, 0)] : []),
    us(0x0028, 0x0100, bits), us(0x0028, 0x0101, bits), us(0x0028, 0x0102, bits - 1), us(0x0028, 0x0103, 0),
  ]);
}

/** Pixel Data in fragments (PS3.5 A.4): an empty offset table, one fragment a frame, then the delimiter. */
function encapsulated(frames: Buffer[]): Buffer {
  const item = (data: Buffer) => {
    const h = Buffer.alloc(8);
    h.writeUInt16LE(0xfffe, 0);
    h.writeUInt16LE(0xe000, 2);
    h.writeUInt32LE(data.length, 4);
    return Buffer.concat([h, data]);
  };
  const head = Buffer.alloc(12);
  head.writeUInt16LE(0x7fe0, 0);
  head.writeUInt16LE(0x0010, 2);
  head.write('OB', 4, 'latin1');
  head.writeUInt32LE(0xffffffff, 8);
  const end = Buffer.alloc(8);
  end.writeUInt16LE(0xfffe, 0);
  end.writeUInt16LE(0xe0dd, 2);
  return Buffer.concat([head, item(Buffer.alloc(0)), ...frames.map((f) => item(f.length % 2 ? Buffer.concat([f, Buffer.alloc(1)]) : f)), end]);
}

/** An uncompressed study with all its pixels (small ones only). */
export function plainDicom(i: Image, pixels?: Buffer): Buffer {
  const bytes = i.rows * i.columns * (i.samples ?? 1) * ((i.bits ?? 16) / 8) * (i.frames ?? 1);
  return Buffer.concat([meta(EXPLICIT), imageModule(i), element(0x7fe0, 0x0010, 'OW', pixels ?? Buffer.alloc(bytes))]);
}

/** A header that promises rows×columns×frames pixels over a Pixel Data of a few bytes. */
export function liarDicom(i: Image): Buffer {
  return Buffer.concat([meta(EXPLICIT), imageModule(i), element(0x7fe0, 0x0010, 'OW', Buffer.alloc(16))]);
}

/**
 * Deflated Explicit VR Little Endian whose data set inflates to a full rows×columns×frames study of
 * zeros (16 bits): 8192×8192×6 is 805 MB inflated, under 1 MB on the wire. Deflated as a stream.
 */
export async function deflateBomb(i: Image): Promise<Buffer> {
  const pixelBytes = i.rows * i.columns * (i.frames ?? 1) * 2;
  const head = Buffer.alloc(12);
  head.writeUInt16LE(0x7fe0, 0);
  head.writeUInt16LE(0x0010, 2);
  head.write('OW', 4, 'latin1');
  head.writeUInt32LE(pixelBytes, 8);
  const z = createDeflateRaw({ level: 9 });
  const out: Buffer[] = [];
  z.on('data', (c: Buffer) => out.push(c));
  const done = new Promise((r) => z.on('end', r));
  z.write(Buffer.concat([imageModule(i), head]));
  const zeros = Buffer.alloc(4 * 1024 ** 2);
  for (let left = pixelBytes; left > 0; left -= zeros.length) {
    if (!z.write(left >= zeros.length ? zeros : zeros.subarray(0, left))) await new Promise((r) => z.once('drain', r));
  }
  z.end();
  await done;
  return Buffer.concat([meta(DEFLATED), ...out]);
}

/** A study in a transfer syntax given by its UID, its Pixel Data one small fragment a frame. */
export function encapsulatedDicom(syntax: string, i: Image, fragment: Buffer = Buffer.alloc(16)): Buffer {
  return Buffer.concat([meta(syntax), imageModule(i), encapsulated(Array.from({ length: i.frames ?? 1 }, () => fragment))]);
}

/** An element whose length runs far past the end of the file (a truncated or lying length). */
export function truncatedDicom(): Buffer {
  const head = Buffer.alloc(12);
  head.writeUInt16LE(0x7fe0, 0);
  head.writeUInt16LE(0x0010, 2);
  head.write('OW', 4, 'latin1');
  head.writeUInt32LE(0x7ffffff0, 8);
  return Buffer.concat([meta(EXPLICIT), imageModule({ rows: 16, columns: 16 }), head, Buffer.alloc(64)]);
}

/** `depth` sequences of undefined length, each inside the last one's item: a parser that recurses runs out of stack. */
export function nestedSequences(depth: number): Buffer {
  const open = Buffer.alloc(20);
  open.writeUInt16LE(0x0040, 0); // (0040,A730) Content Sequence
  open.writeUInt16LE(0xa730, 2);
  open.write('SQ', 4, 'latin1');
  open.writeUInt32LE(0xffffffff, 8);
  open.writeUInt16LE(0xfffe, 12); // an item of undefined length
  open.writeUInt16LE(0xe000, 14);
  open.writeUInt32LE(0xffffffff, 16);
  const close = Buffer.alloc(16);
  close.writeUInt16LE(0xfffe, 0); // item delimitation, then sequence delimitation
  close.writeUInt16LE(0xe00d, 2);
  close.writeUInt16LE(0xfffe, 8);
  close.writeUInt16LE(0xe0dd, 10);
  return Buffer.concat([meta(EXPLICIT), Buffer.concat(Array.from({ length: depth }, () => open)), Buffer.concat(Array.from({ length: depth }, () => close)),
    imageModule({ rows: 16, columns: 16 }), element(0x7fe0, 0x0010, 'OW', Buffer.alloc(512))]);
}

/** A deflated data set that is not deflate at all. */
export function brokenDeflate(): Buffer {
  return Buffer.concat([meta(DEFLATED), Buffer.from('not deflate'.repeat(10))]);
}

/** RLE Lossless frames whose header promises rows×columns×samples; each frame one tiny run-length segment per byte plane. */
export function rleDicom(i: Image): Buffer {
  const segments = (i.samples ?? 1) * ((i.bits ?? 16) / 8);
  const header = Buffer.alloc(64);
  header.writeUInt32LE(segments, 0);
  const run = Buffer.from([0x81, 0x00]); // 127 zeros, far fewer than promised
  for (let s = 0; s < segments; s++) header.writeUInt32LE(64 + s * run.length, 4 + s * 4);
  const frame = Buffer.concat([header, ...Array.from({ length: segments }, () => run)]);
  return Buffer.concat([meta(RLE), imageModule(i), encapsulated(Array.from({ length: i.frames ?? 1 }, () => frame))]);
}

/** A JPEG stream's start: SOI, then a baseline SOF0 for width×height×components (no scan: nothing else is read before the size). */
export function jpegHeader(width: number, height: number, components = 1): Buffer {
  const sof = Buffer.alloc(2 + 2 + 6 + components * 3);
  sof.writeUInt16BE(0xffc0, 0);
  sof.writeUInt16BE(8 + components * 3, 2);
  sof[4] = 8;
  sof.writeUInt16BE(height, 5);
  sof.writeUInt16BE(width, 7);
  sof[9] = components;
  for (let c = 0; c < components; c++) sof.set([c + 1, 0x11, 0], 10 + c * 3);
  return Buffer.concat([Buffer.from([0xff, 0xd8]), sof, Buffer.from([0xff, 0xd9])]);
}

/** A JPEG Baseline study whose header says rows×columns but whose frame says width×height. */
export function jpegLiarDicom(rows: number, columns: number, width: number, height: number): Buffer {
  return Buffer.concat([meta(JPEG_BASELINE), imageModule({ rows, columns, bits: 8 }), encapsulated([jpegHeader(width, height)])]);
}

/** A PNG whose IHDR asks for width×height (8-bit grey), then one tiny IDAT and IEND (CRCs as PNG defines them). */
export function pngFlood(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([len, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  ihdr[9] = 0;
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateRawSync(Buffer.alloc(64))), chunk('IEND', Buffer.alloc(0))]);
}

function crc32(b: Buffer): number {
  let c = ~0;
  for (const byte of b) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}
