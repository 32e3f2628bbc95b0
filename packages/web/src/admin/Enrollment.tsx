/** Enrollment tokens: create one (shown once, with the agent command and a QR code), list, revoke. */
import { useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import QRCode from 'qrcode';
import { ApiError, del, formatTime, get, post } from '../api';

interface EnrollmentToken {
  id: string;
  ownership: string;
  description: string | null;
  uses: number;
  maxUses: number | null;
  expiresAt: string;
  revokedAt: string | null;
}

export function Enrollment() {
  const queryClient = useQueryClient();
  const tokens = useQuery({
    queryKey: ['enrollment-tokens'],
    queryFn: () => get<{ items: EnrollmentToken[] }>('/api/v1/enrollment-tokens'),
  });
  const [ownership, setOwnership] = useState('corporate');
  const [description, setDescription] = useState('');
  const [created, setCreated] = useState<{ token: string; qr: string } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const create = useMutation({
    mutationFn: () => post<{ token: string }>('/api/v1/enrollment-tokens', { ownership, ...(description ? { description } : {}) }),
    onSuccess: async (res) => {
      setCreated({ token: res.token, qr: await QRCode.toDataURL(enrollUrl(res.token), { margin: 1, width: 180 }) });
      void queryClient.invalidateQueries({ queryKey: ['enrollment-tokens'] });
    },
    onError: (e) => setError(e instanceof ApiError ? e.message : 'Could not create the token.'),
  });
  const revoke = useMutation({
    mutationFn: (id: string) => del(`/api/v1/enrollment-tokens/${id}`),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ['enrollment-tokens'] }),
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    create.mutate();
  };
  return (
    <main>
      <h1>Enrollment</h1>
      <form className="panel" onSubmit={submit}>
        <h2>New enrollment token</h2>
        <div className="row">
          <label htmlFor="e-ownership">Devices are</label>
          <select id="e-ownership" value={ownership} onChange={(e) => setOwnership(e.target.value)}>
            <option value="corporate">corporate</option>
            <option value="personal">personal (BYOD)</option>
          </select>
          <label htmlFor="e-description">Description</label>
          <input id="e-description" value={description} onChange={(e) => setDescription(e.target.value)} />
          <button className="primary" type="submit" disabled={create.isPending}>
            Create
          </button>
        </div>
        {error && <p className="error">{error}</p>}
      </form>
      {created && (
        <section className="panel" aria-label="New token">
          <h2>Token created — shown once</h2>
          <p>
            <code data-testid="enrollment-token">{created.token}</code>
          </p>
          <p>On the device, run:</p>
          <pre style={{ whiteSpace: 'pre-wrap' }}>
            npx custos-agent enroll --server {location.origin} --token {created.token} --state-dir /var/lib/custos-agent
          </pre>
          <img src={created.qr} width={180} height={180} alt="QR code with the enrollment link" />
        </section>
      )}
      <section className="panel table-wrap">
        <h2>Tokens</h2>
        <table aria-label="Enrollment tokens">
          <thead>
            <tr>
              <th>Description</th>
              <th>Ownership</th>
              <th>Uses</th>
              <th>Expires</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {tokens.data?.items.map((t) => (
              <tr key={t.id}>
                <td>{t.description ?? '—'}</td>
                <td>{t.ownership}</td>
                <td>
                  {t.uses}
                  {t.maxUses === null ? '' : ` of ${t.maxUses}`}
                </td>
                <td>{t.revokedAt ? 'revoked' : formatTime(t.expiresAt)}</td>
                <td>{!t.revokedAt && <button onClick={() => revoke.mutate(t.id)}>Revoke</button>}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </main>
  );
}

function enrollUrl(token: string): string {
  return `${location.origin}/portal/enroll?token=${encodeURIComponent(token)}`;
}
