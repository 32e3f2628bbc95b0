/**
 * Runs the actions for non-compliance that fell due (SPEC §6) — email the user, lock the device, put
 * it on the retire list — and serves the retire list to admins. Called by the scheduled job
 * (compliance-reevaluation-job.ts) after it evaluated the device.
 *
 * Exactly once per episode: an action is first claimed in a short transaction that locks the device's
 * check-in row (the lock every evaluation takes) and writes the claim with a compare-and-set on the
 * episode's version, so of several job runs or processes only one claims it. The action then runs
 * outside the transaction (an SMTP conversation must not hold a row lock) and its outcome is recorded,
 * with an audit event, in a second one. A claim whose process died is taken again after
 * CLAIM_TIMEOUT_MS; a failure is retried at the next runs, ACTION_MAX_ATTEMPTS in all.
 */
import {
  ACTION_MAX_ATTEMPTS,
  actionClaimable,
  actionDueAt,
  nextActionDueAt,
  type ActionRun,
  type NoncomplianceAction,
} from '@custos/shared';
import { authorize, type Actor } from '../access/authorize.js';
import { recordAudit } from '../audit/audit-log.js';
import type { Clock } from '../clock.js';
import type { CommandService } from '../commands/command-service.js';
import type { DeviceRecord } from '../devices/device-store.js';
import { DomainError } from '../domain-error.js';
import type { Mailer } from '../mail/mailer.js';
import type { TenantData } from '../tenant-data.js';
import type { TenantService } from '../tenants/tenant-service.js';
import type { CompliancePolicyRecord } from './compliance-store.js';
import type { RetireListRecord } from './noncompliance-store.js';

/** The actor of everything the scheduler does, in commands' `createdBy` and in the audit log. */
export const SCHEDULER_ACTOR: Actor = { type: 'system', id: 'scheduler', name: 'compliance actions' };
const CLAIM_TIMEOUT_MS = 10 * 60 * 1000;

type RunnableAction = NoncomplianceAction & { type: 'email' | 'lock' | 'retireList' };

interface Claim {
  policy: CompliancePolicyRecord;
  action: RunnableAction;
  attempts: number;
}

interface Outcome {
  status: 'done' | 'skipped' | 'failed';
  detail: string | null;
}

function actorLabel(actor: Actor): string {
  return `${actor.type}:${actor.id}:${actor.name}`;
}

export class NoncomplianceActions {
  constructor(
    private readonly tenants: TenantService,
    private readonly commands: CommandService,
    /** Undefined when no SMTP server is configured: email actions are then skipped and say so. */
    private readonly mailer: Mailer | undefined,
    private readonly clock: Clock,
  ) {}

  /** Claims, runs and records every action of the device's episodes that is due; returns how many ran. */
  async runDue(data: TenantData, deviceId: string): Promise<number> {
    const claimed = await this.claimDue(data, deviceId);
    if (!claimed) return 0;
    for (const claim of claimed.claims) {
      const outcome = await this.perform(data, claimed.device, claim).catch((error: unknown): Outcome => ({
        status: 'failed',
        detail: error instanceof Error ? error.message.slice(0, 500) : 'failed',
      }));
      await this.record(data, claimed.device, claim, outcome);
    }
    return claimed.claims.length;
  }

  async listRetireList(actor: Actor, tenantId: string): Promise<RetireListRecord[]> {
    authorize(actor, 'devices.read', { tenantId });
    return (await this.tenants.data(tenantId)).retireList.listPending();
  }

  /** Confirms a pending entry: a retire command is queued for the device. */
  async confirmRetire(actor: Actor, tenantId: string, deviceId: string): Promise<{ commandId: string }> {
    authorize(actor, 'devices.retire', { tenantId });
    const data = await this.tenants.data(tenantId);
    const entry = await this.pendingEntry(data, deviceId);
    const command = await this.commands.enqueue(actor, tenantId, deviceId, 'retire');
    await this.decide(data, actor, entry, 'confirmed', command.id);
    return { commandId: command.id };
  }

  /** Dismisses a pending entry: the device stays; a later episode may put it on the list again. */
  async dismissRetire(actor: Actor, tenantId: string, deviceId: string): Promise<void> {
    authorize(actor, 'devices.retire', { tenantId });
    const data = await this.tenants.data(tenantId);
    await this.decide(data, actor, await this.pendingEntry(data, deviceId), 'dismissed', null);
  }

  private async pendingEntry(data: TenantData, deviceId: string): Promise<RetireListRecord> {
    const entry = await data.retireList.getPending(deviceId);
    if (!entry) throw new DomainError('not-found', `Device ${deviceId} is not on the retire list.`);
    return entry;
  }

  private async decide(
    data: TenantData,
    actor: Actor,
    entry: RetireListRecord,
    decision: 'confirmed' | 'dismissed',
    commandId: string | null,
  ): Promise<void> {
    await data.transaction(async (trx) => {
      if (!(await trx.retireList.decide(entry.deviceId, decision, actorLabel(actor), this.clock.now()))) {
        throw new DomainError('conflict', `The retire-list entry of device ${entry.deviceId} was decided meanwhile.`);
      }
      await recordAudit(trx, actor, this.clock, {
        activity: decision === 'confirmed' ? 'Confirm retirement of non-compliant device' : 'Dismiss retirement of non-compliant device',
        category: 'Compliance',
        operation: 'action',
        targets: [
          { type: 'device', id: entry.deviceId, ...(entry.deviceName === null ? {} : { name: entry.deviceName }) },
          { type: 'compliancePolicy', id: entry.policyId, name: entry.policyName },
          ...(commandId === null ? [] : [{ type: 'command', id: commandId }]),
        ],
      });
    });
  }

  /** One transaction: lock the device, mark every due action `running` (compare-and-set). */
  private claimDue(data: TenantData, deviceId: string): Promise<{ device: DeviceRecord; claims: Claim[] } | undefined> {
    return data.transaction(async (trx) => {
      await trx.devices.lockCheckInState(deviceId);
      const device = await trx.devices.get(deviceId);
      if (!device || device.status !== 'active') {
        // A retired device has nothing left to act on; its episodes would otherwise stay due forever.
        await trx.complianceEpisodes.endForDevice(deviceId, []);
        return undefined;
      }
      const now = this.clock.now();
      const claims: Claim[] = [];
      for (const episode of await trx.complianceEpisodes.listForDevice(deviceId)) {
        const policy = await trx.compliancePolicies.get(episode.policyId);
        if (!policy) continue;
        const runs = { ...episode.runs };
        const mine: Claim[] = [];
        for (const action of policy.actions) {
          if (action.type === 'markNoncompliant') continue;
          const run = runs[action.type];
          if (!actionClaimable(run, actionDueAt(action, episode.noncompliantSince), now)) continue;
          const attempts = (run?.attempts ?? 0) + 1;
          runs[action.type] = { status: 'running', at: now, detail: null, attempts, retryAt: now + CLAIM_TIMEOUT_MS };
          mine.push({ policy, action: action as RunnableAction, attempts });
        }
        if (mine.length === 0) continue;
        const claimed = await trx.complianceEpisodes.update({
          ...episode,
          runs,
          nextDueAt: nextActionDueAt(policy.actions, episode.noncompliantSince, runs),
          version: episode.version + 1,
        });
        if (claimed) claims.push(...mine);
      }
      return { device, claims };
    });
  }

  private async perform(data: TenantData, device: DeviceRecord, claim: Claim): Promise<Outcome> {
    switch (claim.action.type) {
      case 'email':
        return this.sendEmail(data, device, claim.policy, claim.action);
      case 'lock': {
        const command = await this.commands.enqueue(SCHEDULER_ACTOR, data.tenantId, device.id, 'lock');
        return { status: 'done', detail: `lock command ${command.id} queued` };
      }
      case 'retireList': {
        const added = await data.transaction((trx) => trx.retireList.add(device.id, claim.policy.id, this.clock.now()));
        return { status: 'done', detail: added ? 'added to the retire list' : 'already on the retire list' };
      }
    }
  }

  /** Tells the device's user (and any additional recipients) what fails and whom to ask. */
  private async sendEmail(
    data: TenantData,
    device: DeviceRecord,
    policy: CompliancePolicyRecord,
    action: NoncomplianceAction,
  ): Promise<Outcome> {
    if (!this.mailer) return { status: 'skipped', detail: 'no SMTP configured' };
    const to = [...new Set([...(device.userEmail === null ? [] : [device.userEmail]), ...(action.additionalRecipients ?? [])])];
    if (to.length === 0) return { status: 'skipped', detail: 'no recipient: the device has no user and the action names no other' };
    const settings = await data.settings.get();
    const result = (await data.complianceResults.listForDevice(device.id)).find((r) => r.policyId === policy.id);
    const reasons = (result?.results ?? []).filter((r) => r.status === 'noncompliant').map((r) => `- ${r.reason}`);
    const deviceName = typeof device.hardware['deviceName'] === 'string' ? device.hardware['deviceName'] : device.id;
    const support = settings?.supportContact ?? settings?.adminEmail ?? 'your IT department';
    const text = [
      ...(action.message === undefined ? [] : [action.message, '']),
      `Your device "${deviceName}" does not meet the compliance policy "${policy.name}"${settings ? ` of ${settings.name}` : ''}.`,
      '',
      'What to fix:',
      ...(reasons.length > 0 ? reasons : ['- The policy reports no specific setting; ask your IT department.']),
      '',
      `Device id: ${device.id}`,
      `Questions: ${support}`,
    ].join('\n');
    await this.mailer.send({ to, subject: `Action needed: "${deviceName}" is not compliant with "${policy.name}"`, text });
    return { status: 'done', detail: `sent to ${to.length} recipient(s)` };
  }

  /** Records the outcome (unless a newer episode replaced the one it belongs to) and audits it. */
  private async record(data: TenantData, device: DeviceRecord, claim: Claim, outcome: Outcome): Promise<void> {
    await data.transaction(async (trx) => {
      await trx.devices.lockCheckInState(device.id);
      const episode = (await trx.complianceEpisodes.listForDevice(device.id)).find((e) => e.policyId === claim.policy.id);
      const now = this.clock.now();
      if (episode && episode.runs[claim.action.type]?.status === 'running') {
        const retry = outcome.status === 'failed' && claim.attempts < ACTION_MAX_ATTEMPTS;
        const run: ActionRun = {
          status: outcome.status,
          at: now,
          detail: outcome.detail,
          attempts: claim.attempts,
          retryAt: retry ? now : null,
        };
        const runs = { ...episode.runs, [claim.action.type]: run };
        await trx.complianceEpisodes.update({
          ...episode,
          runs,
          nextDueAt: nextActionDueAt(claim.policy.actions, episode.noncompliantSince, runs),
          version: episode.version + 1,
        });
      }
      await recordAudit(trx, SCHEDULER_ACTOR, this.clock, {
        activity: `Non-compliance action: ${claim.action.type}`,
        category: 'Compliance',
        operation: 'action',
        result: outcome.status === 'failed' ? 'failure' : 'success',
        targets: [
          {
            type: 'device',
            id: device.id,
            modifiedProperties: [
              { name: claim.action.type, oldValue: null, newValue: `${outcome.status}${outcome.detail ? `: ${outcome.detail}` : ''}` },
            ],
          },
          { type: 'compliancePolicy', id: claim.policy.id, name: claim.policy.name },
        ],
      });
    });
  }
}
