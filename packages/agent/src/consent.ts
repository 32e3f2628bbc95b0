/**
 * What the person at the device reads before it is enrolled (SPEC §6): who will manage it, what
 * they will see (generated from the privacy catalog by the server, so it matches what is stored),
 * what they can never see, and the organization's privacy statement.
 */
import { createInterface } from 'node:readline/promises';
import { collectionStatementText, type EnrollmentInfo } from '@custos/shared';

export type ConsentMethod = 'interactive' | 'unattended';

export function consentText(info: EnrollmentInfo): string {
  const lines = [
    `Enrolling this device with ${info.tenantName} (${info.ownership === 'personal' ? 'personal device' : 'organization-owned device'}).`,
    '',
    collectionStatementText(info.tenantName, info),
    '',
    `Privacy statement (version ${info.privacyStatement.version}):`,
  ];
  if (info.privacyStatement.text) lines.push(...info.privacyStatement.text.split('\n').map((l) => `  ${l}`));
  if (info.privacyStatement.url) lines.push(`  Read it at ${info.privacyStatement.url}`);
  if (!info.privacyStatement.text && !info.privacyStatement.url)
    lines.push('  (The organization has not published a privacy statement text.)');
  if (info.supportContact) lines.push('', `Questions: ${info.supportContact}`);
  return lines.join('\n');
}

/** Asks on a terminal; only an explicit "y" or "yes" consents. */
export async function askForConsent(output: NodeJS.WritableStream): Promise<boolean> {
  const prompt = createInterface({ input: process.stdin, output });
  try {
    const answer = await prompt.question('Enroll this device? [y/N] ');
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    prompt.close();
  }
}
