/**
 * Compliance policies: the list (version, settings, assignments), create and edit with every setting
 * of `ComplianceSettings` and the actions for non-compliance, the assignments editor, delete, and the
 * retire list that `retireList` actions fill (confirm queues a retire command, dismiss drops it).
 */
import { useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link } from 'react-router';
import type {
  ComplianceSettings,
  CompliancePolicy,
  CompliancePolicyInput,
  NoncomplianceAction,
  NoncomplianceActionType,
  PasswordType,
  Platform,
  PolicyAssignment,
  RetireListEntry,
} from '@custos/shared';
import { del, formatTime, get, post, put } from '../api';
import { can, useSession } from '../common/session';
import { Check, described, errorText, Field, Outcome, serverFieldErrors, type FieldErrors } from '../common/forms';
import { AssignmentsEditor, assignmentProblems, describeAssignments, useGroups } from './Assignments';
import { ACTION_LABELS, intOrUndefined, intProblem, lines, PASSWORD_TYPE_OPTIONS, PLATFORM_OPTIONS } from './options';

interface Draft {
  name: string;
  description: string;
  platform: Platform | '';
  requireEncryption: boolean;
  minimumOsVersion: string;
  maximumOsVersion: string;
  blockJailbroken: boolean;
  appDenyList: string;
  appAllowList: string;
  maxDaysSinceCheckIn: string;
  requirePassword: boolean;
  passwordMinimumLength: string;
  passwordType: PasswordType | '';
  requireFirewall: boolean;
  actions: { type: NoncomplianceActionType; afterDays: string; additionalRecipients: string; message: string }[];
  assignments: PolicyAssignment[];
}

const EMPTY: Draft = {
  name: '',
  description: '',
  platform: '',
  requireEncryption: false,
  minimumOsVersion: '',
  maximumOsVersion: '',
  blockJailbroken: false,
  appDenyList: '',
  appAllowList: '',
  maxDaysSinceCheckIn: '',
  requirePassword: false,
  passwordMinimumLength: '',
  passwordType: '',
  requireFirewall: false,
  actions: [],
  assignments: [],
};

function toDraft(p: CompliancePolicy): Draft {
  const s = p.settings;
  return {
    name: p.name,
    description: p.description ?? '',
    platform: p.platform ?? '',
    requireEncryption: s.requireEncryption === true,
    minimumOsVersion: s.minimumOsVersion ?? '',
    maximumOsVersion: s.maximumOsVersion ?? '',
    blockJailbroken: s.blockJailbroken === true,
    appDenyList: (s.appDenyList ?? []).join('\n'),
    appAllowList: (s.appAllowList ?? []).join('\n'),
    maxDaysSinceCheckIn: s.maxDaysSinceCheckIn === undefined ? '' : String(s.maxDaysSinceCheckIn),
    requirePassword: s.requirePassword !== undefined,
    passwordMinimumLength: s.requirePassword?.minimumLength === undefined ? '' : String(s.requirePassword.minimumLength),
    passwordType: s.requirePassword?.type ?? '',
    requireFirewall: s.requireFirewall === true,
    actions: p.actions.map((a) => ({
      type: a.type,
      afterDays: String(a.afterDays),
      additionalRecipients: (a.additionalRecipients ?? []).join('\n'),
      message: a.message ?? '',
    })),
    assignments: p.assignments,
  };
}

const VERSION = /^\s*[vV]?\d+(\.\d+)*/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const FIELDS = [
  'name',
  'description',
  'settings.minimumOsVersion',
  'settings.maximumOsVersion',
  'settings.appDenyList',
  'settings.appAllowList',
  'settings.maxDaysSinceCheckIn',
  'settings.requirePassword',
  'actions',
];

/** The checks of `CompliancePolicyInputSchema`, before the server runs them again. */
function validate(d: Draft): FieldErrors {
  const e: FieldErrors = {};
  if (!d.name.trim()) e['name'] = 'Required.';
  else if (d.name.length > 200) e['name'] = 'At most 200 characters.';
  if (d.description.length > 2000) e['description'] = 'At most 2,000 characters.';
  for (const key of ['minimumOsVersion', 'maximumOsVersion'] as const)
    if (d[key] && (!VERSION.test(d[key]) || d[key].length > 64)) e[`settings.${key}`] = 'A version such as 12 or 14.4.1.';
  for (const key of ['appDenyList', 'appAllowList'] as const) {
    const list = lines(d[key]);
    if (new Set(list).size !== list.length) e[`settings.${key}`] = 'An app is listed twice.';
    else if (list.length > 1000) e[`settings.${key}`] = 'At most 1,000 apps.';
    else if (list.some((a) => a.length > 512)) e[`settings.${key}`] = 'An entry is longer than 512 characters.';
  }
  const days = intProblem(d.maxDaysSinceCheckIn, 1, 365);
  if (days) e['settings.maxDaysSinceCheckIn'] = days;
  if (d.requirePassword) {
    const len = intProblem(d.passwordMinimumLength, 4, 64);
    if (len) e['settings.requirePassword'] = `Minimum length: ${len}`;
  }
  const types = d.actions.map((a) => a.type);
  if (new Set(types).size !== types.length) e['actions'] = 'Each action at most once.';
  for (const a of d.actions) {
    const after = intProblem(a.afterDays, 0, 365, true);
    if (after) e['actions'] = `${ACTION_LABELS[a.type]}: days after — ${after}`;
    const bad = lines(a.additionalRecipients).find((r) => !EMAIL.test(r));
    if (a.type === 'email' && bad) e['actions'] = `"${bad}" is not an email address.`;
  }
  const assignment = assignmentProblems(d.assignments);
  if (assignment) e['assignments'] = assignment;
  return e;
}

function toInput(d: Draft): CompliancePolicyInput {
  const settings: ComplianceSettings = {};
  if (d.requireEncryption) settings.requireEncryption = true;
  if (d.minimumOsVersion.trim()) settings.minimumOsVersion = d.minimumOsVersion.trim();
  if (d.maximumOsVersion.trim()) settings.maximumOsVersion = d.maximumOsVersion.trim();
  if (d.blockJailbroken) settings.blockJailbroken = true;
  if (lines(d.appDenyList).length) settings.appDenyList = lines(d.appDenyList);
  if (lines(d.appAllowList).length) settings.appAllowList = lines(d.appAllowList);
  const days = intOrUndefined(d.maxDaysSinceCheckIn);
  if (days !== undefined) settings.maxDaysSinceCheckIn = days;
  if (d.requirePassword) {
    const minimumLength = intOrUndefined(d.passwordMinimumLength);
    settings.requirePassword = {
      ...(minimumLength === undefined ? {} : { minimumLength }),
      ...(d.passwordType ? { type: d.passwordType } : {}),
    };
  }
  if (d.requireFirewall) settings.requireFirewall = true;
  const actions: NoncomplianceAction[] = d.actions.map((a) => {
    const recipients = lines(a.additionalRecipients);
    return {
      type: a.type,
      afterDays: Number(a.afterDays),
      ...(a.type === 'email' && recipients.length ? { additionalRecipients: recipients } : {}),
      ...(a.type === 'email' && a.message.trim() ? { message: a.message.trim() } : {}),
    };
  });
  return {
    name: d.name.trim(),
    description: d.description.trim() || null,
    platform: d.platform || null,
    settings,
    actions,
  };
}

function PolicyEditor(props: { policy: CompliancePolicy | null; onDone: () => void }) {
  const queryClient = useQueryClient();
  const [draft, setDraft] = useState<Draft>(props.policy ? toDraft(props.policy) : EMPTY);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [error, setError] = useState<string | null>(null);
  const set = (patch: Partial<Draft>) => setDraft((d) => ({ ...d, ...patch }));
  const setAction = (i: number, patch: Partial<Draft['actions'][number]>) =>
    set({ actions: draft.actions.map((a, j) => (j === i ? { ...a, ...patch } : a)) });
  const save = useMutation({
    mutationFn: async () => {
      const input = toInput(draft);
      const saved = props.policy
        ? await put<CompliancePolicy>(`/api/v1/compliance-policies/${props.policy.id}`, { ...input, version: props.policy.version })
        : await post<CompliancePolicy>('/api/v1/compliance-policies', input);
      await put(`/api/v1/compliance-policies/${saved.id}/assignments`, { assignments: draft.assignments });
    },
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: ['policies'] });
      props.onDone();
    },
    onError: (e) => {
      setErrors(serverFieldErrors(e, FIELDS));
      setError(errorText(e, 'Could not save the policy.'));
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    const found = validate(draft);
    setErrors(found);
    if (Object.keys(found).length > 0) return setError('Fix the marked fields.');
    save.mutate();
  };
  const unusedTypes = (Object.keys(ACTION_LABELS) as NoncomplianceActionType[]).filter((t) => !draft.actions.some((a) => a.type === t));
  return (
    <form className="panel editor" onSubmit={submit} aria-labelledby="policy-editor-title" noValidate>
      <h2 id="policy-editor-title">{props.policy ? `Edit ${props.policy.name}` : 'New compliance policy'}</h2>
      <div className="form-grid">
        <Field id="p-name" label="Name" error={errors['name']}>
          <input id="p-name" value={draft.name} onChange={(e) => set({ name: e.target.value })} {...described('p-name', errors['name'])} />
        </Field>
        <Field id="p-platform" label="Platform">
          <select id="p-platform" value={draft.platform} onChange={(e) => set({ platform: e.target.value as Platform | '' })}>
            <option value="">All platforms</option>
            {PLATFORM_OPTIONS.map((p) => (
              <option key={p}>{p}</option>
            ))}
          </select>
        </Field>
        <Field id="p-description" label="Description" error={errors['description']}>
          <input
            id="p-description"
            value={draft.description}
            onChange={(e) => set({ description: e.target.value })}
            {...described('p-description', errors['description'])}
          />
        </Field>
      </div>
      <fieldset>
        <legend>Settings</legend>
        <div className="form-grid">
          <Field id="p-minos" label="Minimum OS version" error={errors['settings.minimumOsVersion']}>
            <input
              id="p-minos"
              value={draft.minimumOsVersion}
              placeholder="e.g. 12.0"
              onChange={(e) => set({ minimumOsVersion: e.target.value })}
              {...described('p-minos', errors['settings.minimumOsVersion'])}
            />
          </Field>
          <Field id="p-maxos" label="Maximum OS version" error={errors['settings.maximumOsVersion']}>
            <input
              id="p-maxos"
              value={draft.maximumOsVersion}
              onChange={(e) => set({ maximumOsVersion: e.target.value })}
              {...described('p-maxos', errors['settings.maximumOsVersion'])}
            />
          </Field>
          <Field id="p-checkin" label="Maximum days since check-in" error={errors['settings.maxDaysSinceCheckIn']}>
            <input
              id="p-checkin"
              inputMode="numeric"
              value={draft.maxDaysSinceCheckIn}
              onChange={(e) => set({ maxDaysSinceCheckIn: e.target.value })}
              {...described('p-checkin', errors['settings.maxDaysSinceCheckIn'])}
            />
          </Field>
        </div>
        <div className="row">
          <Check
            id="p-encryption"
            label="Require disk encryption"
            checked={draft.requireEncryption}
            onChange={(v) => set({ requireEncryption: v })}
          />
          <Check
            id="p-jailbreak"
            label="Block jailbroken or rooted devices"
            checked={draft.blockJailbroken}
            onChange={(v) => set({ blockJailbroken: v })}
          />
          <Check
            id="p-firewall"
            label="Require the firewall"
            checked={draft.requireFirewall}
            onChange={(v) => set({ requireFirewall: v })}
          />
          <Check id="p-password" label="Require a password" checked={draft.requirePassword} onChange={(v) => set({ requirePassword: v })} />
        </div>
        {draft.requirePassword && (
          <div className="form-grid">
            <Field id="p-pwlen" label="Password minimum length" error={errors['settings.requirePassword']}>
              <input
                id="p-pwlen"
                inputMode="numeric"
                value={draft.passwordMinimumLength}
                onChange={(e) => set({ passwordMinimumLength: e.target.value })}
                {...described('p-pwlen', errors['settings.requirePassword'])}
              />
            </Field>
            <Field id="p-pwtype" label="Password type at least">
              <select id="p-pwtype" value={draft.passwordType} onChange={(e) => set({ passwordType: e.target.value as PasswordType | '' })}>
                <option value="">Any</option>
                {PASSWORD_TYPE_OPTIONS.map((t) => (
                  <option key={t}>{t}</option>
                ))}
              </select>
            </Field>
          </div>
        )}
        <div className="form-grid">
          <Field id="p-deny" label="Blocked apps (one per line)" error={errors['settings.appDenyList']}>
            <textarea
              id="p-deny"
              rows={3}
              value={draft.appDenyList}
              onChange={(e) => set({ appDenyList: e.target.value })}
              {...described('p-deny', errors['settings.appDenyList'])}
            />
          </Field>
          <Field id="p-allow" label="Allowed apps only (one per line)" error={errors['settings.appAllowList']}>
            <textarea
              id="p-allow"
              rows={3}
              value={draft.appAllowList}
              onChange={(e) => set({ appAllowList: e.target.value })}
              {...described('p-allow', errors['settings.appAllowList'])}
            />
          </Field>
        </div>
      </fieldset>
      <fieldset aria-describedby={errors['actions'] ? 'p-actions-error' : undefined}>
        <legend>Actions for non-compliance</legend>
        <p className="muted">Without a grace period, a failing device is non-compliant at once.</p>
        {draft.actions.map((a, i) => (
          <div key={a.type} className="action-row" role="group" aria-label={ACTION_LABELS[a.type]}>
            <div className="row">
              <strong>{ACTION_LABELS[a.type]}</strong>
              <label htmlFor={`p-action-${a.type}-days`}>after days</label>
              <input
                id={`p-action-${a.type}-days`}
                className="narrow"
                inputMode="numeric"
                value={a.afterDays}
                onChange={(e) => setAction(i, { afterDays: e.target.value })}
              />
              <button type="button" onClick={() => set({ actions: draft.actions.filter((_, j) => j !== i) })}>
                Remove<span className="sr-only"> {ACTION_LABELS[a.type]}</span>
              </button>
            </div>
            {a.type === 'email' && (
              <div className="form-grid">
                <Field id="p-action-email-to" label="Also email (one address per line)">
                  <textarea
                    id="p-action-email-to"
                    rows={2}
                    value={a.additionalRecipients}
                    onChange={(e) => setAction(i, { additionalRecipients: e.target.value })}
                  />
                </Field>
                <Field id="p-action-email-message" label="Message above the reasons">
                  <textarea
                    id="p-action-email-message"
                    rows={2}
                    value={a.message}
                    onChange={(e) => setAction(i, { message: e.target.value })}
                  />
                </Field>
              </div>
            )}
          </div>
        ))}
        {unusedTypes.length > 0 && (
          <p className="row">
            {unusedTypes.map((t) => (
              <button
                key={t}
                type="button"
                onClick={() =>
                  set({
                    actions: [
                      ...draft.actions,
                      { type: t, afterDays: t === 'markNoncompliant' ? '0' : '3', additionalRecipients: '', message: '' },
                    ],
                  })
                }
              >
                Add: {ACTION_LABELS[t]}
              </button>
            ))}
          </p>
        )}
        {errors['actions'] && (
          <p className="error" id="p-actions-error" role="alert">
            {errors['actions']}
          </p>
        )}
      </fieldset>
      <AssignmentsEditor idPrefix="policy" value={draft.assignments} onChange={(assignments) => set({ assignments })} />
      {errors['assignments'] && (
        <p className="error" role="alert">
          {errors['assignments']}
        </p>
      )}
      <p className="row">
        <button className="primary" type="submit" disabled={save.isPending}>
          {props.policy ? 'Save policy' : 'Create policy'}
        </button>
        <button type="button" onClick={props.onDone}>
          Cancel
        </button>
      </p>
      <Outcome error={error} />
    </form>
  );
}

function RetireList() {
  const queryClient = useQueryClient();
  const list = useQuery({
    queryKey: ['retire-list'],
    queryFn: () => get<{ items: RetireListEntry[] }>('/api/v1/compliance/retire-list'),
  });
  const [message, setMessage] = useState<{ ok?: string; error?: string }>({});
  const decide = useMutation({
    mutationFn: ({ deviceId, decision }: { deviceId: string; decision: 'confirm' | 'dismiss' }) =>
      post(`/api/v1/compliance/retire-list/${deviceId}/${decision}`),
    onSuccess: (_r, v) => {
      setMessage({ ok: v.decision === 'confirm' ? 'Retire command queued.' : 'Dismissed.' });
      void queryClient.invalidateQueries({ queryKey: ['retire-list'] });
    },
    onError: (e) => setMessage({ error: errorText(e) }),
  });
  return (
    <section className="panel table-wrap" aria-labelledby="retire-title">
      <h2 id="retire-title">Retire list</h2>
      <p className="muted">Devices a policy's "add to the retire list" action put forward. Confirming retires the device.</p>
      {list.data?.items.length === 0 && <p className="muted">Nothing to review.</p>}
      {list.data && list.data.items.length > 0 && (
        <table aria-label="Retire list">
          <thead>
            <tr>
              <th>Device</th>
              <th>User</th>
              <th>Policy</th>
              <th>Added</th>
              <th>
                <span className="sr-only">Decision</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {list.data.items.map((r) => (
              <tr key={r.deviceId}>
                <td>
                  <Link to={`/devices/${r.deviceId}`}>{r.deviceName ?? r.deviceId}</Link>
                </td>
                <td>{r.userEmail ?? '—'}</td>
                <td>{r.policyName}</td>
                <td>{formatTime(r.addedAt)}</td>
                <td className="cell-actions">
                  <button
                    className="danger"
                    onClick={() =>
                      confirm(`Retire ${r.deviceName ?? 'this device'}? Company data and management are removed.`) &&
                      decide.mutate({ deviceId: r.deviceId, decision: 'confirm' })
                    }
                  >
                    Retire<span className="sr-only"> {r.deviceName}</span>
                  </button>
                  <button onClick={() => decide.mutate({ deviceId: r.deviceId, decision: 'dismiss' })}>
                    Dismiss<span className="sr-only"> {r.deviceName}</span>
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <Outcome error={message.error ?? null} ok={message.ok ?? null} />
    </section>
  );
}

function describeSettings(s: ComplianceSettings): string {
  const parts: string[] = [];
  if (s.requireEncryption) parts.push('encryption');
  if (s.minimumOsVersion) parts.push(`OS ≥ ${s.minimumOsVersion}`);
  if (s.maximumOsVersion) parts.push(`OS ≤ ${s.maximumOsVersion}`);
  if (s.blockJailbroken) parts.push('not jailbroken');
  if (s.appDenyList?.length) parts.push(`${s.appDenyList.length} blocked apps`);
  if (s.appAllowList?.length) parts.push(`${s.appAllowList.length} allowed apps`);
  if (s.maxDaysSinceCheckIn) parts.push(`check-in within ${s.maxDaysSinceCheckIn} d`);
  if (s.requirePassword)
    parts.push(
      `password${s.requirePassword.minimumLength ? ` ≥ ${s.requirePassword.minimumLength}` : ''}${s.requirePassword.type ? ` ${s.requirePassword.type}` : ''}`,
    );
  if (s.requireFirewall) parts.push('firewall');
  return parts.join(', ') || 'no settings';
}

export function Policies() {
  const { session } = useSession();
  const queryClient = useQueryClient();
  const writable = can(session, 'policies.write');
  const policies = useQuery({ queryKey: ['policies'], queryFn: () => get<{ items: CompliancePolicy[] }>('/api/v1/compliance-policies') });
  const groups = useGroups();
  const [editing, setEditing] = useState<CompliancePolicy | 'new' | null>(null);
  const [error, setError] = useState<string | null>(null);
  const remove = useMutation({
    mutationFn: (id: string) => del(`/api/v1/compliance-policies/${id}`),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ['policies'] }),
    onError: (e) => setError(errorText(e)),
  });
  return (
    <main>
      <div className="row heading-row">
        <h1>Compliance policies</h1>
        {writable && editing === null && (
          <button className="primary" onClick={() => setEditing('new')}>
            New policy
          </button>
        )}
      </div>
      {editing !== null && (
        <PolicyEditor
          key={editing === 'new' ? 'new' : editing.id}
          policy={editing === 'new' ? null : editing}
          onDone={() => setEditing(null)}
        />
      )}
      <section className="panel table-wrap">
        {policies.isError && <p className="error">{policies.error.message}</p>}
        <table aria-label="Compliance policies">
          <thead>
            <tr>
              <th>Name</th>
              <th>Platform</th>
              <th>Version</th>
              <th>Settings</th>
              <th>Actions</th>
              <th>Assigned to</th>
              {writable && (
                <th>
                  <span className="sr-only">Manage</span>
                </th>
              )}
            </tr>
          </thead>
          <tbody>
            {policies.data?.items.map((p) => (
              <tr key={p.id}>
                <td>{p.name}</td>
                <td>{p.platform ?? 'all'}</td>
                <td>{p.version}</td>
                <td className="wrap">{describeSettings(p.settings)}</td>
                <td className="wrap">{p.actions.map((a) => `${ACTION_LABELS[a.type]} after ${a.afterDays} d`).join('; ')}</td>
                <td className="wrap" data-testid={`assigned-${p.name}`}>
                  {describeAssignments(p.assignments, groups.data?.items)}
                </td>
                {writable && (
                  <td className="cell-actions">
                    <button onClick={() => setEditing(p)}>
                      Edit<span className="sr-only"> {p.name}</span>
                    </button>
                    <button
                      className="danger"
                      onClick={() => confirm(`Delete the policy "${p.name}"? Its devices are evaluated again.`) && remove.mutate(p.id)}
                    >
                      Delete<span className="sr-only"> {p.name}</span>
                    </button>
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
        <Outcome error={error} />
      </section>
      <RetireList />
    </main>
  );
}
