/**
 * Single sign-on and directory sync as the API shows them (SPEC §5): a tenant's OpenID Connect
 * identity provider, the sign-in redirect endpoints, and the tenant's SCIM bearer token. The SCIM
 * resources themselves follow RFC 7643 and are not described here.
 */
import { Type, type Static } from 'typebox';

/** The longest absolute session lifetime an IdP's "remember me" may grant: 30 days. */
export const MAX_REMEMBER_ME_HOURS = 720;

export const IdpGroupMappingSchema = Type.Object(
  {
    claimValue: Type.String({ minLength: 1, maxLength: 256, description: 'A value of the groups claim.' }),
    group: Type.String({ minLength: 1, maxLength: 256, description: 'The Custos group (by display name) the user joins.' }),
  },
  { additionalProperties: false },
);

export const IdpRoleMappingSchema = Type.Object(
  {
    claimValue: Type.String({ minLength: 1, maxLength: 256, description: 'A value of the groups claim.' }),
    role: Type.String({
      minLength: 1,
      maxLength: 256,
      description: 'A built-in role name or a custom role id, assigned over every object.',
    }),
  },
  { additionalProperties: false },
);

export const IdpRememberMeSchema = Type.Object(
  {
    claim: Type.String({
      minLength: 1,
      maxLength: 128,
      description: 'The ID token or userinfo claim that is true when the user chose "remember me".',
    }),
    absoluteHours: Type.Integer({ minimum: 1, maximum: MAX_REMEMBER_ME_HOURS }),
  },
  { additionalProperties: false },
);

export const IdentityProviderInputSchema = Type.Object(
  {
    issuer: Type.String({
      minLength: 1,
      maxLength: 2048,
      description: 'The issuer URL; its /.well-known/openid-configuration must answer.',
    }),
    clientId: Type.String({ minLength: 1, maxLength: 512 }),
    /** Write-only. Omit on a later PUT to keep the stored secret. */
    clientSecret: Type.Optional(Type.String({ minLength: 1, maxLength: 2048, writeOnly: true })),
    scopes: Type.Optional(Type.Array(Type.String({ pattern: '^[\\x21\\x23-\\x5B\\x5D-\\x7E]{1,128}$' }), { maxItems: 32 })),
    groupsClaim: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    groupMappings: Type.Optional(Type.Array(IdpGroupMappingSchema, { maxItems: 500 })),
    createMissingGroups: Type.Optional(Type.Boolean()),
    roleMappings: Type.Optional(Type.Array(IdpRoleMappingSchema, { maxItems: 500 })),
    /** Treat every sign-in through this IdP as multi-factor (the IdP enforces MFA itself). */
    trustIdpMfa: Type.Optional(Type.Boolean()),
    rememberMe: Type.Optional(Type.Union([IdpRememberMeSchema, Type.Null()])),
  },
  { additionalProperties: false },
);
export type IdentityProviderInput = Static<typeof IdentityProviderInputSchema>;

export const IdentityProviderSchema = Type.Object({
  issuer: Type.String(),
  clientId: Type.String(),
  clientSecretSet: Type.Boolean(),
  scopes: Type.Array(Type.String()),
  groupsClaim: Type.String(),
  groupMappings: Type.Array(IdpGroupMappingSchema),
  createMissingGroups: Type.Boolean(),
  roleMappings: Type.Array(IdpRoleMappingSchema),
  trustIdpMfa: Type.Boolean(),
  rememberMe: Type.Union([IdpRememberMeSchema, Type.Null()]),
  /** Register this redirect URI with the IdP. */
  redirectUri: Type.String(),
  /** Where users start signing in (the portal's "Sign in with SSO" link). */
  signInUrl: Type.String(),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
});

export const OidcStartQuery = Type.Object(
  {
    tenant: Type.String({ format: 'uuid' }),
    returnTo: Type.Optional(Type.String({ maxLength: 2048 })),
  },
  { additionalProperties: false },
);

export const OidcCallbackQuery = Type.Object(
  {
    state: Type.Optional(Type.String({ maxLength: 512 })),
    code: Type.Optional(Type.String({ maxLength: 4096 })),
    iss: Type.Optional(Type.String({ maxLength: 2048 })),
    error: Type.Optional(Type.String({ maxLength: 256 })),
    error_description: Type.Optional(Type.String({ maxLength: 2048 })),
  },
  { additionalProperties: true },
);

export const ScimTokenSchema = Type.Object({
  /** Shown once; configure it as the IdP's SCIM "secret token". */
  token: Type.String(),
  /** The SCIM base URL to configure in the IdP. */
  scimUrl: Type.String(),
  createdAt: Type.String({ format: 'date-time' }),
});
