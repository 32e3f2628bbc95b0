/** The audit log: filters, newest first, cursor paging, each event's changed properties, and chain verification. */
import { useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { formatTime, get, query } from '../api';

interface AuditEvent {
  id: string;
  sequence: number;
  occurredAt: string;
  actor: { type: string; id: string; name: string; ip: string | null };
  activity: string;
  category: string;
  result: string;
  targets: { type: string; id: string; name?: string; modifiedProperties?: { name: string; oldValue: unknown; newValue: unknown }[] }[];
}

export function AuditLog() {
  const [filters, setFilters] = useState({ category: '', activity: '', result: '' });
  const [cursors, setCursors] = useState<string[]>([]);
  const cursor = cursors.at(-1);
  const events = useQuery({
    queryKey: ['audit', filters, cursor],
    queryFn: () =>
      get<{ items: AuditEvent[]; nextCursor: string | null }>(`/api/v1/audit-events${query({ ...filters, limit: 50, cursor })}`),
  });
  const [verdict, setVerdict] = useState<string | null>(null);
  const verify = async () => {
    const v = await get<{ intact: boolean; events: number; detail?: string }>('/api/v1/audit-events/verify');
    setVerdict(v.intact ? `The chain is intact (${v.events} events).` : `The chain is BROKEN: ${v.detail ?? ''}`);
  };
  const set = (key: keyof typeof filters, value: string) => {
    setCursors([]);
    setFilters({ ...filters, [key]: value });
  };
  return (
    <main>
      <h1>Audit log</h1>
      <div className="panel row">
        <label htmlFor="a-category">Category</label>
        <select id="a-category" value={filters.category} onChange={(e) => set('category', e.target.value)}>
          <option value="">Any</option>
          {['SignIn', 'Device', 'Enrollment', 'Compliance', 'UserManagement', 'GroupManagement', 'RoleManagement', 'Tenant'].map((c) => (
            <option key={c}>{c}</option>
          ))}
        </select>
        <label htmlFor="a-result">Result</label>
        <select id="a-result" value={filters.result} onChange={(e) => set('result', e.target.value)}>
          <option value="">Any</option>
          <option>success</option>
          <option>failure</option>
        </select>
        <span style={{ flex: 1 }} />
        <button onClick={() => void verify()}>Verify chain</button>
      </div>
      {verdict && (
        <p className="notice" role="status">
          {verdict}
        </p>
      )}
      <div className="panel table-wrap">
        <table aria-label="Audit events">
          <thead>
            <tr>
              <th>#</th>
              <th>Time</th>
              <th>Actor</th>
              <th>Activity</th>
              <th>Result</th>
              <th>Targets</th>
            </tr>
          </thead>
          <tbody>
            {events.data?.items.map((e) => (
              <tr key={e.id}>
                <td>{e.sequence}</td>
                <td>{formatTime(e.occurredAt)}</td>
                <td>
                  {e.actor.name}{' '}
                  <span className="muted">
                    ({e.actor.type}
                    {e.actor.ip ? `, ${e.actor.ip}` : ''})
                  </span>
                </td>
                <td>{e.activity}</td>
                <td>
                  <span className={`badge ${e.result === 'failure' ? 'error' : 'acknowledged'}`}>{e.result}</span>
                </td>
                <td style={{ whiteSpace: 'normal' }}>
                  {e.targets.map((t) => (
                    <div key={`${t.type}/${t.id}`}>
                      {t.type} {t.name ?? t.id}
                      {t.modifiedProperties?.length ? (
                        <span className="muted">
                          {' '}
                          —{' '}
                          {t.modifiedProperties
                            .map((p) => `${p.name}: ${JSON.stringify(p.oldValue)} → ${JSON.stringify(p.newValue)}`)
                            .join('; ')}
                        </span>
                      ) : null}
                    </div>
                  ))}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <div className="row">
        <button disabled={cursors.length === 0} onClick={() => setCursors(cursors.slice(0, -1))}>
          Newer
        </button>
        <button
          disabled={!events.data?.nextCursor}
          onClick={() => events.data?.nextCursor && setCursors([...cursors, events.data.nextCursor])}
        >
          Older
        </button>
      </div>
    </main>
  );
}
