/** Users and groups of the tenant. */
import { useQuery } from '@tanstack/react-query';
import { formatTime, get } from '../api';

interface User {
  id: string;
  userName: string;
  displayName: string | null;
  source: string;
  active: boolean;
  lastSignInAt: string | null;
}
interface Group {
  id: string;
  displayName: string;
  source: string;
}

export function Users() {
  const users = useQuery({ queryKey: ['users'], queryFn: () => get<{ items: User[] }>('/api/v1/users?limit=200') });
  const groups = useQuery({ queryKey: ['groups'], queryFn: () => get<{ items: Group[] }>('/api/v1/groups?limit=200') });
  return (
    <main>
      <h1>Users and groups</h1>
      <section className="panel table-wrap">
        <h2>Users</h2>
        {users.isError && <p className="error">{users.error.message}</p>}
        <table aria-label="Users">
          <thead>
            <tr>
              <th>User name</th>
              <th>Name</th>
              <th>Source</th>
              <th>Active</th>
              <th>Last sign-in</th>
            </tr>
          </thead>
          <tbody>
            {users.data?.items.map((u) => (
              <tr key={u.id}>
                <td>{u.userName}</td>
                <td>{u.displayName ?? '—'}</td>
                <td>{u.source}</td>
                <td>{u.active ? 'yes' : 'no'}</td>
                <td>{formatTime(u.lastSignInAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <section className="panel">
        <h2>Groups</h2>
        <ul>
          {groups.data?.items.map((g) => (
            <li key={g.id}>
              {g.displayName} <span className="muted">({g.source})</span>
            </li>
          ))}
        </ul>
      </section>
    </main>
  );
}
