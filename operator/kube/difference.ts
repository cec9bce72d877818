// Does an object read from the API server already hold everything the operator would apply?
// Server-side apply of an unchanged intent is a no-op on the server but still a request; answering
// this question locally is what makes a resync pass write nothing.
import { quantitiesEqual } from './quantity.js';

/**
 * The path of the first field of `desired` that `observed` lacks or holds with another value, or
 * undefined when observed contains all of desired. Objects may carry extra fields (server defaults,
 * other managers); arrays must match element for element, since the operator owns its lists whole.
 * Values under `requests`/`limits` compare as resource quantities ("1000m" equals "1").
 */
export function difference(observed: unknown, desired: unknown, path = '', inQuantities = false): string | undefined {
  if (desired === null || typeof desired !== 'object') {
    if (observed === desired) return undefined;
    if (inQuantities && (typeof desired === 'string' || typeof desired === 'number') &&
        (typeof observed === 'string' || typeof observed === 'number') && quantitiesEqual(observed, desired)) {
      return undefined;
    }
    return path || '.';
  }
  if (Array.isArray(desired)) {
    if (!Array.isArray(observed) || observed.length !== desired.length) return path || '.';
    for (let i = 0; i < desired.length; i++) {
      const d = difference(observed[i], desired[i], `${path}[${i}]`, inQuantities);
      if (d) return d;
    }
    return undefined;
  }
  if (observed === null || typeof observed !== 'object' || Array.isArray(observed)) return path || '.';
  const obs = observed as Record<string, unknown>;
  for (const [k, v] of Object.entries(desired as Record<string, unknown>)) {
    if (v === undefined) continue;
    const p = path ? `${path}.${k}` : k;
    if (!Object.prototype.hasOwnProperty.call(obs, k)) return p;
    const d = difference(obs[k], v, p, inQuantities || k === 'requests' || k === 'limits');
    if (d) return d;
  }
  return undefined;
}

