// TypeScript shapes of the ClinicalModel resource. The CRD in crds/ is the source of truth; these
// types follow it field for field (after the API server applied the schema's defaults).
import type { ImagePreprocessingSpec } from '../../contract/image-preprocessing.js';
import type { DicomCountsResponse } from '../../contract/monitoring.js';

export const GROUP = 'clinops.dev';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;
export const KIND = 'ClinicalModel';
export const PLURAL = 'clinicalmodels';

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  generation?: number;
  resourceVersion?: string;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface Toleration {
  key?: string;
  operator?: 'Exists' | 'Equal';
  value?: string;
  effect?: '' | 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
  tolerationSeconds?: number;
}

export type Quantity = string | number;

export interface ModelSpec {
  uri: string;
  sha256: string;
  version: string;
  labels: string[];
  /** Who submitted this version (the admission policy checks it names the writer of a new sha256). */
  submittedBy?: string;
  /**
   * An s3:// model's credentials: a Secret with accessKeyId and secretAccessKey, and optionally
   * sessionToken, endpoint, region and ca.crt; mounted into the fetch-model init container alone.
   */
  credentialsSecretRef?: { name: string };
  preprocessing?: { image?: ImagePreprocessingSpec };
}

export type AutoscalingMetric = 'inflightRequests' | 'requestsPerSecond' | 'jobQueueDepth';

/** spec.serving.autoscaling: an HPA the operator owns; escalation overrides it. */
export interface AutoscalingSpec {
  minReplicas?: number;
  maxReplicas: number;
  metric: AutoscalingMetric;
  target: number;
  scaleDownDelay?: string;
}

export interface ServingSpec {
  replicas?: number;
  autoscaling?: AutoscalingSpec;
  image?: string;
  gpu?: { count?: number; product?: string };
  resources?: { requests?: Record<string, Quantity>; limits?: Record<string, Quantity> };
  nodeSelector?: Record<string, string>;
  tolerations?: Toleration[];
  priorityClassName?: string;
  apiKeySecretRef?: { name: string; key?: string };
  /** Serve without API keys, to anyone who reaches the Service: required when apiKeySecretRef is absent. */
  allowUnauthenticated?: boolean;
  /** HTTPS: a kubernetes.io/tls Secret (tls.crt, tls.key, and the CA as ca.crt) for NAME.NAMESPACE.svc. */
  tls?: { secretRef: { name: string } };
  imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
  workers?: number;
  intraOpThreads?: number;
  audit?: { claimName: string; subPath?: string };
}

export interface MonitoringSpec {
  interval?: string;
  minSamples?: number;
  reference?: { configMapRef?: { name: string; key?: string }; labelsKey?: string; featuresKey?: string; calibrationKey?: string };
  /** Tabular models: the input columns' names, in order (per-feature drift). */
  features?: string[];
  psi?: { bins?: number; moderate?: number; significant?: number };
  ks?: { pValue?: number; minStatistic?: number };
  performance?: PerformanceSpec;
  /** Performance per subgroup, named by a request header. */
  subgroups?: SubgroupSpec;
}

export interface PerformanceSpec {
  positiveLabel?: string;
  minLabels?: number;
  /** The sliding window of labelled predictions judged. */
  window?: number;
  /** How long a prediction waits for its ground truth, such as 30d. */
  labelWithin?: string;
  baseline?: { auroc?: number; sensitivity?: number; specificity?: number };
  /** A relative dip this large is level 1 (default 0.05); above pauseDip (0.1) level 2. */
  alertDip?: number;
  pauseDip?: number;
}

export type EscalationAction = 'Alert' | 'ScaleDown' | 'Pause' | 'Shutdown';

export interface LevelPolicy {
  action?: EscalationAction;
  replicas?: number;
  reviewWithin?: string;
}

export interface EscalationSpec {
  consecutiveBreaches?: number;
  level1?: LevelPolicy;
  level2?: LevelPolicy;
  level3?: LevelPolicy;
  acknowledgement?: { reviewer: string; level: number; note?: string };
}

export interface ModelCard {
  description?: string;
  intendedUse?: string;
  outOfScope?: string;
  limitations?: string;
  trainingData?: string;
  performance?: string;
  ethicalConsiderations?: string;
  owner?: string;
  contact?: string;
}

export interface AcceptanceSpec {
  holdout: { configMapRef?: { name: string; key?: string }; path?: string };
  positiveLabel?: string;
  minAuroc?: number;
  minSensitivity?: number;
  minSpecificity?: number;
  maxEce?: number;
  eceBins?: number;
  subgroupMinAuroc?: number;
  subgroupMinSensitivity?: number;
  minSubgroupSize?: number;
  lowerBound?: boolean;
}

/** A go/no-go signature: a named person signs one checklist item for one sha256. */
export interface Signature {
  item: string;
  signedBy: string;
  sha256: string;
  note?: string;
}

export interface ApprovalSpec {
  /** Serve a version only once every item is signed for its sha256 (default true when spec.approval is set). */
  requireApproval?: boolean;
  /** The checklist (default: the protocol's six sections, §16.6). */
  items?: string[];
  /** Different people who must sign the go-no-go item (default 2). */
  distinctSigners?: number;
  signatures?: Signature[];
}

/** status.approval: the declared version's sign-off, and the versions approved before. */
export interface ApprovalStatus {
  sha256?: string;
  /** Who submitted the declared version (spec.model.submittedBy). */
  submittedBy?: string;
  missing?: string[];
  signatures?: Array<Signature & { seenAt: string }>;
  approvedAt?: string;
  /** The versions approved, the last 10: who signed what, when it was seen. */
  records?: Array<{ sha256: string; version: string; approvedAt: string; signatures: Array<Signature & { seenAt: string }> }>;
}

/** A model version that passed the gates (acceptance and approval, as declared): what serves. */
export interface AcceptedModel {
  sha256: string;
  version: string;
  uri: string;
  acceptedAt: string;
  /** When a rollout (spec.rollout) promoted it over the version before. */
  promotedAt?: string;
}

/** The acceptance of one sha256. */
export interface AcceptanceResult {
  sha256: string;
  version: string;
  state: 'Running' | 'Passed' | 'Failed' | 'Error';
  job?: string;
  /** The uid of the Job the operator made for this candidate: only that Job, and only its pods, are believed. */
  jobUid?: string;
  startedAt?: string;
  finishedAt?: string;
  /** Error: why no verdict; Failed: the failing checks. */
  message?: string;
  failures?: string[];
  /** Each metric's estimate. */
  metrics?: Record<string, number>;
  cases?: number;
  /** Where the holdout came from, and its sha256. */
  holdout?: { source: string; sha256?: string };
}

export interface AcceptanceStatus {
  accepted?: AcceptedModel;
  candidate?: AcceptanceResult;
  history?: AcceptanceResult[];
}

export interface NotifySpec {
  url: string;
  tokenSecretRef?: { name: string; key: string };
}

/** status.notification: the CloudEvent for the current escalation and its delivery. */
export interface NotificationStatus {
  id: string;
  level: number;
  deliveredAt?: string;
  attempts: number;
  lastAttemptAt?: string;
  nextAttemptAt?: string;
  lastError?: string;
  gaveUp?: boolean;
}

/** spec.rollout: how a new version that passed its gates replaces the one serving. */
export interface RolloutSpec {
  /** Beside the serving version, on copies of live requests, compared with it. */
  shadow?: {
    /** Compared predictions needed for a verdict (default 200). */
    requests?: number;
    /** Share of predictions where the two versions' labels differ (default 0.1). */
    maxDisagreement?: number;
    /** Largest difference between the versions' rates of any label (default 0.05). */
    maxLabelRateDifference?: number;
    /** Mean |difference| between their top-class confidences (default 0.1). */
    maxConfidenceDifference?: number;
  };
  /** Behind the model's Service beside the serving version, for a while, judged by the model's checks. */
  canary?: {
    /** The candidate's replicas (default 1): its share is replicas / (replicas + the serving version's). */
    replicas?: number;
    /** How long (default 10m). */
    duration?: string;
  };
}

export type RolloutStep = 'Shadow' | 'Canary' | 'Promoting' | 'Promoted' | 'RolledBack';

/** What a shadow found so far (summed over the serving replicas). */
export interface ShadowStatus {
  compared: number;
  sent: number;
  dropped: number;
  failed: number;
  agreement?: number;
  labelRateDifference?: number;
  confidenceDifference?: number;
  /** The candidate's own confidences against the model's reference. */
  drift?: { verdict: string; psi?: number; ksStatistic?: number; ksPValue?: number };
}

/** status.rollout: the candidate in rollout (or the last one), step by step. */
export interface RolloutStatus {
  sha256: string;
  version: string;
  step: RolloutStep;
  /** The version serving while the candidate is tried, and the one a rollback leaves serving. */
  from: { sha256: string; version: string };
  startedAt: string;
  stepStartedAt: string;
  /** The escalation level when the step began (a rise during a canary is a breach). */
  levelAtStep?: number;
  message?: string;
  shadow?: ShadowStatus;
  finishedAt?: string;
  history?: Array<{ sha256: string; version: string; outcome: 'Promoted' | 'RolledBack'; at: string; reason: string }>;
}

export interface GovernanceSpec {
  /** The receiver of a CloudEvent on a drift or performance escalation. */
  notify?: NotifySpec;
  /** How often a named reviewer must review the model, such as 90d. */
  reviewEvery?: string;
  /** A review, recorded like an acknowledgement. */
  review?: { reviewer: string; note?: string };
  /** Decisions about findings, including not to act. */
  decisions?: Decision[];
  /** How often the operator writes the model's report into ConfigMap NAME-report, such as 7d. */
  reportEvery?: string;
}

export interface Decision {
  reviewer: string;
  finding: 'Drift' | 'Performance';
  decision: 'Accept' | 'Act' | 'Retrain';
  reason: string;
  /** When an Accept expires (RFC 3339). */
  until?: string;
  /** The most severe finding an Accept covers (default 1). */
  upToLevel?: number;
}

export interface ReportStatus {
  writtenAt: string;
  configMap: string;
  /** The start of the period it covers. */
  since: string;
}

/** A decision as status keeps it. */
export interface DecisionRecord extends Decision {
  seenAt: string;
  /** An Accept in force now. */
  active?: boolean;
}

/** spec.integration.dicom: studies from a PACS by STOW-RS, results back as SRs. */
export interface DicomIntegrationSpec {
  accept: { modalities?: string[]; bodyParts?: string[]; sopClasses?: string[]; seriesDescriptions?: string[] };
  destination?: { url: string; credentialsSecretRef?: { name: string }; caSecretRef?: { name: string; key?: string } };
}

/** status.integration.dicom: the replicas' counts (GET /v1/monitoring/dicom), summed. */
export type DicomIntegrationStatus = Omit<DicomCountsResponse, 'queued' | 'failures' | 'held'> & {
  /** Instances taken and not yet inferred (a held model's studies wait here). */
  waiting: number;
  /** Replicas held (a paused model's): they take studies and send no result. */
  heldReplicas: number;
  replicasRead: number;
  lastFailure?: string;
  lastFailureTime?: string;
  /** When a count last changed. */
  updatedTime: string;
};

export interface ClinicalModelSpec {
  model: ModelSpec;
  integration?: { dicom?: DicomIntegrationSpec };
  acceptance?: AcceptanceSpec;
  approval?: ApprovalSpec;
  rollout?: RolloutSpec;
  governance?: GovernanceSpec;
  serving?: ServingSpec;
  monitoring?: MonitoringSpec;
  escalation?: EscalationSpec;
  modelCard?: ModelCard;
}

export type Phase = 'Accepting' | 'Rejected' | 'AwaitingApproval' | 'Deploying' | 'Serving' | 'Degraded' | 'Paused' | 'ShutDown' | 'Failed';
export type ConditionStatus = 'True' | 'False' | 'Unknown';

export interface Condition {
  type: string;
  status: ConditionStatus;
  observedGeneration?: number;
  lastTransitionTime: string;
  reason: string;
  message: string;
}

export interface EscalationTransition {
  time: string;
  from: number;
  to: number;
  reason: string;
  reviewer?: string;
  psi?: number;
  ksPValue?: number;
  dip?: number;
  /** The dip was estimated (CBPE), not realized. */
  estimated?: boolean;
}

export interface IncidentRecord {
  id: string;
  /** The level that opened it: 2 (an automatic pause on drift or a performance dip) or 3 (a safety event). */
  level?: number;
  openedAt: string;
  reason: string;
  modelVersion: string;
  sha256: string;
  /** When the acknowledgement that brought the model below this level was applied. */
  closedAt?: string;
  /** The reviewer who acknowledged it. */
  closedBy?: string;
  closeNote?: string;
}

export interface EscalationStatus {
  level?: number;
  since?: string;
  reason?: string;
  reviewDueBy?: string;
  acknowledgedBy?: string;
  appliedAcknowledgement?: string;
  pending?: { level: number; checks: number };
  shutdownSha256?: string;
  safetyEvents?: string[];
  cooldownUntil?: string;
  /** The last incident opened. */
  incident?: IncidentRecord;
  /** The incidents of this model, oldest first (the last 10), open and closed. */
  incidents?: IncidentRecord[];
  history?: EscalationTransition[];
}

export type DriftVerdict = 'NoDrift' | 'Moderate' | 'Significant' | 'InsufficientData';

export interface DriftStatus {
  lastCheckTime?: string;
  samples?: number;
  verdict?: DriftVerdict;
  psi?: number;
  ks?: { statistic: number; pValue: number };
  /** The signals that drove a Moderate or Significant verdict, worst first (at most five). */
  signals?: DriftSignal[];
  /** Input features the check tested. */
  features?: number;
  replicasRead?: number;
  message?: string;
  performance?: PerformanceStatus;
}

export interface DriftSignal {
  name: string;
  kind: 'confidence' | 'feature' | 'labels';
  verdict: 'Moderate' | 'Significant';
  psi: number;
  /** KS D (a feature's: the lower bound from its bins) or, for labels, the total variation distance. */
  statistic: number;
  /** Features: Benjamini–Hochberg adjusted across features. */
  pValue: number;
}

export interface PerformanceStatus {
  labelled: number;
  auroc?: number;
  sensitivity?: number;
  specificity?: number;
  dip?: number;
  awaitingLabels?: number;
  unmatchedLabels?: number;
  expiredPredictions?: number;
  /** Which figures the dip came from. */
  judgedOn?: 'realized' | 'estimated';
  /** Per subgroup (spec.monitoring.subgroups), in the last check that judged them. */
  subgroups?: SubgroupPerformanceStatus[];
  /** Performance estimated without labels (CBPE). */
  estimated?: EstimatedPerformanceStatus;
}

/** An estimate and the range the realized value would fall in (95%) if the calibration holds. */
export interface EstimateRange {
  value: number;
  low: number;
  high: number;
}

export interface SubgroupPerformanceStatus {
  name: string;
  cases: number;
  /** False when the group had too few predictions (or labels) to judge. */
  judged: boolean;
  judgedOn?: 'realized' | 'estimated';
  estimated?: { auroc?: EstimateRange; sensitivity?: EstimateRange; specificity?: EstimateRange };
  realized?: { labelled: number; auroc?: number; sensitivity?: number; specificity?: number };
  /** The dip at the optimistic end of each range. */
  dip?: number;
  level?: number;
}

export interface SubgroupSpec {
  header: string;
  minCases?: number;
  groups: Array<{ name: string; baseline?: { auroc?: number; sensitivity?: number; specificity?: number } }>;
}

export interface EstimatedPerformanceStatus {
  /** "CBPE (isotonic calibration)" or "CBPE (scores as calibrated)". */
  method: string;
  cases: number;
  auroc?: EstimateRange;
  sensitivity?: EstimateRange;
  specificity?: EstimateRange;
  positiveRate: number;
  dip?: number;
}

/** status.review: when the model was last reviewed, by whom, and what is due when. */
export interface ReviewStatus {
  lastReviewedAt?: string;
  reviewedBy?: string;
  note?: string;
  /** The review applied last, as JSON, so it is applied once. */
  appliedReview?: string;
  dueBy?: string;
  /** What is due: the periodic review or level 1's. */
  dueFor?: string;
  overdue?: boolean;
}

export interface ClinicalModelStatus {
  phase?: Phase;
  approval?: ApprovalStatus;
  acceptance?: AcceptanceStatus;
  rollout?: RolloutStatus;
  notification?: NotificationStatus;
  review?: ReviewStatus;
  drift?: DriftStatus;
  escalation?: EscalationStatus;
  /** The decisions recorded in spec.governance.decisions, with when each was first seen. */
  decisions?: DecisionRecord[];
  /** The last report the operator wrote (spec.governance.reportEvery). */
  report?: ReportStatus;
  /** What the hospital-system integrations did (spec.integration). */
  integration?: { dicom?: DicomIntegrationStatus };
  observedGeneration?: number;
  replicas?: number;
  /** What the Deployment asks for now (the spec's, the level's or the autoscaler's). */
  desiredReplicas?: number;
  readyReplicas?: number;
  selector?: string;
  endpoint?: string;
  /** GPU models: what their ready replicas run on (cpu, cuda, or mixed). */
  executionProvider?: string;
  conditions?: Condition[];
}

export interface ClinicalModel {
  apiVersion: typeof API_VERSION;
  kind: typeof KIND;
  metadata: ObjectMeta;
  spec: ClinicalModelSpec;
  status?: ClinicalModelStatus;
}
