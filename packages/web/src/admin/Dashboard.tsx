/**
 * Devices by compliance state, platform, OS version and ownership, and check-ins over the last two
 * weeks. Every slice and bar links to the device list filtered to it.
 */
import { useQuery } from '@tanstack/react-query';
import { useNavigate } from 'react-router';
import { Bar, BarChart, Cell, Pie, PieChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { get, query } from '../api';

export interface DeviceSummary {
  total: number;
  byComplianceState: { key: string; count: number }[];
  byPlatform: { key: string; count: number }[];
  byOsVersion: { operatingSystem: string | null; osVersion: string | null; count: number }[];
  byOwnership: { key: string; count: number }[];
  checkInsByDay: { day: string; count: number }[];
}

const STATE_COLORS: Record<string, string> = {
  compliant: '#2e7d32',
  noncompliant: '#c62828',
  inGracePeriod: '#ef6c00',
  unknown: '#757575',
  error: '#6a1b9a',
};
const PALETTE = ['#1565c0', '#2e7d32', '#ef6c00', '#6a1b9a', '#00838f', '#ad1457', '#5d4037'];

function Breakdown(props: { title: string; data: { key: string; count: number }[]; filter: string; colors?: Record<string, string> }) {
  const navigate = useNavigate();
  const open = (key: string) => void navigate(`/devices${query({ [props.filter]: key })}`);
  return (
    <section className="panel" aria-label={props.title}>
      <h2>{props.title}</h2>
      <div style={{ height: 180 }}>
        <ResponsiveContainer>
          <PieChart>
            <Pie
              data={props.data}
              dataKey="count"
              nameKey="key"
              innerRadius={40}
              outerRadius={70}
              onClick={(d) => open(String(d.key))}
              cursor="pointer"
            >
              {props.data.map((d, i) => (
                <Cell key={d.key} fill={props.colors?.[d.key] ?? PALETTE[i % PALETTE.length] ?? '#1565c0'} />
              ))}
            </Pie>
            <Tooltip />
          </PieChart>
        </ResponsiveContainer>
      </div>
      <ul>
        {props.data.map((d) => (
          <li key={d.key}>
            <a href={`/devices${query({ [props.filter]: d.key })}`} onClick={(e) => (e.preventDefault(), open(d.key))}>
              {d.key}
            </a>
            : {d.count}
          </li>
        ))}
      </ul>
    </section>
  );
}

export function Dashboard() {
  const summary = useQuery({
    queryKey: ['device-summary'],
    queryFn: () => get<DeviceSummary>('/api/v1/devices/summary'),
    refetchInterval: 30_000,
  });
  const navigate = useNavigate();
  if (summary.isPending) return <p className="muted">Loading…</p>;
  if (summary.isError) return <p className="error">{summary.error.message}</p>;
  const s = summary.data;
  return (
    <main>
      <h1>Dashboard</h1>
      <div className="grid">
        <section className="panel" aria-label="Devices">
          <h2>Devices</h2>
          <div className="stat" data-testid="device-total">
            {s.total}
          </div>
          <a href="/devices" onClick={(e) => (e.preventDefault(), void navigate('/devices'))}>
            All devices
          </a>
        </section>
        <Breakdown title="Compliance" data={s.byComplianceState} filter="complianceState" colors={STATE_COLORS} />
        <Breakdown title="Platform" data={s.byPlatform} filter="platform" />
        <Breakdown title="Ownership" data={s.byOwnership} filter="ownership" />
      </div>
      <section className="panel" aria-label="OS versions">
        <h2>OS versions</h2>
        <div style={{ height: 220 }}>
          <ResponsiveContainer>
            <BarChart data={s.byOsVersion.map((v) => ({ ...v, label: `${v.operatingSystem ?? '?'} ${v.osVersion ?? ''}` }))}>
              <XAxis dataKey="label" />
              <YAxis allowDecimals={false} />
              <Tooltip />
              <Bar
                dataKey="count"
                fill="#1565c0"
                cursor="pointer"
                onClick={(d: { payload?: { osVersion?: string | null } }) => {
                  if (d.payload?.osVersion) void navigate(`/devices${query({ osVersion: d.payload.osVersion })}`);
                }}
              />
            </BarChart>
          </ResponsiveContainer>
        </div>
      </section>
      <section className="panel" aria-label="Check-ins">
        <h2>Devices by day of their last check-in (14 days)</h2>
        <div style={{ height: 200 }}>
          <ResponsiveContainer>
            <BarChart data={s.checkInsByDay}>
              <XAxis dataKey="day" />
              <YAxis allowDecimals={false} />
              <Tooltip />
              <Bar dataKey="count" fill="#2e7d32" />
            </BarChart>
          </ResponsiveContainer>
        </div>
      </section>
    </main>
  );
}
