// The phases of a reconcile pass, in order. Each reads the observed state and the model as the phases
// before it left it; the table in docs/architecture.md says what each decides and when it writes.
import type { DeploymentSettings } from '../../desired/deployment.js';
import type { Phase } from '../pass.js';
import { acceptancePhase } from './acceptance.js';
import { approvalPhase } from './approval.js';
import { childrenPhase } from './children.js';
import { escalationPhase } from './escalation.js';
import { integrationPhase } from './integration.js';
import { notificationPhase } from './notification.js';
import { restorePhase } from './restore.js';
import { reviewPhase } from './review.js';
import { reportPhase } from './report.js';
import { rolloutPhase } from './rollout.js';

export function phases(settings: DeploymentSettings): Array<[string, Phase]> {
  return [
    ['restore', restorePhase],
    ['escalation', escalationPhase],
    ['notification', notificationPhase],
    ['acceptance', acceptancePhase],
    ['approval', approvalPhase],
    ['rollout', rolloutPhase],
    ['children', childrenPhase(settings)],
    ['review', reviewPhase],
    ['report', reportPhase],
    ['integration', integrationPhase],
  ];
}
