/**
 * `Mailer` over SMTP with nodemailer: any SMTP server, from `CUSTOS_SMTP_URL`
 * (`smtp://user:pass@host:587` upgrades with STARTTLS when the server offers it; `smtps://…:465` is
 * TLS from the start). The URL carries credentials: it is never logged, and errors are re-thrown
 * without it.
 */
import nodemailer from 'nodemailer';
import type { Mailer, MailMessage } from '../domain/mail/mailer.js';

export const DEFAULT_MAIL_FROM = 'Custos <custos@localhost>';

/** Whether `url` is an SMTP URL nodemailer accepts; for the configuration check. */
export function isSmtpUrl(url: string): boolean {
  try {
    const protocol = new URL(url).protocol;
    return protocol === 'smtp:' || protocol === 'smtps:';
  } catch {
    return false;
  }
}

export class SmtpMailer implements Mailer {
  private readonly transport;

  constructor(url: string, from: string) {
    this.transport = nodemailer.createTransport(url, { from });
  }

  async send(message: MailMessage): Promise<void> {
    if (message.to.length === 0) throw new Error('A message needs at least one recipient.');
    const info = await this.transport.sendMail({
      to: [...message.to],
      subject: message.subject,
      text: message.text,
      ...(message.html === undefined ? {} : { html: message.html }),
    });
    if (info.rejected.length > 0) throw new Error(`The SMTP server refused ${info.rejected.length} recipient(s).`);
  }

  close(): void {
    this.transport.close();
  }
}
