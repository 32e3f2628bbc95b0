/**
 * The signed-in state of a portal: asks the server who we are (`GET /api/v1/auth/session`), shows
 * sign-in when nobody is, and returns to sign-in — with the server's reason — whenever any request
 * answers 401 (the inactivity timeout, an admin revoking the session, deactivation).
 */
import { createContext, useCallback, useContext, useEffect, useState, type ReactNode } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { ApiError, get, onUnauthenticated, post, setCsrfToken } from '../api';
import { SignIn } from './SignIn';

export interface SessionInfo {
  tenantId: string;
  tenantName?: string;
  user: { id: string; userName: string; displayName?: string | null };
  permissions: string[];
  csrfToken: string;
  mfaPending?: boolean;
}

const SessionContext = createContext<{ session: SessionInfo; signOut: () => Promise<void> } | null>(null);

export function useSession() {
  const value = useContext(SessionContext);
  if (!value) throw new Error('useSession outside SessionGate');
  return value;
}

export function can(session: SessionInfo, permission: string): boolean {
  return session.permissions.includes(permission);
}

export function SessionGate(props: { title: string; children: ReactNode }) {
  const [session, setSession] = useState<SessionInfo | null | undefined>(undefined);
  const [reason, setReason] = useState<string | null>(null);
  const queryClient = useQueryClient();

  const load = useCallback(async () => {
    try {
      const s = await get<SessionInfo>('/api/v1/auth/session');
      if (s.mfaPending) {
        setSession(null);
        return;
      }
      setCsrfToken(s.csrfToken);
      setSession(s);
    } catch (e) {
      setSession(null);
      if (e instanceof ApiError && e.code === 'session-expired') setReason(e.message);
    }
  }, []);

  useEffect(() => {
    void load();
    return onUnauthenticated((error) => {
      queryClient.clear();
      setCsrfToken(null);
      setReason(error.code === 'session-expired' ? error.message : 'You were signed out. Sign in again to continue.');
      setSession(null);
    });
  }, [load, queryClient]);

  const signOut = useCallback(async () => {
    try {
      await post('/api/v1/auth/logout');
    } finally {
      queryClient.clear();
      setCsrfToken(null);
      setReason('You signed out.');
      setSession(null);
    }
  }, [queryClient]);

  if (session === undefined)
    return (
      <p className="muted" style={{ padding: 24 }}>
        Loading…
      </p>
    );
  if (session === null)
    return (
      <SignIn
        title={props.title}
        reason={reason}
        onSignedIn={() => {
          setReason(null);
          void load();
        }}
      />
    );
  return <SessionContext.Provider value={{ session, signOut }}>{props.children}</SessionContext.Provider>;
}
