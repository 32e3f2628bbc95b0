/**
 * SCIM's own error shape (RFC 7644 §3.12): an HTTP status and, for 400/409, a `scimType` keyword.
 * The SCIM routes answer these (and domain errors, mapped) as
 * `urn:ietf:params:scim:api:messages:2.0:Error` bodies instead of problem+json.
 */
export type ScimErrorType =
  | 'invalidFilter'
  | 'tooMany'
  | 'uniqueness'
  | 'mutability'
  | 'invalidSyntax'
  | 'invalidPath'
  | 'noTarget'
  | 'invalidValue'
  | 'invalidVers'
  | 'sensitive';

export class ScimError extends Error {
  constructor(
    readonly status: number,
    detail: string,
    readonly scimType?: ScimErrorType,
  ) {
    super(detail);
    this.name = 'ScimError';
  }
}
