// Shadow traffic: while the operator tries a candidate version beside this one, it tells this server
// (on the monitoring port) where the candidate's replicas are. Each prediction's input tensors are then
// copied and sent to the candidate after this server has answered: asynchronously, at most
// `maxInFlight` at a time, dropped (and counted) when that many are in flight — the patient-facing answer
// never waits for the copy. The candidate's answers are compared here (same label, confidence
// difference, each version's label counts, the candidate's confidences) and read back by the operator.
// The target lapses by itself unless the operator renews it, so an operator that goes away leaves no
// mirroring behind.
import { Agent, request } from 'node:http';
import { Agent as TlsAgent, request as tlsRequest } from 'node:https';
import { checkServerIdentity } from 'node:tls';
import type { ShadowReport } from '../../contract/monitoring.js';
import { fail } from '../errors.js';
import type { Tensor } from '../model/signature.js';

export interface ShadowTarget {
  /** The candidate's sha256: the counts are for this version, and start afresh when it changes. */
  sha256: string;
  /** The candidate replicas' monitoring endpoints (http://ip:port), used in turn. */
  urls: string[];
  /** The bearer the candidate's monitoring port takes. */
  token?: string;
  /** https targets: the name their certificate must carry (the model's Service name). */
  serverName?: string;
  /** ms since the epoch after which the target lapses. */
  expiresAt: number;
}

export interface Answer {
  label: string;
  confidence: number;
}

/** A prediction's input, copied before the scheduler took the original; sent once its answer is known. */
export interface Capture {
  send(requestId: string, serving: readonly Answer[]): void;
  /** The prediction failed: nothing is sent. */
  drop(): void;
}

const CONFIDENCES = 5000;
const MAX_URLS = 64;
const MAX_TTL_S = 3600;

export interface MirrorOptions {
  maxInFlight?: number;
  timeoutMs?: number;
  clock?: () => number;
  onOutcome?: (outcome: 'sent' | 'dropped' | 'failed' | 'compared') => void;
  /** The CA an https target's certificate is verified against (read again at each new target). */
  ca?: () => Buffer;
}

export class ShadowMirror {
  private target: ShadowTarget | undefined;
  private report_: ShadowReport = emptyReport();
  private inFlight = 0;
  private next = 0;
  private readonly maxInFlight: number;
  private readonly timeoutMs: number;
  /** Kept-alive connections to the candidate's replicas (plain node:http: cheaper per request than fetch). */
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 16 });
  private tlsAgent: TlsAgent | undefined;
  private readonly clock: () => number;

  constructor(private readonly opts: MirrorOptions = {}) {
    this.maxInFlight = opts.maxInFlight ?? 8;
    this.timeoutMs = opts.timeoutMs ?? 5000;
    this.clock = opts.clock ?? Date.now;
  }

  private active(): ShadowTarget | undefined {
    const t = this.target;
    return t && t.expiresAt > this.clock() && t.urls.length > 0 ? t : undefined;
  }

  /** POST /v1/monitoring/shadow {"sha256", "urls", "token", "ttlSeconds"}: mirror to these replicas. */
  set(body: unknown): ShadowReport {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw fail('shadowBodyNotObject', {}, '');
    const b = body as Record<string, unknown>;
    for (const k of Object.keys(b)) {
      if (!['sha256', 'urls', 'token', 'ttlSeconds', 'serverName'].includes(k)) throw fail('unknownField', { field: k, allowed: 'sha256, urls, token, ttlSeconds, serverName' }, k);
    }
    if (typeof b.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(b.sha256)) throw fail('shadowShaInvalid', {}, 'sha256');
    if (!Array.isArray(b.urls) || b.urls.length > MAX_URLS) throw fail('shadowUrlsInvalid', { max: MAX_URLS }, 'urls');
    const urls = b.urls.map((u: unknown, i: number) => {
      if (typeof u !== 'string' || !/^https?:\/\/[^/?#\s]{1,256}$/.test(u)) throw fail('shadowUrlInvalid', {}, `urls[${i}]`);
      return u;
    });
    if (b.token !== undefined && (typeof b.token !== 'string' || b.token.length > 512)) throw fail('shadowTokenInvalid', {}, 'token');
    const ttl = b.ttlSeconds ?? 120;
    if (typeof ttl !== 'number' || !Number.isInteger(ttl) || ttl < 1 || ttl > MAX_TTL_S) throw fail('shadowTtlInvalid', { max: MAX_TTL_S }, 'ttlSeconds');
    if (b.serverName !== undefined && (typeof b.serverName !== 'string' || !/^[a-z0-9.-]{1,253}$/.test(b.serverName))) throw fail('shadowServerNameInvalid', {}, 'serverName');
    if (urls.some((u) => u.startsWith('https:')) && !this.tlsAgent) {
      // The CA once, as the first https target comes; kept-alive connections verified against it.
      const ca = this.opts.ca?.();
      if (!ca) throw fail('shadowNoCa', {}, 'urls');
      this.tlsAgent = new TlsAgent({ keepAlive: true, maxSockets: 16, ca, minVersion: 'TLSv1.2' });
    }
    if (this.report_.sha256 !== b.sha256) this.report_ = { ...emptyReport(), sha256: b.sha256 };
    this.target = { sha256: b.sha256, urls, token: b.token as string | undefined, serverName: b.serverName as string | undefined, expiresAt: this.clock() + ttl * 1000 };
    return this.report();
  }

  /** DELETE /v1/monitoring/shadow: stop mirroring (the counts stay readable until another candidate comes). */
  clear(): ShadowReport {
    this.target = undefined;
    return this.report();
  }

  report(): ShadowReport {
    const t = this.active();
    return { ...this.report_, active: t !== undefined, ...(t ? { expiresAt: new Date(t.expiresAt).toISOString() } : {}), confidences: [...this.report_.confidences] };
  }

  /** Copy the inputs of a prediction about to run, if mirroring and there is room; else nothing. */
  capture(feeds: readonly Tensor[]): Capture | undefined {
    const target = this.active();
    if (!target) return undefined;
    if (this.inFlight >= this.maxInFlight) {
      this.report_.dropped++;
      this.opts.onOutcome?.('dropped');
      return undefined;
    }
    this.inFlight++;
    const copies = feeds.map((f) => ({ name: f.name, datatype: f.datatype, shape: [...f.shape], bytes: new Uint8Array(f.data.buffer.slice(f.data.byteOffset, f.data.byteOffset + f.data.byteLength)) }));
    const url = target.urls[this.next++ % target.urls.length]!;
    let done = false;
    return {
      send: (requestId, serving) => {
        if (done) return;
        done = true;
        // After this turn of the event loop: the answer goes out first.
        setImmediate(() => void this.mirror(target, url, requestId, copies, serving).finally(() => this.inFlight--));
      },
      drop: () => {
        if (done) return;
        done = true;
        this.inFlight--;
      },
    };
  }

  /** Close the kept-alive connections (on shutdown). */
  close(): void {
    this.agent.destroy();
    this.tlsAgent?.destroy();
  }

  /** POST the parts to url; the status and body, or an error past timeoutMs. */
  private post(url: string, headers: Record<string, string>, parts: Uint8Array[], serverName?: string): Promise<{ status: number; text: string }> {
    return new Promise((resolve, reject) => {
      const length = parts.reduce((n, p) => n + p.byteLength, 0);
      const options = { method: 'POST', headers: { ...headers, 'content-length': String(length) }, timeout: this.timeoutMs };
      const onResponse = (res: import('node:http').IncomingMessage) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      };
      const req = url.startsWith('https:')
        ? tlsRequest(url, { ...options, agent: this.tlsAgent, ...(serverName ? { servername: serverName, checkServerIdentity: (_h: string, cert: import('node:tls').PeerCertificate) => checkServerIdentity(serverName, cert) } : {}) }, onResponse)
        : request(url, { ...options, agent: this.agent }, onResponse);
      req.on('timeout', () => req.destroy(new Error(`no answer within ${this.timeoutMs} ms`)));
      req.on('error', reject);
      for (const p of parts) req.write(p);
      req.end();
    });
  }

  private async mirror(target: ShadowTarget, url: string, requestId: string, feeds: Array<{ name: string; datatype: string; shape: number[]; bytes: Uint8Array }>, serving: readonly Answer[]): Promise<void> {
    const r = this.report_;
    r.sent++;
    this.opts.onOutcome?.('sent');
    const header = Buffer.from(JSON.stringify({ id: requestId, inputs: feeds.map((f) => ({ name: f.name, datatype: f.datatype, shape: f.shape, parameters: { binary_data_size: f.bytes.byteLength } })) }));
    try {
      const { status, text } = await this.post(`${url}/v1/monitoring/mirror`, {
        'content-type': 'application/octet-stream',
        'inference-header-content-length': String(header.byteLength),
        'x-request-id': requestId,
        ...(target.token ? { authorization: `Bearer ${target.token}` } : {}),
      }, [header, ...feeds.map((f) => f.bytes)], target.serverName);
      if (status !== 200) throw new Error(`HTTP ${status}: ${text.slice(0, 200)}`);
      const answers = (JSON.parse(text) as { predictions?: Answer[] }).predictions;
      if (!Array.isArray(answers) || answers.length !== serving.length) throw new Error(`the candidate answered ${Array.isArray(answers) ? answers.length : 'no'} predictions for ${serving.length}`);
      // Counts belong to the candidate they were made for: one replaced meanwhile starts afresh.
      if (this.report_ !== r) return;
      answers.forEach((a, i) => {
        const s = serving[i]!;
        r.compared++;
        if (a.label === s.label) r.agreed++;
        r.confidenceDifferenceSum += Math.abs(a.confidence - s.confidence);
        r.labels.serving[s.label] = (r.labels.serving[s.label] ?? 0) + 1;
        r.labels.candidate[a.label] = (r.labels.candidate[a.label] ?? 0) + 1;
        r.confidences.push(a.confidence);
        this.opts.onOutcome?.('compared');
      });
      if (r.confidences.length > CONFIDENCES) r.confidences.splice(0, r.confidences.length - CONFIDENCES);
    } catch (err) {
      r.failed++;
      r.lastError = (err instanceof Error ? err.message : String(err)).slice(0, 300);
      this.opts.onOutcome?.('failed');
    }
  }
}

function emptyReport(): ShadowReport {
  return { active: false, sent: 0, dropped: 0, failed: 0, compared: 0, agreed: 0, confidenceDifferenceSum: 0, labels: { serving: {}, candidate: {} }, confidences: [] };
}
