/**
 * SCIM 2.0 resources as Custos shows them (RFC 7643): Users and Groups mapped from the user and group
 * records, and the discovery documents (ServiceProviderConfig, ResourceTypes, Schemas) that tell an
 * IdP what this endpoint supports.
 */
import type { GroupRecord, UserRecord } from './identity-stores.js';

export const SCIM_USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const SCIM_GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
export const SCIM_LIST = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
export const SCIM_ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';
export const SCIM_PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const SPC = 'urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig';
const RESOURCE_TYPE = 'urn:ietf:params:scim:schemas:core:2.0:ResourceType';
const SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Schema';

export const SCIM_MAX_RESULTS = 200;

/** The weak ETag of a resource version (RFC 7644 §3.14). */
export function versionOf(updatedAt: number): string {
  return `W/"${updatedAt.toString(36)}"`;
}

function meta(resourceType: 'User' | 'Group', location: string, createdAt: number, updatedAt: number) {
  return {
    resourceType,
    created: new Date(createdAt).toISOString(),
    lastModified: new Date(updatedAt).toISOString(),
    location,
    version: versionOf(updatedAt),
  };
}

export type ScimUserResource = ReturnType<typeof toScimUser>;

export function toScimUser(user: UserRecord, base: string) {
  return {
    schemas: [SCIM_USER],
    id: user.id,
    ...(user.externalId === null ? {} : { externalId: user.externalId }),
    userName: user.userName,
    ...(user.displayName === null ? {} : { displayName: user.displayName, name: { formatted: user.displayName } }),
    emails: user.email === null ? [] : [{ value: user.email, type: 'work', primary: true }],
    phoneNumbers: user.phone === null ? [] : [{ value: user.phone, type: 'work', primary: true }],
    active: user.active,
    meta: meta('User', `${base}/Users/${user.id}`, user.createdAt, user.updatedAt),
  };
}

export function toScimGroup(
  group: GroupRecord,
  members: readonly { id: string; userName: string | undefined }[] | undefined,
  base: string,
) {
  return {
    schemas: [SCIM_GROUP],
    id: group.id,
    ...(group.externalId === null ? {} : { externalId: group.externalId }),
    displayName: group.displayName,
    ...(members === undefined
      ? {}
      : {
          members: members.map((m) => ({
            value: m.id,
            $ref: `${base}/Users/${m.id}`,
            type: 'User',
            ...(m.userName === undefined ? {} : { display: m.userName }),
          })),
        }),
    meta: meta('Group', `${base}/Groups/${group.id}`, group.createdAt, group.updatedAt),
  };
}

export function serviceProviderConfig(base: string) {
  return {
    schemas: [SPC],
    patch: { supported: true },
    bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 },
    filter: { supported: true, maxResults: SCIM_MAX_RESULTS },
    changePassword: { supported: false },
    sort: { supported: false },
    etag: { supported: true },
    authenticationSchemes: [
      {
        type: 'oauthbearertoken',
        name: 'Bearer token',
        description: 'The tenant SCIM token from POST /api/v1/scim/token or `custos scim-token create`.',
        primary: true,
      },
    ],
    meta: { resourceType: 'ServiceProviderConfig', location: `${base}/ServiceProviderConfig` },
  };
}

export function resourceTypes(base: string) {
  return [
    {
      schemas: [RESOURCE_TYPE],
      id: 'User',
      name: 'User',
      endpoint: '/Users',
      description: 'A Custos user',
      schema: SCIM_USER,
      meta: { resourceType: 'ResourceType', location: `${base}/ResourceTypes/User` },
    },
    {
      schemas: [RESOURCE_TYPE],
      id: 'Group',
      name: 'Group',
      endpoint: '/Groups',
      description: 'A Custos group',
      schema: SCIM_GROUP,
      meta: { resourceType: 'ResourceType', location: `${base}/ResourceTypes/Group` },
    },
  ];
}

function attribute(name: string, extra: Record<string, unknown> = {}) {
  return {
    name,
    type: 'string',
    multiValued: false,
    required: false,
    caseExact: false,
    mutability: 'readWrite',
    returned: 'default',
    uniqueness: 'none',
    ...extra,
  };
}

export function schemas(base: string) {
  return [
    {
      schemas: [SCHEMA],
      id: SCIM_USER,
      name: 'User',
      description: 'User account',
      attributes: [
        attribute('userName', { required: true, uniqueness: 'server' }),
        attribute('externalId', { caseExact: true }),
        attribute('displayName'),
        attribute('name', {
          type: 'complex',
          subAttributes: [attribute('formatted'), attribute('givenName'), attribute('familyName')],
        }),
        attribute('emails', {
          type: 'complex',
          multiValued: true,
          subAttributes: [attribute('value'), attribute('type'), attribute('primary', { type: 'boolean' })],
        }),
        attribute('phoneNumbers', {
          type: 'complex',
          multiValued: true,
          subAttributes: [attribute('value'), attribute('type'), attribute('primary', { type: 'boolean' })],
        }),
        attribute('active', { type: 'boolean' }),
      ],
      meta: { resourceType: 'Schema', location: `${base}/Schemas/${SCIM_USER}` },
    },
    {
      schemas: [SCHEMA],
      id: SCIM_GROUP,
      name: 'Group',
      description: 'Group',
      attributes: [
        attribute('displayName', { required: true, uniqueness: 'server' }),
        attribute('externalId', { caseExact: true }),
        attribute('members', {
          type: 'complex',
          multiValued: true,
          subAttributes: [
            attribute('value', { mutability: 'immutable' }),
            attribute('$ref', { type: 'reference', referenceTypes: ['User'], mutability: 'immutable' }),
            attribute('display', { mutability: 'readOnly' }),
            attribute('type', { mutability: 'immutable' }),
          ],
        }),
      ],
      meta: { resourceType: 'Schema', location: `${base}/Schemas/${SCIM_GROUP}` },
    },
  ];
}
