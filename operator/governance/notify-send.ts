// Sending the retraining signal without opening a way out of the cluster. The receiver's URL is the
// spec editor's choice and the token is a Secret the operator reads with its own rights, so the send is
// bounded like an untrusted peer: https only (http to an in-cluster Service name when the chart allows
// it), never to loopback, link-local (cloud metadata), multicast or unspecified addresses, nor to the
// API server's; the address is checked when the connection is made (after DNS, so a name that resolves
// to a refused address is refused too, and a second lookup cannot swap it); no redirect is followed;
// the answer is read up to a bound and thrown away. What comes back is a short error class — never the
// receiver's own text, which could carry anything into status.
import { lookup as dnsLookup, type LookupAddress, type LookupOneOptions } from 'node:dns';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';

export interface NotifyPolicy {
  /** http to HOST.NAMESPACE.svc[.…] (an in-cluster receiver); https everywhere else. */
  allowClusterLocalHttp: boolean;
  /** Loopback receivers, http or https: an operator run outside the cluster for development and tests only. */
  allowLoopback: boolean;
  /** PEM CA certificates trusted for receivers besides the system's. */
  ca?: string;
  /** The API server's addresses (in the cluster: its Service IP; else the kubeconfig's host when it is an address). */
  apiServerAddresses: readonly string[];
}

export const DEFAULT_NOTIFY_POLICY: NotifyPolicy = { allowClusterLocalHttp: false, allowLoopback: false, apiServerAddresses: [] };

/** Why a send failed, in a few words status and Events may carry. */
export type NotifyErrorClass =
  | 'url refused: http is not allowed' | 'url refused: not a valid URL' | 'address refused' | 'name not resolved'
  | 'connection failed' | 'TLS failed' | 'timed out' | 'redirect not followed' | `HTTP ${number}`;

const CLUSTER_LOCAL = /^[^.]+\.[^.]+\.svc(\..*)?$/;

/** Why the URL itself is refused (pure): its scheme, or an address literal that may not be reached. */
export function refusedUrl(text: string, policy: NotifyPolicy): NotifyErrorClass | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'url refused: not a valid URL';
  }
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (url.protocol === 'http:') {
    const loopback = policy.allowLoopback && (isIP(host) ? isLoopback(host) : host === 'localhost');
    if (!(policy.allowClusterLocalHttp && CLUSTER_LOCAL.test(host)) && !loopback) return 'url refused: http is not allowed';
  } else if (url.protocol !== 'https:') {
    return 'url refused: not a valid URL';
  }
  if (url.username || url.password) return 'url refused: not a valid URL';
  if (isIP(host) && refusedAddress(host, policy)) return 'address refused';
  return undefined;
}

/**
 * Why an address may not be reached (pure): unspecified, loopback (unless allowed, for development),
 * link-local (the cloud metadata service at 169.254.169.254 among them), multicast or broadcast, or one
 * of the API server's. IPv4-mapped IPv6 addresses are judged as the IPv4 address they carry.
 */
export function refusedAddress(address: string, policy: NotifyPolicy): string | undefined {
  const ip = unmapped(address.toLowerCase());
  // Loopback first: allowed only to an operator run outside the cluster (whose API server may be on loopback too).
  if (isLoopback(ip)) return policy.allowLoopback ? undefined : 'loopback';
  if (policy.apiServerAddresses.some((a) => unmapped(a.toLowerCase()) === ip)) return 'the API server';
  if (isIP(ip) === 4) {
    const [a, b] = ip.split('.').map(Number) as [number, number];
    if (a === 0) return 'unspecified';
    if (a === 169 && b === 254) return 'link-local';
    if (a >= 224) return 'multicast or reserved';
    return undefined;
  }
  if (ip === '::') return 'unspecified';
  if (/^fe[89ab]/.test(ip)) return 'link-local';
  if (ip.startsWith('ff')) return 'multicast';
  return undefined;
}

/** An IPv4-mapped IPv6 address (::ffff:a.b.c.d, or ::ffff:XXXX:YYYY as URLs write it) as its IPv4 address. */
function unmapped(ip: string): string {
  const dotted = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(ip);
  if (dotted) return dotted[1]!;
  const hex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(ip);
  if (!hex) return ip;
  const [hi, lo] = [parseInt(hex[1]!, 16), parseInt(hex[2]!, 16)];
  return [hi >> 8, hi & 255, lo >> 8, lo & 255].join('.');
}

function isLoopback(ip: string): boolean {
  return ip === '::1' || /^127\./.test(ip);
}

/** dns.lookup that refuses what refusedAddress refuses, in both of its callback forms (Node asks for all addresses when it races families). */
function guardedLookup(policy: NotifyPolicy) {
  return (hostname: string, options: LookupOneOptions & { all?: boolean }, callback: (...args: unknown[]) => void): void => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
      if (err) return callback(err);
      const bad = addresses.find((a) => refusedAddress(a.address, policy));
      if (bad || addresses.length === 0) {
        return callback(Object.assign(new Error(`address refused: ${hostname}`), { code: 'CLINOPS_ADDRESS_REFUSED' }));
      }
      if (options.all) return callback(null, addresses);
      return callback(null, addresses[0]!.address, addresses[0]!.family);
    });
  };
}

const MAX_ANSWER = 64 * 1024;

/** POST the event; undefined when the receiver took it (2xx), else the error's class. */
export function sendEvent(url: string, token: string | undefined, event: Record<string, unknown>, policy: NotifyPolicy, timeoutMs = 5000): Promise<NotifyErrorClass | undefined> {
  const refused = refusedUrl(url, policy);
  if (refused) return Promise.resolve(refused);
  const body = JSON.stringify(event);
  const target = new URL(url);
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve) => {
    let settled = false;
    const done = (r: NotifyErrorClass | undefined) => {
      if (!settled) {
        settled = true;
        clearTimeout(timer);
        resolve(r);
      }
    };
    const req = send(target, {
      method: 'POST',
      headers: {
        'content-type': 'application/cloudevents+json; charset=utf-8',
        'content-length': Buffer.byteLength(body),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      lookup: guardedLookup(policy) as never,
      ...(target.protocol === 'https:' && policy.ca ? { ca: policy.ca } : {}),
      agent: false,
    }, (res: IncomingMessage) => {
      const status = res.statusCode ?? 0;
      let read = 0;
      res.on('data', (chunk: Buffer) => {
        read += chunk.length;
        if (read > MAX_ANSWER) res.destroy();
      });
      res.on('error', () => undefined);
      res.on('close', () => done(status >= 200 && status < 300 ? undefined : status >= 300 && status < 400 ? 'redirect not followed' : `HTTP ${status}`));
    });
    const timer = setTimeout(() => {
      req.destroy();
      done('timed out');
    }, timeoutMs);
    req.on('error', (err: Error & { code?: string }) => {
      const code = err.code ?? '';
      if (code === 'CLINOPS_ADDRESS_REFUSED') done('address refused');
      else if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') done('name not resolved');
      else if (/CERT|SSL|TLS|SELF_SIGNED|HOSTNAME|ALTNAME/.test(code) || /certificate|TLS/i.test(err.message)) done('TLS failed');
      else done('connection failed');
    });
    req.end(body);
  });
}
