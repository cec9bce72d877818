// Parsing of spec.model.uri. The CRD's schema already rejects other schemes; this is the one place
// that turns an accepted URI into where the server finds the file: a claim it mounts, or a URL
// (https://, s3://BUCKET/KEY) an init container fetches and verifies.

export type ModelSource =
  | { kind: 'pvc'; claim: string; path: string }
  | { kind: 'https'; url: string }
  /** An object in S3-compatible storage, fetched with the credentials of spec.model.credentialsSecretRef. */
  | { kind: 's3'; url: string; bucket: string; key: string };

export class ModelUriError extends Error {
  constructor(uri: string, why: string) {
    super(`spec.model.uri "${uri}" ${why}`);
    this.name = 'ModelUriError';
  }
}

export function parseModelUri(uri: string): ModelSource {
  const pvc = /^pvc:\/\/([a-z0-9]([-a-z0-9]*[a-z0-9])?)\/(.+)$/.exec(uri);
  if (pvc) {
    const path = pvc[3]!;
    if (path.split('/').some((seg) => seg === '..' || seg === '')) {
      throw new ModelUriError(uri, 'has an empty or ".." path segment');
    }
    return { kind: 'pvc', claim: pvc[1]!, path };
  }
  if (uri.startsWith('https://')) {
    let url: URL;
    try {
      url = new URL(uri);
    } catch {
      throw new ModelUriError(uri, 'is not a valid https URL');
    }
    if (url.pathname === '/' || url.pathname === '') throw new ModelUriError(uri, 'names no file');
    return { kind: 'https', url: url.toString() };
  }
  const s3 = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])\/(.+)$/.exec(uri);
  if (s3) {
    const key = s3[2]!;
    if (key.split('/').some((seg) => seg === '..' || seg === '.')) throw new ModelUriError(uri, 'has a "." or ".." key segment');
    return { kind: 's3', url: uri, bucket: s3[1]!, key };
  }
  throw new ModelUriError(uri, 'must start with pvc://, https:// or s3://');
}
