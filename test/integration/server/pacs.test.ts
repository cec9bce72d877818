// The PACS path with a real PACS: Debian's Orthanc (DICOMweb plugin) on loopback, dcmtk's storescu as
// the modality, a server taking studies by STOW-RS. A chest X-ray no test of ours wrote goes modality →
// Orthanc → (Lua routing, STOW-RS) → the model → an SR → (STOW-RS) → Orthanc, into the same study; the
// SR is read back by QIDO-RS and WADO-RS and checked by highdicom, dcmtk's dsrdump and dicom3tools'
// dciodvfy. A re-sent study makes no second SR; a CT is ignored and counted; a PACS that is down gets
// its SR once it is back; no patient attribute appears in any log line, metric or count.
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from '../../../hack/cluster/controlplane.js';
import { type Pacs, startPacs, storescu } from '../../../hack/cluster/pacs.js';
import { eventually } from '../support.js';
import { SMALL_CNN_SIZE } from '../../models/generate.js';
import { serve, type Served, testModels } from './support.js';

const run = promisify(execFile);
const PRE = { width: SMALL_CNN_SIZE, height: SMALL_CNN_SIZE, channels: 1, mean: [0.485], std: [0.229] };
const ACCEPT = { modalities: ['CR', 'DX'], bodyParts: ['CHEST'] };
type Fixture = { uids: { study: string; series: string; instance: string }; phi: string[] };

let dir: string;
let python: string;
let fixtures: Record<string, Fixture>;
let pacs: Pacs;
let server: Served;

interface Counts { received: number; ignored: number; duplicate: number; inferred: number; delivered: number; failed: number; pending: number; failures: Array<{ reason: string }> }
const counts = async (): Promise<Counts> => (await fetch(`${server.monitoringUrl}/v1/monitoring/dicom`)).json() as Promise<Counts>;
const file = (name: string) => join(dir, 'studies', name);
/** The SR series Orthanc holds in a study (QIDO-RS). */
const srSeries = async (study: string) => (await pacs.get(`/dicom-web/studies/${study}/series?Modality=SR`)) as Array<Record<string, { Value: string[] }>>;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pacs-'));
  python = execFileSync('bash', [join(repoRoot, 'hack', 'python-env.sh'), 'test'], { encoding: 'utf8' }).trim();
  execFileSync(python, [join(repoRoot, 'hack', 'python', 'pacs_fixtures.py'), join(dir, 'studies')]);
  fixtures = JSON.parse(readFileSync(file('fixtures.json'), 'utf8')) as Record<string, Fixture>;
  pacs = await startPacs({ dir: join(dir, 'orthanc'), forwardTo: ['clinops'] });
  // The destination's credentials as a mounted Secret holds them.
  const creds = join(dir, 'destination');
  mkdirSync(creds);
  writeFileSync(join(creds, 'username'), pacs.user.username);
  writeFileSync(join(creds, 'password'), pacs.user.password);
  server = await serve({ model: 'cnn-small', args: ['--preprocessing', JSON.stringify(PRE), '--dicom-accept', JSON.stringify(ACCEPT), '--dicom-destination', pacs.dicomweb, '--dicom-destination-credentials', creds] });
  // Orthanc's routing: what modalities store goes to the model's STOW-RS endpoint.
  await pacs.defineServer('clinops', `${server.url}/dicomweb`);
}, 300_000);

afterAll(async () => {
  await server?.stop();
  await pacs?.stop();
});

it('a chest X-ray stored by a modality comes back into its study as a Comprehensive SR naming the model, its label and the probability /predict gives', async () => {
  const cr = fixtures['cr.dcm']!;
  const started = Date.now();
  await storescu(pacs, [file('cr.dcm')]);
  const [series] = await eventually('the SR in Orthanc', async () => {
    const s = await srSeries(cr.uids.study);
    return s.length > 0 ? s : undefined;
  }, 60_000);
  const elapsed = Date.now() - started;
  const seriesUid = series!['0020000E']!.Value[0]!;
  expect(series!['0008103E']!.Value[0]).toBe('AI result: pneumonia-cxr 1.0.0');
  // WADO-RS: the instance back as Orthanc stored it.
  const instances = (await pacs.get(`/dicom-web/studies/${cr.uids.study}/series/${seriesUid}/instances`)) as Array<Record<string, { Value: string[] }>>;
  expect(instances).toHaveLength(1);
  const sopUid = instances[0]!['00080018']!.Value[0]!;
  const res = await fetch(`${pacs.dicomweb}/studies/${cr.uids.study}/series/${seriesUid}/instances/${sopUid}`, {
    headers: { authorization: `Basic ${Buffer.from(`${pacs.user.username}:${pacs.user.password}`).toString('base64')}`, accept: 'multipart/related; type="application/dicom"' },
  });
  expect(res.status).toBe(200);
  const body = Buffer.from(await res.arrayBuffer());
  const at = body.indexOf('\r\n\r\n') + 4;
  const end = body.lastIndexOf(Buffer.from('\r\n--'));
  const srFile = join(dir, 'sr.dcm');
  writeFileSync(srFile, body.subarray(at, end));

  // highdicom reads it as a Comprehensive SR; its content is the model's answer for the same file.
  const sr = JSON.parse(execFileSync(python, [join(repoRoot, 'hack', 'python', 'sr_check.py'), srFile], { encoding: 'utf8' })) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  const direct = await (await fetch(`${server.url}/v1/models/pneumonia-cxr/predict`, { method: 'POST', headers: { 'content-type': 'application/dicom' }, body: readFileSync(file('cr.dcm')) })).json() as { predictions: Array<{ label: string; probabilities: Record<string, number> }> };
  const p = direct.predictions[0]!;
  expect(sr).toMatchObject({
    sopClassUid: '1.2.840.10008.5.1.4.1.1.88.33', modality: 'SR', study: cr.uids.study, observer: 'Device', finding: p.label, references: cr.uids.instance,
    text: { 'Algorithm Name': 'pneumonia-cxr', 'Algorithm Version': '1.0.0', 'Algorithm Parameters': `sha256 ${testModels()['cnn-small']!.sha256}` },
  });
  expect(sr.probability).toBeCloseTo(p.probabilities[p.label]!, 5);
  // The patient module is the study's (the PACS files it by that).
  expect(sr.patientId).toBe(fixtures['cr.dcm']!.phi.find((v) => v === sr.patientId));
  // dcmtk reads it; dicom3tools finds no error in it (warnings name our private coding scheme and the source's own values).
  const dump = (await run('dsrdump', [srFile])).stdout;
  expect(dump).toContain('Comprehensive SR Document');
  expect(dump).toMatch(/Algorithm Version.*="1\.0\.0"/);
  const verify = await run('dciodvfy', [srFile]).then((r) => r.stdout + r.stderr, (e: { stdout: string; stderr: string }) => e.stdout + e.stderr);
  expect(verify).toContain('ComprehensiveSR');
  expect(verify.split('\n').filter((l) => l.startsWith('Error'))).toEqual([]);
  expect(await counts()).toMatchObject({ received: 1, inferred: 1, delivered: 1, failed: 0, pending: 0 });
  console.log(`pacs: storescu → SR in Orthanc's study in ${elapsed} ms`);
}, 120_000);

it('the same study re-sent makes no second SR; a CT is acknowledged, ignored and counted', async () => {
  const cr = fixtures['cr.dcm']!;
  await storescu(pacs, [file('cr.dcm'), file('ct.dcm')]);
  const c = await eventually('both seen', async () => {
    const x = await counts();
    return x.duplicate >= 1 && x.ignored >= 1 ? x : undefined;
  }, 60_000);
  expect(c).toMatchObject({ received: 3, duplicate: 1, ignored: 1, inferred: 1, delivered: 1, failed: 0 });
  expect(await srSeries(cr.uids.study)).toHaveLength(1);
  expect(await srSeries(fixtures['ct.dcm']!.uids.study)).toHaveLength(0);
  // Orthanc's own count of the SR series' instances: still one.
  const series = (await pacs.get(`/dicom-web/studies/${cr.uids.study}/series?Modality=SR`)) as Array<Record<string, { Value: string[] }>>;
  const instances = (await pacs.get(`/dicom-web/studies/${cr.uids.study}/series/${series[0]!['0020000E']!.Value[0]}/instances`)) as unknown[];
  expect(instances).toHaveLength(1);
}, 120_000);

it('a PACS that is down gets the SR once it is back: retried with backoff, each failure\'s reason counted', async () => {
  const second = fixtures['cr-2.dcm']!;
  await pacs.pause();
  // A router that still holds the study sends it on (here: straight to the model's STOW-RS endpoint).
  const boundary = 'pacs-test-boundary';
  const stowBody = Buffer.concat([Buffer.from(`--${boundary}\r\nContent-Type: application/dicom\r\n\r\n`), readFileSync(file('cr-2.dcm')), Buffer.from(`\r\n--${boundary}--\r\n`)]);
  const stow = await fetch(`${server.url}/dicomweb/studies`, { method: 'POST', headers: { 'content-type': `multipart/related; type="application/dicom"; boundary=${boundary}`, accept: 'application/dicom+json' }, body: stowBody });
  expect(stow.status).toBe(200);
  expect(stow.headers.get('content-type')).toBe('application/dicom+json');
  const answer = await stow.json() as Record<string, { Value: Array<Record<string, { Value: string[] }>> }>;
  expect(answer['00081199']!.Value[0]!['00081155']!.Value[0]).toBe(second.uids.instance);
  const down = await eventually('a failed delivery', async () => {
    const x = await counts();
    return x.pending === 1 && x.failures.some((f) => /delivery attempt \d+ failed: the destination cannot be reached: ECONNREFUSED/.test(f.reason)) ? x : undefined;
  }, 30_000);
  expect(down.delivered).toBe(1);
  await new Promise((r) => setTimeout(r, 2500));
  await pacs.resume();
  await eventually('the SR in Orthanc after it came back', async () => ((await srSeries(second.uids.study)).length === 1 ? true : undefined), 90_000);
  expect(await counts()).toMatchObject({ delivered: 2, pending: 0, failed: 0 });
}, 180_000);

it('a held replica (a paused model\'s) takes a study and sends nothing, answers no prediction, and sends the SR once the operator\'s key releases it', async () => {
  const study = fixtures['cr-3.dcm']!;
  const keyFile = join(dir, 'monitoring-key');
  const key = 'm'.repeat(32);
  writeFileSync(keyFile, key);
  const held = await serve({ model: 'cnn-small', args: ['--preprocessing', JSON.stringify(PRE), '--dicom-accept', JSON.stringify(ACCEPT), '--dicom-destination', pacs.dicomweb,
    '--dicom-destination-credentials', join(dir, 'destination'), '--start-held', '--monitoring-key-file', keyFile] });
  try {
    const operator = { authorization: `Bearer ${key}` };
    const holdState = async () => (await fetch(`${held.monitoringUrl}/v1/monitoring/hold`, { headers: operator })).json();
    expect(await holdState()).toMatchObject({ held: true, reason: expect.stringContaining('started held') });
    // No prediction while held: 503, and why.
    const predict = await fetch(`${held.url}/v1/models/pneumonia-cxr/predict`, { method: 'POST', headers: { 'content-type': 'application/dicom' }, body: readFileSync(file('cr.dcm')) });
    expect(predict.status).toBe(503);
    expect(predict.headers.get('retry-after')).toBe('60');
    expect(await predict.json()).toMatchObject({ code: 'HELD', error: expect.stringContaining('the model is held') });
    // A study is taken (the PACS is answered), inferred by nobody, sent nowhere.
    const boundary = 'held-boundary';
    const stow = await fetch(`${held.url}/dicomweb/studies`, {
      method: 'POST', headers: { 'content-type': `multipart/related; type="application/dicom"; boundary=${boundary}` },
      body: Buffer.concat([Buffer.from(`--${boundary}\r\nContent-Type: application/dicom\r\n\r\n`), readFileSync(file('cr-3.dcm')), Buffer.from(`\r\n--${boundary}--\r\n`)]),
    });
    expect(stow.status).toBe(200);
    await new Promise((r) => setTimeout(r, 2000));
    const dicom = async () => (await fetch(`${held.monitoringUrl}/v1/monitoring/dicom`, { headers: operator })).json() as Promise<Counts & { queued: number; held: boolean }>;
    expect(await dicom()).toMatchObject({ received: 1, queued: 1, inferred: 0, delivered: 0, held: true });
    expect(await srSeries(study.uids.study)).toHaveLength(0);
    // Only the operator's key holds or releases, with a body that says which.
    expect((await fetch(`${held.monitoringUrl}/v1/monitoring/hold`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"held":false}' })).status).toBe(401);
    const bad = await fetch(`${held.monitoringUrl}/v1/monitoring/hold`, { method: 'POST', headers: { ...operator, 'content-type': 'application/json' }, body: '{"held":"no"}' });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ field: 'held' });
    const released = await fetch(`${held.monitoringUrl}/v1/monitoring/hold`, { method: 'POST', headers: { ...operator, 'content-type': 'application/json' }, body: '{"held":false}' });
    expect(await released.json()).toEqual({ held: false });
    await eventually('the SR in Orthanc once released', async () => ((await srSeries(study.uids.study)).length === 1 ? true : undefined), 60_000);
    expect(await dicom()).toMatchObject({ inferred: 1, delivered: 1, queued: 0, held: false });
    expect((await fetch(`${held.url}/v1/models/pneumonia-cxr/predict`, { method: 'POST', headers: { 'content-type': 'application/dicom' }, body: readFileSync(file('cr.dcm')) })).status).toBe(200);
  } finally {
    await held.stop();
  }
}, 120_000);

it('no patient attribute appears in a log line, the counts or the metrics', async () => {
  const phi = Object.values(fixtures).flatMap((f) => f.phi);
  expect(phi.length).toBeGreaterThanOrEqual(4);
  const metrics = await (await fetch(`${server.monitoringUrl}/metrics`)).text();
  expect(metrics).toMatch(/clinops_dicom_instances_total\{[^}]*outcome="delivered"[^}]*\} 2/);
  const outputs = [server.logs.join('\n'), JSON.stringify(await counts()), metrics];
  for (const value of phi) for (const text of outputs) expect(text.includes(value)).toBe(false);
});

it('bad STOW-RS requests are refused with the field named, and nothing is taken', async () => {
  const before = await counts();
  const post = (type: string, body: Buffer | string) => fetch(`${server.url}/dicomweb/studies`, { method: 'POST', headers: { 'content-type': type }, body });
  const noBoundary = await post('multipart/related; type="application/dicom"', 'x');
  expect(noBoundary.status).toBe(400);
  expect(await noBoundary.json()).toMatchObject({ field: 'content-type' });
  const wrongType = await post('multipart/related; type="application/dicom+xml"; boundary=b', '--b\r\n\r\nx\r\n--b--');
  expect(wrongType.status).toBe(415);
  const unclosed = await post('multipart/related; type="application/dicom"; boundary=b', '--b\r\nContent-Type: application/dicom\r\n\r\nxxxx');
  expect(unclosed.status).toBe(400);
  expect(await unclosed.json()).toMatchObject({ field: 'body', error: expect.stringContaining('closing boundary') });
  // A part that is not DICOM: answered 409 with its Failure Reason (0xC000), counted failed, no job.
  const junk = await post('multipart/related; type="application/dicom"; boundary=b', '--b\r\nContent-Type: application/dicom\r\n\r\nnot dicom at all\r\n--b--\r\n');
  expect(junk.status).toBe(409);
  expect(await junk.json()).toMatchObject({ '00081198': { Value: [{ '00081197': { vr: 'US', Value: [0xc000] } }] } });
  const after = await counts();
  expect(after).toMatchObject({ received: before.received + 1, failed: before.failed + 1, inferred: before.inferred });
});
