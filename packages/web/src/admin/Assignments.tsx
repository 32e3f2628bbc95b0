/**
 * Who a compliance policy or configuration profile applies to: rows of include/exclude for all
 * devices, all users (devices with a user) or a group, the group picked from `/api/v1/groups`.
 * Saving replaces the whole list (`PUT …/{id}/assignments`).
 */
import { useQuery } from '@tanstack/react-query';
import type { Static } from 'typebox';
import type { GroupListSchema, PolicyAssignment } from '@custos/shared';
import { get } from '../api';

export type Group = Static<typeof GroupListSchema>['items'][number];

export function useGroups() {
  return useQuery({ queryKey: ['groups'], queryFn: () => get<Static<typeof GroupListSchema>>('/api/v1/groups?limit=500') });
}

export function describeAssignment(a: PolicyAssignment, groups: readonly Group[] | undefined): string {
  const target =
    a.target === 'allDevices'
      ? 'all devices'
      : a.target === 'allUsers'
        ? 'all users'
        : `group ${groups?.find((g) => g.id === a.groupId)?.displayName ?? a.groupId ?? '?'}`;
  return `${a.mode === 'exclude' ? 'except ' : ''}${target}`;
}

export function describeAssignments(list: readonly PolicyAssignment[], groups: readonly Group[] | undefined): string {
  return list.length === 0 ? 'nobody' : list.map((a) => describeAssignment(a, groups)).join(', ');
}

/** Problems the server would reject, found before sending. */
export function assignmentProblems(list: readonly PolicyAssignment[]): string | null {
  if (list.some((a) => a.target === 'group' && !a.groupId)) return 'Pick a group for every group row.';
  const keys = list.map((a) => `${a.target}:${a.groupId ?? ''}`);
  if (new Set(keys).size !== keys.length) return 'The same target is listed twice.';
  return null;
}

export function AssignmentsEditor(props: {
  idPrefix: string;
  value: PolicyAssignment[];
  onChange: (value: PolicyAssignment[]) => void;
  disabled?: boolean;
}) {
  const groups = useGroups();
  const set = (i: number, patch: Partial<PolicyAssignment>) =>
    props.onChange(
      props.value.map((a, j) => {
        if (j !== i) return a;
        const next = { ...a, ...patch };
        if (next.target !== 'group') delete next.groupId;
        return next;
      }),
    );
  return (
    <fieldset className="assignments" disabled={props.disabled}>
      <legend>Assignments</legend>
      {props.value.length === 0 && <p className="muted">Assigned to nobody: it applies to no device.</p>}
      {props.value.map((a, i) => {
        const id = `${props.idPrefix}-assignment-${i}`;
        return (
          <div className="row assignment" key={i} role="group" aria-label={`Assignment ${i + 1}`}>
            <label className="sr-only" htmlFor={`${id}-mode`}>
              Mode of assignment {i + 1}
            </label>
            <select id={`${id}-mode`} value={a.mode} onChange={(e) => set(i, { mode: e.target.value as PolicyAssignment['mode'] })}>
              <option value="include">Include</option>
              <option value="exclude">Exclude</option>
            </select>
            <label className="sr-only" htmlFor={`${id}-target`}>
              Target of assignment {i + 1}
            </label>
            <select id={`${id}-target`} value={a.target} onChange={(e) => set(i, { target: e.target.value as PolicyAssignment['target'] })}>
              <option value="allDevices">All devices</option>
              <option value="allUsers">All users</option>
              <option value="group">Group…</option>
            </select>
            {a.target === 'group' && (
              <>
                <label className="sr-only" htmlFor={`${id}-group`}>
                  Group of assignment {i + 1}
                </label>
                <select id={`${id}-group`} value={a.groupId ?? ''} onChange={(e) => set(i, { groupId: e.target.value })}>
                  <option value="">Choose a group</option>
                  {groups.data?.items.map((g) => (
                    <option key={g.id} value={g.id}>
                      {g.displayName}
                    </option>
                  ))}
                </select>
              </>
            )}
            <button type="button" onClick={() => props.onChange(props.value.filter((_, j) => j !== i))}>
              Remove<span className="sr-only"> assignment {i + 1}</span>
            </button>
          </div>
        );
      })}
      <p className="row">
        <button type="button" onClick={() => props.onChange([...props.value, { target: 'allDevices', mode: 'include' }])}>
          Add assignment
        </button>
      </p>
    </fieldset>
  );
}
