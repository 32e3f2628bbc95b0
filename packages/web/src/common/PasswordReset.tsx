/**
 * Password reset for cloud-only users: asking for a link (the answer is the same whether or not the
 * account exists), and setting a new password from the emailed link (`/portal/reset-password#token=…`;
 * the token is in the fragment, so it never reaches a server log).
 */
import { useState, type FormEvent } from 'react';
import { ApiError, post, rememberedTenant } from '../api';

export function RequestReset(props: { onDone: () => void }) {
  const [tenantId, setTenantId] = useState(rememberedTenant());
  const [userName, setUserName] = useState('');
  const [sent, setSent] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    post('/api/v1/auth/password-reset/request', { tenantId: tenantId.trim(), userName: userName.trim() })
      .then(() => setSent(true))
      .catch((err: unknown) => setError(err instanceof ApiError ? err.message : 'That did not work; try again.'));
  };
  if (sent)
    return (
      <div>
        <p role="status">If that account exists and can use a password, a link to set a new one is on its way by email.</p>
        <button onClick={props.onDone}>Back to sign-in</button>
      </div>
    );
  return (
    <form onSubmit={submit}>
      <label htmlFor="reset-tenant">Organization ID</label>
      <input id="reset-tenant" value={tenantId} onChange={(e) => setTenantId(e.target.value)} required />
      <label htmlFor="reset-user">User name</label>
      <input id="reset-user" value={userName} onChange={(e) => setUserName(e.target.value)} required autoComplete="username" />
      <p className="row">
        <button className="primary" type="submit">
          Email me a link
        </button>
        <button type="button" onClick={props.onDone}>
          Cancel
        </button>
      </p>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}

export function CompleteReset() {
  const token = new URLSearchParams(location.hash.slice(1)).get('token') ?? '';
  const [password, setPassword] = useState('');
  const [repeat, setRepeat] = useState('');
  const [done, setDone] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (password !== repeat) return setError('The two passwords differ.');
    post('/api/v1/auth/password-reset/complete', { token, password })
      .then(() => setDone(true))
      .catch((err: unknown) => setError(err instanceof ApiError ? err.message : 'That did not work; try again.'));
  };
  return (
    <main className="signin panel" aria-labelledby="reset-title">
      <h1 id="reset-title">Set a new password</h1>
      {done ? (
        <p role="status">
          Your password is set and every session was signed out. <a href="/portal">Sign in</a>
        </p>
      ) : !token ? (
        <p className="error">This link is incomplete; use the whole link from the email.</p>
      ) : (
        <form onSubmit={submit}>
          <label htmlFor="new-password">New password</label>
          <input
            id="new-password"
            type="password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            required
            autoComplete="new-password"
          />
          <label htmlFor="repeat-password">New password again</label>
          <input
            id="repeat-password"
            type="password"
            value={repeat}
            onChange={(e) => setRepeat(e.target.value)}
            required
            autoComplete="new-password"
          />
          <p>
            <button className="primary" type="submit">
              Set password
            </button>
          </p>
          {error && (
            <p className="error" role="alert">
              {error}
            </p>
          )}
        </form>
      )}
    </main>
  );
}
