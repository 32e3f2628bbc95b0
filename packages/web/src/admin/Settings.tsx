/**
 * Tenant settings: the organization (privacy statement text and link, support contact, branding),
 * sign-in (MFA for admins, session timeouts, password length), single sign-on (the tenant's OpenID
 * Connect IdP), the SCIM token (shown once), and operators' lockbox access requests.
 */
import { useEffect, useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { Static } from 'typebox';
import type {
  AccessRequestListSchema,
  IdentityProviderInput,
  IdentityProviderSchema,
  IdentitySettingsSchema,
  ScimTokenSchema,
  TenantSettingsSchema,
  TenantSettingsUpdate,
} from '@custos/shared';
import { ApiError, del, formatTime, get, post, put } from '../api';
import { can, useSession } from '../common/session';
import { Check, described, errorText, Field, Outcome, serverFieldErrors, ShownOnce, textOn, type FieldErrors } from '../common/forms';
import { intProblem } from './options';

type TenantSettings = Static<typeof TenantSettingsSchema>;
type IdentitySettings = Static<typeof IdentitySettingsSchema>;
type IdentityProvider = Static<typeof IdentityProviderSchema>;
type AccessRequest = Static<typeof AccessRequestListSchema>['items'][number];

const COLOR = /^#[0-9a-fA-F]{6}$/;

function isUrl(text: string): boolean {
  try {
    const u = new URL(text);
    return u.protocol === 'https:' || u.protocol === 'http:';
  } catch {
    return false;
  }
}

function OrganizationSettings(props: { writable: boolean }) {
  const queryClient = useQueryClient();
  const settings = useQuery({ queryKey: ['tenant-settings'], queryFn: () => get<TenantSettings>('/api/v1/tenant/settings') });
  const [text, setText] = useState('');
  const [url, setUrl] = useState('');
  const [support, setSupport] = useState('');
  const [displayName, setDisplayName] = useState('');
  const [accent, setAccent] = useState('');
  const [errors, setErrors] = useState<FieldErrors>({});
  const [outcome, setOutcome] = useState<{ ok?: string; error?: string }>({});
  useEffect(() => {
    const s = settings.data;
    if (!s) return;
    setText(s.privacyStatement.text ?? '');
    setUrl(s.privacyStatement.url ?? '');
    setSupport(s.supportContact ?? '');
    setDisplayName(s.branding.displayName ?? '');
    setAccent(s.branding.accentColor ?? '');
  }, [settings.data]);
  const save = useMutation({
    mutationFn: (body: TenantSettingsUpdate) => put<TenantSettings>('/api/v1/tenant/settings', body),
    onSuccess: (s) => {
      queryClient.setQueryData(['tenant-settings'], s);
      void queryClient.invalidateQueries({ queryKey: ['portal-info'] });
      setOutcome({ ok: `Saved. Privacy statement version ${s.privacyStatement.version}.` });
    },
    onError: (e) => {
      setErrors(serverFieldErrors(e, ['privacyStatementText', 'privacyStatementUrl', 'supportContact', 'branding']));
      setOutcome({ error: errorText(e) });
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const found: FieldErrors = {};
    if (text.length > 20_000) found['privacyStatementText'] = 'At most 20,000 characters.';
    if (url && (!isUrl(url) || url.length > 2048)) found['privacyStatementUrl'] = 'A full link, starting with https://.';
    if (support.length > 500) found['supportContact'] = 'At most 500 characters.';
    if (displayName.length > 100) found['branding.displayName'] = 'At most 100 characters.';
    if (accent && !COLOR.test(accent)) found['branding.accentColor'] = 'A colour as #rrggbb.';
    setErrors(found);
    setOutcome({});
    if (Object.keys(found).length) return;
    save.mutate({
      privacyStatementText: text.trim() || null,
      privacyStatementUrl: url.trim() || null,
      supportContact: support.trim() || null,
      branding: { displayName: displayName.trim() || null, accentColor: accent || null },
    });
  };
  return (
    <form className="panel" onSubmit={submit} aria-labelledby="org-title" noValidate>
      <h2 id="org-title">Organization</h2>
      {settings.data && (
        <p className="muted">
          {settings.data.name} · {settings.data.country} · data region {settings.data.region}
        </p>
      )}
      <fieldset className="plain" disabled={!props.writable}>
        <Field id="s-privacy-text" label="Privacy statement" error={errors['privacyStatementText']}>
          <textarea
            id="s-privacy-text"
            rows={5}
            value={text}
            onChange={(e) => setText(e.target.value)}
            {...described('s-privacy-text', errors['privacyStatementText'])}
          />
        </Field>
        <div className="form-grid">
          <Field id="s-privacy-url" label="Privacy statement link" error={errors['privacyStatementUrl']}>
            <input
              id="s-privacy-url"
              type="url"
              value={url}
              onChange={(e) => setUrl(e.target.value)}
              placeholder="https://example.com/privacy"
              {...described('s-privacy-url', errors['privacyStatementUrl'])}
            />
          </Field>
          <Field id="s-support" label="Support contact" error={errors['supportContact']}>
            <input
              id="s-support"
              value={support}
              onChange={(e) => setSupport(e.target.value)}
              {...described('s-support', errors['supportContact'])}
            />
          </Field>
          <Field id="s-brand-name" label="Display name in the portals" error={errors['branding.displayName'] ?? errors['branding']}>
            <input
              id="s-brand-name"
              value={displayName}
              onChange={(e) => setDisplayName(e.target.value)}
              {...described('s-brand-name', errors['branding.displayName'])}
            />
          </Field>
          <Field id="s-accent" label="Accent colour" error={errors['branding.accentColor']} hint="#rrggbb; empty for the default.">
            <span className="row">
              <input
                id="s-accent"
                value={accent}
                placeholder="#0b57d0"
                onChange={(e) => setAccent(e.target.value)}
                {...described('s-accent', errors['branding.accentColor'], true)}
              />
              <input
                type="color"
                aria-label="Pick the accent colour"
                value={COLOR.test(accent) ? accent : '#0b57d0'}
                onChange={(e) => setAccent(e.target.value)}
              />
              {COLOR.test(accent) && (
                <span className="swatch" style={{ background: accent, color: textOn(accent) }}>
                  Sample
                </span>
              )}
            </span>
          </Field>
        </div>
        {props.writable && (
          <p>
            <button className="primary" type="submit" disabled={save.isPending}>
              Save organization settings
            </button>
          </p>
        )}
      </fieldset>
      <Outcome error={outcome.error ?? null} ok={outcome.ok ?? null} />
    </form>
  );
}

function SignInSettings(props: { writable: boolean }) {
  const queryClient = useQueryClient();
  const settings = useQuery({ queryKey: ['identity-settings'], queryFn: () => get<IdentitySettings>('/api/v1/tenant/identity-settings') });
  const [mfa, setMfa] = useState(true);
  const [idle, setIdle] = useState('');
  const [absolute, setAbsolute] = useState('');
  const [minLength, setMinLength] = useState('');
  const [errors, setErrors] = useState<FieldErrors>({});
  const [outcome, setOutcome] = useState<{ ok?: string; error?: string }>({});
  useEffect(() => {
    const s = settings.data;
    if (!s) return;
    setMfa(s.mfaRequiredForAdmins);
    setIdle(String(s.sessionIdleMinutes));
    setAbsolute(String(s.sessionAbsoluteHours));
    setMinLength(String(s.passwordMinLength));
  }, [settings.data]);
  const save = useMutation({
    mutationFn: (body: IdentitySettings) => put<IdentitySettings>('/api/v1/tenant/identity-settings', body),
    onSuccess: (s) => {
      queryClient.setQueryData(['identity-settings'], s);
      setOutcome({ ok: 'Saved.' });
    },
    onError: (e) => {
      setErrors(serverFieldErrors(e, ['sessionIdleMinutes', 'sessionAbsoluteHours', 'passwordMinLength']));
      setOutcome({ error: errorText(e) });
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const found: FieldErrors = {};
    const mark = (k: string, m: string | undefined) => m && (found[k] = m);
    mark('sessionIdleMinutes', intProblem(idle, 5, 1440, true));
    mark('sessionAbsoluteHours', intProblem(absolute, 1, 720, true));
    mark('passwordMinLength', intProblem(minLength, 8, 128, true));
    setErrors(found);
    setOutcome({});
    if (Object.keys(found).length) return;
    save.mutate({
      mfaRequiredForAdmins: mfa,
      sessionIdleMinutes: Number(idle),
      sessionAbsoluteHours: Number(absolute),
      passwordMinLength: Number(minLength),
    });
  };
  return (
    <form className="panel" onSubmit={submit} aria-labelledby="signin-settings-title" noValidate>
      <h2 id="signin-settings-title">Sign-in</h2>
      <fieldset className="plain" disabled={!props.writable}>
        <Check id="s-mfa" label="Admins must use a second factor" checked={mfa} onChange={setMfa} />
        <div className="form-grid">
          <Field id="s-idle" label="Sign out after inactivity (minutes)" error={errors['sessionIdleMinutes']}>
            <input
              id="s-idle"
              inputMode="numeric"
              value={idle}
              onChange={(e) => setIdle(e.target.value)}
              {...described('s-idle', errors['sessionIdleMinutes'])}
            />
          </Field>
          <Field id="s-absolute" label="Session lifetime (hours)" error={errors['sessionAbsoluteHours']}>
            <input
              id="s-absolute"
              inputMode="numeric"
              value={absolute}
              onChange={(e) => setAbsolute(e.target.value)}
              {...described('s-absolute', errors['sessionAbsoluteHours'])}
            />
          </Field>
          <Field id="s-pwmin" label="Password minimum length" error={errors['passwordMinLength']}>
            <input
              id="s-pwmin"
              inputMode="numeric"
              value={minLength}
              onChange={(e) => setMinLength(e.target.value)}
              {...described('s-pwmin', errors['passwordMinLength'])}
            />
          </Field>
        </div>
        {props.writable && (
          <p>
            <button className="primary" type="submit" disabled={save.isPending}>
              Save sign-in settings
            </button>
          </p>
        )}
      </fieldset>
      <Outcome error={outcome.error ?? null} ok={outcome.ok ?? null} />
    </form>
  );
}

function SingleSignOn(props: { writable: boolean }) {
  const queryClient = useQueryClient();
  const idp = useQuery({
    queryKey: ['identity-provider'],
    queryFn: async () => {
      try {
        return await get<IdentityProvider>('/api/v1/identity-provider');
      } catch (e) {
        if (e instanceof ApiError && e.status === 404) return null;
        throw e;
      }
    },
  });
  const [issuer, setIssuer] = useState('');
  const [clientId, setClientId] = useState('');
  const [clientSecret, setClientSecret] = useState('');
  const [scopes, setScopes] = useState('');
  const [groupsClaim, setGroupsClaim] = useState('');
  const [trustIdpMfa, setTrustIdpMfa] = useState(false);
  const [createMissingGroups, setCreateMissingGroups] = useState(false);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [outcome, setOutcome] = useState<{ ok?: string; error?: string }>({});
  useEffect(() => {
    const p = idp.data;
    if (!p) return;
    setIssuer(p.issuer);
    setClientId(p.clientId);
    setScopes(p.scopes.join(' '));
    setGroupsClaim(p.groupsClaim);
    setTrustIdpMfa(p.trustIdpMfa);
    setCreateMissingGroups(p.createMissingGroups);
  }, [idp.data]);
  const save = useMutation({
    mutationFn: (body: IdentityProviderInput) => put<IdentityProvider>('/api/v1/identity-provider', body),
    onSuccess: (p) => {
      queryClient.setQueryData(['identity-provider'], p);
      setClientSecret('');
      setOutcome({ ok: 'Single sign-on is on.' });
    },
    onError: (e) => {
      setErrors(serverFieldErrors(e, ['issuer', 'clientId', 'clientSecret', 'scopes', 'groupsClaim']));
      setOutcome({ error: errorText(e) });
    },
  });
  const remove = useMutation({
    mutationFn: () => del('/api/v1/identity-provider'),
    onSuccess: () => {
      queryClient.setQueryData(['identity-provider'], null);
      setOutcome({ ok: 'Single sign-on is off.' });
    },
    onError: (e) => setOutcome({ error: errorText(e) }),
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const found: FieldErrors = {};
    if (!isUrl(issuer)) found['issuer'] = 'The issuer URL, e.g. https://login.example.com/realms/acme.';
    if (!clientId.trim()) found['clientId'] = 'Required.';
    if (!idp.data?.clientSecretSet && !clientSecret) found['clientSecret'] = 'Required the first time.';
    const scopeList = scopes.split(/\s+/).filter(Boolean);
    if (scopeList.length > 32 || scopeList.some((s) => !/^[\x21\x23-\x5B\x5D-\x7E]{1,128}$/.test(s)))
      found['scopes'] = 'Scope names separated by spaces.';
    setErrors(found);
    setOutcome({});
    if (Object.keys(found).length) return;
    save.mutate({
      issuer: issuer.trim(),
      clientId: clientId.trim(),
      ...(clientSecret ? { clientSecret } : {}),
      ...(scopeList.length ? { scopes: scopeList } : {}),
      ...(groupsClaim.trim() ? { groupsClaim: groupsClaim.trim() } : {}),
      trustIdpMfa,
      createMissingGroups,
      // Not edited here (yet): sent back as they are, so saving this form keeps them.
      ...(idp.data ? { groupMappings: idp.data.groupMappings, roleMappings: idp.data.roleMappings, rememberMe: idp.data.rememberMe } : {}),
    });
  };
  return (
    <form className="panel" onSubmit={submit} aria-labelledby="sso-title" noValidate>
      <h2 id="sso-title">Single sign-on (OpenID Connect)</h2>
      {idp.data ? (
        <dl className="props">
          <dt>Redirect URI to register</dt>
          <dd>
            <code>{idp.data.redirectUri}</code>
          </dd>
          <dt>Sign-in link</dt>
          <dd>
            <code>{idp.data.signInUrl}</code>
          </dd>
        </dl>
      ) : (
        idp.isSuccess && <p className="muted">Not set up: users sign in with a Custos password.</p>
      )}
      <fieldset className="plain" disabled={!props.writable}>
        <div className="form-grid">
          <Field id="sso-issuer" label="Issuer URL" error={errors['issuer']}>
            <input
              id="sso-issuer"
              type="url"
              value={issuer}
              onChange={(e) => setIssuer(e.target.value)}
              {...described('sso-issuer', errors['issuer'])}
            />
          </Field>
          <Field id="sso-client" label="Client ID" error={errors['clientId']}>
            <input
              id="sso-client"
              value={clientId}
              onChange={(e) => setClientId(e.target.value)}
              {...described('sso-client', errors['clientId'])}
            />
          </Field>
          <Field
            id="sso-secret"
            label="Client secret"
            error={errors['clientSecret']}
            {...(idp.data?.clientSecretSet ? { hint: 'Set. Leave empty to keep it.' } : {})}
          >
            <input
              id="sso-secret"
              type="password"
              autoComplete="new-password"
              value={clientSecret}
              onChange={(e) => setClientSecret(e.target.value)}
              {...described('sso-secret', errors['clientSecret'], Boolean(idp.data?.clientSecretSet))}
            />
          </Field>
          <Field id="sso-scopes" label="Scopes" error={errors['scopes']}>
            <input
              id="sso-scopes"
              value={scopes}
              placeholder="openid email profile"
              onChange={(e) => setScopes(e.target.value)}
              {...described('sso-scopes', errors['scopes'])}
            />
          </Field>
          <Field id="sso-groups" label="Groups claim" error={errors['groupsClaim']}>
            <input id="sso-groups" value={groupsClaim} placeholder="groups" onChange={(e) => setGroupsClaim(e.target.value)} />
          </Field>
        </div>
        <div className="row">
          <Check id="sso-trust-mfa" label="Trust the IdP's multi-factor sign-in" checked={trustIdpMfa} onChange={setTrustIdpMfa} />
          <Check
            id="sso-create-groups"
            label="Create groups named in the claim"
            checked={createMissingGroups}
            onChange={setCreateMissingGroups}
          />
        </div>
        {props.writable && (
          <p className="row">
            <button className="primary" type="submit" disabled={save.isPending}>
              Save single sign-on
            </button>
            {idp.data && (
              <button
                type="button"
                className="danger"
                onClick={() => confirm('Turn single sign-on off? Signed-in users keep their sessions.') && remove.mutate()}
              >
                Turn off single sign-on
              </button>
            )}
          </p>
        )}
      </fieldset>
      <Outcome error={outcome.error ?? null} ok={outcome.ok ?? null} />
    </form>
  );
}

function ScimToken() {
  const [created, setCreated] = useState<Static<typeof ScimTokenSchema> | null>(null);
  const [outcome, setOutcome] = useState<{ ok?: string; error?: string }>({});
  const create = useMutation({
    mutationFn: () => post<Static<typeof ScimTokenSchema>>('/api/v1/scim/token'),
    onSuccess: (t) => (setCreated(t), setOutcome({})),
    onError: (e) => setOutcome({ error: errorText(e) }),
  });
  const revoke = useMutation({
    mutationFn: () => del('/api/v1/scim/token'),
    onSuccess: () => (setCreated(null), setOutcome({ ok: 'The SCIM token is revoked.' })),
    onError: (e) => setOutcome({ error: errorText(e) }),
  });
  return (
    <section className="panel" aria-labelledby="scim-title">
      <h2 id="scim-title">Directory sync (SCIM)</h2>
      <p className="muted">The IdP provisions users and groups with this token. A new token replaces the old one at once.</p>
      <p className="row">
        <button
          onClick={() => confirm('Create a new SCIM token? The current one stops working.') && create.mutate()}
          disabled={create.isPending}
        >
          Create SCIM token
        </button>
        <button className="danger" onClick={() => confirm('Revoke the SCIM token? Provisioning stops.') && revoke.mutate()}>
          Revoke SCIM token
        </button>
      </p>
      {created && (
        <ShownOnce title="SCIM token" value={created.token} testId="scim-token" onDone={() => setCreated(null)}>
          <p>
            SCIM base URL: <code>{created.scimUrl}</code>
          </p>
        </ShownOnce>
      )}
      <Outcome error={outcome.error ?? null} ok={outcome.ok ?? null} />
    </section>
  );
}

function AccessRequests() {
  const queryClient = useQueryClient();
  const requests = useQuery({
    queryKey: ['access-requests'],
    queryFn: () => get<Static<typeof AccessRequestListSchema>>('/api/v1/access-requests'),
    refetchInterval: 30_000,
  });
  const [error, setError] = useState<string | null>(null);
  const decide = useMutation({
    mutationFn: ({ id, decision }: { id: string; decision: 'approve' | 'deny' }) => post(`/api/v1/access-requests/${id}/${decision}`),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ['access-requests'] }),
    onError: (e) => setError(errorText(e)),
  });
  const items: AccessRequest[] = requests.data?.items ?? [];
  return (
    <section className="panel table-wrap" aria-labelledby="lockbox-title">
      <h2 id="lockbox-title">Operator access requests (lockbox)</h2>
      <p className="muted">Service operators see this organization's data only while a request you approved lasts.</p>
      {requests.isSuccess && items.length === 0 && <p className="muted">No requests.</p>}
      {items.length > 0 && (
        <table aria-label="Access requests">
          <thead>
            <tr>
              <th>Operator</th>
              <th>Reason</th>
              <th>Role</th>
              <th>For</th>
              <th>Status</th>
              <th>Requested</th>
              <th>
                <span className="sr-only">Decision</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {items.map((r) => (
              <tr key={r.id}>
                <td>{r.operatorEmail}</td>
                <td className="wrap">{r.reason}</td>
                <td>{r.role}</td>
                <td>{r.durationMinutes} min</td>
                <td>
                  {r.status}
                  {r.expiresAt && r.status === 'approved' ? ` until ${formatTime(r.expiresAt)}` : ''}
                </td>
                <td>{formatTime(r.requestedAt)}</td>
                <td className="cell-actions">
                  {r.status === 'pending' && (
                    <>
                      <button className="primary" onClick={() => decide.mutate({ id: r.id, decision: 'approve' })}>
                        Approve<span className="sr-only"> request of {r.operatorEmail}</span>
                      </button>
                      <button onClick={() => decide.mutate({ id: r.id, decision: 'deny' })}>
                        Deny<span className="sr-only"> request of {r.operatorEmail}</span>
                      </button>
                    </>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <Outcome error={error} />
    </section>
  );
}

export function Settings() {
  const { session } = useSession();
  const writable = can(session, 'tenant.write');
  return (
    <main>
      <h1>Settings</h1>
      <OrganizationSettings writable={writable} />
      <SignInSettings writable={writable} />
      <SingleSignOn writable={writable} />
      {writable && <ScimToken />}
      {can(session, 'lockbox.approve') && <AccessRequests />}
    </main>
  );
}
