/**
 * One device: hardware, apps, compliance per setting with its reason, configuration profiles,
 * command history with live state, and the actions (each confirmed first).
 */
import { useRef, useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link, useParams } from 'react-router';
import type { App, Device } from '@custos/shared';
import { ApiError, formatBytes, formatTime, get, post } from '../api';
import { can, useSession } from '../common/session';

interface Command {
  id: string;
  action: string;
  state: string;
  createdAt: string;
  updatedAt?: string;
  result?: { status?: string; detail?: string | null } | null;
}
interface Compliance {
  complianceState: string;
  policies: {
    policyId: string;
    name: string;
    version: number;
    state: string;
    evaluatedAt: string;
    settings: { setting: string; status: string; reason: string }[];
  }[];
}
interface ProfileStatus {
  profileId: string;
  name?: string;
  status: string;
  reason?: string | null;
}

const ACTIONS: { action: string; label: string; permission: string; danger?: boolean; explain: string }[] = [
  { action: 'sync', label: 'Sync', permission: 'devices.write', explain: 'The device checks in now and reports its inventory.' },
  { action: 'lock', label: 'Lock', permission: 'devices.lock', explain: 'The device locks its screen.' },
  { action: 'restart', label: 'Restart', permission: 'devices.write', explain: 'The device restarts in five minutes.' },
  { action: 'rename', label: 'Rename', permission: 'devices.write', explain: 'The device takes the new name.' },
  {
    action: 'retire',
    label: 'Retire',
    permission: 'devices.retire',
    danger: true,
    explain: 'Company data, profiles and the device credential are removed; personal data stays.',
  },
  {
    action: 'wipe',
    label: 'Wipe',
    permission: 'devices.wipe',
    danger: true,
    explain: 'The device is erased to factory state. This cannot be undone.',
  },
];

function Hardware({ d }: { d: Device }) {
  const rows: [string, string][] = [
    ['Name', d.deviceName ?? '—'],
    ['Platform', d.platform],
    ['Operating system', `${d.operatingSystem ?? '—'} ${d.osVersion ?? ''}`],
    ['Manufacturer', d.manufacturer ?? '—'],
    ['Model', d.model ?? '—'],
    ['Serial number', d.serialNumber ?? '—'],
    ['Processor', d.processor ?? '—'],
    ['Storage', `${formatBytes(d.freeStorageBytes)} free of ${formatBytes(d.totalStorageBytes)}`],
    ['Encrypted', d.encrypted === null ? '—' : d.encrypted ? 'yes' : 'no'],
    ['Wi-Fi MAC', d.wifiMac ?? '—'],
    ['Ethernet MAC', d.ethernetMac ?? '—'],
    ['Ownership', d.ownership],
    ['Status', d.status],
    ['Enrolled', formatTime(d.enrolledAt)],
    ['Last check-in', formatTime(d.lastCheckInAt)],
    ['App inventory', d.appInventoryScope === 'all' ? 'all apps' : 'managed apps only'],
  ];
  return (
    <dl className="props">
      {rows.map(([k, v]) => (
        <div key={k} style={{ display: 'contents' }}>
          <dt>{k}</dt>
          <dd>{v}</dd>
        </div>
      ))}
    </dl>
  );
}

export function DeviceDetail() {
  const { id = '' } = useParams();
  const { session } = useSession();
  const queryClient = useQueryClient();
  const dialog = useRef<HTMLDialogElement>(null);
  const [pending, setPending] = useState<(typeof ACTIONS)[number] | null>(null);
  const [newName, setNewName] = useState('');
  const [actionError, setActionError] = useState<string | null>(null);

  const device = useQuery({ queryKey: ['device', id], queryFn: () => get<Device>(`/api/v1/devices/${id}`) });
  const apps = useQuery({ queryKey: ['device-apps', id], queryFn: () => get<{ items: App[] }>(`/api/v1/devices/${id}/apps`) });
  const compliance = useQuery({ queryKey: ['device-compliance', id], queryFn: () => get<Compliance>(`/api/v1/devices/${id}/compliance`) });
  const profiles = useQuery({
    queryKey: ['device-profiles', id],
    queryFn: () => get<{ items: ProfileStatus[] }>(`/api/v1/devices/${id}/profiles`),
    retry: false,
  });
  const commands = useQuery({
    queryKey: ['device-commands', id],
    queryFn: () => get<{ items: Command[] }>(`/api/v1/devices/${id}/commands`),
    // Live state: poll while anything is still on its way to the device.
    refetchInterval: (q) => (q.state.data?.items.some((c) => c.state === 'pending' || c.state === 'sent') ? 1_000 : 15_000),
  });
  const act = useMutation({
    mutationFn: (a: { action: string; body: unknown }) => post(`/api/v1/devices/${id}/actions/${a.action}`, a.body),
    onSuccess: () => {
      setActionError(null);
      void queryClient.invalidateQueries({ queryKey: ['device-commands', id] });
      void queryClient.invalidateQueries({ queryKey: ['device', id] });
    },
    onError: (e) => setActionError(e instanceof ApiError ? e.message : 'The action failed.'),
  });

  if (device.isPending) return <p className="muted">Loading…</p>;
  if (device.isError) return <p className="error">{device.error.message}</p>;
  const d = device.data;

  const open = (a: (typeof ACTIONS)[number]) => {
    setPending(a);
    setNewName(d.deviceName ?? '');
    dialog.current?.showModal();
  };
  const confirm = () => {
    if (!pending) return;
    act.mutate({ action: pending.action, body: pending.action === 'rename' ? { deviceName: newName } : {} });
    dialog.current?.close();
  };

  return (
    <main>
      <p>
        <Link to="/devices">← Devices</Link>
      </p>
      <div className="topbar">
        <h1>
          {d.deviceName ?? d.id} <span className={`badge ${d.complianceState}`}>{d.complianceState}</span>
        </h1>
        <div className="row" role="group" aria-label="Device actions">
          {ACTIONS.filter((a) => can(session, a.permission)).map((a) => (
            <button key={a.action} className={a.danger ? 'danger' : ''} disabled={d.status !== 'active'} onClick={() => open(a)}>
              {a.label}
            </button>
          ))}
        </div>
      </div>
      {actionError && (
        <p className="error" role="alert">
          {actionError}
        </p>
      )}
      <dialog ref={dialog} aria-labelledby="confirm-title">
        <h2 id="confirm-title">
          {pending?.label} {d.deviceName ?? 'this device'}?
        </h2>
        <p>{pending?.explain}</p>
        {pending?.action === 'rename' && (
          <>
            <label htmlFor="new-name">New name</label>
            <input id="new-name" value={newName} onChange={(e) => setNewName(e.target.value)} />
          </>
        )}
        <p className="row">
          <button className={pending?.danger ? 'danger' : 'primary'} onClick={confirm}>
            {pending?.label}
          </button>
          <button onClick={() => dialog.current?.close()}>Cancel</button>
        </p>
      </dialog>
      <div className="grid">
        <section className="panel" aria-label="Hardware">
          <h2>Hardware</h2>
          <Hardware d={d} />
        </section>
        <section className="panel" aria-label="Compliance">
          <h2>Compliance</h2>
          {compliance.data?.policies.length === 0 && <p className="muted">No compliance policy applies to this device.</p>}
          {compliance.data?.policies.map((p) => (
            <div key={p.policyId}>
              <h3>
                {p.name} <span className={`badge ${p.state}`}>{p.state}</span>
              </h3>
              <ul>
                {p.settings.map((s) => (
                  <li key={s.setting}>
                    <span className={`badge ${s.status}`}>{s.status}</span> {s.reason}
                  </li>
                ))}
              </ul>
            </div>
          ))}
        </section>
      </div>
      <section className="panel" aria-label="Commands">
        <h2>Commands</h2>
        <table aria-label="Command history">
          <thead>
            <tr>
              <th>Action</th>
              <th>State</th>
              <th>Queued</th>
              <th>Result</th>
            </tr>
          </thead>
          <tbody>
            {commands.data?.items.map((c) => (
              <tr key={c.id} data-action={c.action}>
                <td>{c.action}</td>
                <td>
                  <span className={`badge ${c.state}`} data-testid={`command-state-${c.action}`}>
                    {c.state}
                  </span>
                </td>
                <td>{formatTime(c.createdAt)}</td>
                <td>{c.result?.detail ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      {profiles.data && (
        <section className="panel" aria-label="Configuration profiles">
          <h2>Configuration profiles</h2>
          <ul>
            {profiles.data.items.map((p) => (
              <li key={p.profileId}>
                {p.name ?? p.profileId} <span className={`badge ${p.status}`}>{p.status}</span> {p.reason ?? ''}
              </li>
            ))}
            {profiles.data.items.length === 0 && <li className="muted">None assigned.</li>}
          </ul>
        </section>
      )}
      <section className="panel" aria-label="Apps">
        <h2>Apps ({apps.data?.items.length ?? 0})</h2>
        <div className="table-wrap" style={{ maxHeight: 400, overflowY: 'auto' }}>
          <table aria-label="Installed apps">
            <thead>
              <tr>
                <th>Name</th>
                <th>Version</th>
                <th>Managed</th>
                <th>Size</th>
              </tr>
            </thead>
            <tbody>
              {apps.data?.items.map((a) => (
                <tr key={`${a.appId ?? a.name}/${a.version ?? ''}`}>
                  <td>{a.name}</td>
                  <td>{a.version ?? '—'}</td>
                  <td>{a.managed ? 'yes' : 'no'}</td>
                  <td>{formatBytes(a.sizeBytes)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>
    </main>
  );
}
