/**
 * The console's root: the sign-in page, or, once a token is kept, the signed-in shell (shell.tsx), loaded on
 * demand so the first paint needs only Preact and the sign-in form (Leaflet and the pages come after).
 */
import { useEffect, useState } from 'preact/hooks';
import { SignInPage } from './pages/sign-in';
import { token } from './session-state';

type ShellModule = typeof import('./shell');

export function App() {
  const [shell, setShell] = useState<ShellModule | null>(null);
  useEffect(() => {
    performance.mark('console-rendered');
  }, []);
  const signedIn = token.value !== null;
  useEffect(() => {
    if (signedIn && !shell) void import('./shell').then(setShell);
  }, [signedIn]);
  if (!signedIn) return <SignInPage />;
  if (!shell) return <p class="loading" role="status">Loading the console…</p>;
  return <shell.Shell />;
}
