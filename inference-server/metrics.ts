// The server's Prometheus metrics (names carry their units), plus Node.js process metrics.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

export class ServerMetrics {
  readonly registry = new Registry();
  readonly duration: Histogram<'model' | 'route' | 'code'>;
  readonly requests: Counter<'model' | 'route' | 'code'>;
  readonly confidence: Histogram;
  readonly predictions: Counter<'label'>;
  readonly shadowCopies: Counter<'outcome'>;
  /** Instances from a PACS (STOW-RS), by outcome. */
  readonly dicomInstances: Counter<'outcome'>;
  /** Reads the SRs waiting to be delivered, once the PACS path exists. */
  dicomPending: () => number = () => 0;
  /** Reads the scheduler's queue once it exists. */
  queueLength: () => number = () => 0;
  /** Reads the async jobs not finished yet (queued or running), once the store exists. */
  jobsWaiting: () => number = () => 0;
  /** Requests on the serving surface received and not yet answered (an autoscaler's load signal). */
  inFlight = 0;
  /** Reads the decode threads' requests, waiting and decoding, once they exist. */
  decodes: () => { waiting: number; decoding: number } = () => ({ waiting: 0, decoding: 0 });

  constructor(private readonly model: string) {
    this.registry.setDefaultLabels({ model });
    this.duration = new Histogram({
      name: 'clinops_inference_request_duration_seconds',
      help: 'Time from request received to response sent, by route and status code.',
      labelNames: ['model', 'route', 'code'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [this.registry],
    });
    this.requests = new Counter({
      name: 'clinops_inference_requests_total',
      help: 'Requests answered, by route and status code.',
      labelNames: ['model', 'route', 'code'],
      registers: [this.registry],
    });
    this.confidence = new Histogram({
      name: 'clinops_prediction_confidence',
      help: 'Probability of the predicted class.',
      buckets: [0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.99, 1],
      registers: [this.registry],
    });
    this.predictions = new Counter({
      name: 'clinops_predictions_total',
      help: 'Predictions made, by predicted label.',
      labelNames: ['label'],
      registers: [this.registry],
    });
    this.shadowCopies = new Counter({
      name: 'clinops_shadow_copies_total',
      help: 'Predictions copied to a candidate version in shadow, by outcome: sent, dropped (too many in flight), failed, compared.',
      labelNames: ['outcome'],
      registers: [this.registry],
    });
    this.dicomInstances = new Counter({
      name: 'clinops_dicom_instances_total',
      help: 'Instances a PACS stored with the model (STOW-RS), by outcome: received, ignored (not the model\'s by its accept rules), duplicate (already taken), inferred, delivered (its SR stored at the destination), failed.',
      labelNames: ['outcome'],
      registers: [this.registry],
    });
    const metrics = this;
    new Gauge({
      name: 'clinops_dicom_results_pending',
      help: 'SRs made and not yet stored at the destination (retried with backoff).',
      registers: [this.registry],
      collect() {
        this.set(metrics.dicomPending());
      },
    });
    new Gauge({
      name: 'clinops_inference_queue_depth',
      help: 'Instances waiting for a worker.',
      registers: [this.registry],
      collect() {
        this.set(metrics.queueLength());
      },
    });
    new Gauge({
      name: 'clinops_inference_requests_in_flight',
      help: 'Requests on the serving port received and not yet answered.',
      registers: [this.registry],
      collect() {
        this.set(metrics.inFlight);
      },
    });
    new Gauge({
      name: 'clinops_jobs_waiting',
      help: 'Async jobs queued or running.',
      registers: [this.registry],
      collect() {
        this.set(metrics.jobsWaiting());
      },
    });
    new Gauge({
      name: 'clinops_decode_requests',
      help: 'Image and DICOM requests in the decode threads, by state: waiting or decoding.',
      labelNames: ['state'],
      registers: [this.registry],
      collect() {
        const d = metrics.decodes();
        this.set({ state: 'waiting' }, d.waiting);
        this.set({ state: 'decoding' }, d.decoding);
      },
    });
    collectDefaultMetrics({ register: this.registry });
  }

  private readonly byLabel = new Map<string, { predictions: { inc: () => void } }>();

  shadow(outcome: 'sent' | 'dropped' | 'failed' | 'compared'): void {
    this.shadowCopies.inc({ outcome });
  }

  /** Count one prediction by its label, and its confidence. */
  predicted(label: string, confidence: number): void {
    let c = this.byLabel.get(label);
    if (!c) {
      c = { predictions: this.predictions.labels({ label }) };
      if (this.byLabel.size < 1000) this.byLabel.set(label, c);
    }
    c.predictions.inc();
    this.confidence.observe(confidence);
  }

  /**
   * Count and time one answered request. The labelled children are looked up once per route and
   * status code, not hashed from their labels on every request.
   */
  requestObserver(): (route: string, code: number, seconds: number) => void {
    const children = new Map<string, { observe: (s: number) => void; inc: () => void }>();
    return (route, code, seconds) => {
      const key = `${code} ${route}`;
      let c = children.get(key);
      if (!c) {
        const labels = { model: this.model, route, code: String(code) };
        const h = this.duration.labels(labels);
        const r = this.requests.labels(labels);
        c = { observe: (s) => h.observe(s), inc: () => r.inc() };
        if (children.size < 1000) children.set(key, c);
      }
      c.observe(seconds);
      c.inc();
    };
  }
}
