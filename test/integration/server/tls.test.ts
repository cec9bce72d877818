// TLS on a real server: a CA made here with openssl, a certificate it signed for 127.0.0.1; predictions
// and the monitoring port over HTTPS verified against that CA; plain HTTP and an unknown CA refused; the
// certificate replaced on disk (as cert-manager renews a Secret) is served to new connections without a
// restart, and a broken one is refused while the old one stays.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { serve, type Served } from './support.js';

let dir: string;
let ca: Buffer;
let s: Served;

const MONITORING_KEY = 'tls-test-monitoring-key-0123456789';
const auth = { authorization: `Bearer ${MONITORING_KEY}` };

function issue(cn: string): { cert: string; key: string } {
  const key = join(dir, `${cn}.key`);
  const csr = join(dir, `${cn}.csr`);
  const cert = join(dir, `${cn}.crt`);
  const ext = join(dir, `${cn}.ext`);
  writeFileSync(ext, 'subjectAltName=IP:127.0.0.1,DNS:sepsis.icu.svc\n');
  execFileSync('openssl', ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', csr, '-subj', `/CN=${cn}`], { stdio: 'ignore' });
  execFileSync('openssl', ['x509', '-req', '-in', csr, '-CA', join(dir, 'ca.crt'), '-CAkey', join(dir, 'ca.key'), '-CAcreateserial', '-out', cert, '-days', '1', '-extfile', ext], { stdio: 'ignore' });
  return { cert, key };
}

/** GET over HTTPS: the status, the body and the server certificate's CN. */
function get(url: string, opts: { ca?: Buffer; headers?: Record<string, string> } = {}): Promise<{ status: number; body: string; cn: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca: opts.ca, agent: false, headers: opts.headers }, (res) => {
      const cn = String((res.socket as TLSSocket).getPeerCertificate().subject?.CN ?? '');
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, cn }));
    });
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tls-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', join(dir, 'ca.key'), '-out', join(dir, 'ca.crt'),
    '-subj', '/CN=clinops test CA', '-days', '1'], { stdio: 'ignore' });
  ca = readFileSync(join(dir, 'ca.crt'));
  const first = issue('sepsis-1');
  writeFileSync(join(dir, 'tls.crt'), readFileSync(first.cert));
  writeFileSync(join(dir, 'tls.key'), readFileSync(first.key));
  writeFileSync(join(dir, 'monitoring-key'), MONITORING_KEY);
  s = await serve({ ready: false, args: ['--tls-cert', join(dir, 'tls.crt'), '--tls-key', join(dir, 'tls.key'), '--monitoring-port', '0',
    '--monitoring-key-file', join(dir, 'monitoring-key')] });
  const https = s.url.replace('http:', 'https:');
  for (const deadline = Date.now() + 20_000; (await get(`${https}/health/ready`, { ca }).catch(() => ({ status: 0 }))).status !== 200;) {
    if (Date.now() > deadline) throw new Error(`not ready over HTTPS:\n${s.logs.join('\n')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}, 60_000);
afterAll(() => s?.stop());

it('serves predictions and the monitoring signals over HTTPS, verified against the CA; refuses plain HTTP and strangers', async () => {
  const https = s.url.replace('http:', 'https:');
  expect(await get(`${https}/health/ready`, { ca })).toMatchObject({ status: 200, cn: 'sepsis-1' });
  expect(await get(`${s.monitoringUrl.replace('http:', 'https:')}/v1/monitoring/window`, { ca, headers: auth })).toMatchObject({ status: 200, cn: 'sepsis-1' });
  await expect(get(`${https}/health/ready`)).rejects.toThrow(/self[- ]signed|unable to verify|unable to get local issuer/i);
  await expect(fetch(`${s.url}/health/ready`)).rejects.toThrow();
  expect(s.logs.some((l) => l.includes('"msg":"listening"') && l.includes('"tls":true'))).toBe(true);
});

it('serves a renewed certificate to new connections without a restart, and keeps the old one when the new is broken', async () => {
  const https = s.url.replace('http:', 'https:');
  const next = issue('sepsis-2');
  writeFileSync(join(dir, 'tls.key'), readFileSync(next.key));
  writeFileSync(join(dir, 'tls.crt'), readFileSync(next.cert));
  let cn = '';
  for (const deadline = Date.now() + 15_000; cn !== 'sepsis-2' && Date.now() < deadline;) {
    cn = (await get(`${https}/health/live`, { ca })).cn;
    if (cn !== 'sepsis-2') await new Promise((r) => setTimeout(r, 200));
  }
  expect(cn).toBe('sepsis-2');
  writeFileSync(join(dir, 'tls.crt'), 'not a certificate\n');
  for (const deadline = Date.now() + 15_000; !s.logs.some((l) => l.includes('TLS certificate not reloaded')) && Date.now() < deadline;) {
    await new Promise((r) => setTimeout(r, 200));
  }
  expect(s.logs.some((l) => l.includes('TLS certificate not reloaded'))).toBe(true);
  expect(await get(`${https}/health/live`, { ca })).toMatchObject({ status: 200, cn: 'sepsis-2' });
});

it('copies predictions to a candidate that serves HTTPS, verified against the CA for the name the operator gives', async () => {
  // The candidate is the TLS server above; a serving one with the CA sends it copies by its IP, checking the Service name.
  const serving = await serve({ args: ['--tls-ca', join(dir, 'ca.crt'), '--monitoring-key-file', join(dir, 'monitoring-key')] });
  try {
    const target = s.monitoringUrl.replace('http:', 'https:');
    const set = await fetch(`${serving.url}/v1/monitoring/shadow`, { method: 'POST', headers: { 'content-type': 'application/json', ...auth },
      body: JSON.stringify({ sha256: 'e'.repeat(64), urls: [target], token: MONITORING_KEY, serverName: 'sepsis.icu.svc' }) });
    expect(set.status).toBe(200);
    const predict = await fetch(`${serving.url}/v1/models/sepsis/predict`, { method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ instances: [[0, 0, 0, 0, 0, 0, 0, 0], [1, 1, 1, 1, 1, 1, 1, 1]] }) });
    expect(predict.status).toBe(200);
    let report: { compared: number; failed: number; lastError?: string } = { compared: 0, failed: 0 };
    for (const deadline = Date.now() + 10_000; report.compared < 2 && report.failed === 0 && Date.now() < deadline;) {
      await new Promise((r) => setTimeout(r, 100));
      report = (await (await fetch(`${serving.url}/v1/monitoring/shadow`, { headers: auth })).json()) as typeof report;
    }
    expect(report).toMatchObject({ compared: 2, failed: 0 });
    // A name the certificate does not carry is refused.
    await fetch(`${serving.url}/v1/monitoring/shadow`, { method: 'POST', headers: { 'content-type': 'application/json', ...auth },
      body: JSON.stringify({ sha256: 'f'.repeat(64), urls: [target], token: MONITORING_KEY, serverName: 'someone.else.svc' }) });
    await fetch(`${serving.url}/v1/models/sepsis/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ instances: [[0, 0, 0, 0, 0, 0, 0, 0]] }) });
    for (const deadline = Date.now() + 10_000; report.failed === 0 && Date.now() < deadline;) {
      await new Promise((r) => setTimeout(r, 100));
      report = (await (await fetch(`${serving.url}/v1/monitoring/shadow`, { headers: auth })).json()) as typeof report;
    }
    expect(report.failed).toBe(1);
    expect(report.lastError).toMatch(/altnames|not in the cert/i);
  } finally {
    await serving.stop();
  }
});

it('refuses to start with a certificate and no key', async () => {
  const out = (() => {
    try {
      execFileSync(process.execPath, [join(process.cwd(), 'dist', 'cli', 'main.js'), 'serve', '--model', 'x.onnx', '--name', 'm', '--model-version', '1', '--sha256', 'a'.repeat(64),
        '--labels', 'a,b', '--tls-cert', join(dir, 'tls.crt')], { stdio: 'pipe', encoding: 'utf8' });
      return { status: 0, stderr: '' };
    } catch (e) {
      return e as { status: number; stderr: string };
    }
  })();
  expect(out.status).toBe(2);
  expect(out.stderr).toContain('TLS needs both a certificate and its key');
});
