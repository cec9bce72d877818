// The sepsis drift story's data, shared by the drift e2e, the in-pod suite and the demo: the MLP's
// top-class confidences on 2,000 holdout patients as the reference, and 400 patients each of traffic
// like the holdout (no drift), moderately shifted (features × 1.45: PSI between 0.1 and 0.2), strongly
// shifted (× 2: PSI above 0.2), and with one lab value moved (lactate, as after an assay change: the
// demo's per-feature step). drift-e2e checks these properties with the statistics.
import { mlpForward, mlpInputs, mlpWeights, rng } from './generate.js';

export const sepsisWeights = mlpWeights();

/** The top-class confidence the sepsis MLP gives each instance. */
export function sepsisConfidences(xs: number[][]): number[] {
  return xs.map((x) => Math.max(...mlpForward(sepsisWeights, x)));
}

export const sepsisReference = sepsisConfidences(mlpInputs(101, 2000));

/** The sample's input columns, in order (samples/sepsis-early-warning.yaml spec.monitoring.features). */
export const SEPSIS_FEATURES = ['heart_rate', 'resp_rate', 'temperature', 'map', 'lactate', 'wbc', 'creatinine', 'spo2'];

/** 400 patients like the holdout but for lactate, read higher by a new assay: a quarter of those below the median now above it. */
function lactateAssay(): number[][] {
  const r = rng(606);
  const lactate = SEPSIS_FEATURES.indexOf('lactate');
  return mlpInputs(505, 400).map((x) => x.map((v, f) => (f === lactate && v < 0 && r() < 0.25 ? -v : v)));
}

export const sepsisTraffic = { clean: mlpInputs(202, 400), moderate: mlpInputs(303, 400, 1.45), strong: mlpInputs(404, 400, 2), lactate: lactateAssay() };
