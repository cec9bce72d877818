#!/usr/bin/env node
// The `clinops` command: one binary, several processes (the operator, model fetching; the inference
// server and the drift tools join it as they land).
import { Command, InvalidArgumentError } from 'commander';
// Each command loads its own modules when it runs, so the operator never loads onnxruntime or sharp.
import { readFile, writeFile } from 'node:fs/promises';
import { addOptions } from '../contract/settings.js';
import { loadServerConfig, ServerConfigError, serverSettings } from '../inference-server/config.js';
import { operatorSettings } from '../operator/config.js';
import { usableCpus } from '../inference-server/runtime/cpu-limit.js';
import { MODEL_FETCH_MAX_BYTES, MODEL_FETCH_TIMEOUT_MS } from '../contract/model-fetch.js';

const program = new Command()
  .name('clinops')
  .description('Kubernetes operator and tools for clinical ONNX models')
  .version('0.1.0')
  // A usage error (unknown option, bad value) exits 2, as the commands' own errors do.
  .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2));

/**
 * A command's work, its failure said once in the CLI's way: `clinops COMMAND: why` on stderr and the
 * command's error exit code (its other codes are set by the work itself).
 */
async function reporting(command: string, code: number, work: () => Promise<void>): Promise<void> {
  try {
    await work();
  } catch (err) {
    process.stderr.write(`clinops ${command}: ${(err as Error).message}\n`);
    process.exitCode = code;
  }
}

addOptions(program
  .command('operator')
  .description('run the ClinicalModel operator against the current kubeconfig or in-cluster config'), operatorSettings())
  .action(async (opts) => {
    // commander sets leaderElect=true by default for --no-leader-elect; only an explicit flag counts.
    const explicit = process.argv.includes('--no-leader-elect') ? { leaderElect: false } : { leaderElect: undefined };
    const { runOperator } = await import('../operator/main.js');
    await runOperator({ ...opts, ...explicit }, process.env);
  });

program
  .command('fetch-model')
  .description('download a model over https or from S3-compatible storage and verify its sha256 before writing it (init container)')
  .requiredOption('--url <url>', 'https URL of the ONNX file, or s3://BUCKET/KEY')
  .requiredOption('--sha256 <hex>', 'expected SHA-256 of the file')
  .requiredOption('--out <path>', 'where to write the verified file')
  .option('--max-bytes <n>', 'refuse a larger file (default 4 GiB)', String(MODEL_FETCH_MAX_BYTES))
  .option('--timeout <ms>', 'give up after this long (default 10 minutes)', String(MODEL_FETCH_TIMEOUT_MS))
  .option('--credentials <dir>', 'for s3://: a folder (a mounted Secret) with accessKeyId, secretAccessKey and optionally sessionToken, endpoint, region, ca.crt')
  .action(async (opts: { url: string; sha256: string; out: string; maxBytes: string; timeout: string; credentials?: string }) => {
    const { fetchModel } = await import('./fetch-model.js');
    await reporting('fetch-model', 1, async () => {
      const limits = { maxBytes: Number(opts.maxBytes), timeoutMs: Number(opts.timeout) };
      if (!(limits.maxBytes > 0) || !(limits.timeoutMs > 0)) throw new Error('--max-bytes and --timeout must be positive numbers');
      const bytes = await fetchModel(opts.url, opts.sha256, opts.out, fetch, limits, opts.credentials);
      process.stderr.write(JSON.stringify({ level: 'info', msg: 'model fetched and verified', bytes, out: opts.out }) + '\n');
    });
  });

addOptions(program
  .command('serve')
  .description('serve an ONNX model over HTTP (Open Inference Protocol v2 and /v1 REST)'), serverSettings(usableCpus()))
  .action(async (opts: Record<string, unknown>) => {
    const { startServer } = await import('../inference-server/main.js');
    let config;
    try {
      config = loadServerConfig(opts, process.env);
    } catch (err) {
      if (err instanceof ServerConfigError) {
        process.stderr.write(`clinops serve: ${err.message}\n`);
        process.exit(2);
      }
      throw err;
    }
    let server;
    try {
      server = await startServer(config);
    } catch (err) {
      process.stderr.write(`clinops serve: ${(err as Error).message}\n`);
      process.exit(1);
    }
    const stop = () => void server.shutdown().then(() => process.exit(0), () => process.exit(1));
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
    await server.loaded;
    if (config.exitOnLoadFailure && server.state.phase === 'failed') {
      const { writeFile } = await import('node:fs/promises');
      // Kubernetes shows this file's text as the container's termination message.
      // "Word: reason", the word stable for the operator to act on (DigestMismatch, ModelRejected, LoadFailed).
      const message = `${server.state.failure ?? 'LoadFailed'}: ${server.state.reason ?? 'the model could not be served'}`;
      await writeFile(config.terminationLog, message).catch(() => {});
      await server.shutdown().catch(() => {});
      process.exit(3);
    }
  });

const number = (name: string, min: number, max: number, integer = false) => (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
    throw new InvalidArgumentError(`${name} must be ${integer ? 'a whole number' : 'a number'} from ${min} to ${max}`);
  }
  return n;
};

program
  .command('drift')
  .description('compare a current sample with a reference: KS D and p-value, PSI, verdict (exit 0 no drift, 1 drift, 2 error, 3 too few samples)')
  .requiredOption('--reference <file>', 'reference values: a JSON array of numbers or one number per line')
  .requiredOption('--current <file>', 'current values, same formats')
  .option('--bins <n>', 'PSI bins at the reference quantiles', number('--bins', 2, 100, true), 10)
  .option('--min-samples <n>', 'fewer current values than this give InsufficientData', number('--min-samples', 1, 1e9, true), 200)
  .option('--moderate <psi>', 'PSI from here is moderate drift', number('--moderate', 0, 100), 0.1)
  .option('--significant <psi>', 'PSI above this is significant drift', number('--significant', 0, 100), 0.2)
  .option('--p-value <p>', 'a KS p-value below this is moderate drift (when D is at least --min-statistic)', number('--p-value', 0, 1), 0.05)
  .option('--min-statistic <d>', 'the smallest KS D that counts as drift: at large n a trivial shift is significant', number('--min-statistic', 0, 1), 0.1)
  .option('--json', 'print the result as JSON')
  .action(async (o: { reference: string; current: string; bins: number; minSamples: number; moderate: number; significant: number; pValue: number; minStatistic: number; json?: boolean }) => {
    const { driftReport, exitCodeOf, formatReport } = await import('./drift.js');
    await reporting('drift', 2, async () => {
      if (!(o.moderate < o.significant)) throw new Error('--moderate must be less than --significant');
      const r = await driftReport(o);
      process.stdout.write((o.json ? JSON.stringify(r) : formatReport(r)) + '\n');
      process.exitCode = exitCodeOf(r.verdict);
    });
  });

program
  .command('accept')
  .description('clinical acceptance of a model on a labelled holdout: AUROC, sensitivity, specificity, calibration (ECE) and Brier with 95% intervals, per subgroup too, against the protocol\'s thresholds (exit 0 pass, 1 fail, 2 error)')
  .requiredOption('--model <file>', 'the ONNX model')
  .requiredOption('--sha256 <hex>', 'the model\'s sha256: checked before it is run')
  .requiredOption('--holdout <file>', 'JSON {"instances": [...], "labels": [...], "subgroups": [...] (optional), "subgroup": "sex" (optional)}')
  .requiredOption('--labels <names>', 'the model\'s labels in output order: comma-separated, or a JSON array')
  .option('--positive <label>', 'the positive label (default: the last)')
  .option('--min-auroc <x>', 'AUROC must be at least this', number('--min-auroc', 0, 1), 0.85)
  .option('--min-sensitivity <x>', 'sensitivity (at the model\'s decision) must be at least this', number('--min-sensitivity', 0, 1), 0.9)
  .option('--min-specificity <x>', 'specificity must be at least this (default: not judged)', number('--min-specificity', 0, 1))
  .option('--max-ece <x>', 'expected calibration error must be below this', number('--max-ece', 0, 1), 0.05)
  .option('--ece-bins <n>', 'equal-width bins of the positive probability for ECE', number('--ece-bins', 2, 100, true), 10)
  .option('--subgroup-min-auroc <x>', 'each judged subgroup\'s AUROC must be at least this', number('--subgroup-min-auroc', 0, 1), 0.85)
  .option('--subgroup-min-sensitivity <x>', 'each judged subgroup\'s sensitivity must be at least this', number('--subgroup-min-sensitivity', 0, 1), 0.9)
  .option('--min-subgroup-size <n>', 'smaller subgroups are reported, not judged', number('--min-subgroup-size', 1, 1_000_000, true), 30)
  .option('--lower-bound', 'judge the 95% interval\'s bound (lower for a minimum, upper for a maximum), not the estimate: a small holdout cannot pass by luck')
  .option('--json', 'print the report as JSON')
  .option('--summary-file <path>', 'also write a summary of at most 4,096 bytes here (the operator\'s Job: /dev/termination-log)')
  .option('--calibration-out <file>', 'also write the positive label\'s calibration on the holdout, for estimating performance without labels (spec.monitoring.reference.calibrationKey); refused when the model is too badly calibrated for an estimate to mean anything')
  .action(async (o: { model: string; sha256: string; holdout: string; labels: string; positive?: string; minAuroc: number; minSensitivity: number; minSpecificity?: number;
    maxEce: number; eceBins: number; subgroupMinAuroc: number; subgroupMinSensitivity: number; minSubgroupSize: number; lowerBound?: boolean; json?: boolean; summaryFile?: string; calibrationOut?: string }) => {
    const { acceptModel, summary } = await import('./accept.js');
    const { formatReport } = await import('../operator/acceptance/report.js');
    await reporting('accept', 2, async () => {
      const labels = o.labels.trim().startsWith('[') ? JSON.parse(o.labels) as string[] : o.labels.split(',').map((x) => x.trim());
      if (labels.length < 2 || labels.some((x) => x === '') || new Set(labels).size !== labels.length) throw new Error('--labels needs two or more distinct, non-empty names');
      const r = await acceptModel({ model: o.model, sha256: o.sha256, holdout: o.holdout, labels, positive: o.positive }, {
        minAuroc: o.minAuroc, minSensitivity: o.minSensitivity, minSpecificity: o.minSpecificity, maxEce: o.maxEce, eceBins: o.eceBins,
        subgroupMinAuroc: o.subgroupMinAuroc, subgroupMinSensitivity: o.subgroupMinSensitivity, minSubgroupSize: o.minSubgroupSize, lowerBound: o.lowerBound === true,
      });
      const { calibration, ...report } = r;
      process.stdout.write(o.json ? JSON.stringify(report) + '\n' : formatReport(report));
      if (o.summaryFile) await writeFile(o.summaryFile, summary(report));
      if (o.calibrationOut) {
        const { calibrationRefusal } = await import('../operator/drift/reference-files.js');
        const refused = calibrationRefusal(calibration);
        if (refused) throw new Error(`--calibration-out: ${refused}`);
        await writeFile(o.calibrationOut, JSON.stringify(calibration) + '\n');
        process.stderr.write(`clinops accept: calibration (${calibration.method}, ECE ${calibration.ece.raw} as scored, ${calibration.ece.isotonic} isotonic, out of sample) written to ${o.calibrationOut}\n`);
      }
      process.exitCode = r.pass ? 0 : 1;
    });
  });

program
  .command('drift-features')
  .description('per-feature input drift from bin counts: each feature\'s PSI and KS, p-values adjusted by Benjamini–Hochberg, the verdict and the features that drove it (exit 0 no drift, 1 drift, 2 error)')
  .requiredOption('--reference <file>', 'the per-feature reference (clinops reference --features-out)')
  .requiredOption('--current <file>', 'current counts over the same bins: the body of GET /v1/monitoring/features')
  .option('--moderate <psi>', 'PSI from here is moderate drift', number('--moderate', 0, 100), 0.1)
  .option('--significant <psi>', 'PSI above this is significant drift', number('--significant', 0, 100), 0.2)
  .option('--p-value <p>', 'an adjusted KS p-value below this is moderate drift (when D is at least --min-statistic)', number('--p-value', 0, 1), 0.05)
  .option('--min-statistic <d>', 'the smallest KS D that counts as drift', number('--min-statistic', 0, 1), 0.1)
  .option('--json', 'print the result as JSON')
  .action(async (o: { reference: string; current: string; moderate: number; significant: number; pValue: number; minStatistic: number; json?: boolean }) => {
    const { featureDriftReport, formatFeatureReport } = await import('./drift.js');
    await reporting('drift-features', 2, async () => {
      if (!(o.moderate < o.significant)) throw new Error('--moderate must be less than --significant');
      const r = await featureDriftReport(o.reference, o.current,
        { psiModerate: o.moderate, psiSignificant: o.significant, ksPValue: o.pValue, ksMinStatistic: o.minStatistic });
      process.stdout.write((o.json ? JSON.stringify(r) : formatFeatureReport(r)) + '\n');
      process.exitCode = r.verdict === 'NoDrift' ? 0 : 1;
    });
  });

program
  .command('reference')
  .description('build a reference file (top-class confidences) from a model\'s predictions on a holdout set')
  .requiredOption('--model <file>', 'the ONNX model')
  .requiredOption('--holdout <file>', 'a JSON array of instances, each one input without the batch dimension')
  .option('--out <file>', 'where to write the JSON array (default: stdout)')
  .option('--features <names>', 'tabular models: the input columns\' names, comma-separated, in order; with --features-out')
  .option('--features-out <file>', 'where to write the per-feature reference (bin edges and counts) that clinops serve --feature-reference reads')
  .option('--image-summaries', 'image models: with --features-out, the reference of per-image summaries (image_mean, image_std, image_gradient, image_clipped) instead of input columns')
  .option('--bins <n>', 'bins per feature for --features-out', number('--bins', 2, 1001, true), 100)
  .option('--labels <names>', 'the model\'s labels, comma-separated, in output order; with --labels-out')
  .option('--labels-out <file>', 'where to write how often the model predicted each label on the holdout (the label-shift reference)')
  .action(async (o: { model: string; holdout: string; out?: string; features?: string; featuresOut?: string; imageSummaries?: boolean; bins: number; labels?: string; labelsOut?: string }) => {
    const { buildFeatureReference, buildImageSummaryReference, buildReference } = await import('./drift.js');
    const { labelReference } = await import('../contract/feature-reference.js');
    await reporting('reference', 2, async () => {
      if (o.imageSummaries && o.features !== undefined) throw new Error('--image-summaries names its own features: leave out --features');
      if (o.imageSummaries && o.featuresOut === undefined) throw new Error('--image-summaries needs --features-out');
      if (!o.imageSummaries && (o.features === undefined) !== (o.featuresOut === undefined)) throw new Error('--features and --features-out go together');
      if ((o.labels === undefined) !== (o.labelsOut === undefined)) throw new Error('--labels and --labels-out go together');
      const { n, predicted } = await buildReference(o.model, o.holdout, o.out);
      if (o.out) process.stderr.write(`clinops reference: ${n} confidences written to ${o.out}\n`);
      if (o.labels && o.labelsOut) {
        const counts = labelReference(o.labels.split(',').map((x) => x.trim()), predicted);
        await writeFile(o.labelsOut, JSON.stringify(counts) + '\n');
        process.stderr.write(`clinops reference: label counts written to ${o.labelsOut}\n`);
      }
      if (o.imageSummaries && o.featuresOut) {
        await buildImageSummaryReference(o.holdout, o.bins, o.featuresOut);
        process.stderr.write(`clinops reference: per-image summaries' reference written to ${o.featuresOut}\n`);
      }
      if (o.features && o.featuresOut) {
        const names = o.features.split(',').map((x) => x.trim());
        if (names.some((x) => x === '') || new Set(names).size !== names.length) throw new Error('--features needs distinct, non-empty names');
        await buildFeatureReference(o.holdout, names, o.bins, o.featuresOut);
        process.stderr.write(`clinops reference: ${names.length} features' reference written to ${o.featuresOut}\n`);
      }
    });
  });

program
  .command('report')
  .description('a report on a model for its clinical team: drift per signal over time, estimated and realized performance per subgroup, the escalation timeline with incidents, acceptance and go/no-go history with signers, decisions, the model card — one self-contained HTML file (prints to PDF), or JSON')
  .requiredOption('--model <name>', 'the ClinicalModel')
  .option('-n, --namespace <namespace>', 'its namespace', 'default')
  .option('--since <duration>', 'how far back, such as 30d or 12h', '30d')
  .option('--out <file>', 'where to write it (default: stdout)')
  .option('--json', 'the report as JSON instead of HTML')
  .option('--kubeconfig <file>', 'the kubeconfig (default: KUBECONFIG, then ~/.kube/config, then in-cluster)')
  .action(async (o: { model: string; namespace: string; since: string; out?: string; json?: boolean; kubeconfig?: string }) => {
    const { writeReport } = await import('./report.js');
    await reporting('report', 2, () => writeReport(o));
  });

const audit = program.command('audit').description('audit log tools');
audit
  .command('verify <file>')
  .description('check the hash chain of an audit file; exit 1 naming the first broken record')
  .action(async (file: string) => {
    const { verifyChain } = await import('../inference-server/audit/audit-log.js');
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      process.stderr.write(`clinops audit verify: cannot read ${file}: ${(err as Error).message}\n`);
      process.exit(2);
    }
    const r = verifyChain(text);
    if (r.ok) {
      process.stdout.write(`${file}: ${r.records} records, chain intact\n`);
    } else {
      process.stdout.write(`${file}: record ${r.brokenAt} ${r.reason}; the ${r.records} records before it are intact\n`);
      process.exit(1);
    }
  });

await program.parseAsync(process.argv);
