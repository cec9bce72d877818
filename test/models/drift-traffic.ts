// The sepsis drift story's data, shared by the drift e2e, the in-pod suite and the demo: the MLP's
// top-class confidences on 2,000 holdout patients as the reference, and 400 patients each of traffic
// like the holdout (no drift), moderately shifted (features × 1.45: PSI between 0.1 and 0.2) and
// strongly shifted (× 2: PSI above 0.2). drift-e2e checks these properties with the statistics.
import { mlpForward, mlpInputs, mlpWeights } from './generate.js';

export const sepsisWeights = mlpWeights();

/** The top-class confidence the sepsis MLP gives each instance. */
export function sepsisConfidences(xs: number[][]): number[] {
  return xs.map((x) => Math.max(...mlpForward(sepsisWeights, x)));
}

export const sepsisReference = sepsisConfidences(mlpInputs(101, 2000));

export const sepsisTraffic = { clean: mlpInputs(202, 400), moderate: mlpInputs(303, 400, 1.45), strong: mlpInputs(404, 400, 2) };
