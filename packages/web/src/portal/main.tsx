import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import '../common/styles.css';
import { SessionGate } from '../common/session';
import { CompleteReset } from '../common/PasswordReset';
import { CompanyPortal } from './CompanyPortal';

const queryClient = new QueryClient({ defaultOptions: { queries: { retry: 1, staleTime: 5_000 } } });

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      {location.pathname === '/portal/reset-password' ? (
        <CompleteReset />
      ) : (
        <SessionGate title="Company Portal">
          <CompanyPortal />
        </SessionGate>
      )}
    </QueryClientProvider>
  </StrictMode>,
);
