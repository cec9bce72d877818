// The part of jpeg-lossless-decoder-js (no types of its own) the DICOM decoder uses.
declare module 'jpeg-lossless-decoder-js' {
  export class Decoder {
    /** A JPEG Lossless (Process 14) stream to its samples: 8- or 16-bit, components interleaved. */
    decode(buffer: ArrayBuffer, offset?: number, length?: number, numBytes?: number): Uint8Array | Uint16Array;
  }
}
