/**
 * The device list: every filter, the search, the sort and the paging happen on the server (cursor
 * paging), so it stays fast at 100,000 devices. The URL holds the view, so dashboard links and the
 * back button work; the column choice is remembered in this browser. CSV exports the current view.
 */
import { useMemo, useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { Link, useSearchParams } from 'react-router';
import type { Device } from '@custos/shared';
import { get, query } from '../api';
import { formatBytes, formatTime } from '../api';

interface Column {
  key: keyof Device;
  label: string;
  sort?: string;
  render?: (d: Device) => string;
}

const COLUMNS: Column[] = [
  { key: 'deviceName', label: 'Name', sort: 'deviceName' },
  { key: 'complianceState', label: 'Compliance' },
  { key: 'platform', label: 'Platform' },
  { key: 'operatingSystem', label: 'OS' },
  { key: 'osVersion', label: 'OS version', sort: 'osVersion' },
  { key: 'ownership', label: 'Ownership' },
  { key: 'model', label: 'Model', sort: 'model' },
  { key: 'manufacturer', label: 'Manufacturer' },
  { key: 'serialNumber', label: 'Serial number', sort: 'serialNumber' },
  { key: 'encrypted', label: 'Encrypted', render: (d) => (d.encrypted === null ? '—' : d.encrypted ? 'yes' : 'no') },
  { key: 'freeStorageBytes', label: 'Free storage', render: (d) => formatBytes(d.freeStorageBytes) },
  { key: 'lastCheckInAt', label: 'Last check-in', sort: 'lastCheckInAt', render: (d) => formatTime(d.lastCheckInAt) },
  { key: 'enrolledAt', label: 'Enrolled', sort: 'enrolledAt', render: (d) => formatTime(d.enrolledAt) },
  { key: 'status', label: 'Status' },
];
const DEFAULT_COLUMNS = ['deviceName', 'complianceState', 'platform', 'osVersion', 'ownership', 'model', 'lastCheckInAt'];
const FILTERS = ['search', 'complianceState', 'platform', 'ownership', 'operatingSystem', 'osVersion', 'status'] as const;
const PAGE = 50;

function cell(d: Device, c: Column): string {
  if (c.render) return c.render(d);
  const v = d[c.key];
  return v === null || v === undefined ? '—' : typeof v === 'object' ? JSON.stringify(v) : String(v);
}

function csvField(value: string): string {
  return /[",\n\r]/.test(value) || /^[=+\-@\t]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

export function Devices() {
  const [params, setParams] = useSearchParams();
  const [cursors, setCursors] = useState<string[]>([]);
  const [visible, setVisible] = useState<string[]>(
    () => (JSON.parse(localStorage.getItem('custos.deviceColumns') ?? 'null') as string[] | null) ?? DEFAULT_COLUMNS,
  );
  const [chooser, setChooser] = useState(false);
  const [exporting, setExporting] = useState(false);

  const filter = useMemo(() => Object.fromEntries(FILTERS.map((f) => [f, params.get(f) ?? undefined])), [params]);
  const sort = params.get('sort') ?? 'deviceName';
  const order = params.get('order') ?? 'asc';
  const cursor = cursors.at(-1);
  const list = useQuery({
    queryKey: ['devices', filter, sort, order, cursor],
    queryFn: () =>
      get<{ items: Device[]; nextCursor: string | null }>(`/api/v1/devices${query({ ...filter, sort, order, limit: PAGE, cursor })}`),
    placeholderData: (previous) => previous,
  });
  const columns = COLUMNS.filter((c) => visible.includes(c.key));

  const setParam = (key: string, value: string) => {
    const next = new URLSearchParams(params);
    if (value) next.set(key, value);
    else next.delete(key);
    setCursors([]);
    setParams(next);
  };
  const sortBy = (field: string) => {
    const next = new URLSearchParams(params);
    next.set('sort', field);
    next.set('order', sort === field && order === 'asc' ? 'desc' : 'asc');
    setCursors([]);
    setParams(next);
  };
  const toggleColumn = (key: string) => {
    const next = visible.includes(key) ? visible.filter((k) => k !== key) : [...visible, key];
    setVisible(next);
    localStorage.setItem('custos.deviceColumns', JSON.stringify(next));
  };
  const exportCsv = async () => {
    setExporting(true);
    try {
      const rows: Device[] = [];
      let next: string | null | undefined;
      do {
        const page = await get<{ items: Device[]; nextCursor: string | null }>(
          `/api/v1/devices${query({ ...filter, sort, order, limit: 500, cursor: next })}`,
        );
        rows.push(...page.items);
        next = page.nextCursor;
      } while (next && rows.length < 100_000);
      const lines = [
        columns.map((c) => csvField(c.label)).join(','),
        ...rows.map((d) => columns.map((c) => csvField(cell(d, c))).join(',')),
      ];
      const url = URL.createObjectURL(new Blob([`${lines.join('\r\n')}\r\n`], { type: 'text/csv' }));
      const a = document.createElement('a');
      a.href = url;
      a.download = 'devices.csv';
      a.click();
      URL.revokeObjectURL(url);
    } finally {
      setExporting(false);
    }
  };

  return (
    <main>
      <h1>Devices</h1>
      <div className="panel row" role="search">
        <label className="sr-only" htmlFor="device-search">
          Search devices
        </label>
        <input
          id="device-search"
          placeholder="Name or serial number"
          defaultValue={filter.search ?? ''}
          onKeyDown={(e) => e.key === 'Enter' && setParam('search', e.currentTarget.value.trim())}
        />
        <label className="sr-only" htmlFor="f-compliance">
          Compliance state
        </label>
        <select id="f-compliance" value={filter.complianceState ?? ''} onChange={(e) => setParam('complianceState', e.target.value)}>
          <option value="">Any compliance</option>
          {['compliant', 'noncompliant', 'inGracePeriod', 'unknown', 'error'].map((s) => (
            <option key={s}>{s}</option>
          ))}
        </select>
        <label className="sr-only" htmlFor="f-platform">
          Platform
        </label>
        <select id="f-platform" value={filter.platform ?? ''} onChange={(e) => setParam('platform', e.target.value)}>
          <option value="">Any platform</option>
          {['linux', 'macos', 'windows', 'ios', 'ipados', 'android'].map((s) => (
            <option key={s}>{s}</option>
          ))}
        </select>
        <label className="sr-only" htmlFor="f-ownership">
          Ownership
        </label>
        <select id="f-ownership" value={filter.ownership ?? ''} onChange={(e) => setParam('ownership', e.target.value)}>
          <option value="">Any ownership</option>
          <option>corporate</option>
          <option>personal</option>
        </select>
        {filter.osVersion && <button onClick={() => setParam('osVersion', '')}>OS version {filter.osVersion} ✕</button>}
        <span style={{ flex: 1 }} />
        <button onClick={() => setChooser(!chooser)} aria-expanded={chooser}>
          Columns
        </button>
        <button onClick={() => void exportCsv()} disabled={exporting}>
          {exporting ? 'Exporting…' : 'Export CSV'}
        </button>
      </div>
      {chooser && (
        <fieldset className="panel row">
          <legend>Columns</legend>
          {COLUMNS.map((c) => (
            <label key={c.key} style={{ fontWeight: 400 }}>
              <input type="checkbox" checked={visible.includes(c.key)} onChange={() => toggleColumn(c.key)} /> {c.label}
            </label>
          ))}
        </fieldset>
      )}
      {list.isError && <p className="error">{list.error.message}</p>}
      <div className="panel table-wrap">
        <table aria-label="Devices" aria-busy={list.isFetching}>
          <thead>
            <tr>
              {columns.map((c) => (
                <th key={c.key} aria-sort={c.sort === sort ? (order === 'asc' ? 'ascending' : 'descending') : undefined}>
                  {c.sort ? (
                    <button onClick={() => sortBy(c.sort!)}>
                      {c.label}
                      {c.sort === sort ? (order === 'asc' ? ' ▲' : ' ▼') : ''}
                    </button>
                  ) : (
                    c.label
                  )}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {list.data?.items.map((d) => (
              <tr key={d.id}>
                {columns.map((c, i) => (
                  <td key={c.key}>
                    {i === 0 ? (
                      <Link to={`/devices/${d.id}`}>{cell(d, c)}</Link>
                    ) : c.key === 'complianceState' ? (
                      <span className={`badge ${d.complianceState}`}>{d.complianceState}</span>
                    ) : (
                      cell(d, c)
                    )}
                  </td>
                ))}
              </tr>
            ))}
            {list.data?.items.length === 0 && (
              <tr>
                <td colSpan={columns.length} className="muted">
                  No devices match.
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </div>
      <div className="row">
        <button disabled={cursors.length === 0} onClick={() => setCursors(cursors.slice(0, -1))}>
          Previous
        </button>
        <button disabled={!list.data?.nextCursor} onClick={() => list.data?.nextCursor && setCursors([...cursors, list.data.nextCursor])}>
          Next
        </button>
        <span className="muted">Page {cursors.length + 1}</span>
      </div>
    </main>
  );
}
