import { sql, type Kysely } from 'kysely';
import type { Ownership } from '@custos/shared';
import type {
  AppleCommandRecord,
  AppleCommandState,
  AppleDeviceRecord,
  AppleEnrollmentRecord,
  AppleMdmStore,
  ApplePollState,
  ApplePushCertificateRecord,
  AppleUserChannel,
} from '../../domain/apple-mdm/apple-mdm-store.js';
import type { CipherSource } from '../../domain/encryption/tenant-cipher.js';
import type { AppleMdmCommandTable, AppleMdmDeviceTable, AppleMdmEnrollmentTable, RegionDatabase } from '../database.js';
import { openRows, reencryptBatch, type ReencryptedBatch } from './sealed-columns.js';
import { APPLE_ENROLLMENT_COLUMNS } from './sensitive-identity-columns.js';

function toEnrollment(row: AppleMdmEnrollmentTable): AppleEnrollmentRecord {
  return {
    id: row.id,
    tokenId: row.token_id,
    ownership: row.ownership as Ownership,
    userEmail: row.user_email,
    scopeTags: JSON.parse(row.scope_tags) as string[],
    challengeHash: row.challenge_hash,
    createdAt: Number(row.created_at),
    expiresAt: Number(row.expires_at),
    certificateSerial: row.certificate_serial,
    udid: row.udid,
    deviceId: row.device_id,
    renewsDeviceId: row.renews_device_id,
  };
}

function toDevice(row: AppleMdmDeviceTable): AppleDeviceRecord {
  return {
    deviceId: row.device_id,
    udid: row.udid,
    enrollmentId: row.enrollment_id,
    certificateSerial: row.certificate_serial,
    certificateNotAfter: row.certificate_not_after === null ? null : Number(row.certificate_not_after),
    topic: row.topic,
    pushToken: row.push_token,
    pushMagic: row.push_magic,
    pushTokenInvalidAt: row.push_token_invalid_at === null ? null : Number(row.push_token_invalid_at),
    userChannels: JSON.parse(row.user_channels) as AppleUserChannel[],
    bootstrapTokenSealed: row.bootstrap_token_sealed,
    lastSeenAt: Number(row.last_seen_at),
    createdAt: Number(row.created_at),
  };
}

function toCommand(row: AppleMdmCommandTable): AppleCommandRecord {
  return {
    uuid: row.uuid,
    deviceId: row.device_id,
    requestType: row.request_type,
    command: row.command,
    priority: row.priority,
    state: row.state as AppleCommandState,
    notNow: row.not_now === 1,
    commonCommandId: row.common_command_id,
    profileId: row.profile_id,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
    resultStatus: row.result_status,
    resultDetail: row.result_detail,
  };
}

/** An enrollment's user email is stored encrypted (sensitive-identity-columns.ts). */
export class AppleMdmRepository implements AppleMdmStore {
  constructor(
    private readonly db: Kysely<RegionDatabase>,
    private readonly tenantId: string,
    private readonly cipher: CipherSource,
  ) {}

  private async openEnrollment(row: AppleMdmEnrollmentTable | undefined): Promise<AppleEnrollmentRecord | undefined> {
    if (!row) return undefined;
    const [open] = await openRows(this.cipher, APPLE_ENROLLMENT_COLUMNS, [row]);
    return open && toEnrollment(open);
  }

  async getPushCertificate(): Promise<ApplePushCertificateRecord | undefined> {
    const row = await this.db
      .selectFrom('apple_mdm_push_certificates')
      .selectAll()
      .where('tenant_id', '=', this.tenantId)
      .executeTakeFirst();
    if (!row) return undefined;
    return {
      topic: row.topic,
      certificatePem: row.certificate_pem,
      privateKeySealed: row.private_key_sealed,
      notAfter: Number(row.not_after),
      uploadedAt: Number(row.uploaded_at),
    };
  }

  async putPushCertificate(r: ApplePushCertificateRecord): Promise<void> {
    const values = {
      topic: r.topic,
      certificate_pem: r.certificatePem,
      private_key_sealed: r.privateKeySealed,
      not_after: r.notAfter,
      uploaded_at: r.uploadedAt,
    };
    await this.db
      .insertInto('apple_mdm_push_certificates')
      .values({ tenant_id: this.tenantId, ...values })
      .onConflict((oc) => oc.column('tenant_id').doUpdateSet(values))
      .execute();
  }

  async insertEnrollment(r: AppleEnrollmentRecord): Promise<void> {
    const cipher = await this.cipher();
    await this.db
      .insertInto('apple_mdm_enrollments')
      .values({
        tenant_id: this.tenantId,
        id: r.id,
        token_id: r.tokenId,
        ownership: r.ownership,
        user_email: cipher.encryptNullable(APPLE_ENROLLMENT_COLUMNS.context('user_email'), r.userEmail),
        scope_tags: JSON.stringify(r.scopeTags),
        challenge_hash: r.challengeHash,
        created_at: r.createdAt,
        expires_at: r.expiresAt,
        certificate_serial: r.certificateSerial,
        udid: r.udid,
        device_id: r.deviceId,
        renews_device_id: r.renewsDeviceId,
      })
      .execute();
  }

  async getEnrollment(id: string): Promise<AppleEnrollmentRecord | undefined> {
    const row = await this.db
      .selectFrom('apple_mdm_enrollments')
      .selectAll()
      .where('tenant_id', '=', this.tenantId)
      .where('id', '=', id)
      .executeTakeFirst();
    return this.openEnrollment(row);
  }

  async findEnrollmentByChallengeHash(hash: string): Promise<AppleEnrollmentRecord | undefined> {
    const row = await this.db
      .selectFrom('apple_mdm_enrollments')
      .selectAll()
      .where('tenant_id', '=', this.tenantId)
      .where('challenge_hash', '=', hash)
      .executeTakeFirst();
    return this.openEnrollment(row);
  }

  async findEnrollmentByCertificate(serial: string): Promise<AppleEnrollmentRecord | undefined> {
    const row = await this.db
      .selectFrom('apple_mdm_enrollments')
      .selectAll()
      .where('tenant_id', '=', this.tenantId)
      .where('certificate_serial', '=', serial)
      .executeTakeFirst();
    return this.openEnrollment(row);
  }

  async setEnrollmentCertificate(id: string, serial: string): Promise<boolean> {
    const result = await this.db
      .updateTable('apple_mdm_enrollments')
      .set({ certificate_serial: serial })
      .where('tenant_id', '=', this.tenantId)
      .where('id', '=', id)
      .where('certificate_serial', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async bindEnrollment(id: string, udid: string, deviceId: string): Promise<boolean> {
    const result = await this.db
      .updateTable('apple_mdm_enrollments')
      .set({ udid, device_id: deviceId })
      .where('tenant_id', '=', this.tenantId)
      .where('id', '=', id)
      .where('device_id', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async devicesDueForRenewal(before: number, now: number, limit: number): Promise<AppleDeviceRecord[]> {
    const rows = await this.db
      .selectFrom('apple_mdm_devices as a')
      .innerJoin('devices as d', (join) => join.onRef('d.tenant_id', '=', 'a.tenant_id').onRef('d.id', '=', 'a.device_id'))
      .selectAll('a')
      .where('a.tenant_id', '=', this.tenantId)
      .where('d.status', '=', 'active')
      .where((eb) => eb.or([eb('a.certificate_not_after', 'is', null), eb('a.certificate_not_after', '<', before)]))
      .where((eb) =>
        eb.not(
          eb.exists(
            eb
              .selectFrom('apple_mdm_enrollments as e')
              .select('e.id')
              .whereRef('e.tenant_id', '=', 'a.tenant_id')
              .whereRef('e.renews_device_id', '=', 'a.device_id')
              .where('e.device_id', 'is', null)
              .where('e.expires_at', '>', now),
          ),
        ),
      )
      .orderBy('a.device_id')
      .limit(limit)
      .execute();
    return rows.map(toDevice);
  }

  async adoptRenewedIdentity(
    deviceId: string,
    fromSerial: string,
    renewal: { enrollmentId: string; udid: string; serial: string; notAfter: number },
  ): Promise<boolean> {
    const moved = await this.db
      .updateTable('apple_mdm_devices')
      .set({ certificate_serial: renewal.serial, certificate_not_after: renewal.notAfter })
      .where('tenant_id', '=', this.tenantId)
      .where('device_id', '=', deviceId)
      .where('certificate_serial', '=', fromSerial)
      .executeTakeFirst();
    if (Number(moved.numUpdatedRows) !== 1) return false;
    return this.bindEnrollment(renewal.enrollmentId, renewal.udid, deviceId);
  }

  async setCertificateNotAfter(deviceId: string, notAfter: number): Promise<void> {
    await this.db
      .updateTable('apple_mdm_devices')
      .set({ certificate_not_after: notAfter })
      .where('tenant_id', '=', this.tenantId)
      .where('device_id', '=', deviceId)
      .execute();
  }

  async reencryptEnrollmentBatch(afterId: string | null, limit: number): Promise<ReencryptedBatch> {
    return reencryptBatch(this.db, APPLE_ENROLLMENT_COLUMNS, this.tenantId, await this.cipher({ refresh: true }), afterId, limit);
  }

  async insertDevice(r: AppleDeviceRecord): Promise<void> {
    await this.db
      .insertInto('apple_mdm_devices')
      .values({
        tenant_id: this.tenantId,
        device_id: r.deviceId,
        udid: r.udid,
        enrollment_id: r.enrollmentId,
        certificate_serial: r.certificateSerial,
        certificate_not_after: r.certificateNotAfter,
        topic: r.topic,
        push_token: r.pushToken,
        push_magic: r.pushMagic,
        push_token_invalid_at: r.pushTokenInvalidAt,
        user_channels: JSON.stringify(r.userChannels),
        bootstrap_token_sealed: r.bootstrapTokenSealed,
        last_seen_at: r.lastSeenAt,
        created_at: r.createdAt,
      })
      .execute();
  }

  async getDevice(deviceId: string): Promise<AppleDeviceRecord | undefined> {
    const row = await this.db
      .selectFrom('apple_mdm_devices')
      .selectAll()
      .where('tenant_id', '=', this.tenantId)
      .where('device_id', '=', deviceId)
      .executeTakeFirst();
    return row ? toDevice(row) : undefined;
  }

  async deleteDevice(deviceId: string): Promise<void> {
    await this.db.deleteFrom('apple_mdm_devices').where('tenant_id', '=', this.tenantId).where('device_id', '=', deviceId).execute();
  }

  async findDeviceByUdid(udid: string): Promise<AppleDeviceRecord | undefined> {
    const row = await this.db
      .selectFrom('apple_mdm_devices')
      .selectAll()
      .where('tenant_id', '=', this.tenantId)
      .where('udid', '=', udid)
      .executeTakeFirst();
    return row ? toDevice(row) : undefined;
  }

  async updatePush(deviceId: string, push: { pushToken: string; pushMagic: string }): Promise<void> {
    await this.db
      .updateTable('apple_mdm_devices')
      .set({ push_token: push.pushToken, push_magic: push.pushMagic, push_token_invalid_at: null })
      .where('tenant_id', '=', this.tenantId)
      .where('device_id', '=', deviceId)
      .execute();
  }

  async setUserChannels(deviceId: string, channels: AppleUserChannel[]): Promise<void> {
    await this.db
      .updateTable('apple_mdm_devices')
      .set({ user_channels: JSON.stringify(channels) })
      .where('tenant_id', '=', this.tenantId)
      .where('device_id', '=', deviceId)
      .execute();
  }

  async markPushTokenInvalid(deviceId: string, at: number): Promise<void> {
    await this.db
      .updateTable('apple_mdm_devices')
      .set({ push_token_invalid_at: at })
      .where('tenant_id', '=', this.tenantId)
      .where('device_id', '=', deviceId)
      .execute();
  }

  async setBootstrapToken(deviceId: string, sealed: string | null): Promise<void> {
    await this.db
      .updateTable('apple_mdm_devices')
      .set({ bootstrap_token_sealed: sealed })
      .where('tenant_id', '=', this.tenantId)
      .where('device_id', '=', deviceId)
      .execute();
  }

  async touch(deviceId: string, at: number): Promise<void> {
    await this.db
      .updateTable('apple_mdm_devices')
      .set({ last_seen_at: at })
      .where('tenant_id', '=', this.tenantId)
      .where('device_id', '=', deviceId)
      .execute();
  }

  async insertCommands(commands: readonly AppleCommandRecord[]): Promise<void> {
    if (commands.length === 0) return;
    await this.db
      .insertInto('apple_mdm_commands')
      .values(
        commands.map((c) => ({
          tenant_id: this.tenantId,
          uuid: c.uuid,
          device_id: c.deviceId,
          request_type: c.requestType,
          command: c.command,
          priority: c.priority,
          state: c.state,
          not_now: c.notNow ? 1 : 0,
          common_command_id: c.commonCommandId,
          profile_id: c.profileId,
          created_at: c.createdAt,
          updated_at: c.updatedAt,
          result_status: c.resultStatus,
          result_detail: c.resultDetail,
        })),
      )
      .execute();
  }

  async getCommand(uuid: string): Promise<AppleCommandRecord | undefined> {
    const row = await this.db
      .selectFrom('apple_mdm_commands')
      .selectAll()
      .where('tenant_id', '=', this.tenantId)
      .where('uuid', '=', uuid)
      .executeTakeFirst();
    return row ? toCommand(row) : undefined;
  }

  async pollState(deviceId: string): Promise<ApplePollState | undefined> {
    // One indexed read for the poll every idle device makes (raw SQL: no query building per poll).
    const { rows } = await sql<{
      active: number;
      pending_commands: number;
      last_check_in_at: number | string | null;
      queued: number | boolean;
    }>`
      select s.active, s.pending_commands, s.last_check_in_at,
        exists (select 1 from apple_mdm_commands c
                where c.tenant_id = s.tenant_id and c.device_id = s.device_id and c.state in ('pending', 'sent')) as queued
      from device_checkin_state s
      where s.tenant_id = ${this.tenantId} and s.device_id = ${deviceId}`.execute(this.db);
    const row = rows[0];
    return (
      row && {
        active: Number(row.active) === 1,
        pendingCommands: Number(row.pending_commands),
        lastCheckInAt: row.last_check_in_at === null ? null : Number(row.last_check_in_at),
        queued: row.queued === true || Number(row.queued) === 1,
      }
    );
  }

  async nextCommand(deviceId: string, includeNotNow = false): Promise<AppleCommandRecord | undefined> {
    const row = await this.db
      .selectFrom('apple_mdm_commands')
      .selectAll()
      .where('tenant_id', '=', this.tenantId)
      .where('device_id', '=', deviceId)
      .where('state', 'in', ['pending', 'sent'])
      .where('not_now', 'in', includeNotNow ? [0, 1] : [0])
      .orderBy('priority', 'desc')
      .orderBy('created_at', 'asc')
      .orderBy('uuid', 'asc')
      .limit(1)
      .executeTakeFirst();
    return row ? toCommand(row) : undefined;
  }

  async markSent(uuid: string, at: number): Promise<void> {
    await this.db
      .updateTable('apple_mdm_commands')
      .set({ state: 'sent', updated_at: at })
      .where('tenant_id', '=', this.tenantId)
      .where('uuid', '=', uuid)
      .execute();
  }

  async complete(uuid: string, state: 'acknowledged' | 'error', status: string, detail: string | null, at: number): Promise<boolean> {
    const result = await this.db
      .updateTable('apple_mdm_commands')
      .set({ state, result_status: status, result_detail: detail, updated_at: at })
      .where('tenant_id', '=', this.tenantId)
      .where('uuid', '=', uuid)
      .where('state', 'in', ['pending', 'sent'])
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async markNotNow(uuid: string, at: number): Promise<void> {
    await this.db
      .updateTable('apple_mdm_commands')
      .set({ not_now: 1, state: 'pending', result_status: 'NotNow', updated_at: at })
      .where('tenant_id', '=', this.tenantId)
      .where('uuid', '=', uuid)
      .where('state', 'in', ['pending', 'sent'])
      .execute();
  }

  async clearNotNow(deviceId: string): Promise<void> {
    await this.db
      .updateTable('apple_mdm_commands')
      .set({ not_now: 0 })
      .where('tenant_id', '=', this.tenantId)
      .where('device_id', '=', deviceId)
      .where('not_now', '=', 1)
      .execute();
  }

  async devicesDueForInventory(queuedBefore: number, limit: number): Promise<string[]> {
    const rows = await this.db
      .selectFrom('apple_mdm_devices as a')
      .innerJoin('devices as d', (join) => join.onRef('d.tenant_id', '=', 'a.tenant_id').onRef('d.id', '=', 'a.device_id'))
      .select('a.device_id')
      .where('a.tenant_id', '=', this.tenantId)
      .where('d.status', '=', 'active')
      .where('a.push_token', 'is not', null)
      .where((eb) =>
        eb.not(
          eb.exists(
            eb
              .selectFrom('apple_mdm_commands as c')
              .select('c.uuid')
              .whereRef('c.tenant_id', '=', 'a.tenant_id')
              .whereRef('c.device_id', '=', 'a.device_id')
              .where('c.request_type', '=', 'DeviceInformation')
              .where((c) => c.or([c('c.state', 'in', ['pending', 'sent']), c('c.created_at', '>=', queuedBefore)])),
          ),
        ),
      )
      .orderBy('a.device_id')
      .limit(limit)
      .execute();
    return rows.map((r) => r.device_id);
  }

  async listCommands(deviceId: string): Promise<AppleCommandRecord[]> {
    const rows = await this.db
      .selectFrom('apple_mdm_commands')
      .selectAll()
      .where('tenant_id', '=', this.tenantId)
      .where('device_id', '=', deviceId)
      .orderBy('created_at', 'asc')
      .orderBy('uuid', 'asc')
      .execute();
    return rows.map(toCommand);
  }
}
