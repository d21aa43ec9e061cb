/**
 * Approvals (v1.1): an investigator asks for one (the last search's body, the route, a reason); a supervisor
 * of the same tenant, not the requester, approves or denies it. An approved id is entered as "Approval id" in
 * the search form, which sends it with that exact body.
 */
import { signal, useSignal } from '@preact/signals';
import { useEffect } from 'preact/hooks';
import { ApiError, call, describeError } from '../api';
import { SelectField, Status, TextField } from '../components/field';
import { can, reason } from '../session-state';
import { lastSearchBody } from './search';

interface Approval { id: string; state: string; route: string; reason: string; requester?: string; user?: string; request: unknown; note?: string }

const list = signal<Approval[]>([]);
const missing = signal(false);
const error = signal<string | null>(null);
const info = signal<string | null>(null);
const state = signal('pending');

async function load(): Promise<void> {
  try {
    const got = await call<{ approvals: Approval[] } | Approval[]>('GET', `/v1/approvals?state=${state.value}`);
    list.value = Array.isArray(got) ? got : got.approvals;
  } catch (err) {
    if (err instanceof ApiError && err.missingRoute) missing.value = true;
    else error.value = describeError(err);
  }
}

function RequestForm() {
  // the search the investigator just tried (refused as broad), as it was sent minus the reason, added on sending
  const body = useSignal(JSON.stringify(lastSearchBody()));
  const why = useSignal('');
  return (
    <form class="card" onSubmit={async (e) => {
      e.preventDefault();
      error.value = null;
      try {
        const request = { ...(JSON.parse(body.value) as Record<string, unknown>), purpose: reason.value?.purpose, case: reason.value?.case };
        const got = await call<{ id: string }>('POST', '/v1/approvals', { body: { request, route: '/v1/search', reason: why.value } });
        info.value = `Approval ${got.id} requested.`;
        await load();
      } catch (err) {
        error.value = err instanceof SyntaxError ? 'The search body is not valid JSON.' : describeError(err);
      }
    }}>
      <h2>Request an approval</h2>
      <TextField label="Search body (JSON)" value={body} />
      <TextField label="Why this broad search is needed" value={why} required />
      <button type="submit">Request approval</button>
    </form>
  );
}

function Decide({ a }: { a: Approval }) {
  const note = useSignal('');
  const decide = async (decision: string) => {
    try {
      // an empty note is left out (a note, when given, must say something)
      const body = note.value.trim() ? { decision, note: note.value.trim() } : { decision };
      await call('PUT', `/v1/approvals/${encodeURIComponent(a.id)}`, { body });
      info.value = `Approval ${a.id} ${decision}.`;
      await load();
    } catch (err) {
      error.value = describeError(err);
    }
  };
  return (
    <div class="inline">
      <label for={`note-${a.id}`}>Decision note<span class="sr-only"> for {a.id}</span></label>
      <input id={`note-${a.id}`} value={note.value} onInput={(e) => (note.value = (e.target as HTMLInputElement).value)} />
      <button type="button" onClick={() => decide('approved')}>Approve<span class="sr-only"> {a.id}</span></button>
      <button type="button" class="danger" onClick={() => decide('denied')}>Deny<span class="sr-only"> {a.id}</span></button>
    </div>
  );
}

export function ApprovalsPage() {
  useEffect(() => {
    void load();
  }, []);
  if (missing.value) return <div class="page"><h1>Approvals</h1><p>This server does not offer approvals yet (API v1.1).</p></div>;
  return (
    <div class="page approvals-page">
      <h1>Approvals</h1>
      <Status error={error.value} info={info.value} />
      <SelectField label="State" value={state} options={[['pending', 'Pending'], ['approved', 'Approved'], ['denied', 'Denied']]} />
      <button type="button" onClick={() => void load()}>Show</button>
      <table>
        <caption>{list.value.length} approvals</caption>
        <thead><tr><th scope="col">Id</th><th scope="col">State</th><th scope="col">Route</th><th scope="col">Reason</th><th scope="col">Requested by</th><th scope="col">Decision</th></tr></thead>
        <tbody>
          {list.value.map((a) => (
            <tr key={a.id}>
              <td><code>{a.id}</code></td><td>{a.state}</td><td>{a.route}</td><td>{a.reason}</td><td>{a.requester ?? a.user ?? ''}</td>
              <td>{can.value.decide && a.state === 'pending' ? <Decide a={a} /> : a.note ?? ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <RequestForm />
    </div>
  );
}
