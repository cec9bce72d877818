// ?explain=occlusion on a real server: a 16×16 image model that looks only at the image's top-left
// quadrant, so the map must show drops there and exactly none elsewhere; each drop equal to the same
// masking and forward pass computed here. The masked runs are not predictions: the window and the
// audit log see one per image.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { softmax, writeModel } from '../../models/generate.js';
import { FLOAT, type Graph } from '../../models/onnx.js';
import { get, serve, type Served } from './support.js';

const SIZE = 16;
let s: Served;
// Class 1's logit rises with the brightness of the top-left 8×8 pixels; the rest of the image is ignored.
const w = new Float32Array(SIZE * SIZE * 2);
for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) w[(y * SIZE + x) * 2 + 1] = 0.05 * (1 + ((x + y) % 3));
const b = new Float32Array([1.5, 0]);
const graph: Graph = {
  name: 'quadrant',
  nodes: [
    { op: 'Flatten', inputs: ['input'], outputs: ['flat'], attrs: { axis: 1 } },
    { op: 'MatMul', inputs: ['flat', 'w'], outputs: ['l0'] },
    { op: 'Add', inputs: ['l0', 'b'], outputs: ['logits'] },
    { op: 'Softmax', inputs: ['logits'], outputs: ['probabilities'], attrs: { axis: -1 } },
  ],
  initializers: [{ name: 'w', dims: [SIZE * SIZE, 2], data: w }, { name: 'b', dims: [2], data: b }],
  inputs: [{ name: 'input', elemType: FLOAT, shape: ['batch', 1, SIZE, SIZE] }],
  outputs: [{ name: 'probabilities', elemType: FLOAT, shape: ['batch', 2] }],
};
const forward = (px: ArrayLike<number>) => {
  const logits = [b[0]!, b[1]!];
  for (let i = 0; i < SIZE * SIZE; i++) logits[1]! += px[i]! * w[i * 2 + 1]!;
  return softmax(logits);
};
// A bright image with a gradient, as PNG; the model sees its pixels / 255.
const pixels = Uint8Array.from({ length: SIZE * SIZE }, (_, i) => 120 + ((i * 7) % 130));
let png: Buffer;

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'explain-'));
  const m = writeModel(dir, 'model.onnx', graph);
  png = await sharp(Buffer.from(pixels), { raw: { width: SIZE, height: SIZE, channels: 1 } }).png().toBuffer();
  s = await serve({ file: { path: m.path, sha256: m.sha256, name: 'quadrant', labels: ['normal', 'finding'] },
    args: ['--preprocessing', JSON.stringify({ width: SIZE, height: SIZE, channels: 1 })] });
}, 60_000);
afterAll(() => s?.stop());

const predict = async (query: string, body: Buffer | string = png, type = 'image/png') => {
  const res = await fetch(`${s.url}/v1/models/quadrant/predict${query}`, { method: 'POST', headers: { 'content-type': type }, body });
  return { status: res.status, json: (await res.json()) as any }; // eslint-disable-line @typescript-eslint/no-explicit-any
};

it('maps the drop in the predicted label\'s probability per masked patch: where the model looks, and nowhere else', async () => {
  const r = await predict('?explain=occlusion&grid=4');
  expect(r.status).toBe(200);
  const p = r.json.predictions[0];
  const x = Array.from(pixels, (v) => v / 255);
  const full = forward(x);
  expect(p.label).toBe(full[1]! > full[0]! ? 'finding' : 'normal');
  const k = p.label === 'finding' ? 1 : 0;
  expect(p.explanation).toMatchObject({ method: 'occlusion', grid: 4, label: p.label });
  expect(p.explanation.probability).toBeCloseTo(full[k]!, 5);
  for (let gy = 0; gy < 4; gy++) {
    for (let gx = 0; gx < 4; gx++) {
      const masked = [...x];
      for (let y = gy * 4; y < gy * 4 + 4; y++) for (let xx = gx * 4; xx < gx * 4 + 4; xx++) masked[y * SIZE + xx] = 0;
      const drop = full[k]! - forward(masked)[k]!;
      expect(p.explanation.drops[gy][gx]).toBeCloseTo(drop, 5);
      if (gy >= 2 || gx >= 2) expect(p.explanation.drops[gy][gx]).toBe(0);
      else expect(Math.abs(p.explanation.drops[gy][gx])).toBeGreaterThan(1e-3);
    }
  }
});

it('is off by default, and its masked runs are not predictions: one window sample and one audit record an image', async () => {
  const before = (await get(`${s.url}/v1/monitoring/window`)).json.seq as number;
  const plain = await predict('');
  expect(plain.json.predictions[0].explanation).toBeUndefined();
  const form = new FormData();
  form.append('a', new Blob([png], { type: 'image/png' }), 'a.png');
  form.append('b', new Blob([png], { type: 'image/png' }), 'b.png');
  const res = await fetch(`${s.url}/v1/models/quadrant/predict?explain=occlusion`, { method: 'POST', body: form });
  const two = (await res.json()) as { predictions: Array<{ explanation: { grid: number; drops: number[][] } }> };
  expect(two.predictions.map((x) => x.explanation.grid)).toEqual([8, 8]);
  expect(two.predictions[0]!.explanation.drops).toHaveLength(8);
  expect((await get(`${s.url}/v1/monitoring/window`)).json.seq).toBe(before + 3);
  expect(s.logs.filter((l) => l.includes('"inputSha256"')).length).toBe(before + 3);
});

it('bounds its cost and says what it takes', async () => {
  expect(await predict('?explain=shap')).toMatchObject({ status: 400, json: { field: 'explain' } });
  expect(await predict('?explain=occlusion&grid=1')).toMatchObject({ status: 400, json: { field: 'grid' } });
  expect(await predict('?explain=occlusion&grid=17')).toMatchObject({ status: 400, json: { field: 'grid' } });
  const tensors = await predict('?explain=occlusion', JSON.stringify({ instances: [Array.from({ length: SIZE * SIZE }, () => 0)] }), 'application/json');
  expect(tensors).toMatchObject({ status: 400, json: { field: 'explain' } });
  const many = await predict('?explain=occlusion&grid=16', JSON.stringify({ images: Array.from({ length: 5 }, () => png.toString('base64')) }), 'application/json');
  expect(many.status).toBe(400);
  expect(many.json.error).toBe('an occlusion map of 5 images on a 16×16 grid needs more than 1024 runs; send fewer images or a smaller grid');
});
