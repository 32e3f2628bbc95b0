/**
 * API tokens: create one for automation (a role, optional scope tags, an expiry; the token is shown
 * once, Custos keeps only its hash), list them with their last use, revoke.
 */
import { useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { Static } from 'typebox';
import type { ApiTokenCreatedSchema, ApiTokenListSchema } from '@custos/shared';
import { del, formatTime, get, post } from '../api';
import { can, useSession } from '../common/session';
import { described, errorText, Field, Outcome, serverFieldErrors, ShownOnce, type FieldErrors } from '../common/forms';
import { intProblem } from './options';
import { parseScopeTags, scopeTagProblem, useRoles } from './Roles';

type ApiToken = Static<typeof ApiTokenListSchema>['items'][number];
type ApiTokenCreated = Static<typeof ApiTokenCreatedSchema>;

function CreateToken() {
  const queryClient = useQueryClient();
  const roles = useRoles();
  const [name, setName] = useState('');
  const [role, setRole] = useState('Read Only Operator');
  const [tags, setTags] = useState('');
  const [days, setDays] = useState('90');
  const [errors, setErrors] = useState<FieldErrors>({});
  const [error, setError] = useState<string | null>(null);
  const [created, setCreated] = useState<ApiTokenCreated | null>(null);
  const create = useMutation({
    mutationFn: () =>
      post<ApiTokenCreated>('/api/v1/api-tokens', {
        role,
        ...(name.trim() ? { name: name.trim() } : {}),
        scopeTags: parseScopeTags(tags),
        expiresInDays: Number(days),
      }),
    onSuccess: (t) => {
      setCreated(t);
      setName('');
      setTags('');
      void queryClient.invalidateQueries({ queryKey: ['api-tokens'] });
    },
    onError: (e) => {
      setErrors(serverFieldErrors(e, ['role', 'name', 'scopeTags', 'expiresInDays']));
      setError(errorText(e, 'Could not create the token.'));
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    const found: FieldErrors = {};
    if (!role) found['role'] = 'Pick a role.';
    if (name.length > 256) found['name'] = 'At most 256 characters.';
    const tagProblem = scopeTagProblem(tags);
    if (tagProblem) found['scopeTags'] = tagProblem;
    const dayProblem = intProblem(days, 1, 730, true);
    if (dayProblem) found['expiresInDays'] = dayProblem;
    setErrors(found);
    if (!Object.keys(found).length) create.mutate();
  };
  return (
    <>
      <form className="panel" onSubmit={submit} aria-labelledby="new-token-title" noValidate>
        <h2 id="new-token-title">New API token</h2>
        <div className="form-grid">
          <Field id="t-name" label="Name" error={errors['name']}>
            <input id="t-name" value={name} placeholder="e.g. inventory export" onChange={(e) => setName(e.target.value)} />
          </Field>
          <Field id="t-role" label="Role" error={errors['role']}>
            <select id="t-role" value={role} onChange={(e) => setRole(e.target.value)} {...described('t-role', errors['role'])}>
              {roles.data?.items.map((r) => (
                <option key={r.id} value={r.id}>
                  {r.name}
                </option>
              ))}
            </select>
          </Field>
          <Field id="t-tags" label="Scope tags" error={errors['scopeTags']} hint="Empty: every object.">
            <input id="t-tags" value={tags} onChange={(e) => setTags(e.target.value)} {...described('t-tags', errors['scopeTags'], true)} />
          </Field>
          <Field id="t-days" label="Expires after (days)" error={errors['expiresInDays']}>
            <input
              id="t-days"
              inputMode="numeric"
              value={days}
              onChange={(e) => setDays(e.target.value)}
              {...described('t-days', errors['expiresInDays'])}
            />
          </Field>
        </div>
        <p>
          <button className="primary" type="submit" disabled={create.isPending}>
            Create token
          </button>
        </p>
        <Outcome error={error} />
      </form>
      {created && (
        <ShownOnce title={`API token ${created.name}`} value={created.token} testId="api-token" onDone={() => setCreated(null)}>
          <p className="muted">
            Send it as <code>Authorization: Bearer …</code>. It expires {formatTime(created.expiresAt)}.
          </p>
        </ShownOnce>
      )}
    </>
  );
}

export function Tokens() {
  const { session } = useSession();
  const queryClient = useQueryClient();
  const writable = can(session, 'tokens.write');
  const tokens = useQuery({ queryKey: ['api-tokens'], queryFn: () => get<{ items: ApiToken[] }>('/api/v1/api-tokens') });
  const [error, setError] = useState<string | null>(null);
  const revoke = useMutation({
    mutationFn: (id: string) => del(`/api/v1/api-tokens/${id}`),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ['api-tokens'] }),
    onError: (e) => setError(errorText(e)),
  });
  return (
    <main>
      <h1>API tokens</h1>
      {writable && <CreateToken />}
      <section className="panel table-wrap">
        {tokens.isError && <p className="error">{tokens.error.message}</p>}
        <table aria-label="API tokens">
          <thead>
            <tr>
              <th>Name</th>
              <th>Role</th>
              <th>Scope</th>
              <th>Created</th>
              <th>Expires</th>
              <th>Last used</th>
              {writable && (
                <th>
                  <span className="sr-only">Revoke</span>
                </th>
              )}
            </tr>
          </thead>
          <tbody>
            {tokens.data?.items.map((t) => (
              <tr key={t.id}>
                <td>{t.name}</td>
                <td>{t.roleName ?? t.role}</td>
                <td>{t.scopeTags ? t.scopeTags.join(', ') : 'every object'}</td>
                <td className="wrap">{formatTime(t.createdAt)}</td>
                <td className="wrap">{t.revokedAt ? `revoked ${formatTime(t.revokedAt)}` : formatTime(t.expiresAt)}</td>
                <td className="wrap">{formatTime(t.lastUsedAt)}</td>
                {writable && (
                  <td>
                    {!t.revokedAt && (
                      <button
                        className="danger"
                        onClick={() => confirm(`Revoke the token ${t.name}? It stops working at once.`) && revoke.mutate(t.id)}
                      >
                        Revoke<span className="sr-only"> {t.name}</span>
                      </button>
                    )}
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
        <Outcome error={error} />
      </section>
    </main>
  );
}
