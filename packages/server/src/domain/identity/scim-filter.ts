/**
 * The SCIM filter subset Custos answers (RFC 7644 §3.4.2.2): one `attribute eq "value"` comparison,
 * which is what identity providers send to find a resource before they create it. Anything else is
 * refused with `invalidFilter` — never ignored, which would return every resource as a "match".
 */
import { ScimError } from './scim-errors.js';

const COMPARISON = /^\s*([A-Za-z][\w.:-]*)\s+eq\s+"((?:[^"\\]|\\.)*)"\s*$/i;

/** Parses `filter` into the attribute (matched case-insensitively against `allowed`) and the value. */
export function parseScimFilter<A extends string>(
  filter: string | undefined,
  allowed: readonly A[],
): { attribute: A; value: string } | undefined {
  if (filter === undefined || filter.trim() === '') return undefined;
  const match = COMPARISON.exec(filter);
  if (!match?.[1] || match[2] === undefined) {
    throw new ScimError(400, `Only filters of the form 'attribute eq "value"' are supported (on ${allowed.join(', ')}).`, 'invalidFilter');
  }
  const name = match[1].replace(/^urn:ietf:params:scim:schemas:core:2\.0:(User|Group):/i, '').toLowerCase();
  const attribute = allowed.find((a) => a.toLowerCase() === name);
  if (!attribute)
    throw new ScimError(400, `Filtering on "${match[1]}" is not supported; use one of ${allowed.join(', ')}.`, 'invalidFilter');
  let value: string;
  try {
    value = JSON.parse(`"${match[2]}"`) as string;
  } catch {
    throw new ScimError(400, 'The filter value is not a valid string.', 'invalidFilter');
  }
  return { attribute, value };
}
