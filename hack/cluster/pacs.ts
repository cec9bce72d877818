// A real PACS for the tests and the demo: Debian's Orthanc with its DICOMweb plugin (hack/deps.sh
// installs it), its storage and index under a directory of the caller's, its HTTP and DICOM ports on
// free ports. Orthanc listens on every address: where we may (root), an iptables rule in INPUT drops
// what reaches its ports from anywhere but loopback and the pods' bridge, and is removed at stop.
// `forwardTo` names DICOMweb servers Orthanc knows (a model's STOW-RS URL, with its API key); a Lua
// callback forwards every instance a modality stores over DICOM (C-STORE) to each — the routing a
// hospital sets up — and nothing the DICOMweb side stores (the results), so no loop.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './controlplane.js';
import { until } from './wait.js';

const run = promisify(execFile);

export interface Pacs {
  /** Orthanc's REST API and DICOMweb root (…/dicom-web), on loopback. */
  http: string;
  dicomweb: string;
  dicomPort: number;
  aet: string;
  /** HTTP Basic credentials of the DICOMweb side (what a model's destination Secret holds). */
  user: { username: string; password: string };
  /** GET Orthanc's REST API (JSON), authenticated. */
  get(path: string): Promise<unknown>;
  post(path: string, body: unknown): Promise<unknown>;
  /** Tell Orthanc of a DICOMweb server (a model's STOW-RS base URL, and the headers it needs: its API key). */
  defineServer(name: string, url: string, headers?: Record<string, string>): Promise<void>;
  stop(): Promise<void>;
  /** Stop Orthanc and start it again on the same ports and storage (a PACS down for a while). */
  pause(): Promise<void>;
  resume(): Promise<void>;
}

export interface PacsOptions {
  dir: string;
  /** DICOMweb servers (by name) the Lua callback forwards to; define each with `defineServer`. */
  forwardTo?: string[];
  /** Also accept HTTP from the pods' bridge (the results of models in pods). */
  podBridge?: string;
}

export async function startPacs(o: PacsOptions): Promise<Pacs> {
  const [httpPort, dicomPort] = [await freePort(), await freePort()];
  const user = { username: 'clinops', password: `pw-${Math.random().toString(36).slice(2)}` };
  mkdirSync(join(o.dir, 'storage'), { recursive: true });
  const lua = join(o.dir, 'route.lua');
  writeFileSync(lua, `-- Forward what modalities store (DICOM C-STORE) to the model(s) by DICOMweb STOW-RS.
function OnStoredInstance(instanceId, tags, metadata, origin)
  if origin['RequestOrigin'] ~= 'DicomProtocol' then return end
${(o.forwardTo ?? []).map((name) => `  RestApiPost('/dicom-web/servers/${name}/stow', '{"Resources": ["' .. instanceId .. '"], "Synchronous": false}')`).join('\n')}
end
`);
  const config = {
    Name: 'clinops-test-pacs', StorageDirectory: join(o.dir, 'storage'), IndexDirectory: join(o.dir, 'storage'),
    HttpPort: httpPort, DicomPort: dicomPort, DicomAet: 'CLINOPSPACS', DicomCheckCalledAet: false,
    RemoteAccessAllowed: o.podBridge !== undefined, AuthenticationEnabled: true, RegisteredUsers: { [user.username]: user.password },
    OverwriteInstances: true, StableAge: 2, ConcurrentJobs: 2, HttpTimeout: 30,
    Plugins: ['/usr/share/orthanc/plugins/libOrthancDicomWeb.so'], LuaScripts: [lua],
    DicomWeb: {
      Enable: true, Root: '/dicom-web/', EnableWado: true,
    },
  };
  const configFile = join(o.dir, 'orthanc.json');
  writeFileSync(configFile, JSON.stringify(config, null, 2));
  const guarded = process.getuid?.() === 0;
  const rule = (port: number) => ['INPUT', '-p', 'tcp', '--dport', String(port), '!', '-i', 'lo', '-j', 'DROP'];
  const rules = [httpPort, dicomPort].map(rule);
  if (o.podBridge) rules.unshift(['INPUT', '-p', 'tcp', '--dport', String(httpPort), '-i', o.podBridge, '-j', 'ACCEPT']);
  if (guarded) for (const r of [...rules].reverse()) await run('iptables', ['-w', '-I', ...r]);
  const http = `http://127.0.0.1:${httpPort}`;
  const auth = `Basic ${Buffer.from(`${user.username}:${user.password}`).toString('base64')}`;
  let proc: ChildProcess | undefined;
  const start = async () => {
    proc = spawn('Orthanc', [configFile], { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    proc.stderr!.on('data', (c: Buffer) => {
      log = (log + c.toString()).slice(-4000);
    });
    await until('Orthanc to answer', async () => {
      if (proc!.exitCode !== null) throw new Error(`Orthanc exited (${proc!.exitCode}): ${log}`);
      return fetch(`${http}/system`, { headers: { authorization: auth } }).then((r) => r.ok, () => false);
    }, 30_000);
  };
  const halt = async () => {
    if (!proc || proc.exitCode !== null) return;
    const exited = new Promise((r) => proc!.once('exit', r));
    proc.kill('SIGTERM');
    await exited;
  };
  await start();
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${http}${path}`, { method, headers: { authorization: auth, accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    if (!res.ok) throw new Error(`Orthanc ${method} ${path}: HTTP ${res.status} ${(await res.text()).slice(0, 300)}`);
    const text = await res.text();
    return text ? JSON.parse(text) as unknown : undefined;
  };
  return {
    http, dicomweb: `${http}/dicom-web`, dicomPort, aet: 'CLINOPSPACS', user,
    get: (path) => call('GET', path),
    post: (path, body) => call('POST', path, body),
    defineServer: async (name, url, headers) => {
      await call('PUT', `/dicom-web/servers/${name}`, { Url: url, ...(headers ? { HttpHeaders: headers } : {}) });
    },
    pause: halt,
    resume: start,
    stop: async () => {
      await halt();
      if (guarded) for (const r of rules) await run('iptables', ['-w', '-D', ...r]).catch(() => undefined);
    },
  };
}

/** Store files into the PACS as a modality does: dcmtk's storescu, DICOM C-STORE. */
export async function storescu(pacs: Pacs, files: string[]): Promise<void> {
  await run('storescu', ['-aec', pacs.aet, '-aet', 'MODALITY', '127.0.0.1', String(pacs.dicomPort), ...files]);
}
