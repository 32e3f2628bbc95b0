/**
 * Small building blocks the admin screens share: a labelled field that shows its own error, turning
 * a problem+json answer into per-field messages (the server's `errors[].field` for schema failures,
 * a quoted field name in a domain error's detail), a "shown once" panel for secrets, and the
 * tenant's branding applied to the `--accent` CSS variable.
 */
import { useEffect, type ReactNode } from 'react';
import { useQuery } from '@tanstack/react-query';
import { ApiError, get } from '../api';

export type FieldErrors = Record<string, string>;

/** A sentence for any error: the server's detail, else a generic one. */
export function errorText(error: unknown, fallback = 'That did not work; try again.'): string {
  return error instanceof ApiError ? error.message : fallback;
}

/**
 * Per-field messages from a 400: `body.wifi.ssid` becomes `wifi.ssid`; a domain error naming a field
 * in quotes ("\"wifi.passphrase\" is required") is shown at that field too. `known` lists the form's
 * field keys; anything else stays in the form-level message.
 */
export function serverFieldErrors(error: unknown, known: readonly string[]): FieldErrors {
  if (!(error instanceof ApiError)) return {};
  const out: FieldErrors = {};
  const list = error.problem['errors'];
  if (Array.isArray(list))
    for (const e of list as { field?: string; message?: string }[]) {
      const field = (e.field ?? '').replace(/^body\.?/, '');
      const key = known.find((k) => field === k || field.startsWith(`${k}.`));
      if (key && !out[key]) out[key] = e.message ?? 'is not valid';
    }
  for (const match of error.message.matchAll(/"([A-Za-z][\w.]*)"/g)) {
    const quoted = match[1] ?? '';
    const key = known.find((k) => quoted === k || quoted.startsWith(`${k}.`) || k.endsWith(`.${quoted}`));
    if (key && !out[key]) out[key] = error.message;
  }
  return out;
}

/** A label, the control, and the field's error (announced and tied to the control by aria-describedby). */
export function Field(props: { id: string; label: string; error?: string | undefined; hint?: string; children: ReactNode }) {
  return (
    <div className="field">
      <label htmlFor={props.id}>{props.label}</label>
      {props.children}
      {props.hint && (
        <span className="muted hint" id={`${props.id}-hint`}>
          {props.hint}
        </span>
      )}
      {props.error && (
        <span className="error field-error" id={`${props.id}-error`} role="alert">
          {props.error}
        </span>
      )}
    </div>
  );
}

/** aria attributes of a control whose Field may show an error or a hint. */
export function described(id: string, error: string | undefined, hint?: boolean) {
  const ids = [hint ? `${id}-hint` : null, error ? `${id}-error` : null].filter(Boolean).join(' ');
  return { 'aria-invalid': error ? true : undefined, 'aria-describedby': ids || undefined } as const;
}

/** A checkbox with its label beside it. */
export function Check(props: { id: string; label: string; checked: boolean; onChange: (v: boolean) => void; disabled?: boolean }) {
  return (
    <label className="check" htmlFor={props.id}>
      <input
        id={props.id}
        type="checkbox"
        checked={props.checked}
        disabled={props.disabled}
        onChange={(e) => props.onChange(e.target.checked)}
      />{' '}
      {props.label}
    </label>
  );
}

/** A secret the server returns once: shown with a copy button and the warning that it will not come back. */
export function ShownOnce(props: { title: string; value: string; testId: string; children?: ReactNode; onDone: () => void }) {
  return (
    <section className="panel shown-once" aria-label={props.title}>
      <h2>{props.title} — shown once</h2>
      <p>Copy it now: Custos keeps only a hash and cannot show it again.</p>
      <p className="row">
        <code data-testid={props.testId} className="secret">
          {props.value}
        </code>
        <button type="button" onClick={() => void navigator.clipboard?.writeText(props.value)}>
          Copy
        </button>
        <button type="button" onClick={props.onDone}>
          Done
        </button>
      </p>
      {props.children}
    </section>
  );
}

/** A status line for a mutation: the error in an alert, or a short confirmation. */
export function Outcome(props: { error?: string | null; ok?: string | null }) {
  if (props.error)
    return (
      <p className="error" role="alert">
        {props.error}
      </p>
    );
  if (props.ok) return <p role="status">{props.ok}</p>;
  return null;
}

export interface Branding {
  displayName: string | null;
  accentColor: string | null;
}
export interface PortalInfo {
  tenantName: string;
  supportContact: string | null;
  privacyStatement: { version: string; text: string | null; url: string | null };
  branding: Branding;
}

/** The text colour that reads on a background of this `#rrggbb` (WCAG relative luminance). */
export function textOn(hex: string): string {
  const channel = (i: number) => {
    const c = parseInt(hex.slice(i, i + 2), 16) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  const luminance = 0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5);
  return luminance > 0.179 ? '#111111' : '#ffffff';
}

/** Loads the portal info and sets the tenant's accent colour on the page (back to the default when unset). */
export function useBranding() {
  const info = useQuery({ queryKey: ['portal-info'], queryFn: () => get<PortalInfo>('/api/v1/portal/info') });
  const accent = info.data?.branding.accentColor ?? null;
  useEffect(() => {
    const root = document.documentElement.style;
    if (accent && /^#[0-9a-fA-F]{6}$/.test(accent)) {
      root.setProperty('--accent', accent);
      root.setProperty('--accent-text', textOn(accent));
    } else {
      root.removeProperty('--accent');
      root.removeProperty('--accent-text');
    }
  }, [accent]);
  return info;
}
