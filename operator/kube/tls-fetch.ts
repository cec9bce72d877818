// A fetch for a model's pods when they serve HTTPS (spec.serving.tls): the operator reaches them by pod
// IP, so their certificate is checked for the model's Service name and verified against the CA from the
// model's TLS Secret; kept-alive connections per model. The collectors take it where they take fetch.
import { Agent, request } from 'node:https';
import { checkServerIdentity, type PeerCertificate } from 'node:tls';
import { AnswerTooLargeError } from '../util/json-within.js';

/** The most of one answer this fetch buffers (the readers bound theirs more tightly). */
const MAX_ANSWER_BYTES = 16 * 1024 ** 2;

export function tlsFetch(ca: string, serverName: string): typeof fetch {
  const agent = new Agent({ keepAlive: true, maxSockets: 8, ca, minVersion: 'TLSv1.2' });
  return ((input: string | URL | Request, init?: RequestInit) => new Promise<Response>((resolve, reject) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const headers = Object.fromEntries(new Headers(init?.headers).entries());
    const req = request(url, {
      method: init?.method ?? 'GET', headers, agent, servername: serverName,
      checkServerIdentity: (_host: string, cert: PeerCertificate) => checkServerIdentity(serverName, cert),
    }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        // Whatever the caller's own bound, nothing a pod says is held past this one.
        if (size > MAX_ANSWER_BYTES) {
          req.destroy();
          reject(new AnswerTooLargeError(MAX_ANSWER_BYTES));
          return;
        }
        chunks.push(c);
      });
      res.on('error', reject);
      res.on('end', () => {
        const status = res.statusCode ?? 0;
        const h = new Headers();
        for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) h.set(k, Array.isArray(v) ? v.join(', ') : v);
        resolve(new Response(status === 204 || status === 304 ? null : Buffer.concat(chunks), { status, headers: h }));
      });
    });
    init?.signal?.addEventListener('abort', () => req.destroy(init.signal!.reason instanceof Error ? init.signal!.reason : new Error('aborted')), { once: true });
    req.on('error', reject);
    if (init?.body !== undefined && init.body !== null) req.write(init.body as string | Uint8Array);
    req.end();
  })) as typeof fetch;
}
