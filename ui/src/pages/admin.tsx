/**
 * The admin page: sharing (grants given and received), retention, policy (broad-search limits, time zone,
 * the transparency switch), and legal holds. Policy and holds are v1.1 routes: on a server without them
 * the section says so instead of failing.
 */
import { signal, useSignal } from '@preact/signals';
import { useEffect } from 'preact/hooks';
import { ApiError, call, describeError } from '../api';
import { CheckField, Status, TextField } from '../components/field';
import { listInput, localInputToIso } from '../time';

interface Grant { grantor: string; grantee: string; expires: string | null; created: string }
interface Policy { broad?: { maxAreaKm2?: number | null; maxDays?: number | null; requireApproval?: boolean }; timezone?: string; transparency?: boolean }
interface Hold { id: string; case: string; reason: string; plates?: string[]; from?: string; to?: string }

const error = signal<string | null>(null);
const info = signal<string | null>(null);

async function attempt(what: string, f: () => Promise<void>): Promise<void> {
  error.value = null;
  try {
    await f();
    info.value = what;
  } catch (err) {
    error.value = describeError(err);
  }
}

function Sharing() {
  const grants = useSignal<{ given: Grant[]; received: Grant[] } | null>(null);
  const grantee = useSignal('');
  const expires = useSignal('');
  const load = async () => {
    grants.value = await call('GET', '/v1/sharing');
  };
  useEffect(() => {
    load().catch((err) => (error.value = describeError(err)));
  }, []);
  return (
    <section class="card" aria-label="Sharing">
      <h2>Sharing</h2>
      <table>
        <caption>Grants given</caption>
        <thead><tr><th scope="col">Agency</th><th scope="col">Expires</th><th scope="col">Since</th><th scope="col">Action</th></tr></thead>
        <tbody>
          {grants.value?.given.map((g) => (
            <tr key={g.grantee}>
              <td>{g.grantee}</td><td>{g.expires ?? 'never'}</td><td>{g.created}</td>
              <td><button type="button" class="danger" onClick={() => attempt(`Access of ${g.grantee} revoked.`, async () => {
                await call('DELETE', `/v1/sharing/${encodeURIComponent(g.grantee)}`);
                await load();
              })}>Revoke<span class="sr-only"> {g.grantee}</span></button></td>
            </tr>
          ))}
        </tbody>
      </table>
      <table>
        <caption>Grants received</caption>
        <thead><tr><th scope="col">From agency</th><th scope="col">Expires</th></tr></thead>
        <tbody>{grants.value?.received.map((g) => <tr key={g.grantor}><td>{g.grantor}</td><td>{g.expires ?? 'never'}</td></tr>)}</tbody>
      </table>
      <form class="inline" onSubmit={(e) => {
        e.preventDefault();
        const iso = localInputToIso(expires.value);
        void attempt(`Access granted to ${grantee.value.trim()}.`, async () => {
          await call('PUT', `/v1/sharing/${encodeURIComponent(grantee.value.trim())}`, { body: iso ? { expires: iso } : {} });
          await load();
        });
      }}>
        <TextField label="Share with agency" value={grantee} required />
        <TextField label="Expires" type="datetime-local" value={expires} />
        <button type="submit">Grant access</button>
      </form>
    </section>
  );
}

function Retention() {
  const days = useSignal('');
  const current = useSignal<{ retentionSeconds: number | null; cutoff: string | null } | null>(null);
  const load = async () => {
    current.value = await call('GET', '/v1/retention');
  };
  useEffect(() => {
    load().catch((err) => (error.value = describeError(err)));
  }, []);
  const c = current.value;
  return (
    <section class="card" aria-label="Retention">
      <h2>Retention</h2>
      <p class="current-retention">{c ? (c.retentionSeconds === null ? 'Reads are kept until retention is set.' : `Reads are kept ${+(c.retentionSeconds / 86400).toFixed(3)} days (cutoff ${c.cutoff}).`) : '…'}</p>
      <form class="inline" onSubmit={(e) => {
        e.preventDefault();
        const seconds = Math.round(Number(days.value) * 86400);
        void attempt(`Retention set to ${days.value} days.`, async () => {
          await call('PUT', '/v1/retention', { body: { retentionSeconds: seconds } });
          await load();
        });
      }}>
        <TextField label="Retention (days)" value={days} inputMode="numeric" required hint="Reads older than this are never returned again and are deleted from disk within a minute." />
        <button type="submit">Set retention</button>
      </form>
    </section>
  );
}

function PolicySection() {
  const missing = useSignal(false);
  const maxArea = useSignal('');
  const maxDays = useSignal('');
  const requireApproval = useSignal(false);
  const timezone = useSignal('UTC');
  const transparency = useSignal(false);
  useEffect(() => {
    call<Policy>('GET', '/v1/policy').then((p) => {
      // null or absent: unbounded
      maxArea.value = p.broad?.maxAreaKm2 == null ? '' : String(p.broad.maxAreaKm2);
      maxDays.value = p.broad?.maxDays == null ? '' : String(p.broad.maxDays);
      requireApproval.value = p.broad?.requireApproval ?? false;
      timezone.value = p.timezone ?? 'UTC';
      transparency.value = p.transparency ?? false;
    }, (err) => {
      if (err instanceof ApiError && err.missingRoute) missing.value = true;
      else error.value = describeError(err);
    });
  }, []);
  if (missing.value) return <section class="card" aria-label="Policy"><h2>Policy</h2><p>This server does not offer policies yet (API v1.1).</p></section>;
  return (
    <section class="card" aria-label="Policy">
      <h2>Policy</h2>
      <form onSubmit={(e) => {
        e.preventDefault();
        const broad: Record<string, unknown> = { requireApproval: requireApproval.value };
        if (maxArea.value) broad.maxAreaKm2 = Number(maxArea.value);
        if (maxDays.value) broad.maxDays = Number(maxDays.value);
        void attempt('Policy saved.', () => call('PUT', '/v1/policy', { body: { broad, timezone: timezone.value, transparency: transparency.value } }));
      }}>
        <TextField label="Broad search: largest area (km²)" value={maxArea} inputMode="numeric" />
        <TextField label="Broad search: longest window (days)" value={maxDays} inputMode="numeric" />
        <CheckField label="Broad searches need a supervisor's approval" value={requireApproval} />
        <TextField label="Time zone" value={timezone} hint="IANA name, e.g. America/Los_Angeles (used for off-hours insights)" />
        <CheckField label="Publish transparency counts" value={transparency} />
        <button type="submit">Save policy</button>
      </form>
    </section>
  );
}

function Holds() {
  const missing = useSignal(false);
  const holds = useSignal<Hold[]>([]);
  const id = useSignal('');
  const caseNo = useSignal('');
  const why = useSignal('');
  const plates = useSignal('');
  const from = useSignal('');
  const to = useSignal('');
  const load = async () => {
    const got = await call<{ holds: Hold[] } | Hold[]>('GET', '/v1/holds');
    holds.value = Array.isArray(got) ? got : got.holds;
  };
  useEffect(() => {
    load().catch((err) => {
      if (err instanceof ApiError && err.missingRoute) missing.value = true;
      else error.value = describeError(err);
    });
  }, []);
  if (missing.value) return <section class="card" aria-label="Legal holds"><h2>Legal holds</h2><p>This server does not offer legal holds yet (API v1.1).</p></section>;
  return (
    <section class="card" aria-label="Legal holds">
      <h2>Legal holds</h2>
      <table>
        <caption>{holds.value.length} holds</caption>
        <thead><tr><th scope="col">Id</th><th scope="col">Case</th><th scope="col">Reason</th><th scope="col">Plates</th><th scope="col">Window</th><th scope="col">Action</th></tr></thead>
        <tbody>
          {holds.value.map((h) => (
            <tr key={h.id}>
              <td>{h.id}</td><td>{h.case}</td><td>{h.reason}</td><td>{h.plates?.join(', ') ?? 'all'}</td><td>{h.from ?? '…'} – {h.to ?? '…'}</td>
              <td><button type="button" class="danger" onClick={() => attempt(`Hold ${h.id} released.`, async () => {
                await call('DELETE', `/v1/holds/${encodeURIComponent(h.id)}`);
                await load();
              })}>Release<span class="sr-only"> hold {h.id}</span></button></td>
            </tr>
          ))}
        </tbody>
      </table>
      <form onSubmit={(e) => {
        e.preventDefault();
        const body: Record<string, unknown> = { case: caseNo.value.trim(), reason: why.value.trim() };
        const p = listInput(plates.value);
        if (p) body.plates = p;
        const f = localInputToIso(from.value);
        const t = localInputToIso(to.value);
        if (f) body.from = f;
        if (t) body.to = t;
        void attempt(`Hold ${id.value.trim()} placed.`, async () => {
          await call('PUT', `/v1/holds/${encodeURIComponent(id.value.trim())}`, { body });
          await load();
        });
      }}>
        <TextField label="Hold id" value={id} required />
        <TextField label="Hold case" value={caseNo} required />
        <TextField label="Hold reason" value={why} required />
        <TextField label="Hold plates" value={plates} hint="Comma-separated; empty: every plate in the window" />
        <TextField label="Hold from" type="datetime-local" value={from} />
        <TextField label="Hold to" type="datetime-local" value={to} />
        <button type="submit">Place hold</button>
      </form>
    </section>
  );
}

export function AdminPage() {
  return (
    <div class="page admin-page">
      <h1>Administration</h1>
      <Status error={error.value} info={info.value} />
      <Retention />
      <Sharing />
      <PolicySection />
      <Holds />
    </div>
  );
}
