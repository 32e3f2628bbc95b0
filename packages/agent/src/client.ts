/**
 * The agent's side of the device protocol, on global fetch (base path `/api/v1`). Enrollment calls
 * carry the enrollment token; every later call is a device request: a sequence number that grows
 * with each request (persisted before the request leaves, so a crash can never reuse one), and a
 * session opened with a signature by the device key (see `request-auth.ts`).
 */
import type {
  AgentProfileSet,
  CheckInRequest,
  CheckInResponse,
  CommandResult,
  DeviceSession,
  EnrollRequest,
  EnrollResponse,
  EnrollmentInfo,
  Platform,
  ProfileCertificate,
  ProfileStatusReport,
} from '@custos/shared';
import { ServerProblemError, ServerUnreachableError, UsageError, type ReceivedProblem } from './agent-errors.js';
import { sessionAuthorization, signatureAuthorization } from './request-auth.js';
import { writeState, type AgentState, type CachedSession } from './state.js';

export const API_BASE = '/api/v1';
const REQUEST_TIMEOUT_MS = 120_000;
/** A session is renewed this long before it expires, so a request never races its expiry. */
const SESSION_RENEWAL_MARGIN_MS = 60_000;

/** Validates `--server` and returns it without a trailing slash. */
export function normalizeServerUrl(input: string): string {
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    throw new UsageError(`--server must be an absolute URL such as https://custos.example.com, not "${input}".`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new UsageError('--server must be an http:// or https:// URL.');
  if (url.search || url.hash || url.username || url.password)
    throw new UsageError('--server must not contain a query, fragment or credentials.');
  return url.href.replace(/\/+$/, '');
}

/** Plain HTTP exposes the session key the server returns; acceptable only on this machine. */
export function isInsecureServerUrl(serverUrl: string): boolean {
  const url = new URL(serverUrl);
  return url.protocol === 'http:' && !['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function problemFrom(status: number, statusText: string, text: string): ReceivedProblem {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (isRecord(body) && typeof body['title'] === 'string') {
    return {
      type: typeof body['type'] === 'string' ? body['type'] : 'about:blank',
      code: typeof body['code'] === 'string' ? body['code'] : `http-${status}`,
      title: body['title'],
      status: typeof body['status'] === 'number' ? body['status'] : status,
      ...(typeof body['detail'] === 'string' ? { detail: body['detail'] } : {}),
      ...(Array.isArray(body['errors']) ? { errors: body['errors'] as unknown[] } : {}),
    };
  }
  // Not a problem document: a proxy's error page, say. Show a little of it rather than nothing.
  const excerpt = text.trim().slice(0, 300);
  return {
    type: 'about:blank',
    code: `http-${status}`,
    title: statusText || `HTTP ${status}`,
    status,
    ...(excerpt ? { detail: excerpt } : {}),
  };
}

function retryAfterSeconds(header: string | null): number | undefined {
  if (header === null) return undefined;
  if (/^\d+$/.test(header.trim())) return Number(header.trim());
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - Date.now()) / 1000));
}

export interface HttpResponse {
  status: number;
  body: unknown;
}

/** JSON over HTTP against one Custos server; non-2xx answers become `ServerProblemError`. */
export class CustosHttp {
  constructor(readonly serverUrl: string) {}

  /** The path as it goes on the wire, which is what device requests sign. */
  pathFor(apiPath: string): string {
    const url = new URL(this.serverUrl + API_BASE + apiPath);
    return url.pathname + url.search;
  }

  async send(
    method: string,
    apiPath: string,
    options: { body?: string; headers?: Record<string, string>; signal?: AbortSignal } = {},
  ): Promise<HttpResponse> {
    const url = this.serverUrl + API_BASE + apiPath;
    const timeout = AbortSignal.timeout(REQUEST_TIMEOUT_MS);
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers: {
          accept: 'application/json, application/problem+json',
          ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
          ...options.headers,
        },
        ...(options.body === undefined ? {} : { body: options.body }),
        // A redirect would send a request signed for one path to another: never follow one.
        redirect: 'error',
        signal: options.signal ? AbortSignal.any([options.signal, timeout]) : timeout,
      });
    } catch (error) {
      if (options.signal?.aborted) throw error;
      if (timeout.aborted) throw new ServerUnreachableError(`${this.serverUrl} did not answer within ${REQUEST_TIMEOUT_MS / 1000} s.`);
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      throw new ServerUnreachableError(`Cannot reach ${this.serverUrl}: ${cause?.code ?? cause?.message ?? String(error)}`);
    }
    const text = await response.text();
    if (!response.ok) {
      throw new ServerProblemError(
        problemFrom(response.status, response.statusText, text),
        retryAfterSeconds(response.headers.get('retry-after')),
      );
    }
    if (text === '') return { status: response.status, body: undefined };
    try {
      return { status: response.status, body: JSON.parse(text) as unknown };
    } catch {
      throw new ServerUnreachableError(
        `${url} answered ${response.status} with a body that is not JSON; is --server pointing at a Custos server?`,
      );
    }
  }
}

/**
 * Checks the fields the agent relies on. The server is trusted, but a wrong URL (another service,
 * an old server) should fail with a clear message, not a `TypeError` deep inside a check-in.
 */
function expectFields<T>(body: unknown, what: string, fields: Record<string, 'string' | 'number' | 'object'>): T {
  if (!isRecord(body)) throw new ServerUnreachableError(`The server's ${what} response is not a JSON object.`);
  for (const [name, type] of Object.entries(fields)) {
    const value = body[name];
    const ok = type === 'object' ? isRecord(value) : typeof value === type;
    if (!ok) throw new ServerUnreachableError(`The server's ${what} response lacks "${name}" (${type}).`);
  }
  return body as T;
}

export async function fetchEnrollmentInfo(http: CustosHttp, token: string, platform: Platform): Promise<EnrollmentInfo> {
  // The platform narrows the consent text to the fields this platform reports.
  const { body } = await http.send('GET', `/enroll/info?token=${encodeURIComponent(token)}&platform=${platform}`);
  return expectFields<EnrollmentInfo>(body, 'enrollment info', {
    tenantName: 'string',
    ownership: 'string',
    privacyStatement: 'object',
    apps: 'string',
  });
}

export async function requestEnrollment(http: CustosHttp, request: EnrollRequest): Promise<EnrollResponse> {
  const { body } = await http.send('POST', '/enroll', { body: JSON.stringify(request) });
  return expectFields<EnrollResponse>(body, 'enrollment', {
    tenantId: 'string',
    deviceId: 'string',
    certificate: 'string',
    caCertificate: 'string',
    appInventoryScope: 'string',
    schedule: 'object',
  });
}

function sessionUsable(session: CachedSession | null, nowMs: number): session is CachedSession {
  return session !== null && Date.parse(session.expiresAt) - SESSION_RENEWAL_MARGIN_MS > nowMs;
}

/**
 * Authenticated requests for one enrolled device. Holds the state object it was given and persists
 * every change to it (sequence numbers, sessions) in `stateDir` before acting on it.
 */
export class DeviceClient {
  private readonly http: CustosHttp;

  constructor(
    private readonly stateDir: string,
    readonly state: AgentState,
    private readonly signal?: AbortSignal,
  ) {
    this.http = new CustosHttp(state.serverUrl);
  }

  /** Persists the state (callers change `state` and save through here so there is one writer). */
  save(): Promise<void> {
    return writeState(this.stateDir, this.state);
  }

  private async nextSeq(): Promise<number> {
    this.state.seq += 1;
    await this.save();
    return this.state.seq;
  }

  private async openSession(): Promise<CachedSession> {
    const body = '{}';
    const seq = await this.nextSeq();
    const path = '/agent/session';
    const authorization = signatureAuthorization({
      privateKeyPem: this.state.privateKeyPem,
      tenantId: this.state.tenantId,
      deviceId: this.state.deviceId,
      method: 'POST',
      path: this.http.pathFor(path),
      seq,
      timestampMs: Date.now(),
      body,
    });
    const response = await this.http.send('POST', path, { body, headers: { authorization }, ...this.signalOption() });
    const issued = expectFields<DeviceSession>(response.body, 'session', {
      sessionToken: 'string',
      sessionKey: 'string',
      expiresAt: 'string',
    });
    this.state.session = { token: issued.sessionToken, key: issued.sessionKey, expiresAt: issued.expiresAt };
    await this.save();
    return this.state.session;
  }

  private signalOption(): { signal?: AbortSignal } {
    return this.signal ? { signal: this.signal } : {};
  }

  private async sendWithSession(session: CachedSession, method: string, apiPath: string, body: string): Promise<HttpResponse> {
    const seq = await this.nextSeq();
    const authorization = sessionAuthorization({
      sessionToken: session.token,
      sessionKey: session.key,
      method,
      path: this.http.pathFor(apiPath),
      seq,
      body,
    });
    return this.http.send(method, apiPath, { ...(body === '' ? {} : { body }), headers: { authorization }, ...this.signalOption() });
  }

  /**
   * Sends a device request under a session, opening one when none is cached or it is about to
   * expire. When the server says the session expired, or rejects a cached one (it may have been
   * restarted and forgotten it), the session is dropped, a new one opened and the request retried
   * once.
   */
  async request(method: string, apiPath: string, payload: unknown): Promise<HttpResponse> {
    // A GET has no body; its MAC covers the empty one.
    const body = payload === undefined ? '' : JSON.stringify(payload);
    const cached = sessionUsable(this.state.session, Date.now());
    const session = cached ? (this.state.session as CachedSession) : await this.openSession();
    try {
      return await this.sendWithSession(session, method, apiPath, body);
    } catch (error) {
      const retry =
        error instanceof ServerProblemError && (error.is(401, 'device-session-expired') || (cached && error.is(401, 'device-auth-failed')));
      if (!retry) throw error;
      this.state.session = null;
      await this.save();
      return this.sendWithSession(await this.openSession(), method, apiPath, body);
    }
  }

  async checkIn(request: CheckInRequest): Promise<CheckInResponse> {
    const { body } = await this.request('POST', '/agent/checkin', request);
    const response = expectFields<CheckInResponse>(body, 'check-in', {
      inventory: 'string',
      appInventoryScope: 'string',
      nextCheckInSeconds: 'number',
    });
    // A server from before device actions sends no commands.
    return { ...response, commands: Array.isArray(response.commands) ? response.commands : [] };
  }

  async reportCommandResult(commandId: string, result: CommandResult): Promise<void> {
    await this.request('POST', `/agent/commands/${encodeURIComponent(commandId)}/result`, result);
  }

  /**
   * The WebSocket URL and `Authorization` header of the push channel's upgrade request: a device
   * request like any other (GET, the path, an empty body, the next sequence number). With
   * `freshSession` a new session is opened first (after the server refused the cached one).
   */
  async pushRequest(freshSession = false): Promise<{ url: string; authorization: string }> {
    const apiPath = '/agent/push';
    const cached = this.state.session;
    const session = !freshSession && sessionUsable(cached, Date.now()) ? cached : await this.openSession();
    const seq = await this.nextSeq();
    const authorization = sessionAuthorization({
      sessionToken: session.token,
      sessionKey: session.key,
      method: 'GET',
      path: this.http.pathFor(apiPath),
      seq,
      body: '',
    });
    return { url: (this.state.serverUrl + API_BASE + apiPath).replace(/^http/, 'ws'), authorization };
  }

  /** The device's desired configuration profiles (fetched when the check-in's digest differs from the applied one). */
  async fetchProfiles(): Promise<AgentProfileSet> {
    const { body } = await this.request('GET', '/agent/profiles', undefined);
    const set = expectFields<AgentProfileSet>(body, 'profiles', { digest: 'string' });
    return { ...set, profiles: Array.isArray(set.profiles) ? set.profiles : [], remove: Array.isArray(set.remove) ? set.remove : [] };
  }

  async reportProfileStatus(report: ProfileStatusReport): Promise<void> {
    await this.request('POST', '/agent/profiles/status', report);
  }

  /** Has the tenant CA sign a client certificate for a key this device generated (the key stays here). */
  async requestProfileCertificate(profileId: string, csr: string): Promise<ProfileCertificate> {
    const { body } = await this.request('POST', `/agent/profiles/${encodeURIComponent(profileId)}/certificate`, { csr });
    return expectFields<ProfileCertificate>(body, 'certificate', { certificate: 'string', caCertificate: 'string', version: 'number' });
  }

  async unenroll(): Promise<void> {
    await this.request('POST', '/agent/unenroll', {});
  }
}
