/**
 * A real SMTP server in the test process, on loopback, that keeps every message it receives
 * (parsed with mailparser). Point `CUSTOS_SMTP_URL` / the runtime's `smtpUrl` at `url`.
 */
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  /** Envelope recipients, as the server was asked to deliver. */
  to: string[];
  from: string;
  subject: string;
  text: string;
  html: string | null;
  parsed: ParsedMail;
}

export interface TestSmtpServer {
  /** `smtp://user:secret@127.0.0.1:<port>`: with credentials, to exercise authentication. */
  url: string;
  messages: ReceivedMail[];
  /** Resolves once `count` messages in all have arrived (or at once when they already have). */
  waitFor(count: number): Promise<ReceivedMail[]>;
  close(): Promise<void>;
}

export const TEST_SMTP_USER = 'custos';
export const TEST_SMTP_PASSWORD = 'smtp-test-secret';

export async function startSmtpServer(): Promise<TestSmtpServer> {
  const messages: ReceivedMail[] = [];
  const waiters: { count: number; resolve: (m: ReceivedMail[]) => void }[] = [];
  const server = new SMTPServer({
    secure: false,
    disabledCommands: ['STARTTLS'],
    allowInsecureAuth: true,
    authOptional: true,
    logger: false,
    onAuth(auth, _session, callback) {
      if (auth.username === TEST_SMTP_USER && auth.password === TEST_SMTP_PASSWORD) callback(null, { user: auth.username });
      else callback(new Error('Invalid username or password'));
    },
    onData(stream, session, callback) {
      simpleParser(stream)
        .then((parsed) => {
          messages.push({
            to: session.envelope.rcptTo.map((r) => r.address),
            from: session.envelope.mailFrom === false ? '' : session.envelope.mailFrom.address,
            subject: parsed.subject ?? '',
            text: parsed.text ?? '',
            html: typeof parsed.html === 'string' ? parsed.html : null,
            parsed,
          });
          for (const waiter of waiters.filter((w) => messages.length >= w.count)) {
            waiters.splice(waiters.indexOf(waiter), 1);
            waiter.resolve([...messages]);
          }
          callback();
        })
        .catch((error: unknown) => callback(error instanceof Error ? error : new Error(String(error))));
    },
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.server.address();
      if (address === null || typeof address === 'string') reject(new Error('The SMTP server has no TCP port.'));
      else resolve(address.port);
    });
  });
  return {
    url: `smtp://${TEST_SMTP_USER}:${TEST_SMTP_PASSWORD}@127.0.0.1:${port}`,
    messages,
    waitFor: (count) =>
      messages.length >= count ? Promise.resolve([...messages]) : new Promise((resolve) => waiters.push({ count, resolve })),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
