/**
 * Sign-in for both portals: tenant, user name and password, then the second factor when the user's
 * roles need one — a TOTP code (or a recovery code), or, on first sign-in, setting up TOTP with a QR
 * code, or a passkey when the user has one and the browser supports WebAuthn. Single sign-on starts
 * at the tenant's IdP when the tenant has one.
 */
import { useEffect, useState, type FormEvent } from 'react';
import QRCode from 'qrcode';
import { ApiError, get, post, rememberedTenant, setCsrfToken } from '../api';
import { RequestReset } from './PasswordReset';
import { passkeysSupported, signInWithPasskey } from './passkey';

interface LoginResponse {
  csrfToken: string;
  mfaRequired: boolean;
  mfaEnrollmentRequired?: boolean;
  mfaMethods?: string[];
}

type Step =
  | { kind: 'password' }
  | { kind: 'forgot' }
  | { kind: 'mfa'; methods: string[] }
  | { kind: 'enroll'; secret: string; otpauthUri: string; qr: string }
  | { kind: 'recovery'; codes: string[] };

export function SignIn(props: { title: string; reason?: string | null; onSignedIn: () => void }) {
  const [tenantId, setTenantId] = useState(rememberedTenant());
  const [userName, setUserName] = useState('');
  const [password, setPassword] = useState('');
  const [code, setCode] = useState('');
  const [useRecovery, setUseRecovery] = useState(false);
  const [step, setStep] = useState<Step>({ kind: 'password' });
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [sso, setSso] = useState(false);

  useEffect(() => {
    if (!/^[0-9a-f-]{36}$/i.test(tenantId)) return setSso(false);
    get<{ sso?: boolean }>(`/api/v1/auth/options?tenant=${encodeURIComponent(tenantId)}`)
      .then((o) => setSso(o.sso === true))
      .catch(() => setSso(false));
  }, [tenantId]);

  const run = async (work: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await work();
    } catch (e) {
      setError(e instanceof ApiError || e instanceof Error ? e.message : 'Something went wrong; try again.');
    } finally {
      setBusy(false);
    }
  };

  const startEnrollment = async () => {
    const setup = await post<{ secret: string; otpauthUri: string }>('/api/v1/auth/mfa/totp/setup');
    setStep({ kind: 'enroll', ...setup, qr: await QRCode.toDataURL(setup.otpauthUri, { margin: 1, width: 200 }) });
  };

  const submitPassword = (e: FormEvent) => {
    e.preventDefault();
    void run(async () => {
      const res = await post<LoginResponse>('/api/v1/auth/login', { tenantId: tenantId.trim(), userName: userName.trim(), password });
      localStorage.setItem('custos.tenant', tenantId.trim());
      setCsrfToken(res.csrfToken);
      setPassword('');
      if (res.mfaEnrollmentRequired) await startEnrollment();
      else if (res.mfaRequired) setStep({ kind: 'mfa', methods: res.mfaMethods ?? [] });
      else props.onSignedIn();
    });
  };

  const submitCode = (e: FormEvent) => {
    e.preventDefault();
    void run(async () => {
      await post('/api/v1/auth/mfa/verify', useRecovery ? { recoveryCode: code.trim() } : { code: code.trim() });
      props.onSignedIn();
    });
  };

  const usePasskey = () =>
    void run(async () => {
      try {
        await signInWithPasskey();
      } catch (e) {
        // The browser's own refusal (cancelled, timed out) is a DOMException: say so plainly.
        if (e instanceof DOMException) throw new Error('The passkey was not used. Try again, or enter a code.');
        throw e;
      }
      props.onSignedIn();
    });

  const confirmEnrollment = (e: FormEvent) => {
    e.preventDefault();
    void run(async () => {
      const res = await post<{ recoveryCodes: string[] }>('/api/v1/auth/mfa/totp/confirm', { code: code.trim() });
      setCode('');
      setStep({ kind: 'recovery', codes: res.recoveryCodes });
    });
  };

  return (
    <main className="signin panel" aria-labelledby="signin-title">
      <h1 id="signin-title">{props.title}</h1>
      {props.reason && (
        <p className="notice" role="status">
          {props.reason}
        </p>
      )}
      {step.kind === 'password' && (
        <form onSubmit={submitPassword}>
          <label htmlFor="tenant">Organization ID</label>
          <input id="tenant" value={tenantId} onChange={(e) => setTenantId(e.target.value)} required autoComplete="organization" />
          <label htmlFor="user">User name</label>
          <input id="user" value={userName} onChange={(e) => setUserName(e.target.value)} required autoComplete="username" />
          <label htmlFor="password">Password</label>
          <input
            id="password"
            type="password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            required
            autoComplete="current-password"
          />
          <p className="row">
            <button className="primary" type="submit" disabled={busy}>
              Sign in
            </button>
            <button type="button" onClick={() => setStep({ kind: 'forgot' })}>
              Forgot password?
            </button>
            {sso && (
              <a
                className="button"
                href={`/api/v1/auth/oidc/start?tenant=${encodeURIComponent(tenantId)}&returnTo=${encodeURIComponent(location.pathname)}`}
              >
                Sign in with your organization
              </a>
            )}
          </p>
        </form>
      )}
      {step.kind === 'forgot' && <RequestReset onDone={() => setStep({ kind: 'password' })} />}
      {step.kind === 'mfa' && (
        <form onSubmit={submitCode}>
          <label htmlFor="code">{useRecovery ? 'Recovery code' : 'Code from your authenticator app'}</label>
          <input
            id="code"
            value={code}
            onChange={(e) => setCode(e.target.value)}
            required
            autoComplete="one-time-code"
            inputMode={useRecovery ? 'text' : 'numeric'}
          />
          <p className="row">
            <button className="primary" type="submit" disabled={busy}>
              Verify
            </button>
            <button type="button" onClick={() => setUseRecovery(!useRecovery)}>
              {useRecovery ? 'Use an authenticator code' : 'Use a recovery code'}
            </button>
            {step.methods.includes('passkey') && passkeysSupported() && (
              <button type="button" onClick={usePasskey} disabled={busy}>
                Use a passkey
              </button>
            )}
          </p>
        </form>
      )}
      {step.kind === 'enroll' && (
        <form onSubmit={confirmEnrollment}>
          <p>Your role needs a second factor. Scan this code with an authenticator app, then enter the code it shows.</p>
          <img src={step.qr} width={200} height={200} alt="QR code for your authenticator app" />
          <p className="muted">
            Or enter this key: <code data-testid="totp-secret">{step.secret}</code>
          </p>
          <label htmlFor="enroll-code">Code from your authenticator app</label>
          <input
            id="enroll-code"
            value={code}
            onChange={(e) => setCode(e.target.value)}
            required
            autoComplete="one-time-code"
            inputMode="numeric"
          />
          <p>
            <button className="primary" type="submit" disabled={busy}>
              Turn on two-step sign-in
            </button>
          </p>
        </form>
      )}
      {step.kind === 'recovery' && (
        <div>
          <p>Keep these recovery codes somewhere safe. Each works once if you lose your authenticator. They are shown only now.</p>
          <ul>
            {step.codes.map((c) => (
              <li key={c}>
                <code>{c}</code>
              </li>
            ))}
          </ul>
          <button className="primary" onClick={props.onSignedIn}>
            Continue
          </button>
        </div>
      )}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
    </main>
  );
}
