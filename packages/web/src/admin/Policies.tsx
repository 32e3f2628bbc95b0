/** Compliance policies: the list with versions and assignments; create one from the shared settings. */
import { useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { ApiError, get, post, put } from '../api';
import { can, useSession } from '../common/session';

interface Policy {
  id: string;
  name: string;
  platform: string | null;
  version: number;
  settings: Record<string, unknown>;
  assignments: { target: string; groupId?: string | null; mode: string }[];
}

export function Policies() {
  const { session } = useSession();
  const queryClient = useQueryClient();
  const policies = useQuery({ queryKey: ['policies'], queryFn: () => get<{ items: Policy[] }>('/api/v1/compliance-policies') });
  const [name, setName] = useState('');
  const [minimumOsVersion, setMinimumOsVersion] = useState('');
  const [requireEncryption, setRequireEncryption] = useState(true);
  const [assignAll, setAssignAll] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const create = useMutation({
    mutationFn: async () => {
      const settings = { requireEncryption, ...(minimumOsVersion ? { minimumOsVersion } : {}) };
      const policy = await post<Policy>('/api/v1/compliance-policies', { name, settings });
      if (assignAll)
        await put(`/api/v1/compliance-policies/${policy.id}/assignments`, { assignments: [{ target: 'allDevices', mode: 'include' }] });
    },
    onSuccess: () => {
      setName('');
      void queryClient.invalidateQueries({ queryKey: ['policies'] });
    },
    onError: (e) => setError(e instanceof ApiError ? e.message : 'Could not save the policy.'),
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    create.mutate();
  };
  return (
    <main>
      <h1>Compliance policies</h1>
      {can(session, 'policies.write') && (
        <form className="panel" onSubmit={submit}>
          <h2>New policy</h2>
          <label htmlFor="p-name">Name</label>
          <input id="p-name" value={name} onChange={(e) => setName(e.target.value)} required />
          <label htmlFor="p-minos">Minimum OS version</label>
          <input id="p-minos" value={minimumOsVersion} onChange={(e) => setMinimumOsVersion(e.target.value)} placeholder="e.g. 12.0" />
          <p className="row">
            <label style={{ fontWeight: 400 }}>
              <input type="checkbox" checked={requireEncryption} onChange={(e) => setRequireEncryption(e.target.checked)} /> Require disk
              encryption
            </label>
            <label style={{ fontWeight: 400 }}>
              <input type="checkbox" checked={assignAll} onChange={(e) => setAssignAll(e.target.checked)} /> Assign to all devices
            </label>
          </p>
          <button className="primary" type="submit" disabled={create.isPending}>
            Create
          </button>
          {error && <p className="error">{error}</p>}
        </form>
      )}
      <section className="panel table-wrap">
        <table aria-label="Compliance policies">
          <thead>
            <tr>
              <th>Name</th>
              <th>Platform</th>
              <th>Version</th>
              <th>Settings</th>
              <th>Assigned to</th>
            </tr>
          </thead>
          <tbody>
            {policies.data?.items.map((p) => (
              <tr key={p.id}>
                <td>{p.name}</td>
                <td>{p.platform ?? 'all'}</td>
                <td>{p.version}</td>
                <td style={{ whiteSpace: 'normal' }}>
                  {Object.entries(p.settings)
                    .map(([k, v]) => `${k}: ${JSON.stringify(v)}`)
                    .join('; ')}
                </td>
                <td>{p.assignments.map((a) => `${a.mode} ${a.target}${a.groupId ? ` ${a.groupId}` : ''}`).join(', ') || 'nobody'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </main>
  );
}
