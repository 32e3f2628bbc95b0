/**
 * Users and groups of the tenant: create a cloud-only user (with a generated password shown once,
 * or an emailed link to set one); a user's details: their name, email and phone (edited) and their
 * sessions (ended); deactivate and reactivate, delete; create groups, change their members, delete them.
 */
import { useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { Static } from 'typebox';
import type { GroupSchema, UserDto, UserSessionListSchema } from '@custos/shared';
import { ApiError, del, formatTime, get, patch, post } from '../api';
import { can, useSession } from '../common/session';
import { described, errorText, Field, Outcome, serverFieldErrors, ShownOnce, type FieldErrors } from '../common/forms';
import { useGroups, type Group } from './Assignments';

type UserSession = Static<typeof UserSessionListSchema>['items'][number];

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
/** The server's check of a phone number (E.164-ish, domain/identity/user-service.ts). */
const PHONE = /^\+?[0-9(][0-9 ().-]*[0-9]$/;
const PHONE_HINT = 'Digits with an optional leading "+", like +44 20 7946 0958.';

/** Why `phone` would be refused, or null when it is empty or valid. */
export function phoneProblem(phone: string): string | null {
  const trimmed = phone.trim();
  if (!trimmed) return null;
  const digits = trimmed.replace(/\D/g, '').length;
  return trimmed.length > 32 || !PHONE.test(trimmed) || digits < 4 || digits > 20 ? PHONE_HINT : null;
}

/** Field messages from the server's problem+json; its phone check names "the phone number", not a field. */
function userFieldErrors(error: unknown): FieldErrors {
  const found = serverFieldErrors(error, ['userName', 'displayName', 'email', 'phone']);
  if (!found['phone'] && error instanceof ApiError && /phone number/i.test(error.message)) found['phone'] = error.message;
  return found;
}

/** A password from the browser's CSPRNG: 20 characters from an alphabet without look-alikes. */
export function generatePassword(length = 20): string {
  const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789-_';
  const bytes = crypto.getRandomValues(new Uint8Array(length));
  return Array.from(bytes, (b) => alphabet[b % alphabet.length]).join('');
}

function useUsers() {
  return useQuery({ queryKey: ['users'], queryFn: () => get<{ items: UserDto[] }>('/api/v1/users?limit=500') });
}

function CreateUser() {
  const queryClient = useQueryClient();
  const [userName, setUserName] = useState('');
  const [displayName, setDisplayName] = useState('');
  const [email, setEmail] = useState('');
  const [phone, setPhone] = useState('');
  const [credential, setCredential] = useState<'generate' | 'link' | 'none'>('generate');
  const [errors, setErrors] = useState<FieldErrors>({});
  const [error, setError] = useState<string | null>(null);
  const [created, setCreated] = useState<{ userName: string; password: string | null; linkSent: boolean } | null>(null);
  const create = useMutation({
    mutationFn: async () => {
      const password = credential === 'generate' ? generatePassword() : undefined;
      const user = await post<UserDto>('/api/v1/users', {
        userName: userName.trim(),
        ...(displayName.trim() ? { displayName: displayName.trim() } : {}),
        ...(email.trim() ? { email: email.trim() } : {}),
        ...(phone.trim() ? { phone: phone.trim() } : {}),
        ...(password ? { password } : {}),
      });
      if (credential === 'link') await post(`/api/v1/users/${user.id}/password`, { sendResetLink: true });
      return { userName: user.userName, password: password ?? null, linkSent: credential === 'link' };
    },
    onSuccess: (result) => {
      setCreated(result);
      setUserName('');
      setDisplayName('');
      setEmail('');
      setPhone('');
      void queryClient.invalidateQueries({ queryKey: ['users'] });
    },
    onError: (e) => {
      setErrors(userFieldErrors(e));
      setError(errorText(e, 'Could not create the user.'));
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    const found: FieldErrors = {};
    if (!userName.trim() || /\s/.test(userName.trim()) || userName.length > 256) found['userName'] = '1 to 256 characters without spaces.';
    if (displayName.length > 256) found['displayName'] = 'At most 256 characters.';
    if (email && (!EMAIL.test(email.trim()) || email.length > 320)) found['email'] = 'An email address.';
    if (credential === 'link' && !email.trim() && !EMAIL.test(userName.trim())) found['email'] = 'A reset link needs an email address.';
    const phoneError = phoneProblem(phone);
    if (phoneError) found['phone'] = phoneError;
    setErrors(found);
    if (Object.keys(found).length) return;
    create.mutate();
  };
  return (
    <>
      <form className="panel" onSubmit={submit} aria-labelledby="new-user-title" noValidate>
        <h2 id="new-user-title">New user</h2>
        <div className="form-grid">
          <Field id="u-name" label="User name" error={errors['userName']}>
            <input
              id="u-name"
              value={userName}
              autoComplete="off"
              onChange={(e) => setUserName(e.target.value)}
              {...described('u-name', errors['userName'])}
            />
          </Field>
          <ContactFields
            prefix="u"
            errors={errors}
            values={{ displayName, email, phone }}
            set={{ displayName: setDisplayName, email: setEmail, phone: setPhone }}
          />
          <Field id="u-credential" label="First sign-in">
            <select id="u-credential" value={credential} onChange={(e) => setCredential(e.target.value as typeof credential)}>
              <option value="generate">Generate a password (shown once)</option>
              <option value="link">Email a link to set a password</option>
              <option value="none">No password (single sign-on only)</option>
            </select>
          </Field>
        </div>
        <p>
          <button className="primary" type="submit" disabled={create.isPending}>
            Create user
          </button>
        </p>
        <Outcome error={error} />
      </form>
      {created?.password && (
        <ShownOnce
          title={`Initial password of ${created.userName}`}
          value={created.password}
          testId="initial-password"
          onDone={() => setCreated(null)}
        />
      )}
      {created?.linkSent && (
        <p className="notice" role="status">
          {created.userName} was created; a link to set a password is on its way by email.
        </p>
      )}
    </>
  );
}

/** A user's display name, email and phone (read-only without `users.write`); an empty field clears the value. */
function UserEditor(props: { user: UserDto; writable: boolean; onClose: () => void }) {
  const queryClient = useQueryClient();
  const { user } = props;
  const [displayName, setDisplayName] = useState(user.displayName ?? '');
  const [email, setEmail] = useState(user.email ?? '');
  const [phone, setPhone] = useState(user.phone ?? '');
  const [errors, setErrors] = useState<FieldErrors>({});
  const [outcome, setOutcome] = useState<{ ok?: string; error?: string }>({});
  const save = useMutation({
    mutationFn: (changes: Partial<Pick<UserDto, 'displayName' | 'email' | 'phone'>>) => patch<UserDto>(`/api/v1/users/${user.id}`, changes),
    onSuccess: (u) => {
      setOutcome({ ok: `Saved the details of ${u.userName}.` });
      // The list holds the saved user at once, so reopening the editor shows what was saved.
      queryClient.setQueryData<{ items: UserDto[] }>(
        ['users'],
        (old) => old && { ...old, items: old.items.map((x) => (x.id === u.id ? u : x)) },
      );
      void queryClient.invalidateQueries({ queryKey: ['users'] });
    },
    onError: (e) => {
      setErrors(userFieldErrors(e));
      setOutcome({ error: errorText(e, 'Could not save the user.') });
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setOutcome({});
    const found: FieldErrors = {};
    if (displayName.length > 256) found['displayName'] = 'At most 256 characters.';
    if (email.trim() && (!EMAIL.test(email.trim()) || email.length > 320)) found['email'] = 'An email address.';
    const phoneError = phoneProblem(phone);
    if (phoneError) found['phone'] = phoneError;
    setErrors(found);
    if (Object.keys(found).length) return;
    // Only what changed is sent, so the audit log records just that.
    const values = { displayName: displayName.trim() || null, email: email.trim() || null, phone: phone.trim() || null };
    const changes = Object.fromEntries(Object.entries(values).filter(([k, v]) => user[k as keyof typeof values] !== v));
    if (Object.keys(changes).length === 0) setOutcome({ ok: 'Nothing changed.' });
    else save.mutate(changes);
  };
  const title = `Details of ${user.userName}`;
  return (
    <form className="panel" onSubmit={submit} aria-label={title} noValidate>
      <h2>{title}</h2>
      {user.source === 'scim' && <p className="muted">This user comes from the directory (SCIM): its next update overwrites these.</p>}
      <fieldset className="plain" disabled={!props.writable}>
        <div className="form-grid">
          <ContactFields
            prefix="e"
            errors={errors}
            values={{ displayName, email, phone }}
            set={{ displayName: setDisplayName, email: setEmail, phone: setPhone }}
          />
        </div>
      </fieldset>
      <p className="row">
        {props.writable && (
          <button className="primary" type="submit" disabled={save.isPending}>
            Save details
          </button>
        )}
        <button type="button" onClick={props.onClose}>
          Close
        </button>
      </p>
      <Outcome error={outcome.error ?? null} ok={outcome.ok ?? null} />
    </form>
  );
}

function Sessions(props: { user: UserDto; writable: boolean }) {
  const queryClient = useQueryClient();
  const key = ['user-sessions', props.user.id];
  const sessions = useQuery({
    queryKey: key,
    queryFn: () => get<{ items: UserSession[] }>(`/api/v1/users/${props.user.id}/sessions`),
  });
  const [outcome, setOutcome] = useState<{ ok?: string; error?: string }>({});
  const revoke = useMutation({
    mutationFn: (sessionId: string | null) =>
      sessionId ? del(`/api/v1/users/${props.user.id}/sessions/${sessionId}`) : del(`/api/v1/users/${props.user.id}/sessions`),
    onSuccess: () => {
      setOutcome({ ok: 'Signed out.' });
      void queryClient.invalidateQueries({ queryKey: key });
    },
    onError: (e) => setOutcome({ error: errorText(e) }),
  });
  return (
    <section className="panel table-wrap" aria-label={`Sessions of ${props.user.userName}`}>
      <h2>Sessions of {props.user.userName}</h2>
      {sessions.data?.items.length === 0 && <p className="muted">No open sessions.</p>}
      {sessions.data && sessions.data.items.length > 0 && (
        <table aria-label={`Sessions of ${props.user.userName}`}>
          <thead>
            <tr>
              <th>Signed in</th>
              <th>Method</th>
              <th>Last seen</th>
              <th>Ends</th>
              <th>Address</th>
              <th>Browser</th>
              {props.writable && (
                <th>
                  <span className="sr-only">End</span>
                </th>
              )}
            </tr>
          </thead>
          <tbody>
            {sessions.data.items.map((s) => (
              <tr key={s.id}>
                <td>{formatTime(s.createdAt)}</td>
                <td>
                  {s.method}
                  {s.mfaSatisfied ? ' + MFA' : ''}
                </td>
                <td>{formatTime(s.lastSeenAt)}</td>
                <td>{formatTime(s.expiresAt)}</td>
                <td>{s.ip ?? '—'}</td>
                <td className="wrap">{s.userAgent ?? '—'}</td>
                {props.writable && (
                  <td>
                    <button onClick={() => revoke.mutate(s.id)}>End session</button>
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {props.writable && sessions.data && sessions.data.items.length > 0 && (
        <p>
          <button className="danger" onClick={() => revoke.mutate(null)}>
            End every session
          </button>
        </p>
      )}
      <Outcome error={outcome.error ?? null} ok={outcome.ok ?? null} />
    </section>
  );
}

function UsersTable(props: { writable: boolean }) {
  const queryClient = useQueryClient();
  const users = useUsers();
  const [selected, setSelected] = useState<string | null>(null);
  const selectedUser = users.data?.items.find((u) => u.id === selected);
  const [outcome, setOutcome] = useState<{ ok?: string; error?: string }>({});
  const done = (ok: string) => {
    setOutcome({ ok });
    void queryClient.invalidateQueries({ queryKey: ['users'] });
  };
  const onError = (e: Error) => setOutcome({ error: errorText(e) });
  const setActive = useMutation({
    mutationFn: (u: UserDto) => patch<UserDto>(`/api/v1/users/${u.id}`, { active: !u.active }),
    onSuccess: (u) => done(`${u.userName} is ${u.active ? 'active again' : 'deactivated: their sessions and tokens stopped'}.`),
    onError,
  });
  const remove = useMutation({
    mutationFn: (u: UserDto) => del(`/api/v1/users/${u.id}`).then(() => u),
    onSuccess: (u) => {
      if (selected === u.id) setSelected(null);
      done(`${u.userName} was deleted.`);
    },
    onError,
  });
  const sendLink = useMutation({
    mutationFn: (u: UserDto) => post(`/api/v1/users/${u.id}/password`, { sendResetLink: true }).then(() => u),
    onSuccess: (u) => setOutcome({ ok: `A link to set a password was emailed to ${u.userName}.` }),
    onError,
  });
  return (
    <>
      <section className="panel table-wrap" aria-labelledby="users-title">
        <h2 id="users-title">Users</h2>
        {users.isError && <p className="error">{users.error.message}</p>}
        <table aria-label="Users">
          <thead>
            <tr>
              <th>User name</th>
              <th>Name</th>
              <th>Source</th>
              <th>Status</th>
              <th>Last sign-in</th>
              <th>
                <span className="sr-only">Manage</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {users.data?.items.map((u) => (
              <tr key={u.id}>
                <td>{u.userName}</td>
                <td>{u.displayName ?? '—'}</td>
                <td>{u.source}</td>
                <td>{u.active ? 'active' : <span className="badge noncompliant">deactivated</span>}</td>
                <td>{formatTime(u.lastSignInAt)}</td>
                <td className="cell-actions">
                  <button onClick={() => setSelected(selected === u.id ? null : u.id)} aria-expanded={selected === u.id}>
                    Details<span className="sr-only"> of {u.userName}</span>
                  </button>
                  {props.writable && (
                    <>
                      {u.source === 'cloud' && (
                        <button onClick={() => sendLink.mutate(u)}>
                          Send reset link<span className="sr-only"> to {u.userName}</span>
                        </button>
                      )}
                      <button
                        onClick={() =>
                          (u.active ? confirm(`Deactivate ${u.userName}? Their sessions and API tokens stop at once.`) : true) &&
                          setActive.mutate(u)
                        }
                      >
                        {u.active ? 'Deactivate' : 'Reactivate'}
                        <span className="sr-only"> {u.userName}</span>
                      </button>
                      <button className="danger" onClick={() => confirm(`Delete ${u.userName}?`) && remove.mutate(u)}>
                        Delete<span className="sr-only"> {u.userName}</span>
                      </button>
                    </>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        <Outcome error={outcome.error ?? null} ok={outcome.ok ?? null} />
      </section>
      {selectedUser && (
        <>
          <UserEditor key={selectedUser.id} user={selectedUser} writable={props.writable} onClose={() => setSelected(null)} />
          <Sessions key={`sessions-${selectedUser.id}`} user={selectedUser} writable={props.writable} />
        </>
      )}
    </>
  );
}

function GroupMembers(props: { group: Group; users: UserDto[]; writable: boolean; onClose: () => void }) {
  const queryClient = useQueryClient();
  const detail = useQuery({
    queryKey: ['group', props.group.id],
    queryFn: () => get<Static<typeof GroupSchema>>(`/api/v1/groups/${props.group.id}`),
  });
  const [adding, setAdding] = useState('');
  const [error, setError] = useState<string | null>(null);
  const change = useMutation({
    mutationFn: (body: { add?: string[]; remove?: string[] }) => patch(`/api/v1/groups/${props.group.id}`, body),
    onSuccess: () => {
      setAdding('');
      void queryClient.invalidateQueries({ queryKey: ['group', props.group.id] });
    },
    onError: (e) => setError(errorText(e)),
  });
  const members = detail.data?.members ?? [];
  const name = (id: string) => props.users.find((u) => u.id === id)?.userName ?? id;
  return (
    <section className="panel" aria-label={`Members of ${props.group.displayName}`}>
      <h2>Members of {props.group.displayName}</h2>
      {members.length === 0 && detail.isSuccess && <p className="muted">No members.</p>}
      <ul>
        {members.map((m) => (
          <li key={m}>
            {name(m)}{' '}
            {props.writable && props.group.source === 'cloud' && (
              <button onClick={() => change.mutate({ remove: [m] })}>
                Remove<span className="sr-only"> {name(m)}</span>
              </button>
            )}
          </li>
        ))}
      </ul>
      {props.writable && props.group.source === 'cloud' && (
        <p className="row">
          <label htmlFor="g-add">Add member</label>
          <select id="g-add" value={adding} onChange={(e) => setAdding(e.target.value)}>
            <option value="">Choose a user</option>
            {props.users
              .filter((u) => !members.includes(u.id))
              .map((u) => (
                <option key={u.id} value={u.id}>
                  {u.userName}
                </option>
              ))}
          </select>
          <button disabled={!adding} onClick={() => change.mutate({ add: [adding] })}>
            Add
          </button>
        </p>
      )}
      {props.group.source === 'scim' && <p className="muted">Members of this group come from the directory (SCIM).</p>}
      <button onClick={props.onClose}>Close</button>
      <Outcome error={error} />
    </section>
  );
}

function Groups(props: { writable: boolean }) {
  const queryClient = useQueryClient();
  const groups = useGroups();
  const users = useUsers();
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [open, setOpen] = useState<Group | null>(null);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [outcome, setOutcome] = useState<{ ok?: string; error?: string }>({});
  const create = useMutation({
    mutationFn: () =>
      post('/api/v1/groups', { displayName: name.trim(), ...(description.trim() ? { description: description.trim() } : {}) }),
    onSuccess: () => {
      setName('');
      setDescription('');
      setOutcome({ ok: 'Group created.' });
      void queryClient.invalidateQueries({ queryKey: ['groups'] });
    },
    onError: (e) => {
      setErrors(serverFieldErrors(e, ['displayName', 'description']));
      setOutcome({ error: errorText(e) });
    },
  });
  const remove = useMutation({
    mutationFn: (g: Group) => del(`/api/v1/groups/${g.id}`),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ['groups'] }),
    onError: (e) => setOutcome({ error: errorText(e) }),
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const found: FieldErrors = {};
    if (!name.trim() || name.length > 256) found['displayName'] = '1 to 256 characters.';
    if (description.length > 1024) found['description'] = 'At most 1,024 characters.';
    setErrors(found);
    if (!Object.keys(found).length) create.mutate();
  };
  return (
    <>
      <section className="panel table-wrap" aria-labelledby="groups-title">
        <h2 id="groups-title">Groups</h2>
        {props.writable && (
          <form className="row" onSubmit={submit} noValidate>
            <Field id="g-name" label="New group name" error={errors['displayName']}>
              <input id="g-name" value={name} onChange={(e) => setName(e.target.value)} {...described('g-name', errors['displayName'])} />
            </Field>
            <Field id="g-description" label="Description" error={errors['description']}>
              <input id="g-description" value={description} onChange={(e) => setDescription(e.target.value)} />
            </Field>
            <button className="primary align-end" type="submit" disabled={create.isPending}>
              Create group
            </button>
          </form>
        )}
        <table aria-label="Groups">
          <thead>
            <tr>
              <th>Name</th>
              <th>Description</th>
              <th>Source</th>
              <th>
                <span className="sr-only">Manage</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {groups.data?.items.map((g) => (
              <tr key={g.id}>
                <td>{g.displayName}</td>
                <td className="wrap">{g.description ?? '—'}</td>
                <td>{g.source}</td>
                <td className="cell-actions">
                  <button onClick={() => setOpen(open?.id === g.id ? null : g)} aria-expanded={open?.id === g.id}>
                    Members<span className="sr-only"> of {g.displayName}</span>
                  </button>
                  {props.writable && (
                    <button
                      className="danger"
                      onClick={() => confirm(`Delete the group ${g.displayName} and its role assignments?`) && remove.mutate(g)}
                    >
                      Delete<span className="sr-only"> {g.displayName}</span>
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        <Outcome error={outcome.error ?? null} ok={outcome.ok ?? null} />
      </section>
      {open && (
        <GroupMembers key={open.id} group={open} users={users.data?.items ?? []} writable={props.writable} onClose={() => setOpen(null)} />
      )}
    </>
  );
}

export function Users() {
  const { session } = useSession();
  const writable = can(session, 'users.write');
  return (
    <main>
      <h1>Users and groups</h1>
      {writable && <CreateUser />}
      <UsersTable writable={writable} />
      <Groups writable={writable} />
    </main>
  );
}

type Contact = { displayName: string; email: string; phone: string };

/** Display name, email and phone: the fields the new-user form and the user editor share. */
function ContactFields(props: {
  prefix: string;
  errors: FieldErrors;
  values: Contact;
  set: { [K in keyof Contact]: (value: string) => void };
}) {
  const { prefix, errors, values, set } = props;
  const fields: { key: keyof Contact; label: string; type?: string; autoComplete?: string }[] = [
    { key: 'displayName', label: 'Display name' },
    { key: 'email', label: 'Email', type: 'email' },
    { key: 'phone', label: 'Phone (optional)', type: 'tel', autoComplete: 'off' },
  ];
  return (
    <>
      {fields.map(({ key, label, type, autoComplete }) => {
        const id = `${prefix}-${key === 'displayName' ? 'display' : key}`;
        return (
          <Field key={key} id={id} label={label} error={errors[key]}>
            <input
              id={id}
              type={type}
              value={values[key]}
              autoComplete={autoComplete}
              onChange={(e) => set[key](e.target.value)}
              {...described(id, errors[key])}
            />
          </Field>
        );
      })}
    </>
  );
}
