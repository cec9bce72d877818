// What one drift check judges (pure data): the judge owns its input, as cert-manager's policies own
// policies.Input; gathering/ fills it from the pods, the reference ConfigMap and the label store.
import type { WindowSample } from '../../contract/monitoring.js';
import type { CalibrationFile, FeatureReference } from './reference-files.js';

/** What was read of one of a model's signals: all samples not yet judged, and what went wrong reading. */
export interface SignalRead<T> {
  samples: readonly T[];
  /** Replicas that could not be read, with why. */
  unreadable: string[];
  /** A replica evicted samples before they were read. */
  dropped: boolean;
}

/** Everything one drift check judges, gathered. */
export interface DriftInput {
  now: number;
  /** Replicas (monitoring endpoints) asked. */
  replicas: number;
  /** The reference distribution: absent when none is configured; an error when it cannot be used. */
  reference?: { values: readonly number[] } | { error: string };
  /** The top-class confidences; read when the reference is usable. */
  window?: SignalRead<WindowSample>;
  /** The labelled predictions; read when a performance baseline is declared. */
  feedback?: LabelsRead;
  /** The holdout's predicted-label counts (reference.labelsKey), or why they cannot be used. */
  labels?: { counts: Record<string, number> } | { error: string };
  /** Per-feature input drift (spec.monitoring.features): the reference's and the replicas' bin counts. */
  features?: FeaturesRead | { error: string };
  /** The model's calibration on its holdout (reference.calibrationKey), for estimating performance without labels. */
  calibration?: CalibrationFile | { error: string };
}

export interface FeaturesRead {
  reference: FeatureReference;
  /** The counts summed over replicas since they were last judged, per feature (the reference's order). */
  counts?: readonly (readonly number[])[];
  /** Predictions the counts cover. */
  samples: number;
  unreadable: string[];
  dropped: boolean;
}

/** The model's labelled predictions (its label store) after this check's reads. */
export interface LabelsRead {
  /** The sliding window: the last spec.monitoring.performance.window labelled predictions, oldest label first. */
  labelled: readonly StoredPrediction[];
  /** Labels among them that arrived after the last performance judgement. */
  fresh: number;
  /** Predictions waiting for ground truth, and labels waiting for their prediction. */
  awaiting: number;
  waitingLabels: number;
  /** Labels that never met their prediction, and predictions that never got ground truth, so far. */
  unmatched: number;
  expired: number;
  unreadable: string[];
  dropped: boolean;
  /** Why the store could not be read or was started afresh. */
  problem?: string;
}

/** What a judgement used, to be dropped once its result is stored. */
export interface Consumed {
  window: number;
  /** When the newest label the performance judgement used arrived (ms); 0 when none was judged. */
  feedback: number;
  /** The feature counts gathered so far. */
  features: boolean;
}

export interface StoredPrediction {
  id: string;
  /** When it was predicted (ms). */
  time: number;
  confidence: number;
  predicted: string;
  /** The probability the model gave the positive label. */
  score: number;
  /** The subgroup its request named (spec.monitoring.subgroups). */
  subgroup?: string;
  truth?: string;
  /** When the ground truth arrived (ms). */
  labelledAt?: number;
}
