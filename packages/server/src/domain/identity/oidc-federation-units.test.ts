/**
 * The pure parts of federation: the client-secret box, the SCIM filter subset, the claims Custos
 * reads from an ID token, and the returnTo rule.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { assertsMfa, groupValues, profileOf, rememberMeLifetime } from './oidc-claims.js';
import { OidcSecretBox } from './oidc-secret-box.js';
import { safeReturnTo } from './oidc-sign-in-service.js';
import type { IdentityProviderOptions } from './oidc-stores.js';
import { ScimError } from './scim-errors.js';
import { parseScimFilter } from './scim-filter.js';

const OPTIONS: IdentityProviderOptions = {
  scopes: ['openid'],
  groupsClaim: 'roles',
  groupMappings: [],
  createMissingGroups: false,
  roleMappings: [],
  trustIdpMfa: false,
  rememberMe: { claim: 'kmsi', absoluteHours: 48 },
};

describe('OIDC client secret box', () => {
  const box = new OidcSecretBox(randomBytes(32));
  test('opens what it sealed, for the same tenant only, and detects tampering', () => {
    const sealed = box.seal('tenant-a', 's3cret');
    assert.notEqual(box.seal('tenant-a', 's3cret'), sealed, 'a fresh IV each time');
    assert.equal(box.open('tenant-a', sealed), 's3cret');
    assert.throws(() => box.open('tenant-b', sealed));
    const parts = sealed.split('.');
    parts[3] = Buffer.from('tampered').toString('base64url');
    assert.throws(() => box.open('tenant-a', parts.join('.')));
    assert.throws(() => new OidcSecretBox(randomBytes(16)));
  });
});

describe('SCIM filter subset', () => {
  const users = ['userName', 'externalId', 'id'] as const;
  test('one eq comparison on an allowed attribute, names case-insensitive, escapes decoded', () => {
    assert.deepEqual(parseScimFilter('userName eq "a@b.example"', users), { attribute: 'userName', value: 'a@b.example' });
    assert.deepEqual(parseScimFilter('USERNAME EQ "x"', users), { attribute: 'userName', value: 'x' });
    assert.deepEqual(parseScimFilter('urn:ietf:params:scim:schemas:core:2.0:User:externalId eq "q\\"uote"', users), {
      attribute: 'externalId',
      value: 'q"uote',
    });
    assert.equal(parseScimFilter(undefined, users), undefined);
    assert.equal(parseScimFilter('  ', users), undefined);
  });
  test('everything else is invalidFilter', () => {
    for (const filter of ['userName co "a"', 'displayName eq "a"', 'userName eq "a" and active eq true', 'userName eq a', 'userName pr']) {
      assert.throws(
        () => parseScimFilter(filter, users),
        (e: unknown) => e instanceof ScimError && e.status === 400 && e.scimType === 'invalidFilter',
        filter,
      );
    }
  });
});

describe('ID token claims', () => {
  test('MFA from amr or acr', () => {
    assert.equal(assertsMfa({ amr: ['pwd', 'mfa'] }), true);
    assert.equal(assertsMfa({ amr: ['hwk'] }), true);
    assert.equal(assertsMfa({ amr: ['pwd'] }), false);
    assert.equal(assertsMfa({ acr: 'http://schemas.openid.net/pape/policies/2007/06/multi-factor' }), true);
    assert.equal(assertsMfa({}), false);
  });
  test('remember me by the configured claim only', () => {
    assert.equal(rememberMeLifetime(OPTIONS, { kmsi: true }), 48 * 3_600_000);
    assert.equal(rememberMeLifetime(OPTIONS, { kmsi: 'True' }), 48 * 3_600_000);
    assert.equal(rememberMeLifetime(OPTIONS, { kmsi: false }), undefined);
    assert.equal(rememberMeLifetime(OPTIONS, { remember_me: true }), undefined);
    assert.equal(rememberMeLifetime({ ...OPTIONS, rememberMe: null }, { kmsi: true }), undefined);
  });
  test('groups from the configured claim, a string or a list', () => {
    assert.deepEqual(groupValues(OPTIONS, { roles: ['a', 'b', 3] }), new Set(['a', 'b']));
    assert.deepEqual(groupValues(OPTIONS, { roles: 'a' }), new Set(['a']));
    assert.deepEqual(groupValues(OPTIONS, { groups: ['a'] }), new Set());
  });
  test('profile: an unverified email is not used, names without spaces', () => {
    assert.deepEqual(profileOf({ email: 'x@example.com', email_verified: false }, 'sub-1'), {
      userName: 'sub-1',
      displayName: null,
      email: null,
    });
    assert.deepEqual(
      profileOf({ preferred_username: 'Jane Doe', email: 'jane@example.com', given_name: 'Jane', family_name: 'Doe' }, 's'),
      {
        userName: 'jane@example.com',
        displayName: 'Jane Doe',
        email: 'jane@example.com',
      },
    );
  });
});

describe('returnTo', () => {
  test('only paths on this site', () => {
    assert.equal(safeReturnTo(undefined), '/');
    assert.equal(safeReturnTo('/devices?x=1'), '/devices?x=1');
    for (const bad of ['https://evil.example', '//evil.example', '/\\evil.example', 'devices', '/a\nb']) {
      assert.throws(() => safeReturnTo(bad), bad);
    }
  });
});
