// Times as Kubernetes writes them in status and Events: RFC 3339 in UTC, to the second.

export function rfc3339(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');
}
