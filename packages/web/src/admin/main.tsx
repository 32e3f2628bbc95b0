import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { BrowserRouter, NavLink, Route, Routes } from 'react-router';
import '../common/styles.css';
import { can, SessionGate, useSession } from '../common/session';
import { AuditLog } from './AuditLog';
import { Dashboard } from './Dashboard';
import { DeviceDetail } from './DeviceDetail';
import { Devices } from './Devices';
import { Enrollment } from './Enrollment';
import { Policies } from './Policies';
import { Profiles } from './Profiles';
import { Roles } from './Roles';
import { Settings } from './Settings';
import { Tokens } from './Tokens';
import { Users } from './Users';
import { useBranding } from '../common/forms';

const queryClient = new QueryClient({
  defaultOptions: {
    queries: { retry: (count, error) => count < 2 && !(error instanceof Error && error.name === 'ApiError'), staleTime: 5_000 },
  },
});

function Layout() {
  const { session, signOut } = useSession();
  const links: [string, string, string | null][] = [
    ['/', 'Dashboard', 'devices.read'],
    ['/devices', 'Devices', 'devices.read'],
    ['/policies', 'Compliance policies', 'policies.read'],
    ['/profiles', 'Configuration profiles', 'policies.read'],
    ['/enrollment', 'Enrollment', 'enrollment.read'],
    ['/users', 'Users and groups', 'users.read'],
    ['/roles', 'Roles', 'roles.read'],
    ['/tokens', 'API tokens', 'tokens.read'],
    ['/audit', 'Audit log', 'audit.read'],
    ['/settings', 'Settings', 'tenant.read'],
  ];
  const branding = useBranding();
  return (
    <div className="layout">
      <nav className="nav" aria-label="Main">
        <div className="brand">{branding.data?.branding.displayName ?? 'Custos'}</div>
        {links
          .filter(([, , permission]) => permission === null || can(session, permission))
          .map(([to, label]) => (
            <NavLink key={to} to={to} end={to === '/'}>
              {label}
            </NavLink>
          ))}
      </nav>
      <div className="main">
        <header className="topbar">
          <span className="muted">{session.tenantName ?? session.tenantId}</span>
          <span className="row">
            <span>{session.user.displayName ?? session.user.userName}</span>
            <button onClick={() => void signOut()}>Sign out</button>
          </span>
        </header>
        <Routes>
          <Route path="/" element={<Dashboard />} />
          <Route path="/devices" element={<Devices />} />
          <Route path="/devices/:id" element={<DeviceDetail />} />
          <Route path="/policies" element={<Policies />} />
          <Route path="/enrollment" element={<Enrollment />} />
          <Route path="/profiles" element={<Profiles />} />
          <Route path="/users" element={<Users />} />
          <Route path="/roles" element={<Roles />} />
          <Route path="/tokens" element={<Tokens />} />
          <Route path="/settings" element={<Settings />} />
          <Route path="/audit" element={<AuditLog />} />
          <Route path="*" element={<p>Nothing here.</p>} />
        </Routes>
      </div>
    </div>
  );
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <BrowserRouter>
        <SessionGate title="Sign in to Custos">
          <Layout />
        </SessionGate>
      </BrowserRouter>
    </QueryClientProvider>
  </StrictMode>,
);
