/**
 * The one way the portals talk to Custos: the public JSON API, same origin, with the session cookie.
 * Writes carry the session's CSRF token; every error is RFC 9457 problem+json, surfaced as ApiError
 * with its stable `code` so screens can react to it (e.g. `session-expired` → back to sign-in).
 */

export interface Problem {
  type: string;
  code: string;
  title: string;
  status: number;
  detail?: string;
  [extension: string]: unknown;
}

export class ApiError extends Error {
  constructor(readonly problem: Problem) {
    super(problem.detail ?? problem.title);
    this.name = 'ApiError';
  }
  get code(): string {
    return this.problem.code;
  }
  get status(): number {
    return this.problem.status;
  }
}

let csrfToken: string | null = sessionStorage.getItem('custos.csrf');
const listeners = new Set<(error: ApiError) => void>();

export function setCsrfToken(token: string | null): void {
  csrfToken = token;
  if (token) sessionStorage.setItem('custos.csrf', token);
  else sessionStorage.removeItem('custos.csrf');
}

/** Called on every 401 (signed out, idle timeout): the app shows the sign-in page with the reason. */
export function onUnauthenticated(listener: (error: ApiError) => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrfToken) headers['x-csrf-token'] = csrfToken;
  const res = await fetch(path, {
    method,
    headers,
    credentials: 'same-origin',
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  const data: unknown = text ? JSON.parse(text) : undefined;
  if (!res.ok) {
    const problem: Problem =
      data && typeof data === 'object' && 'code' in data
        ? (data as Problem)
        : { type: 'about:blank', code: 'http-error', title: res.statusText, status: res.status };
    const error = new ApiError(problem);
    if (res.status === 401 && !path.startsWith('/api/v1/auth/')) for (const l of listeners) l(error);
    throw error;
  }
  return data as T;
}

export const get = <T>(path: string) => api<T>('GET', path);
export const post = <T>(path: string, body?: unknown) => api<T>('POST', path, body ?? {});
export const put = <T>(path: string, body: unknown) => api<T>('PUT', path, body);
export const del = <T>(path: string) => api<T>('DELETE', path);
export const patch = <T>(path: string, body: unknown) => api<T>('PATCH', path, body);

/** Builds a query string from the defined values only. */
export function query(params: Record<string, string | number | boolean | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

export function formatBytes(n: number | null | undefined): string {
  if (n === null || n === undefined) return '—';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

/** The organization to sign in to: `?tenant=` in the URL, else the one used last in this browser. */
export function rememberedTenant(): string {
  return new URLSearchParams(location.search).get('tenant') ?? localStorage.getItem('custos.tenant') ?? '';
}
