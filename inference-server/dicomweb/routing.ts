// Which instances a model takes from a PACS (spec.integration.dicom.accept → --dicom-accept): each
// listed property must match one of its values (Modality, Body Part Examined and SOP Class UID exactly,
// Series Description by a case-insensitive pattern with * and ?); a property not listed matches all.
import type { InstanceHeader } from './instance.js';

export interface AcceptRules {
  modalities?: string[];
  bodyParts?: string[];
  sopClasses?: string[];
  seriesDescriptions?: string[];
}

function pattern(glob: string): RegExp {
  return new RegExp(`^${glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'is');
}

/** Why the instance is not the model's (the rule it misses, naming the property, never a patient value), or undefined when it is. */
export function notAccepted(rules: AcceptRules, h: InstanceHeader): string | undefined {
  const upper = (s: string) => s.toUpperCase();
  if (rules.modalities && !rules.modalities.map(upper).includes(upper(h.modality))) return `Modality ${h.modality || '(none)'} is not one of ${rules.modalities.join(', ')}`;
  if (rules.bodyParts && !rules.bodyParts.map(upper).includes(upper(h.bodyPart))) return `Body Part Examined ${h.bodyPart || '(none)'} is not one of ${rules.bodyParts.join(', ')}`;
  if (rules.sopClasses && !rules.sopClasses.includes(h.sopClassUid)) return `SOP Class ${h.sopClassUid} is not one of ${rules.sopClasses.join(', ')}`;
  if (rules.seriesDescriptions && !rules.seriesDescriptions.some((g) => pattern(g).test(h.seriesDescription))) return 'Series Description matches none of the patterns';
  return undefined;
}
