/**
 * Outgoing mail, for every feature that tells a person something: non-compliance notices now,
 * password-reset links and lifecycle notices to admins later. Plain text is the message; `html` is an
 * optional alternative rendering of the same text.
 */

export interface MailMessage {
  to: readonly string[];
  subject: string;
  text: string;
  html?: string;
}

export interface Mailer {
  /** Resolves once the SMTP server accepted the message for every recipient; rejects otherwise. */
  send(message: MailMessage): Promise<void>;
}
