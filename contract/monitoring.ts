// The wire formats the operator reads from the server (GET /v1/monitoring/window, /v1/monitoring/feedback,
// /health/ready), owned by the server. Import them from here; never copy them.

/** Signals of one prediction. Never the input itself: only summaries that carry no PHI. */
export interface WindowSample {
  /** Monotonically increasing per server process, starting at 1. */
  seq: number;
  /** ISO 8601 time of the prediction. */
  time: string;
  /** The prediction's id (what POST /v1/feedback names), so ground truth can reach any replica. */
  id: string;
  /** Probability of the predicted class. */
  confidence: number;
  label: string;
  /** Every label's probability, in the model's label order. */
  probabilities: number[];
  /** Mean and population standard deviation of the input tensor's values. */
  inputMean: number;
  inputStd: number;
  /** The subgroup the request named (a declared value of the model's subgroup header), if any. */
  subgroup?: string;
}

export interface WindowResponse {
  model: { name: string; version: string };
  /** Process start; a reader seeing a new value knows the sequence restarted. */
  epoch: string;
  /** Highest sequence number so far (0 before the first prediction). */
  seq: number;
  /** Samples with seq > after, oldest first. */
  samples: WindowSample[];
  /** True when samples after `after` were evicted from the ring before this read. */
  dropped: boolean;
  /** Ring capacity. */
  capacity: number;
}

/**
 * Ground truth reported to one replica (POST /v1/feedback), for a prediction any replica made: the
 * operator joins it with the prediction it collected from that replica's window.
 */
export interface GroundTruthSample {
  /** Monotonically increasing per server process over reports, starting at 1. */
  seq: number;
  /** ISO 8601 time the ground truth arrived. */
  time: string;
  predictionId: string;
  /** The true label, as reported (one of the model's labels). */
  groundTruth: string;
}

/** GET /v1/monitoring/feedback: the same envelope as the window, over ground-truth reports. */
export interface FeedbackResponse extends Omit<WindowResponse, 'samples'> {
  samples: GroundTruthSample[];
}

/**
 * A model's per-feature reference (`clinops reference --features`; the server reads the edges with
 * --feature-reference): per input column, in order, the bin edges and the holdout's count per bin.
 */
export interface FeatureReferenceFile {
  features: Array<{ name: string; edges: number[]; counts: number[] }>;
  /** How often the model predicted each label on the holdout (for label shift); written when the model ran. */
  labels?: Record<string, number>;
}

/**
 * GET /v1/monitoring/features: counts per bin of each input feature over the predictions after the
 * cursor, the bins those of the reference's edges. Counts only: no value and no single prediction.
 */
export interface FeatureCountsResponse {
  model: { name: string; version: string };
  epoch: string;
  /** Highest prediction number so far (the window's numbering). */
  seq: number;
  /** binsDigest (contract/bins.ts) of the reference whose edges the counts use. */
  bins: string;
  features: Array<{ name: string; counts: number[] }>;
  /** True when predictions after `after` were evicted before this read. */
  dropped: boolean;
  capacity: number;
}

/** GET /health/ready when ready: the execution provider in use, which the operator reports in status. */
export interface ReadyBody {
  ready: true;
  /** cpu or cuda: what the model's sessions run on. */
  executionProvider?: string;
  /** What the server was asked to use; cuda falls back to cpu when no GPU can be used. */
  requestedExecutionProvider?: string;
  /** Why the requested provider is not in use. */
  executionProviderNote?: string;
}

/**
 * GET and POST /v1/monitoring/shadow (the monitoring key): what a serving replica's copies of its
 * predictions to a candidate version in shadow found, for that candidate's sha256.
 */
export interface ShadowReport {
  sha256?: string;
  /** A target is set and has not lapsed. */
  active: boolean;
  expiresAt?: string;
  /** Predictions copied to the candidate, not copied because too many were in flight, and copies that got no usable answer. */
  sent: number;
  dropped: number;
  failed: number;
  /** Rows compared, and those where both versions predicted the same label. */
  compared: number;
  agreed: number;
  /** Sum over compared rows of |candidate confidence − serving confidence|. */
  confidenceDifferenceSum: number;
  /** Each version's predicted-label counts over the compared rows. */
  labels: { serving: Record<string, number>; candidate: Record<string, number> };
  /** The candidate's top-class confidences, the latest 5,000 of them. */
  confidences: number[];
  lastError?: string;
}

/** GET /v1/monitoring/dicom: what the PACS path of one replica did since it started (counts, never a patient attribute). */
export interface DicomCountsResponse {
  received: number;
  ignored: number;
  duplicate: number;
  inferred: number;
  delivered: number;
  failed: number;
  /** SRs made and waiting for the destination. */
  pending: number;
  /** Instances taken and not yet inferred. */
  queued: number;
  /** Held by the operator (a paused model): what is taken waits, nothing is inferred or sent. */
  held: boolean;
  /** The latest failures, newest first: when, and why. */
  failures: Array<{ at: string; reason: string }>;
}

/**
 * POST /v1/monitoring/hold (the operator's key alone): hold a replica of a paused model that takes
 * studies from a PACS, or release it. The answer, and GET's, is the replica's hold state.
 */
export interface HoldRequest {
  held: boolean;
  /** Why (the escalation's reason, shortened): said in the 503 every prediction gets while held. */
  reason?: string;
}

export interface HoldState {
  held: boolean;
  reason?: string;
  since?: string;
}
