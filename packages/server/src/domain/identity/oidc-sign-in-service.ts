/**
 * Sign-in through a tenant's OpenID Connect provider: the authorization code flow with PKCE (S256),
 * `state` and `nonce` (OIDC Core §3.1, RFC 7636, RFC 9700 §2.1). The user's password goes to the
 * IdP only; Custos receives a code and exchanges it for an ID token it verifies.
 *
 * The sign-in in flight lives server-side, keyed by the SHA-256 of its `state`, for ten minutes and
 * for one use, and is bound to the browser that started it by a short-lived cookie (its secret's
 * hash is stored with the state): a `state` replayed, guessed or carried to another browser finds
 * nothing. The user is found by issuer + subject — never by email alone — or created just in time,
 * and the groups and roles the tenant maps from the groups claim are applied on every sign-in.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import * as client from 'openid-client';
import type { RequestContext, Actor } from '../access/authorize.js';
import { changedProperties, recordAudit } from '../audit/audit-log.js';
import type { Clock } from '../clock.js';
import { DomainError, StoreConflictError } from '../domain-error.js';
import { constantTimeEqual, hashSecret } from '../secrets.js';
import type { TenantData } from '../tenant-data.js';
import type { TenantService } from '../tenants/tenant-service.js';
import type { UserRecord } from './identity-stores.js';
import { assertsMfa, groupValues, profileOf, rememberMeLifetime, type Claims } from './oidc-claims.js';
import { describeError, type OidcProviders } from './oidc-client.js';
import type { IdentityProviderService } from './oidc-configuration-service.js';
import type { IdentityProviderRecord } from './oidc-stores.js';
import { userActor, type SessionService } from './session-service.js';
import { USER_AUDIT_REDACTED } from './user-service.js';

/** The browser-binding cookie of a sign-in in flight: `<tenant id>.<secret>`. */
export const OIDC_BINDING_COOKIE = 'custos_oidc';
export const LOGIN_STATE_TTL_MS = 10 * 60_000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export interface OidcStarted {
  authorizationUrl: string;
  /** Set as `custos_oidc` (HttpOnly, Secure, SameSite=Lax) for `maxAgeSeconds`. */
  bindingCookie: string;
  maxAgeSeconds: number;
}

export interface OidcSignedIn {
  /** The `custos_session` cookie value. */
  cookie: string;
  csrfToken: string;
  returnTo: string;
  absoluteExpiresAt: number;
  mfaPending: boolean;
  user: UserRecord;
}

/** A refusal with the reason recorded in the audit log; answered as `sso-failed`. */
class SignInRefused extends Error {
  constructor(
    readonly reason: string,
    detail: string,
  ) {
    super(detail);
  }
}

/**
 * A relative path on this site, or `/`: `returnTo` must not send the browser elsewhere (no scheme,
 * no `//host`, no backslash tricks, no control characters).
 */
export function safeReturnTo(returnTo: string | undefined): string {
  if (returnTo === undefined || returnTo === '') return '/';
  if (
    !returnTo.startsWith('/') ||
    returnTo.startsWith('//') ||
    returnTo.includes('\\') ||
    [...returnTo].some((c) => c <= ' ' || c === '\x7f')
  ) {
    throw new DomainError('validation-failed', 'returnTo must be a path on this site, such as /devices.');
  }
  return returnTo;
}

function parseBinding(cookie: string | undefined): { tenantId: string; secret: string } | undefined {
  if (!cookie) return undefined;
  const dot = cookie.indexOf('.');
  const tenantId = cookie.slice(0, dot);
  const secret = cookie.slice(dot + 1);
  return dot > 0 && UUID.test(tenantId) && secret.length >= 32 ? { tenantId, secret } : undefined;
}

function anonymous(tenantId: string, name: string, context: RequestContext): Actor {
  return { type: 'user', id: 'anonymous', name, tenantId, sessionId: null, grants: [], context };
}

export class OidcSignInService {
  /** Where the IdP sends the browser back; register it with the IdP. */
  readonly redirectUri: string;
  /** Where a sign-in starts (`?tenant=<id>`). */
  readonly startUrl: string;

  constructor(
    private readonly tenants: TenantService,
    private readonly identityProviders: IdentityProviderService,
    private readonly providers: OidcProviders,
    private readonly sessions: SessionService,
    publicUrl: string,
    private readonly clock: Clock,
  ) {
    this.redirectUri = `${publicUrl}/api/v1/auth/oidc/callback`;
    this.startUrl = `${publicUrl}/api/v1/auth/oidc/start`;
  }

  private async configuration(tenantId: string, record: IdentityProviderRecord): Promise<client.Configuration> {
    return this.providers.configuration(tenantId, `${record.updatedAt}`, {
      issuer: record.issuer,
      clientId: record.clientId,
      clientSecret: this.identityProviders.clientSecretOf(tenantId, record),
    });
  }

  /** Starts a sign-in: stores state, nonce and PKCE verifier, and returns where to send the browser. */
  async start(tenantId: string, input: { returnTo?: string }): Promise<OidcStarted> {
    const returnTo = safeReturnTo(input.returnTo);
    const data = await this.tenants.data(tenantId);
    const record = await data.identityProvider.get();
    if (!record) throw new DomainError('idp-not-configured', 'This tenant has no single sign-on; sign in with a password.');
    const config = await this.configuration(tenantId, record);
    const state = client.randomState();
    const nonce = client.randomNonce();
    const codeVerifier = client.randomPKCECodeVerifier();
    const binding = randomBytes(32).toString('base64url');
    const now = this.clock.now();
    await data.oidcLoginStates.deleteExpired(now);
    await data.oidcLoginStates.insert({
      stateHash: hashSecret(state),
      bindingHash: hashSecret(binding),
      nonce,
      codeVerifier,
      redirectUri: this.redirectUri,
      returnTo,
      createdAt: now,
      expiresAt: now + LOGIN_STATE_TTL_MS,
    });
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: this.redirectUri,
      response_type: 'code',
      scope: record.options.scopes.join(' '),
      state,
      nonce,
      code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
    });
    return { authorizationUrl: url.href, bindingCookie: `${tenantId}.${binding}`, maxAgeSeconds: LOGIN_STATE_TTL_MS / 1000 };
  }

  /**
   * Completes a sign-in from the IdP's redirect: `params` is the callback's query. Every refusal is
   * audited in the tenant (when the binding cookie names one) and thrown as `sso-failed`.
   */
  async complete(input: {
    bindingCookie: string | undefined;
    params: URLSearchParams;
    context: RequestContext;
    userAgent?: string | null;
  }): Promise<OidcSignedIn> {
    const binding = parseBinding(input.bindingCookie);
    if (!binding) {
      throw new DomainError('sso-failed', 'This sign-in was not started in this browser (or took too long); start again.', {
        reason: 'missing-binding',
      });
    }
    const { tenantId } = binding;
    let data: TenantData;
    try {
      data = await this.tenants.data(tenantId);
    } catch (error) {
      if (error instanceof DomainError && error.code === 'tenant-not-found') {
        throw new DomainError('sso-failed', 'This sign-in was not started here; start again.', { reason: 'missing-binding' });
      }
      throw error;
    }
    let subject = 'unknown';
    let issuer: string | undefined;
    try {
      const state = input.params.get('state');
      if (!state) throw new SignInRefused('missing-state', 'The identity provider answered without a state.');
      const login = await data.oidcLoginStates.take(hashSecret(state));
      if (!login) throw new SignInRefused('unknown-state', 'This sign-in is unknown or was already used; start again.');
      if (!constantTimeEqual(login.bindingHash, hashSecret(binding.secret))) {
        throw new SignInRefused('browser-mismatch', 'This sign-in was started in another browser; start again.');
      }
      if (this.clock.now() >= login.expiresAt) throw new SignInRefused('expired', 'This sign-in took too long; start again.');
      const error = input.params.get('error');
      if (error) {
        const description = input.params.get('error_description');
        throw new SignInRefused('idp-error', `The identity provider refused: ${error}${description ? ` (${description})` : ''}.`);
      }
      const record = await data.identityProvider.get();
      if (!record) throw new SignInRefused('not-configured', 'Single sign-on was turned off for this tenant.');
      issuer = record.issuer;
      const config = await this.configuration(tenantId, record);
      const currentUrl = new URL(login.redirectUri);
      for (const [key, value] of input.params) currentUrl.searchParams.append(key, value);
      let claims: Claims;
      try {
        const tokens = await client.authorizationCodeGrant(config, currentUrl, {
          expectedState: state,
          expectedNonce: login.nonce,
          pkceCodeVerifier: login.codeVerifier,
          idTokenExpected: true,
        });
        const idToken = tokens.claims();
        if (!idToken) throw new Error('the token response has no ID token');
        subject = idToken.sub;
        // Providers that follow OIDC Core §5.4 return profile and group claims from userinfo only.
        const userinfo =
          config.serverMetadata().userinfo_endpoint && tokens.access_token
            ? await client.fetchUserInfo(config, tokens.access_token, idToken.sub)
            : {};
        claims = { ...userinfo, ...idToken };
      } catch (error) {
        throw new SignInRefused('token-validation', `The identity provider's answer was refused: ${describeError(error)}.`);
      }
      // Two first sign-ins of one subject at once (two tabs, a double click): the one that loses the
      // race to create the user finds it linked on its second try.
      const user = await this.provisionUser(data, record, subject, claims, input.context).catch((error: unknown) => {
        if (error instanceof StoreConflictError) return this.provisionUser(data, record, subject, claims, input.context);
        throw error;
      });
      const started = await this.sessions.start(tenantId, user, {
        method: 'oidc',
        mfaSatisfied: record.options.trustIdpMfa || assertsMfa(claims),
        ...withLifetime(rememberMeLifetime(record.options, claims)),
        context: input.context,
        userAgent: input.userAgent ?? null,
      });
      await data.federatedIdentities.touch(record.issuer, subject, started.session.createdAt);
      return {
        cookie: started.cookie,
        csrfToken: started.csrfToken,
        returnTo: login.returnTo,
        absoluteExpiresAt: started.session.absoluteExpiresAt,
        mfaPending: started.mfaPending,
        user,
      };
    } catch (error) {
      if (!(error instanceof SignInRefused)) throw error;
      await data.transaction((trx) =>
        recordAudit(trx, anonymous(tenantId, subject, input.context), this.clock, {
          activity: 'Sign in with SSO',
          category: 'SignIn',
          operation: 'signIn',
          result: 'failure',
          targets: [
            {
              type: 'identityProvider',
              id: tenantId,
              ...(issuer ? { name: issuer } : {}),
              modifiedProperties: [{ name: 'reason', oldValue: null, newValue: `${error.reason}: ${error.message}` }],
            },
          ],
        }),
      );
      throw new DomainError('sso-failed', error.message, { reason: error.reason });
    }
  }

  /**
   * Finds the user linked to issuer + subject, links a SCIM-provisioned user whose `externalId` is
   * this subject (or Entra's `oid`), or creates one; then applies the group and role mappings. One
   * transaction, audited; a name taken by an unlinked account is refused, not merged.
   */
  private async provisionUser(
    data: TenantData,
    record: IdentityProviderRecord,
    subject: string,
    claims: Claims,
    context: RequestContext,
  ): Promise<UserRecord> {
    const profile = profileOf(claims, subject);
    const now = this.clock.now();
    const { options } = record;
    return data.transaction(async (trx) => {
      const link = await trx.federatedIdentities.find(record.issuer, subject);
      let before = link && (await trx.users.get(link.userId));
      let user: UserRecord;
      if (before) {
        user =
          before.source === 'federated'
            ? { ...before, displayName: profile.displayName ?? before.displayName, email: profile.email ?? before.email }
            : before;
      } else {
        const existing = await trx.users.findByUserName(profile.userName);
        const oid = typeof claims['oid'] === 'string' ? claims['oid'] : undefined;
        if (existing) {
          const provisioned = existing.source === 'scim' && existing.externalId !== null && [subject, oid].includes(existing.externalId);
          if (!provisioned) {
            throw new SignInRefused(
              'account-conflict',
              `An account named "${profile.userName}" exists and is not linked to this identity provider; ask an administrator.`,
            );
          }
          before = existing;
          user = existing;
        } else {
          user = {
            id: randomUUID(),
            userName: profile.userName,
            displayName: profile.displayName,
            email: profile.email,
            phone: null,
            source: 'federated',
            externalId: subject,
            active: true,
            passwordHash: null,
            passwordChangedAt: null,
            lastSignInAt: null,
            createdAt: now,
            updatedAt: now,
          };
          await trx.users.insert(user);
        }
        await trx.federatedIdentities.insert({ issuer: record.issuer, subject, userId: user.id, createdAt: now, lastSignInAt: now });
      }
      if (!user.active) throw new SignInRefused('account-deactivated', 'This account is deactivated; ask an administrator.');
      if (before && (user.displayName !== before.displayName || user.email !== before.email)) {
        user = { ...user, updatedAt: now };
        await trx.users.update(user);
      }
      const mapped = await this.applyMappings(trx, user.id, options, groupValues(options, claims), now);
      const profileChanges = changedProperties(before && userView(before), userView(user), USER_AUDIT_REDACTED);
      if (!before || profileChanges.length > 0 || mapped.length > 0) {
        // The user, arriving from the IdP, is the actor of their own provisioning.
        await recordAudit(trx, userActor(data.tenantId, user, null, [], context), this.clock, {
          activity: before ? 'Update user from SSO' : 'Create user from SSO',
          category: 'UserManagement',
          operation: before ? 'update' : 'create',
          targets: [{ type: 'user', id: user.id, modifiedProperties: [...profileChanges, ...mapped] }],
        });
      }
      return user;
    });
  }

  /**
   * Group membership and role assignments the mappings manage: a mapped group or role is granted
   * while the groups claim holds a matching value and withdrawn when it no longer does. Groups and
   * roles no mapping names are left alone.
   */
  private async applyMappings(
    trx: TenantData,
    userId: string,
    options: IdentityProviderRecord['options'],
    values: ReadonlySet<string>,
    now: number,
  ): Promise<{ name: string; oldValue: unknown; newValue: unknown }[]> {
    const changes: { name: string; oldValue: unknown; newValue: unknown }[] = [];
    const wantedGroups = new Map<string, boolean>();
    for (const m of options.groupMappings) wantedGroups.set(m.group, (wantedGroups.get(m.group) ?? false) || values.has(m.claimValue));
    const memberOf = new Set(await trx.groups.groupsOfUser(userId));
    for (const [name, wanted] of wantedGroups) {
      let group = await trx.groups.findByDisplayName(name);
      if (!group && wanted && options.createMissingGroups) {
        group = {
          id: randomUUID(),
          displayName: name,
          description: 'Created by single sign-on',
          source: 'cloud',
          externalId: null,
          createdAt: now,
          updatedAt: now,
        };
        await trx.groups.insert(group);
        changes.push({ name: `group:${name}`, oldValue: null, newValue: 'created' });
      }
      if (!group) continue;
      if (wanted && !memberOf.has(group.id)) {
        await trx.groups.addMembers(group.id, [userId]);
        changes.push({ name: `group:${name}`, oldValue: 'not a member', newValue: 'member' });
      } else if (!wanted && memberOf.has(group.id)) {
        await trx.groups.removeMembers(group.id, [userId]);
        changes.push({ name: `group:${name}`, oldValue: 'member', newValue: 'not a member' });
      }
    }
    const wantedRoles = new Map<string, boolean>();
    for (const m of options.roleMappings) wantedRoles.set(m.role, (wantedRoles.get(m.role) ?? false) || values.has(m.claimValue));
    const direct = (await trx.roleAssignments.forPrincipals(userId, [])).filter((a) => a.principalKind === 'user' && a.scopeTags === null);
    for (const [role, wanted] of wantedRoles) {
      const held = direct.filter((a) => a.role === role);
      if (wanted && held.length === 0) {
        await trx.roleAssignments.insert({
          id: randomUUID(),
          role,
          principalKind: 'user',
          principalId: userId,
          scopeTags: null,
          createdAt: now,
        });
        changes.push({ name: `role:${role}`, oldValue: null, newValue: 'assigned' });
      } else if (!wanted && held.length > 0) {
        for (const a of held) await trx.roleAssignments.delete(a.id);
        changes.push({ name: `role:${role}`, oldValue: 'assigned', newValue: null });
      }
    }
    return changes;
  }
}

function userView(user: UserRecord): Record<string, unknown> {
  return { userName: user.userName, displayName: user.displayName, email: user.email, source: user.source, externalId: user.externalId };
}

function withLifetime(ms: number | undefined): { absoluteLifetimeMs?: number } {
  return ms === undefined ? {} : { absoluteLifetimeMs: ms };
}
