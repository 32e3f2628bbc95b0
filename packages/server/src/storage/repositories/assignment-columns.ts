/**
 * How an assignment (domain/assignments/assignment-targets.ts) is stored, the same for compliance
 * policies and configuration profiles: `target_kind`, `target_id` ('' for targets that name no group,
 * so the primary key needs no NULL) and `include` (1/0).
 */
import type { AssignmentTarget } from '@custos/shared';
import type { PolicyAssignmentRecord } from '../../domain/assignments/assignment-targets.js';

export interface AssignmentColumns {
  target_kind: string;
  target_id: string;
  include: number;
}

export function assignmentFromRow(row: AssignmentColumns): PolicyAssignmentRecord {
  return {
    target: row.target_kind as AssignmentTarget,
    groupId: row.target_id === '' ? null : row.target_id,
    mode: row.include === 1 ? 'include' : 'exclude',
  };
}

export function assignmentColumns(a: PolicyAssignmentRecord): AssignmentColumns {
  return { target_kind: a.target, target_id: a.groupId ?? '', include: a.mode === 'include' ? 1 : 0 };
}
