import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DEFAULT_NOTIFY_POLICY, type NotifyPolicy, refusedAddress, refusedUrl, sendEvent } from '../../../../operator/governance/notify-send.js';

const policy = (p: Partial<NotifyPolicy> = {}): NotifyPolicy => ({ ...DEFAULT_NOTIFY_POLICY, apiServerAddresses: ['10.96.0.1'], ...p });

it('takes https receivers, and http only to an in-cluster Service name when the chart allows it', () => {
  expect(refusedUrl('https://retrain.example.org/hook', policy())).toBeUndefined();
  expect(refusedUrl('http://retrain.example.org/hook', policy())).toBe('url refused: http is not allowed');
  expect(refusedUrl('http://retrain.ml.svc:8080/hook', policy())).toBe('url refused: http is not allowed');
  expect(refusedUrl('http://retrain.ml.svc:8080/hook', policy({ allowClusterLocalHttp: true }))).toBeUndefined();
  expect(refusedUrl('http://retrain.ml.svc.cluster.local/hook', policy({ allowClusterLocalHttp: true }))).toBeUndefined();
  expect(refusedUrl('http://evil.example.org/hook', policy({ allowClusterLocalHttp: true }))).toBe('url refused: http is not allowed');
  expect(refusedUrl('ftp://retrain.example.org/', policy())).toBe('url refused: not a valid URL');
  expect(refusedUrl('https://user:pw@retrain.example.org/', policy())).toBe('url refused: not a valid URL');
});

it('refuses loopback, link-local (cloud metadata), unspecified, multicast and the API server\'s addresses', () => {
  for (const url of ['https://169.254.169.254/latest/meta-data', 'https://127.0.0.1:6443/', 'https://[::1]/', 'https://0.0.0.0/',
    'https://10.96.0.1/', 'https://[fe80::1]/', 'https://[::ffff:169.254.169.254]/', 'https://224.0.0.1/']) {
    expect([url, refusedUrl(url, policy())]).toEqual([url, 'address refused']);
  }
  expect(refusedAddress('169.254.169.254', policy())).toBe('link-local');
  expect(refusedAddress('10.96.0.1', policy())).toBe('the API server');
  expect(refusedAddress('::ffff:127.0.0.1', policy())).toBe('loopback');
  expect(refusedAddress('10.20.30.40', policy())).toBeUndefined();
  expect(refusedAddress('2001:db8::1', policy())).toBeUndefined();
  // Loopback only for an operator run outside the cluster in development.
  expect(refusedAddress('127.0.0.1', policy({ allowLoopback: true }))).toBeUndefined();
  expect(refusedUrl('http://127.0.0.1:9/hook', policy({ allowLoopback: true }))).toBeUndefined();
});

it('checks a name\'s addresses when it connects: "localhost" is loopback too', async () => {
  expect(await sendEvent('https://localhost:9/hook', undefined, { id: 'x' }, policy())).toBe('address refused');
});

it('sends with the CloudEvents content type and the bearer token; a refusal is a short class, never the receiver\'s text', async () => {
  const seen: Array<{ type?: string; auth?: string; body: string }> = [];
  let answer = 200;
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      seen.push({ type: req.headers['content-type'], auth: req.headers.authorization, body });
      if (answer === 302) res.writeHead(302, { location: 'http://169.254.169.254/' }).end();
      else res.writeHead(answer).end('stack trace with secrets '.repeat(10_000));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  const dev = policy({ allowLoopback: true });
  try {
    expect(await sendEvent(url, 's3cret', { id: 'x' }, dev)).toBeUndefined();
    expect(seen[0]).toEqual({ type: 'application/cloudevents+json; charset=utf-8', auth: 'Bearer s3cret', body: '{"id":"x"}' });
    answer = 503;
    expect(await sendEvent(url, undefined, { id: 'x' }, dev)).toBe('HTTP 503');
    expect(seen[1]!.auth).toBeUndefined();
    answer = 302;
    expect(await sendEvent(url, undefined, { id: 'x' }, dev)).toBe('redirect not followed');
    expect(seen).toHaveLength(3);
    // The default policy never reaches it.
    expect(await sendEvent(url, 's3cret', { id: 'x' }, policy())).toBe('url refused: http is not allowed');
    expect(seen).toHaveLength(3);
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
  expect(await sendEvent(url, undefined, { id: 'x' }, dev)).toBe('connection failed');
});
