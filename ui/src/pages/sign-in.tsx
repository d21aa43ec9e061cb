/**
 * Sign-in: paste a bearer token (from `platesearch token create`, or the demo's `demo token …` lines). It is
 * checked with `GET /v1/me` before it is kept, in sessionStorage only.
 */
import { useSignal } from '@preact/signals';
import { describeError, call } from '../api';
import { Status, TextField } from '../components/field';
import { keepToken, type Me } from '../session-state';

export function SignInPage() {
  const tokenText = useSignal('');
  const error = useSignal<string | null>(null);
  const busy = useSignal(false);
  return (
    <main class="sign-in">
      <form class="card" onSubmit={async (e) => {
        e.preventDefault();
        const t = tokenText.value.trim();
        if (!t) {
          error.value = 'Paste your token first.';
          return;
        }
        busy.value = true;
        error.value = null;
        try {
          const who = await call<Me>('GET', '/v1/me', { token: t });
          keepToken(t, who);
        } catch (err) {
          error.value = describeError(err);
        } finally {
          busy.value = false;
        }
      }}>
        <h1>platesearch</h1>
        <p>Sign in with the bearer token your administrator gave you. It is kept for this browser tab only.</p>
        <TextField label="Token" type="password" value={tokenText} autoComplete="off" required />
        <Status error={error.value} />
        <button type="submit" class="primary" disabled={busy.value}>Sign in</button>
        <p class="note">Every search and every view is recorded in your agency's audit log, with the purpose and case you give.</p>
      </form>
    </main>
  );
}
