// The sepsis drift story's data, shared by the drift e2e, the in-pod suite, the demo and the sample: the
// sample's model (logisticWeights: it meets the protocol's acceptance thresholds on labels drawn from its
// own probabilities), its top-class confidences on 2,000 holdout patients as the reference, labelled
// holdouts, and 400 patients each of traffic
// like the holdout (no drift), moderately shifted (features × 1.45: PSI between 0.1 and 0.2), strongly
// shifted (× 2: PSI above 0.2), and with one lab value moved (lactate, as after an assay change: the
// demo's per-feature step). drift-e2e checks these properties with the statistics.
import { logisticWeights, mlpForward, mlpInputs, rng } from './generate.js';

export const sepsisWeights = logisticWeights();

/** The top-class confidence the sepsis model gives each instance. */
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

export const sepsisTraffic = { clean: mlpInputs(203, 400), moderate: mlpInputs(303, 400, 1.45), strong: mlpInputs(404, 400, 2), lactate: lactateAssay() };

/**
 * n labelled patients (seeded): inputs like the holdout's, each diagnosis drawn from the model's own
 * probability of sepsis, so the model is calibrated on them by construction (clinops accept keeps no
 * isotonic map: it would not lower the error out of sample).
 */
export function sepsisHoldout(seed: number, n: number): { instances: number[][]; labels: string[] } {
  const instances = mlpInputs(seed, n);
  const r = rng(seed * 7 + 1);
  return { instances, labels: instances.map((x) => (r() < mlpForward(sepsisWeights, x)[1]! ? 'Sepsis' : 'No sepsis')) };
}
