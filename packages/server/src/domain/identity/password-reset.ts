/**
 * Password reset by a one-time emailed link (SPEC §5). The link carries a `custos_rst_…` secret
 * (256 random bits, the tenant id inside); the store keeps its SHA-256 only. A link works once, for
 * one hour, and only until the password changes; completing it ends every session of the user.
 *
 * Asking for a link never tells whether the account exists: the answer is the same and the mail
 * goes out after the answer (so its time tells nothing either). At most three links per user per
 * hour are sent; further requests are accepted and dropped.
 */
import type { Actor, RequestContext } from '../access/authorize.js';
import { authorize } from '../access/authorize.js';
import { recordAudit } from '../audit/audit-log.js';
import type { Clock } from '../clock.js';
import { DomainError } from '../domain-error.js';
import type { Mailer } from '../mail/mailer.js';
import { hashSecret, newSecret, tenantOfSecret } from '../secrets.js';
import type { TenantData } from '../tenant-data.js';
import type { TenantService } from '../tenants/tenant-service.js';
import type { UserRecord } from './identity-stores.js';
import { accountKey } from './login-throttle.js';
import { checkPasswordPolicy, hashPassword } from './passwords.js';

const LINK_LIFETIME = 60 * 60_000;
const LINKS_PER_HOUR = 3;

export class PasswordResetService {
  /** Deliveries still in flight (the self-service answer does not wait for them). */
  private readonly deliveries = new Set<Promise<void>>();

  constructor(
    private readonly tenants: TenantService,
    private readonly mailer: Mailer | undefined,
    private readonly publicUrl: string,
    private readonly clock: Clock,
  ) {}

  /** Self-service: emails a link if the user exists, can have a password and has an email address. */
  async request(tenantId: string, userName: string, context: RequestContext): Promise<void> {
    let data: TenantData;
    try {
      data = await this.tenants.data(tenantId);
    } catch (error) {
      if (error instanceof DomainError && error.code === 'tenant-not-found') return;
      throw error;
    }
    const user = await data.users.findByUserName(userName.trim());
    if (!user || !user.active || user.source === 'federated' || user.email === null || !this.mailer) return;
    if ((await data.passwordResets.countSince(user.id, this.clock.now() - LINK_LIFETIME)) >= LINKS_PER_HOUR) return;
    const actor: Actor = { type: 'user', id: user.id, name: user.userName, tenantId, sessionId: null, grants: [], context };
    const token = await this.issue(data, actor, user, 'Request password reset');
    this.track(this.deliver(data, actor, user, token).catch(() => undefined));
  }

  /** An admin (`users.write`) emails the user a reset link; waits for the SMTP server to take it. */
  async sendLink(actor: Actor, tenantId: string, userId: string): Promise<void> {
    authorize(actor, 'users.write', { tenantId });
    const data = await this.tenants.data(tenantId);
    const user = await data.users.get(userId);
    if (!user) throw new DomainError('not-found', `No user has the id ${userId}.`);
    if (user.source === 'federated')
      throw new DomainError('conflict', 'This user signs in through the identity provider and has no password here.');
    if (user.email === null) throw new DomainError('conflict', 'This user has no email address to send the link to.');
    if (!this.mailer)
      throw new DomainError('mail-not-configured', 'No SMTP server is configured (CUSTOS_SMTP_URL); set the password directly instead.');
    const token = await this.issue(data, actor, user, 'Send password reset link');
    await this.deliver(data, actor, user, token);
  }

  /** Sets the new password with a link's token; the link and every session of the user end. */
  async complete(token: string, password: string, context: RequestContext): Promise<void> {
    const invalid = new DomainError(
      'password-reset-invalid',
      'This reset link is not valid, was already used or has expired; ask for a new one.',
    );
    const tenantId = tenantOfSecret('rst', token);
    if (!tenantId) throw invalid;
    let data: TenantData;
    try {
      data = await this.tenants.data(tenantId);
    } catch (error) {
      if (error instanceof DomainError && error.code === 'tenant-not-found') throw invalid;
      throw error;
    }
    const record = await data.passwordResets.get(hashSecret(token));
    const now = this.clock.now();
    if (!record || record.usedAt !== null || record.expiresAt <= now) throw invalid;
    const user = await data.users.get(record.userId);
    if (!user || !user.active) throw invalid;
    const settings = await this.tenants.settings(tenantId);
    checkPasswordPolicy(password, settings.identity.passwordMinLength, user.userName);
    const hash = await hashPassword(password);
    const actor: Actor = { type: 'user', id: user.id, name: user.userName, tenantId, sessionId: null, grants: [], context };
    await data.transaction(async (trx) => {
      if (!(await trx.passwordResets.use(record.tokenHash, now))) throw invalid;
      await trx.passwordResets.expireAllForUser(user.id, now);
      await trx.users.update({ ...user, passwordHash: hash, passwordChangedAt: now, updatedAt: now });
      await trx.sessions.revokeAllForUser(user.id, now);
      // A lockout from someone guessing the old password does not outlive the reset.
      await trx.signInThrottles.clear(accountKey(user.userName));
      await recordAudit(trx, actor, this.clock, {
        activity: 'Reset password with emailed link',
        category: 'UserManagement',
        operation: 'update',
        targets: [
          {
            type: 'user',
            id: user.id,
            name: user.userName,
            modifiedProperties: [{ name: 'password', oldValue: '[redacted]', newValue: '[redacted]' }],
          },
        ],
      });
    });
  }

  /** Resolves once every delivery started so far has finished (shutdown, tests). */
  async settled(): Promise<void> {
    await Promise.all([...this.deliveries]);
  }

  private track(delivery: Promise<void>): void {
    this.deliveries.add(delivery);
    void delivery.finally(() => this.deliveries.delete(delivery));
  }

  private async issue(data: TenantData, actor: Actor, user: UserRecord, activity: string): Promise<string> {
    const { secret, hash } = newSecret('rst', data.tenantId);
    const now = this.clock.now();
    await data.transaction(async (trx) => {
      await trx.passwordResets.insert({ tokenHash: hash, userId: user.id, createdAt: now, expiresAt: now + LINK_LIFETIME, usedAt: null });
      await recordAudit(trx, actor, this.clock, {
        activity,
        category: 'UserManagement',
        operation: 'action',
        targets: [{ type: 'user', id: user.id, name: user.userName }],
      });
    });
    return secret;
  }

  private async deliver(data: TenantData, actor: Actor, user: UserRecord, token: string): Promise<void> {
    const link = `${this.publicUrl}/portal/reset-password#token=${token}`;
    try {
      await this.mailer?.send({
        to: [user.email ?? ''],
        subject: 'Reset your Custos password',
        text: [
          `Hello ${user.displayName ?? user.userName},`,
          '',
          'Someone (hopefully you) asked to reset the password of your Custos account. Open this link within one hour to choose a new password:',
          '',
          link,
          '',
          'The link works once. If you did not ask for it, ignore this message: your password stays as it is.',
        ].join('\n'),
      });
    } catch (error) {
      await recordAudit(data, actor, this.clock, {
        activity: 'Send password reset link',
        category: 'UserManagement',
        operation: 'action',
        result: 'failure',
        targets: [
          {
            type: 'user',
            id: user.id,
            name: user.userName,
            modifiedProperties: [
              { name: 'failureReason', oldValue: null, newValue: error instanceof Error ? error.message.slice(0, 200) : 'mail failed' },
            ],
          },
        ],
      });
      throw error;
    }
  }
}
