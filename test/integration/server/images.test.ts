// Image uploads: a PNG or JPEG, raw or base64 in JSON, resized, converted and normalized as
// configured, then classified — checked against the CNN computed independently on the same pixels;
// and input drift on images from per-image summaries the server bins (never the pixels).
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { jest } from '@jest/globals';
import sharp from 'sharp';
import { repoRoot } from '../../../hack/cluster/controlplane.js';
import { cnnForward, cnnWeights, rng, SMALL_CNN, SMALL_CNN_SIZE } from '../../models/generate.js';
import { get, post, type Served, serve, testModels } from './support.js';

const run = promisify(execFile);

jest.setTimeout(60_000);

const PRE = { width: SMALL_CNN_SIZE, height: SMALL_CNN_SIZE, channels: 1, mean: [0.485], std: [0.229] };
const pixels = Buffer.from(Array.from({ length: SMALL_CNN_SIZE ** 2 }, (_, i) => (i * 37) % 256));
let png: Buffer;
let jpeg: Buffer;
let s: Served;

async function upload(body: Buffer, type: string) {
  const res = await fetch(`${s.url}/v1/models/pneumonia-cxr/predict`, { method: 'POST', headers: { 'content-type': type }, body });
  return { status: res.status, json: await res.json() as any }; // eslint-disable-line @typescript-eslint/no-explicit-any
}

beforeAll(async () => {
  png = await sharp(pixels, { raw: { width: SMALL_CNN_SIZE, height: SMALL_CNN_SIZE, channels: 1 } }).png().toBuffer();
  jpeg = await sharp(Buffer.alloc(64 * 64 * 3, 128), { raw: { width: 64, height: 64, channels: 3 } }).jpeg().toBuffer();
  s = await serve({ model: 'cnn-small', args: ['--preprocessing', JSON.stringify(PRE), '--upload-file-limit', '200kb', '--max-uploads', '4'] });
});
afterAll(async () => {
  await s?.stop();
});

it('classifies an uploaded PNG exactly as the model computed on its normalized pixels', async () => {
  const r = await upload(png, 'image/png');
  expect(r.status).toBe(200);
  const want = cnnForward(cnnWeights(SMALL_CNN_SIZE, SMALL_CNN), Array.from(pixels, (v) => (v / 255 - 0.485) / 0.229));
  const p = r.json.predictions[0];
  expect(p.probabilities.Normal).toBeCloseTo(want[0]!, 5);
  expect(p.label).toBe(want[1]! > want[0]! ? 'Pneumonia' : 'Normal');
  expect(r.json.model).toEqual({ name: 'pneumonia-cxr', version: '1.0.0' });
});

it('resizes and converts a colour JPEG of another size', async () => {
  const r = await upload(jpeg, 'image/jpeg');
  expect(r.status).toBe(200);
  const probs = Object.values(r.json.predictions[0].probabilities as Record<string, number>);
  expect(probs.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
});

it('takes several base64 images in one JSON request', async () => {
  const r = await post(`${s.url}/v1/models/pneumonia-cxr/predict`, { images: [png.toString('base64'), `data:image/jpeg;base64,${jpeg.toString('base64')}`] });
  expect(r.status).toBe(200);
  expect(r.json.predictions).toHaveLength(2);
  const single = await upload(png, 'image/png');
  expect(r.json.predictions[0].probabilities.Normal).toBeCloseTo(single.json.predictions[0].probabilities.Normal, 6);
});

it.each([
  ['bad base64', { images: ['not*base64!'] }, 'INVALID_BASE64', 'images[0]'],
  ['a GIF', { images: [Buffer.from('GIF89a\x01\x00\x01\x00').toString('base64')] }, 'INVALID_IMAGE', 'images[0]'],
  ['a truncated PNG', { images: [Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]).toString('base64')] }, 'INVALID_IMAGE', 'images[0]'],
  ['both images and instances', { images: ['AAAA'], instances: [[1]] }, 'BAD_REQUEST', 'images'],
])('rejects %s with 400 naming the field', async (_what, body, code, field) => {
  const r = await post(`${s.url}/v1/models/pneumonia-cxr/predict`, body);
  expect(r).toMatchObject({ status: 400, json: { code, field } });
});

it('rejects an undecodable upload with 400 and an unsupported image type with 415', async () => {
  expect(await upload(Buffer.from('definitely not an image'), 'image/png')).toMatchObject({ status: 400, json: { code: 'INVALID_IMAGE', field: 'body' } });
  expect(await upload(png, 'image/webp')).toMatchObject({ status: 415, json: { code: 'UNSUPPORTED_MEDIA_TYPE' } });
});

it('takes images uploaded as a multipart form, one or several, each named by its field in errors and within the limits', async () => {
  const form = (...parts: Array<[string, Buffer, string]>) => {
    const f = new FormData();
    for (const [field, bytes, type] of parts) f.append(field, new Blob([bytes], { type }), `${field}.bin`);
    f.append('note', 'a text field is ignored');
    return f;
  };
  const send = async (f: FormData) => {
    const res = await fetch(`${s.url}/v1/models/pneumonia-cxr/predict`, { method: 'POST', body: f });
    return { status: res.status, json: await res.json() as any }; // eslint-disable-line @typescript-eslint/no-explicit-any
  };
  const single = (await upload(png, 'image/png')).json.predictions[0].probabilities.Normal;
  // Two files: the PNG as image/png and the JPEG as application/octet-stream (known by its first bytes).
  const two = await send(form(['frontal', png, 'image/png'], ['lateral', jpeg, 'application/octet-stream']));
  expect(two.status).toBe(200);
  expect(two.json.predictions).toHaveLength(2);
  expect(two.json.predictions[0].probabilities.Normal).toBeCloseTo(single, 6);
  // As an asynchronous job too.
  const job = await fetch(`${s.url}/v1/models/pneumonia-cxr/jobs`, { method: 'POST', body: form(['frontal', png, 'image/png']) });
  expect(job.status).toBe(202);
  // Errors name the part: not an image type, not decodable, too large, too many, none.
  expect(await send(form(['frontal', png, 'image/png'], ['report', Buffer.from('%PDF-1.7'), 'application/pdf'])))
    .toMatchObject({ status: 415, json: { code: 'UNSUPPORTED_MEDIA_TYPE', field: 'report' } });
  expect(await send(form(['frontal', Buffer.from('not really a png'), 'image/png']))).toMatchObject({ status: 400, json: { code: 'INVALID_IMAGE', field: 'frontal' } });
  expect(await send(form(['huge', Buffer.alloc(300_000, 1), 'image/png']))).toMatchObject({ status: 413, json: { code: 'PAYLOAD_TOO_LARGE', field: 'huge' } });
  expect(await send(form(...Array.from({ length: 5 }, (_, i): [string, Buffer, string] => [`f${i}`, png, 'image/png']))))
    .toMatchObject({ status: 413, json: { code: 'PAYLOAD_TOO_LARGE', error: 'at most 4 files may be uploaded in one request' } });
  const empty = new FormData();
  empty.append('note', 'no file');
  expect(await send(empty)).toMatchObject({ status: 400, json: { code: 'MISSING_FIELD' } });
  // A tensor endpoint takes no form.
  const oip = await fetch(`${s.url}/v2/models/pneumonia-cxr/infer`, { method: 'POST', body: form(['frontal', png, 'image/png']) });
  expect(oip.status).toBe(415);
});

it('tells a client of a tensor model that it takes no images', async () => {
  const mlp = await serve();
  try {
    const res = await fetch(`${mlp.url}/v1/models/sepsis/predict`, { method: 'POST', headers: { 'content-type': 'image/png' }, body: png });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: 'BAD_REQUEST', error: expect.stringContaining('no image preprocessing configured') });
  } finally {
    await mlp.stop();
  }
});

describe('input drift on images: per-image summaries, never the pixels', () => {
  const size = SMALL_CNN_SIZE;
  /** A synthetic radiograph: a vertical gradient (darker lungs above) plus noise; `exposure` adds to every pixel, clipped at white. */
  const radiograph = (r: () => number, exposure = 0) => Uint8Array.from({ length: size * size }, (_, i) =>
    Math.max(0, Math.min(255, Math.round(255 * (0.3 + 0.4 * Math.floor(i / size) / size + (r() - 0.5) * 0.2)) + exposure)));
  const normalized = (px: Uint8Array) => [Array.from({ length: size }, (_, y) => Array.from(px.subarray(y * size, (y + 1) * size), (v) => (v / 255 - 0.485) / 0.229))];
  const png = (px: Uint8Array) => sharp(Buffer.from(px), { raw: { width: size, height: size, channels: 1 } }).png().toBuffer();

  it('a reference of summaries from the holdout; over-exposed uploads drift in mean intensity and clipping, and the counts carry no pixel', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'clinops-image-summaries-'));
    const r = rng(404);
    writeFileSync(join(dir, 'holdout.json'), JSON.stringify(Array.from({ length: 400 }, () => normalized(radiograph(r)))));
    const cli = join(repoRoot, 'dist', 'cli', 'main.js');
    await run(process.execPath, [cli, 'reference', '--model', testModels()['cnn-small']!.path, '--holdout', join(dir, 'holdout.json'),
      '--out', join(dir, 'confidence.json'), '--image-summaries', '--features-out', join(dir, 'features.json'), '--bins', '20']);
    const reference = JSON.parse(readFileSync(join(dir, 'features.json'), 'utf8')) as { features: Array<{ name: string; counts: number[] }> };
    expect(reference.features.map((f) => f.name)).toEqual(['image_mean', 'image_std', 'image_gradient', 'image_clipped']);

    const server = await serve({ model: 'cnn-small', args: ['--preprocessing', JSON.stringify(PRE), '--feature-reference', join(dir, 'features.json')] });
    try {
      const send = async (images: Uint8Array[]) => {
        for (let i = 0; i < images.length; i += 50) {
          const body = { images: await Promise.all(images.slice(i, i + 50).map(async (px) => (await png(px)).toString('base64'))) };
          expect((await post(`${server.url}/v1/models/pneumonia-cxr/predict`, body)).status).toBe(200);
        }
      };
      const judge = async (after: number) => {
        const counts = await get(`${server.url}/v1/monitoring/features?after=${after}`);
        const text = JSON.stringify(counts.json);
        writeFileSync(join(dir, 'current.json'), text);
        const out = await run(process.execPath, [cli, 'drift-features', '--reference', join(dir, 'features.json'), '--current', join(dir, 'current.json'), '--json'])
          .then((x) => x.stdout, (e: { code: number; stdout: string }) => (e.code === 1 ? e.stdout : Promise.reject(e)));
        return { report: JSON.parse(out) as { verdict: string; drivers: string[] }, text, seq: counts.json.seq as number };
      };
      const clean = Array.from({ length: 300 }, () => radiograph(r));
      await send(clean);
      const first = await judge(0);
      expect(first.report).toMatchObject({ verdict: 'NoDrift', drivers: [] });
      // Counts only: no pixel value, raw or normalized, appears in what the operator reads.
      for (const px of clean.slice(0, 5)) for (const v of normalized(px)[0]!.flat().slice(0, 50)) expect(first.text).not.toContain(String(v));

      await send(Array.from({ length: 300 }, () => radiograph(r, 60)));
      const exposed = await judge(first.seq);
      expect(exposed.report.verdict).toBe('Significant');
      expect(exposed.report.drivers).toEqual(expect.arrayContaining(['image_mean', 'image_clipped']));
    } finally {
      await server.stop();
    }
  });
});
