// `clinops report`: the model and its history record read from the cluster with your kubeconfig, then the
// report as HTML or JSON. The history is believed only from the operator's own record (its label); a
// ConfigMap of that name someone else made is said, not read.
import { writeFile } from 'node:fs/promises';
import { GROUP, PLURAL, VERSION, type ClinicalModel } from '../operator/api/types.js';
import { isOperatorRecord, type RecordMeta } from '../operator/desired/records.js';
import { decodeHistory, HISTORY_KEY, historyName } from '../operator/governance/history.js';
import { KubeClient } from '../operator/kube/client.js';
import { loadKubeConfig } from '../operator/operator.js';
import { parseDuration } from '../operator/util/duration.js';
import { reportData, type ReportData } from '../operator/governance/report/data.js';
import { reportHtml } from '../operator/governance/report/html.js';

export interface ReportOptions {
  model: string;
  namespace: string;
  since: string;
  out?: string;
  json?: boolean;
  kubeconfig?: string;
}

export async function loadReport(o: ReportOptions, now = Date.now()): Promise<ReportData> {
  const since = now - parseDuration(o.since);
  const client = new KubeClient(loadKubeConfig(o.kubeconfig), 'clinops-report');
  try {
    const cr = await client.get<ClinicalModel>({ group: GROUP, version: VERSION, plural: PLURAL, namespace: o.namespace, name: o.model });
    if (!cr) throw new Error(`ClinicalModel ${o.namespace}/${o.model} not found`);
    const ref = { group: '', version: 'v1', plural: 'configmaps', namespace: o.namespace, name: historyName(o.model) };
    const cm = await client.get<RecordMeta & { binaryData?: Record<string, string> }>(ref);
    let history: { entries: ReturnType<typeof decodeHistory>['entries']; note?: string };
    if (!cm) history = { entries: [], note: `No history record yet (ConfigMap ${ref.name}): it grows with each judged check.` };
    else if (!isOperatorRecord(cm, 'history', cr.metadata.uid)) history = { entries: [], note: `ConfigMap ${ref.name} was not made by clinops for this model: not read.` };
    else {
      const stored = cm.binaryData?.[HISTORY_KEY];
      const d = stored ? decodeHistory(Buffer.from(stored, 'base64')) : { entries: [] };
      history = { entries: d.entries, ...('problem' in d && d.problem ? { note: d.problem } : {}) };
    }
    return reportData(cr, history, since, now);
  } finally {
    await client.close();
  }
}

/** Write the report where asked (stdout without --out); says where on stderr. */
export async function writeReport(o: ReportOptions): Promise<void> {
  const data = await loadReport(o);
  const text = o.json ? JSON.stringify(data, null, 2) + '\n' : await reportHtml(data);
  if (!o.out) {
    process.stdout.write(text);
    return;
  }
  await writeFile(o.out, text);
  process.stderr.write(`clinops report: ${data.checks.length} checks of ${o.namespace}/${o.model} since ${data.since} written to ${o.out}\n`);
}
