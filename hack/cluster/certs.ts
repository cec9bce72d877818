// Certificates and keys for a throwaway control plane: a CA, the API server's serving certificate,
// an admin client certificate (group system:masters) and the service-account signing key pair.
// openssl makes the X.509 parts (Node's crypto cannot issue certificates); keys are EC P-256.
import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface ClusterPki {
  caCert: string;
  caKey: string;
  serverCert: string;
  serverKey: string;
  adminCert: string;
  adminKey: string;
  frontProxyCert: string;
  frontProxyKey: string;
  saPublicKey: string;
  saPrivateKey: string;
}

async function openssl(dir: string, ...args: string[]): Promise<void> {
  try {
    await run('openssl', args, { cwd: dir });
  } catch (err) {
    const e = err as { code?: string; stderr?: string };
    if (e.code === 'ENOENT') throw new Error('openssl is not installed: run `make deps` (or apt-get install openssl)');
    throw new Error(`openssl ${args[0]} failed: ${e.stderr ?? String(err)}`);
  }
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

async function issue(dir: string, name: string, subject: string, extensions: string): Promise<void> {
  await writeFile(join(dir, `${name}.ext`), extensions);
  await openssl(dir, 'req', ...EC, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject);
  await openssl(dir, 'x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial',
    '-out', `${name}.crt`, '-days', '30', '-extfile', `${name}.ext`);
}

/** A client certificate signed by the cluster CA: `subject` as openssl writes it (/O=group/CN=user). */
export async function clientCert(dir: string, name: string, subject: string): Promise<{ cert: string; key: string }> {
  await issue(dir, name, subject, 'extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n');
  return { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) };
}

/** A serving certificate signed by the cluster CA for the given IP addresses (and DNS names). */
export async function servingCert(dir: string, name: string, ips: string[], dnsNames: string[] = []): Promise<{ cert: string; key: string }> {
  await issue(dir, name, `/CN=${name}`, `subjectAltName=${[...ips.map((ip) => `IP:${ip}`), ...dnsNames.map((d) => `DNS:${d}`)].join(',')}\n` +
    'extendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n');
  return { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) };
}

/** `extraIps`: more addresses the API server answers on (the real node's address, where pods reach it). */
export async function createPki(dir: string, extraIps: string[] = []): Promise<ClusterPki> {
  await openssl(dir, 'req', '-x509', ...EC, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '30',
    '-subj', '/CN=clinops-local-ca', '-addext', 'basicConstraints=critical,CA:TRUE',
    '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  // One after the other: both update the CA's serial file.
  await issue(dir, 'apiserver', '/CN=kube-apiserver',
      `subjectAltName=IP:127.0.0.1,IP:10.96.0.1,${extraIps.map((ip) => `IP:${ip},`).join('')}DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc\n` +
        'extendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n');
  await clientCert(dir, 'admin', '/O=system:masters/CN=clinops-admin');
  // What the API server presents to the servers it aggregates (a custom metrics API): they trust the
  // X-Remote-User headers of a client with this name and a certificate of this CA.
  await clientCert(dir, 'front-proxy-client', '/CN=front-proxy-client');
  const sa = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  await writeFile(join(dir, 'sa.key'), sa.privateKey.export({ type: 'pkcs8', format: 'pem' }));
  await writeFile(join(dir, 'sa.pub'), sa.publicKey.export({ type: 'spki', format: 'pem' }));
  return {
    caCert: join(dir, 'ca.crt'),
    caKey: join(dir, 'ca.key'),
    serverCert: join(dir, 'apiserver.crt'),
    serverKey: join(dir, 'apiserver.key'),
    adminCert: join(dir, 'admin.crt'),
    adminKey: join(dir, 'admin.key'),
    frontProxyCert: join(dir, 'front-proxy-client.crt'),
    frontProxyKey: join(dir, 'front-proxy-client.key'),
    saPublicKey: join(dir, 'sa.pub'),
    saPrivateKey: join(dir, 'sa.key'),
  };
}
