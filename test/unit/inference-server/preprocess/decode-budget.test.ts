import { DecodeBudget, imageDimensions, jpegDimensions } from '../../../../inference-server/preprocess/decode-budget.js';
import { jpegHeader, pngFlood } from '../../../models/hostile.js';

it('takes from one budget per request until it would pass it, then refuses with 413 naming the flag', () => {
  const b = new DecodeBudget(1000, 3);
  b.take(600, 1, 'a 10×10 image', 'file0');
  expect(b.remaining).toBe(400);
  expect(() => b.take(500, 1, 'a 20×20 image', 'file1')).toThrow(expect.objectContaining({ status: 413, field: 'file1',
    message: 'decoding a 20×20 image needs 500 bytes, more than is left of the request\'s decode budget of 1000 bytes (--decode-budget, CLINOPS_DECODE_BUDGET)' }));
  expect(b.remaining).toBe(400); // nothing taken for a refusal
  expect(() => b.take(1, 3, 'a 3-frame study', 'file2')).toThrow('a 3-frame study gives 3 frames, more than is left of the 3 a request may give the model');
  expect(() => b.take(Number.NaN, 0, 'a broken header', 'f')).toThrow('decode budget');
});

it('reads a PNG\'s and a JPEG\'s size from its header without decoding it', () => {
  expect(imageDimensions(pngFlood(60000, 70000))).toEqual({ width: 60000, height: 70000 });
  expect(imageDimensions(jpegHeader(640, 480, 3))).toEqual({ width: 640, height: 480, components: 3 });
  // APPn segments before the frame are skipped by their lengths.
  const app0 = Buffer.from([0xff, 0xe0, 0x00, 0x06, 1, 2, 3, 4]);
  const jpeg = jpegHeader(31, 17);
  expect(jpegDimensions(Buffer.concat([jpeg.subarray(0, 2), app0, jpeg.subarray(2)]))).toEqual({ width: 31, height: 17, components: 1 });
  expect(jpegDimensions(Buffer.from([0xff, 0xd8, 0xff, 0xda, 0, 2]))).toBeUndefined(); // a scan before any frame
  expect(imageDimensions(Buffer.from('GIF89a'))).toBeUndefined();
});

it('measures a deflated data set by streaming it, refusing a bomb before inflating it into memory', async () => {
  const { deflateBomb } = await import('../../../models/hostile.js');
  const { measureDeflated } = await import('../../../../inference-server/preprocess/dicom.js');
  const bomb = await deflateBomb({ rows: 1024, columns: 1024, frames: 4 }); // 8 MiB of pixels inflated
  await expect(measureDeflated(bomb, new DecodeBudget(4 * 1024 ** 2, 8), 'file')).rejects.toMatchObject({ status: 413, field: 'file',
    message: expect.stringMatching(/^decoding the deflated data set needs more than 4194304 bytes/) });
  const fits = new DecodeBudget(16 * 1024 ** 2, 8);
  await measureDeflated(bomb, fits, 'file');
  expect(fits.remaining).toBe(16 * 1024 ** 2); // measuring takes nothing: decoding takes what it makes
  await measureDeflated(Buffer.from('not DICOM'), fits, 'file'); // not deflated: nothing to measure
});
