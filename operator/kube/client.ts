// A thin JSON client for the Kubernetes REST API. Authentication and TLS come from
// @kubernetes/client-node's KubeConfig (kubeconfig files, in-cluster service-account tokens, exec
// plugins); requests are plain JSON so what we send is exactly what we built, with no model
// serializer reshaping it on the way.
import { createHash } from 'node:crypto';
import type { RequestOptions as HttpsRequestOptions } from 'node:https';
import { HttpMethod, KubeConfig } from '@kubernetes/client-node';
import { Agent, fetch } from 'undici';

export interface ResourceRef {
  group: string; // '' for the core group
  version: string;
  plural: string;
  namespace?: string;
  name?: string;
  subresource?: string;
}

/** Path of a resource or collection, e.g. /apis/apps/v1/namespaces/ns/deployments/name. */
export function resourcePath(ref: ResourceRef): string {
  const base = ref.group === '' ? `/api/${ref.version}` : `/apis/${ref.group}/${ref.version}`;
  const ns = ref.namespace ? `/namespaces/${encodeURIComponent(ref.namespace)}` : '';
  const name = ref.name ? `/${encodeURIComponent(ref.name)}` : '';
  const sub = ref.subresource ? `/${ref.subresource}` : '';
  return `${base}${ns}/${ref.plural}${name}${sub}`;
}

/** A non-2xx answer from the API server, carrying its Status reason and message. */
export class ApiError extends Error {
  constructor(
    readonly method: string,
    readonly path: string,
    readonly statusCode: number,
    readonly reason: string,
    message: string,
  ) {
    super(`${method} ${path}: ${statusCode} ${reason}: ${message}`);
    this.name = 'ApiError';
  }
}

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  contentType?: string;
  accept?: string;
  /** Give up after this long (default: the client's; lists get longer). */
  timeoutMs?: number;
}

/**
 * Every call gives up after this long: shorter than the leader lease's renew deadline (10 s), so a
 * stalled connection never keeps a leader believing it leads past its lease.
 */
export const REQUEST_TIMEOUT_MS = 5000;
/** A list (an informer's first read of every object) may take longer; it is not on the lease's path. */
export const LIST_TIMEOUT_MS = 60_000;

export interface ListResult<T> {
  apiVersion?: string;
  kind?: string;
  metadata: { resourceVersion?: string; continue?: string };
  items: T[];
}

/** A write refused before it was sent: this replica no longer leads. */
export class NotLeaderError extends Error {
  constructor(method: string, path: string) {
    super(`not sent: ${method} ${path.split('?')[0]} while not leading (the leader lease was lost or not renewed within its deadline)`);
    this.name = 'NotLeaderError';
  }
}

export class KubeClient {
  private agent: Agent | undefined;
  private agentKey = '';

  constructor(
    readonly config: KubeConfig,
    private readonly userAgent = 'clinops-operator',
    private readonly timeoutMs = REQUEST_TIMEOUT_MS,
    /**
     * Asked before every write (create, update, patch, delete): false refuses it here, unsent. The
     * operator's fence is its leadership, so a pass that outlived its leader's deadline (a call that
     * stalled, then returned) writes nothing.
     */
    private readonly mayWrite: () => boolean = () => true,
  ) {}

  /**
   * One keep-alive connection pool for every request. (client-node 2.x builds a fresh dispatcher, so
   * a fresh TLS handshake, per request; with that, TLS set-up was most of the operator's CPU time.)
   * Credentials are read each time, so rotated tokens and certificates are picked up; the pool is
   * replaced only when the TLS material changes.
   */
  private async transport(): Promise<{ agent: Agent; headers: Record<string, string> }> {
    const opts: HttpsRequestOptions = {};
    await this.config.applyToHTTPSOptions(opts);
    const tls = { ca: opts.ca, cert: opts.cert, key: opts.key, rejectUnauthorized: opts.rejectUnauthorized, servername: opts.servername };
    const key = createHash('sha256').update(JSON.stringify(tls)).digest('hex');
    if (!this.agent || key !== this.agentKey) {
      void this.agent?.close();
      this.agent = new Agent({ connect: tls as never, keepAliveTimeout: 30_000 });
      this.agentKey = key;
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(opts.headers ?? {})) {
      if (v !== undefined) headers[k.toLowerCase()] = String(v);
    }
    if (opts.auth) headers.authorization = `Basic ${Buffer.from(opts.auth).toString('base64')}`;
    return { agent: this.agent, headers };
  }

  async request<T>(method: HttpMethod, path: string, opts: RequestOptions = {}): Promise<T> {
    if (method !== HttpMethod.GET && !this.mayWrite()) throw new NotLeaderError(method, path);
    const cluster = this.config.getCurrentCluster();
    if (!cluster) throw new Error('kubeconfig has no current cluster: set a current-context');
    const url = new URL(cluster.server.replace(/\/$/, '') + path);
    for (const [k, v] of Object.entries(opts.query ?? {})) {
      if (v !== undefined) url.searchParams.set(k, String(v));
    }
    const { agent, headers: auth } = await this.transport();
    const headers: Record<string, string> = { ...auth, accept: opts.accept ?? 'application/json', 'user-agent': this.userAgent };
    let body: string | undefined;
    if (opts.body !== undefined) {
      body = JSON.stringify(opts.body);
      headers['content-type'] = opts.contentType ?? 'application/json';
    }
    const res = await fetch(url, { method, headers, body, dispatcher: agent, signal: AbortSignal.timeout(opts.timeoutMs ?? this.timeoutMs) });
    const text = await res.text();
    if (res.status < 200 || res.status >= 300) {
      let reason = res.statusText;
      let message = text.slice(0, 2000);
      try {
        const status = JSON.parse(text) as { reason?: string; message?: string };
        reason = status.reason ?? reason;
        message = status.message ?? message;
      } catch {
        // not a Status object; keep the raw text
      }
      throw new ApiError(method, url.pathname, res.status, reason, message);
    }
    return (text ? JSON.parse(text) : undefined) as T;
  }

  /**
   * GET one object; undefined when it does not exist. `fromCache` reads the API server's watch cache
   * (resourceVersion=0) instead of a quorum read through etcd: as fresh as the server's watch, and far
   * cheaper for it.
   */
  async get<T>(ref: ResourceRef, opts: { fromCache?: boolean } = {}): Promise<T | undefined> {
    try {
      return await this.request<T>(HttpMethod.GET, resourcePath(ref), opts.fromCache ? { query: { resourceVersion: '0' } } : {});
    } catch (err) {
      if (err instanceof ApiError && err.statusCode === 404) return undefined;
      throw err;
    }
  }

  /**
   * GET one object's metadata alone (PartialObjectMetadata): its labels and owners are judged before its
   * contents — a Secret's data — are ever read. Undefined when it does not exist.
   */
  async getMetadata(ref: ResourceRef): Promise<{ metadata?: { uid?: string; labels?: Record<string, string>; ownerReferences?: Array<{ uid: string; controller?: boolean }> } } | undefined> {
    try {
      return await this.request(HttpMethod.GET, resourcePath(ref), { accept: 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1' });
    } catch (err) {
      if (err instanceof ApiError && err.statusCode === 404) return undefined;
      throw err;
    }
  }

  list<T>(ref: ResourceRef, query: RequestOptions['query'] = {}): Promise<ListResult<T>> {
    return this.request<ListResult<T>>(HttpMethod.GET, resourcePath(ref), { query, timeoutMs: LIST_TIMEOUT_MS });
  }

  /** POST to the collection; a name in ref is ignored (it comes from the body). */
  create<T>(ref: ResourceRef, body: unknown): Promise<T> {
    return this.request<T>(HttpMethod.POST, resourcePath({ ...ref, name: undefined }), { body });
  }

  update<T>(ref: ResourceRef, body: unknown): Promise<T> {
    return this.request<T>(HttpMethod.PUT, resourcePath(ref), { body });
  }

  /** Server-side apply: the object is the complete intent of fieldManager; force takes fields back. */
  apply<T>(ref: ResourceRef, body: unknown, fieldManager: string, force = true): Promise<T> {
    return this.request<T>(HttpMethod.PATCH, resourcePath(ref), {
      query: { fieldManager, force },
      body,
      contentType: 'application/apply-patch+yaml',
    });
  }

  /**
   * JSON merge patch (RFC 7386): the fields given replace those on the server, null removes one. A
   * metadata.resourceVersion in the patch makes it conditional (409 when the object moved on).
   */
  mergePatch<T>(ref: ResourceRef, patch: unknown, fieldManager: string): Promise<T> {
    return this.request<T>(HttpMethod.PATCH, resourcePath(ref), { query: { fieldManager }, body: patch, contentType: 'application/merge-patch+json' });
  }

  /** DELETE one object (its dependents in the background); false when it was already gone. */
  async delete(ref: ResourceRef): Promise<boolean> {
    try {
      await this.request(HttpMethod.DELETE, resourcePath(ref), { query: { propagationPolicy: 'Background' } });
      return true;
    } catch (err) {
      if (err instanceof ApiError && err.statusCode === 404) return false;
      throw err;
    }
  }

  /** Close pooled connections (on shutdown). */
  async close(): Promise<void> {
    await this.agent?.close();
    this.agent = undefined;
  }
}
