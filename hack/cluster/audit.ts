// Reads the API server's audit log (see AUDIT_POLICY in controlplane.ts): every write the operator's
// ServiceAccount made, so tests and benchmarks count real requests rather than trusting our own metrics.
import { readFileSync } from 'node:fs';

export interface AuditWrite {
  verb: string;
  user: string;
  resource: string;
  subresource?: string;
  namespace?: string;
  name?: string;
  code?: number;
  /** Who sent it (the operator names its replica: clinops-operator/IDENTITY), and when the API server read it (ms). */
  userAgent?: string;
  receivedAt?: number;
}

interface AuditEvent {
  verb: string;
  userAgent?: string;
  requestReceivedTimestamp?: string;
  responseObject?: { kind?: string };
  user: { username: string };
  objectRef?: { resource?: string; subresource?: string; namespace?: string; name?: string };
  responseStatus?: { code?: number };
}

export class AuditLog {
  private offset = 0;

  constructor(private readonly path: string) {}

  /** Forget everything written so far; later reads return only newer writes. */
  mark(): void {
    this.offset = this.size();
  }

  /** Writes since the last mark, optionally only by one user. */
  writes(user?: string): AuditWrite[] {
    const out: AuditWrite[] = [];
    for (const e of this.events()) {
      if (e.verb === 'get' || (user && e.user.username !== user)) continue;
      out.push({
        verb: e.verb,
        user: e.user.username,
        resource: e.objectRef?.resource ?? '',
        subresource: e.objectRef?.subresource,
        namespace: e.objectRef?.namespace,
        name: e.objectRef?.name,
        code: e.responseStatus?.code,
        userAgent: e.userAgent,
        receivedAt: e.requestReceivedTimestamp ? Date.parse(e.requestReceivedTimestamp) : undefined,
      });
    }
    return out;
  }

  /** Reads (get, list) since the last mark by one user, as "verb resource[/subresource]". */
  reads(user: string): string[] {
    return this.events().filter((e) => (e.verb === 'get' || e.verb === 'list') && e.user.username === user)
      .map((e) => `${e.verb} ${e.objectRef?.resource ?? ''}${e.objectRef?.subresource ? `/${e.objectRef.subresource}` : ''}`);
  }

  /** The operator's GETs of a Secret since the last mark: what kind of object each was answered (Secret, or PartialObjectMetadata). */
  secretReads(namespace: string, name: string): string[] {
    return this.events().filter((e) => e.verb === 'get' && e.objectRef?.resource === 'secrets' && e.objectRef.namespace === namespace && e.objectRef.name === name)
      .map((e) => e.responseObject?.kind ?? `HTTP ${e.responseStatus?.code}`);
  }

  private events(): AuditEvent[] {
    const text = readFileSync(this.path).subarray(this.offset).toString('utf8');
    return text.split('\n').filter((line) => line).map((line) => JSON.parse(line) as AuditEvent);
  }

  private size(): number {
    try {
      return readFileSync(this.path).length;
    } catch {
      return 0;
    }
  }
}
