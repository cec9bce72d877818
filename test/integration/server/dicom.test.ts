// DICOM studies into a real server on loopback, against what pydicom and numpy compute
// (hack/python/dicom_reference.py): fixtures of every uncompressed syntax, RLE, photometric
// interpretation and bit depth written here; pydicom's CT slice, a chest X-ray and JPEG Lossless and
// Baseline studies from pydicom and pydicom-data that no test of ours wrote. The models are identity models (their "probabilities" are their input
// flattened), so each response is the exact tensor the server made. Then PHI: every fixture carries a
// patient's name, ids and dates, and none of it appears in a response, an error, a log or audit line,
// the metrics or the monitoring window.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../../../hack/cluster/controlplane.js';
import { identityImageGraph, writeModel } from '../../models/generate.js';
import { get, serve, type Served } from './support.js';

interface Ref {
  phi: Record<string, string>;
  files: Record<string, { syntax?: string; rows: number; columns: number; samples: number; frames: number[][]; sopInstanceUidSha256: string; refused?: boolean; phi?: string[]; modality?: string; bodyPart?: string }>;
}

const MEAN = 0.5;
const STD = 0.25;
let dir: string;
let ref: Ref;
const servers: Served[] = [];
let small: Served;
let frames: Served;
let ct: Served;
let xray: Served;
let any64: Served;

async function start(size: number, dicom: object): Promise<Served> {
  const m = writeModel(join(dir, `identity-${size}-${servers.length}-${Math.random().toString(36).slice(2, 8)}`), 'model.onnx', identityImageGraph(size));
  const s = await serve({
    file: { path: m.path, sha256: m.sha256, name: 'imaging', labels: Array.from({ length: size * size }, (_, i) => String(i)) },
    args: ['--preprocessing', JSON.stringify({ width: size, height: size, channels: 1, mean: [MEAN], std: [STD], dicom })],
  });
  servers.push(s);
  return s;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dicom-'));
  const python = execFileSync('bash', [join(repoRoot, 'hack', 'python-env.sh'), 'test'], { encoding: 'utf8' }).trim();
  execFileSync(python, [join(repoRoot, 'hack', 'python', 'dicom_reference.py'), dir], { stdio: 'inherit' });
  ref = JSON.parse(readFileSync(join(dir, 'reference.json'), 'utf8')) as Ref;
  small = await start(16, {});
  frames = await start(16, { frames: 'all' });
  ct = await start(128, { window: { center: 40, width: 400 }, modalities: ['CT'] });
  xray = await start(64, { modalities: ['CR', 'DX'], bodyParts: ['CHEST'] });
  any64 = await start(64, {});
}, 180_000);
afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()));
});

const file = (name: string) => readFileSync(join(dir, name));
async function predictDicom(s: Served, name: string): Promise<{ status: number; json: any }> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const res = await fetch(`${s.url}/v1/models/imaging/predict`, { method: 'POST', headers: { 'content-type': 'application/dicom' }, body: file(name) });
  return { status: res.status, json: await res.json() };
}
/** What the model saw, from an identity model's answer. */
const seen = (p: { probabilities: Record<string, number> }, n: number) => Array.from({ length: n }, (_, i) => p.probabilities[String(i)]!);
/** The reference's values as the model's single channel: grey as it is, RGB as Rec. 601 luma; normalized. */
function modelInput(f: { samples: number }, values: number[], n: number): number[] {
  const grey = f.samples === 1 ? values : Array.from({ length: n }, (_, i) => 0.299 * values[i]! + 0.587 * values[n + i]! + 0.114 * values[2 * n + i]!);
  return grey.map((v) => (v - MEAN) / STD);
}
function expectClose(got: number[], want: number[], tolerance: number): void {
  expect(got).toHaveLength(want.length);
  let worst = 0;
  got.forEach((g, i) => (worst = Math.max(worst, Math.abs(g - want[i]!))));
  expect(worst).toBeLessThan(tolerance);
}

describe('DICOM input', () => {
  it.each([
    'implicit-mono2-16.dcm', 'explicit-mono2-12signed.dcm', 'explicit-mono1-8.dcm', 'deflated-mono2-16.dcm',
    'rle-mono2-16.dcm', 'rle-mono1-12signed.dcm', 'rle-rgb-8.dcm', 'explicit-rgb-8.dcm',
  ])('%s: the pixels pydicom and numpy compute after rescale and windowing', async (name) => {
    const f = ref.files[name]!;
    const r = await predictDicom(small, name);
    expect(r.status).toBe(200);
    expect(r.json.predictions).toHaveLength(1);
    expectClose(seen(r.json.predictions[0], 256), modelInput(f, f.frames[0]!, 256), 1e-5);
  });

  it('a multi-frame study: the first frame, or every frame as a batch when the model asks for it', async () => {
    for (const name of ['explicit-mono2-16-2frame.dcm', 'rle-mono2-8-2frame.dcm']) {
      const f = ref.files[name]!;
      const one = await predictDicom(small, name);
      expect(one.json.predictions).toHaveLength(1);
      expectClose(seen(one.json.predictions[0], 256), modelInput(f, f.frames[0]!, 256), 1e-5);
      const all = await predictDicom(frames, name);
      expect(all.json.predictions).toHaveLength(2);
      f.frames.forEach((fr, i) => expectClose(seen(all.json.predictions[i], 256), modelInput(f, fr, 256), 1e-5));
    }
  });

  it('a CT slice no test of ours wrote (pydicom\'s CT_small.dcm), in Hounsfield units through the model\'s own window', async () => {
    const f = ref.files['CT_small.dcm']!;
    expect([f.rows, f.columns, f.modality]).toEqual([128, 128, 'CT']);
    const r = await predictDicom(ct, 'CT_small.dcm');
    expect(r.status).toBe(200);
    expectClose(seen(r.json.predictions[0], 128 * 128), modelInput(f, f.frames[0]!, 128 * 128), 1e-5);
  });

  it('a chest X-ray no test of ours wrote (pydicom-data\'s RG1_UNCI.dcm, CR, MONOCHROME1), resized to the model\'s 64×64', async () => {
    const f = ref.files['RG1_UNCI.dcm']!;
    expect([f.modality, f.bodyPart]).toEqual(['CR', 'CHEST']);
    const r = await predictDicom(xray, 'RG1_UNCI.dcm');
    expect(r.status).toBe(200);
    expectClose(seen(r.json.predictions[0], 64 * 64), modelInput(f, f.frames[0]!, 64 * 64), 1e-5);
  });

  it.each([
    ['JPGLosslessP14SV1_1s_1f_8b.dcm', 1e-5],
    ['JPEG-LL.dcm', 1e-5],
    // Lossy: two decoders (jpeg-js here, libjpeg under pillow there) may round an IDCT differently.
    ['SC_rgb_jpeg_dcmtk.dcm', 3 / 255 / STD],
  ])('%s (JPEG, no test of ours wrote it): the pixels pydicom computes, resized to 64×64', async (name, tolerance) => {
    const f = ref.files[name]!;
    const r = await predictDicom(any64, name);
    expect(r.status).toBe(200);
    expectClose(seen(r.json.predictions[0], 64 * 64), modelInput(f, f.frames[0]!, 64 * 64), tolerance);
  });

  it('DICOM parts of a multipart form, known by their first bytes', async () => {
    const form = new FormData();
    form.append('study', new Blob([file('rle-mono2-16.dcm')], { type: 'application/octet-stream' }), 'a.dcm');
    form.append('study2', new Blob([file('implicit-mono2-16.dcm')], { type: 'application/dicom' }), 'b.dcm');
    const res = await fetch(`${small.url}/v1/models/imaging/predict`, { method: 'POST', body: form });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { predictions: Array<{ probabilities: Record<string, number> }> };
    expectClose(seen(body.predictions[0]!, 256), modelInput(ref.files['rle-mono2-16.dcm']!, ref.files['rle-mono2-16.dcm']!.frames[0]!, 256), 1e-5);
    expectClose(seen(body.predictions[1]!, 256), modelInput(ref.files['implicit-mono2-16.dcm']!, ref.files['implicit-mono2-16.dcm']!.frames[0]!, 256), 1e-5);
  });

  it('refuses what it cannot use, naming the transfer syntax or the attribute', async () => {
    expect(await predictDicom(small, 'big-endian.dcm')).toMatchObject({ status: 415, json: { code: 'UNSUPPORTED_MEDIA_TYPE', field: 'body' } });
    expect((await predictDicom(small, 'big-endian.dcm')).json.error).toContain('1.2.840.10008.1.2.2 (Explicit VR Big Endian) is not supported');
    expect((await predictDicom(small, 'JPEG-lossy.dcm')).json.error).toContain('1.2.840.10008.1.2.4.51 (JPEG Extended) is not supported');
    // A JPEG Baseline study whose fragment is not a JPEG stream.
    expect(await predictDicom(small, 'jpeg-baseline.dcm')).toMatchObject({ status: 415, json: { error: expect.stringMatching(/^the DICOM pixels cannot be used: its JPEG frame cannot be decoded/) } });
    const wrong = await predictDicom(xray, 'CT_small.dcm');
    expect(wrong).toMatchObject({ status: 400, json: { field: 'body' } });
    expect(wrong.json.error).toBe("the study's Modality (0008,0060) is CT; this model takes CR, DX");
    const junk = await fetch(`${small.url}/v1/models/imaging/predict`, { method: 'POST', headers: { 'content-type': 'application/dicom' }, body: Buffer.alloc(300, 7) });
    expect(junk.status).toBe(400);
    expect(((await junk.json()) as { error: string }).error).toMatch(/^the DICOM file cannot be read: /);
  });
});

describe('PHI stays out', () => {
  it('no name, id or date of a study appears in a response, an error, a log or audit line, the metrics or the window; the audit record carries digests', async () => {
    const responses: string[] = [];
    for (const name of Object.keys(ref.files)) {
      for (const s of [small, ct, xray]) responses.push(JSON.stringify((await predictDicom(s, name)).json));
    }
    const phi = [...Object.values(ref.phi), ...ref.files['CT_small.dcm']!.phi!, ...ref.files['RG1_UNCI.dcm']!.phi!]
      .flatMap((v) => [v, ...v.split('^')]).filter((v) => v.length >= 4);
    expect(phi).toEqual(expect.arrayContaining(['Doe^Jane^Quinn', 'MRN-7731-0042', '19610203', 'Saint Example Teaching Hospital']));
    const monitoring = await Promise.all(servers.map(async (s) => JSON.stringify((await get(`${s.monitoringUrl}/v1/monitoring/window`)).json)));
    const metrics = await Promise.all(servers.map(async (s) => (await fetch(`${s.url}/metrics`)).text()));
    const logs = servers.flatMap((s) => s.logs);
    const everything = [...responses, ...monitoring, ...metrics, ...logs].join('\n');
    for (const v of phi) expect(everything).not.toContain(v);
    // The audit record of each DICOM prediction: the SOP Instance UID's sha256 and the pixel data's, no UID.
    const audit = logs.filter((l) => l.includes('"inputSha256"')).map((l) => JSON.parse(l) as Record<string, unknown>);
    const ctRecord = audit.find((a) => a.sopInstanceUidSha256 === ref.files['CT_small.dcm']!.sopInstanceUidSha256);
    expect(ctRecord).toMatchObject({ pixelDataSha256: expect.stringMatching(/^[0-9a-f]{64}$/), model: 'imaging' });
    expect(JSON.stringify(audit)).not.toMatch(/1\.2\.826\.0\.1\.3680043/);
  });
});
