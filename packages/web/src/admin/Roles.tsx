/**
 * Roles: the built-in and custom roles with their permissions, create and edit a custom role from
 * the permission list, and role assignments — a role to a user or group, over every object or only
 * objects with some scope tags.
 */
import { useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { Static } from 'typebox';
import type { PermissionListSchema, RoleAssignmentListSchema, RoleDto, UserDto } from '@custos/shared';
import { del, formatTime, get, patch, post } from '../api';
import { can, useSession } from '../common/session';
import { described, errorText, Field, Outcome, serverFieldErrors, type FieldErrors } from '../common/forms';
import { useGroups } from './Assignments';

type RoleAssignment = Static<typeof RoleAssignmentListSchema>['items'][number];
type PermissionInfo = Static<typeof PermissionListSchema>['items'][number];

const SCOPE_TAG = /^[a-z0-9][a-z0-9._-]{0,63}$/;

export function useRoles() {
  return useQuery({ queryKey: ['roles'], queryFn: () => get<{ items: RoleDto[] }>('/api/v1/roles') });
}

/** "a, b c" → ["a", "b", "c"]; null when empty (every object). */
export function parseScopeTags(text: string): string[] | null {
  const tags = text.split(/[\s,]+/).filter(Boolean);
  return tags.length ? tags : null;
}

export function scopeTagProblem(text: string): string | undefined {
  const tags = parseScopeTags(text) ?? [];
  if (tags.length > 50) return 'At most 50 scope tags.';
  const bad = tags.find((t) => !SCOPE_TAG.test(t));
  return bad ? `"${bad}": lower-case letters, digits, ".", "_", "-".` : undefined;
}

function RoleEditor(props: { role: RoleDto | null; permissions: PermissionInfo[]; onDone: () => void }) {
  const queryClient = useQueryClient();
  const [name, setName] = useState(props.role?.name ?? '');
  const [description, setDescription] = useState(props.role?.description ?? '');
  const [chosen, setChosen] = useState<string[]>(props.role?.permissions ?? []);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [error, setError] = useState<string | null>(null);
  const save = useMutation({
    mutationFn: () => {
      const body = { name: name.trim(), description: description.trim() || null, permissions: chosen };
      return props.role ? patch(`/api/v1/roles/${props.role.id}`, body) : post('/api/v1/roles', body);
    },
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: ['roles'] });
      props.onDone();
    },
    onError: (e) => {
      setErrors(serverFieldErrors(e, ['name', 'description', 'permissions']));
      setError(errorText(e));
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const found: FieldErrors = {};
    if (!name.trim() || name.length > 100) found['name'] = '1 to 100 characters.';
    if (description.length > 1024) found['description'] = 'At most 1,024 characters.';
    if (chosen.length === 0) found['permissions'] = 'Pick at least one permission.';
    setErrors(found);
    setError(null);
    if (!Object.keys(found).length) save.mutate();
  };
  return (
    <form className="panel editor" onSubmit={submit} aria-labelledby="role-editor-title" noValidate>
      <h2 id="role-editor-title">{props.role ? `Edit ${props.role.name}` : 'New custom role'}</h2>
      <div className="form-grid">
        <Field id="r-name" label="Role name" error={errors['name']}>
          <input id="r-name" value={name} onChange={(e) => setName(e.target.value)} {...described('r-name', errors['name'])} />
        </Field>
        <Field id="r-description" label="Description" error={errors['description']}>
          <input id="r-description" value={description} onChange={(e) => setDescription(e.target.value)} />
        </Field>
      </div>
      <fieldset aria-describedby={errors['permissions'] ? 'r-permissions-error' : undefined}>
        <legend>Permissions</legend>
        <div className="permission-grid">
          {props.permissions.map((p) => (
            <label key={p.name} className="check" htmlFor={`r-perm-${p.name}`}>
              <input
                id={`r-perm-${p.name}`}
                type="checkbox"
                checked={chosen.includes(p.name)}
                onChange={(e) => setChosen(e.target.checked ? [...chosen, p.name] : chosen.filter((c) => c !== p.name))}
              />{' '}
              <code>{p.name}</code> <span className="muted">{p.description}</span>
            </label>
          ))}
        </div>
        {errors['permissions'] && (
          <p className="error" id="r-permissions-error" role="alert">
            {errors['permissions']}
          </p>
        )}
      </fieldset>
      <p className="row">
        <button className="primary" type="submit" disabled={save.isPending}>
          {props.role ? 'Save role' : 'Create role'}
        </button>
        <button type="button" onClick={props.onDone}>
          Cancel
        </button>
      </p>
      <Outcome error={error} />
    </form>
  );
}

function RoleAssignments(props: { roles: RoleDto[]; writable: boolean }) {
  const queryClient = useQueryClient();
  const assignments = useQuery({
    queryKey: ['role-assignments'],
    queryFn: () => get<{ items: RoleAssignment[] }>('/api/v1/role-assignments'),
  });
  const users = useQuery({ queryKey: ['users'], queryFn: () => get<{ items: UserDto[] }>('/api/v1/users?limit=500') });
  const groups = useGroups();
  const [role, setRole] = useState('');
  const [principal, setPrincipal] = useState('');
  const [tags, setTags] = useState('');
  const [errors, setErrors] = useState<FieldErrors>({});
  const [outcome, setOutcome] = useState<{ ok?: string; error?: string }>({});
  const refresh = () => void queryClient.invalidateQueries({ queryKey: ['role-assignments'] });
  const create = useMutation({
    mutationFn: () => {
      const [principalKind, principalId] = principal.split(':');
      return post('/api/v1/role-assignments', { role, principalKind, principalId, scopeTags: parseScopeTags(tags) });
    },
    onSuccess: () => {
      setOutcome({ ok: 'Role assigned.' });
      setTags('');
      refresh();
    },
    onError: (e) => {
      setErrors(serverFieldErrors(e, ['role', 'principalId', 'scopeTags']));
      setOutcome({ error: errorText(e) });
    },
  });
  const remove = useMutation({
    mutationFn: (id: string) => del(`/api/v1/role-assignments/${id}`),
    onSuccess: refresh,
    onError: (e) => setOutcome({ error: errorText(e) }),
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const found: FieldErrors = {};
    if (!role) found['role'] = 'Pick a role.';
    if (!principal) found['principalId'] = 'Pick a user or group.';
    const tagProblem = scopeTagProblem(tags);
    if (tagProblem) found['scopeTags'] = tagProblem;
    setErrors(found);
    if (!Object.keys(found).length) create.mutate();
  };
  const principalName = (a: RoleAssignment) =>
    a.principalKind === 'user'
      ? (users.data?.items.find((u) => u.id === a.principalId)?.userName ?? a.principalId)
      : `group ${groups.data?.items.find((g) => g.id === a.principalId)?.displayName ?? a.principalId}`;
  return (
    <section className="panel table-wrap" aria-labelledby="assignments-title">
      <h2 id="assignments-title">Role assignments</h2>
      {props.writable && (
        <form onSubmit={submit} noValidate>
          <div className="form-grid">
            <Field id="ra-role" label="Role" error={errors['role']}>
              <select id="ra-role" value={role} onChange={(e) => setRole(e.target.value)} {...described('ra-role', errors['role'])}>
                <option value="">Choose a role</option>
                {props.roles.map((r) => (
                  <option key={r.id} value={r.id}>
                    {r.name}
                  </option>
                ))}
              </select>
            </Field>
            <Field id="ra-principal" label="Assign to" error={errors['principalId']}>
              <select
                id="ra-principal"
                value={principal}
                onChange={(e) => setPrincipal(e.target.value)}
                {...described('ra-principal', errors['principalId'])}
              >
                <option value="">Choose a user or group</option>
                <optgroup label="Users">
                  {users.data?.items.map((u) => (
                    <option key={u.id} value={`user:${u.id}`}>
                      {u.userName}
                    </option>
                  ))}
                </optgroup>
                <optgroup label="Groups">
                  {groups.data?.items.map((g) => (
                    <option key={g.id} value={`group:${g.id}`}>
                      {g.displayName}
                    </option>
                  ))}
                </optgroup>
              </select>
            </Field>
            <Field
              id="ra-tags"
              label="Scope tags"
              error={errors['scopeTags']}
              hint="Empty: every object. Otherwise tags separated by spaces."
            >
              <input
                id="ra-tags"
                value={tags}
                onChange={(e) => setTags(e.target.value)}
                {...described('ra-tags', errors['scopeTags'], true)}
              />
            </Field>
          </div>
          <p>
            <button className="primary" type="submit" disabled={create.isPending}>
              Assign role
            </button>
          </p>
        </form>
      )}
      <table aria-label="Role assignments">
        <thead>
          <tr>
            <th>Role</th>
            <th>Assigned to</th>
            <th>Scope</th>
            <th>Since</th>
            {props.writable && (
              <th>
                <span className="sr-only">Remove</span>
              </th>
            )}
          </tr>
        </thead>
        <tbody>
          {assignments.data?.items.map((a) => (
            <tr key={a.id}>
              <td>{a.roleName ?? a.role}</td>
              <td>{principalName(a)}</td>
              <td>{a.scopeTags ? a.scopeTags.join(', ') : 'every object'}</td>
              <td>{formatTime(a.createdAt)}</td>
              {props.writable && (
                <td>
                  <button onClick={() => confirm('Remove this role assignment?') && remove.mutate(a.id)}>
                    Remove
                    <span className="sr-only">
                      {' '}
                      {a.roleName ?? a.role} from {principalName(a)}
                    </span>
                  </button>
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
      <Outcome error={outcome.error ?? null} ok={outcome.ok ?? null} />
    </section>
  );
}

export function Roles() {
  const { session } = useSession();
  const queryClient = useQueryClient();
  const writable = can(session, 'roles.write');
  const roles = useRoles();
  const permissions = useQuery({ queryKey: ['permissions'], queryFn: () => get<{ items: PermissionInfo[] }>('/api/v1/permissions') });
  const [editing, setEditing] = useState<RoleDto | 'new' | null>(null);
  const [error, setError] = useState<string | null>(null);
  const remove = useMutation({
    mutationFn: (id: string) => del(`/api/v1/roles/${id}`),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ['roles'] }),
    onError: (e) => setError(errorText(e)),
  });
  return (
    <main>
      <div className="row heading-row">
        <h1>Roles</h1>
        {writable && editing === null && (
          <button className="primary" onClick={() => setEditing('new')}>
            New custom role
          </button>
        )}
      </div>
      {editing !== null && (
        <RoleEditor
          key={editing === 'new' ? 'new' : editing.id}
          role={editing === 'new' ? null : editing}
          permissions={permissions.data?.items ?? []}
          onDone={() => setEditing(null)}
        />
      )}
      <section className="panel table-wrap">
        <table aria-label="Roles">
          <thead>
            <tr>
              <th>Role</th>
              <th>Kind</th>
              <th>Permissions</th>
              {writable && (
                <th>
                  <span className="sr-only">Manage</span>
                </th>
              )}
            </tr>
          </thead>
          <tbody>
            {roles.data?.items.map((r) => (
              <tr key={r.id}>
                <td>
                  <strong>{r.name}</strong>
                  {r.description && <div className="muted wrap">{r.description}</div>}
                </td>
                <td>{r.builtIn ? 'built-in' : 'custom'}</td>
                <td className="wrap">
                  {r.permissions.map((p) => (
                    <code key={p} className="tag">
                      {p}
                    </code>
                  ))}
                </td>
                {writable && (
                  <td className="cell-actions">
                    {!r.builtIn && (
                      <>
                        <button onClick={() => setEditing(r)}>
                          Edit<span className="sr-only"> {r.name}</span>
                        </button>
                        <button className="danger" onClick={() => confirm(`Delete the role ${r.name}?`) && remove.mutate(r.id)}>
                          Delete<span className="sr-only"> {r.name}</span>
                        </button>
                      </>
                    )}
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
        <Outcome error={error} />
      </section>
      <RoleAssignments roles={roles.data?.items ?? []} writable={writable} />
    </main>
  );
}
