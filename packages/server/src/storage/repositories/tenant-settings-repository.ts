import type { Kysely } from 'kysely';
import { brandingFrom, identitySettingsFrom, type TenantSettings } from '../../domain/tenants/tenant.js';
import type { CertificateAuthorityRecord, CertificateAuthorityStore, TenantSettingsStore } from '../../domain/tenants/tenant-stores.js';
import type { RegionDatabase } from '../database.js';

export class TenantSettingsRepository implements TenantSettingsStore {
  constructor(
    private readonly db: Kysely<RegionDatabase>,
    private readonly tenantId: string,
  ) {}

  async insert(s: TenantSettings): Promise<void> {
    await this.db
      .insertInto('tenant_settings')
      .values({
        tenant_id: this.tenantId,
        name: s.name,
        country: s.country,
        admin_email: s.adminEmail,
        privacy_statement_version: s.privacyStatement.version,
        privacy_statement_text: s.privacyStatement.text,
        privacy_statement_url: s.privacyStatement.url,
        support_contact: s.supportContact,
        checkin_interval_seconds: s.checkInIntervalSeconds,
        no_policy_compliance_state: s.noPolicyComplianceState,
        identity_settings: JSON.stringify(s.identity),
        branding: JSON.stringify(s.branding),
        created_at: s.createdAt,
        updated_at: s.createdAt,
      })
      .execute();
  }

  async get(): Promise<TenantSettings | undefined> {
    const row = await this.db.selectFrom('tenant_settings').selectAll().where('tenant_id', '=', this.tenantId).executeTakeFirst();
    return (
      row && {
        name: row.name,
        country: row.country,
        adminEmail: row.admin_email,
        privacyStatement: { version: row.privacy_statement_version, text: row.privacy_statement_text, url: row.privacy_statement_url },
        supportContact: row.support_contact,
        checkInIntervalSeconds: row.checkin_interval_seconds,
        noPolicyComplianceState: row.no_policy_compliance_state === 'noncompliant' ? 'noncompliant' : 'compliant',
        identity: identitySettingsFrom(row.identity_settings),
        branding: brandingFrom(row.branding),
        createdAt: row.created_at,
      }
    );
  }

  async setNoPolicyComplianceState(state: TenantSettings['noPolicyComplianceState'], at: number): Promise<void> {
    await this.db
      .updateTable('tenant_settings')
      .set({ no_policy_compliance_state: state, updated_at: at })
      .where('tenant_id', '=', this.tenantId)
      .execute();
  }

  async setPortalSettings(s: Pick<TenantSettings, 'privacyStatement' | 'supportContact' | 'branding'>, at: number): Promise<void> {
    await this.db
      .updateTable('tenant_settings')
      .set({
        privacy_statement_version: s.privacyStatement.version,
        privacy_statement_text: s.privacyStatement.text,
        privacy_statement_url: s.privacyStatement.url,
        support_contact: s.supportContact,
        branding: JSON.stringify(s.branding),
        updated_at: at,
      })
      .where('tenant_id', '=', this.tenantId)
      .execute();
  }

  async setIdentitySettings(settings: TenantSettings['identity'], at: number): Promise<void> {
    await this.db
      .updateTable('tenant_settings')
      .set({ identity_settings: JSON.stringify(settings), updated_at: at })
      .where('tenant_id', '=', this.tenantId)
      .execute();
  }
}

export class CertificateAuthorityRepository implements CertificateAuthorityStore {
  constructor(
    private readonly db: Kysely<RegionDatabase>,
    private readonly tenantId: string,
  ) {}

  async insert(ca: CertificateAuthorityRecord): Promise<void> {
    await this.db
      .insertInto('tenant_ca')
      .values({
        tenant_id: this.tenantId,
        certificate_pem: ca.certificatePem,
        private_key_pkcs8: ca.privateKeyPkcs8,
        created_at: ca.createdAt,
      })
      .execute();
  }

  async get(): Promise<CertificateAuthorityRecord | undefined> {
    const row = await this.db.selectFrom('tenant_ca').selectAll().where('tenant_id', '=', this.tenantId).executeTakeFirst();
    return row && { certificatePem: row.certificate_pem, privateKeyPkcs8: row.private_key_pkcs8, createdAt: row.created_at };
  }
}
