/**
 * The auditor's page: the tenant's audit log with filters (`GET /v1/audit`, paged by `after`/`next`),
 * chain verification (`GET /v1/audit/verify`), and the accountability insights (`GET /v1/audit/insights`,
 * v1.1: repeat plates, off-hours searching, reused cases, boilerplate purposes, other agencies' searches).
 */
import { signal } from '@preact/signals';
import { call, describeError } from '../api';
import { Fieldset, SelectField, Status, TextField } from '../components/field';
import { formatTime, localInputToIso } from '../time';

interface AuditRecord {
  seq: number; ts: string; user: string; action: string; outcome: string; status: number;
  purpose: string | null; case: string | null; resultCount: number; actorTenant?: string; tenantsTouched: string[];
}
interface Verify { ok: boolean; count?: number; head?: string; brokenAt?: number; reason?: string }
type Insights = Record<string, Array<Record<string, unknown>>>;

const from = signal('');
const to = signal('');
const user = signal('');
const action = signal('');
const limit = signal('100');
const records = signal<AuditRecord[] | null>(null);
const next = signal<number | null>(null);
/** `after` of the pages before the current one (undefined = first page), and of the current one. */
const cursors = signal<Array<number | undefined>>([]);
const currentAfter = signal<number | undefined>(undefined);
const verify = signal<Verify | null>(null);
const insights = signal<Insights | null>(null);
const error = signal<string | null>(null);
const busy = signal(false);

function query(after?: number): string {
  const q = new URLSearchParams();
  const f = localInputToIso(from.value);
  const t = localInputToIso(to.value);
  if (f) q.set('from', f);
  if (t) q.set('to', t);
  if (user.value.trim()) q.set('user', user.value.trim());
  if (action.value.trim()) q.set('action', action.value.trim());
  q.set('limit', limit.value);
  if (after !== undefined) q.set('after', String(after));
  return q.toString();
}

async function load(after?: number): Promise<void> {
  busy.value = true;
  error.value = null;
  try {
    const page = await call<{ records: AuditRecord[]; next: number | null }>('GET', `/v1/audit?${query(after)}`);
    records.value = page.records;
    next.value = page.next;
    currentAfter.value = after;
  } catch (err) {
    error.value = describeError(err);
  } finally {
    busy.value = false;
  }
}

const kInsightTitles: Record<string, string> = {
  repeatPlates: 'Same user, same plate, 3 or more searches',
  offHours: 'Searches between 22:00 and 06:00',
  reusedCases: 'Case numbers used by 3 or more users',
  boilerplatePurposes: 'Purpose texts used by 3 or more users',
  foreign: "Other agencies' searches over our data",
};

export function AuditPage() {
  return (
    <div class="page audit-page">
      <h1>Audit</h1>
      <section class="card" aria-label="Chain verification">
        <h2>Chain verification</h2>
        <button type="button" class="primary" onClick={async () => {
          verify.value = null;
          try {
            verify.value = await call<Verify>('GET', '/v1/audit/verify');
          } catch (err) {
            error.value = describeError(err);
          }
        }}>Verify chain</button>
        {verify.value && (verify.value.ok
          ? <p class="status ok" role="status">Chain verified: {verify.value.count} records, head {verify.value.head?.slice(0, 16)}…</p>
          : <p class="status error" role="alert">Chain broken at record {verify.value.brokenAt}{verify.value.reason ? `: ${verify.value.reason}` : ''}</p>)}
      </section>
      <form class="card" onSubmit={(e) => {
        e.preventDefault();
        cursors.value = [];
        void load();
      }}>
        <h2>Audit log</h2>
        <Fieldset legend="Filters">
          <TextField label="From" type="datetime-local" value={from} />
          <TextField label="To" type="datetime-local" value={to} />
          <TextField label="User" value={user} />
          <TextField label="Action" value={action} placeholder="search" />
          <SelectField label="Records per page" value={limit} options={[['50', '50'], ['100', '100'], ['500', '500']]} />
        </Fieldset>
        <button type="submit" class="primary" disabled={busy.value}>Show records</button>
      </form>
      <Status error={error.value} />
      {records.value && (
        <section aria-label="Audit records">
          <div class="buttons">
            <button type="button" disabled={cursors.value.length === 0} onClick={() => {
              const after = cursors.value[cursors.value.length - 1];
              cursors.value = cursors.value.slice(0, -1);
              void load(after);
            }}>Previous records</button>
            <button type="button" disabled={next.value === null} onClick={() => {
              cursors.value = [...cursors.value, currentAfter.value];
              void load(next.value!);
            }}>Next records</button>
          </div>
          <div class="table-wrap">
            <table>
              <caption>{records.value.length} audit records</caption>
              <thead><tr>{['Seq', 'Time', 'User', 'Action', 'Outcome', 'Purpose', 'Case', 'Results', 'Actor tenant'].map((h) => <th scope="col">{h}</th>)}</tr></thead>
              <tbody>
                {records.value.map((r) => (
                  <tr key={r.seq}>
                    <td>{r.seq}</td><td>{formatTime(r.ts)}</td><td>{r.user}</td><td>{r.action}</td>
                    <td class={`outcome-${r.outcome}`}>{r.outcome} ({r.status})</td><td>{r.purpose ?? ''}</td><td>{r.case ?? ''}</td>
                    <td>{r.resultCount}</td><td>{r.actorTenant ?? ''}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </section>
      )}
      <section class="card" aria-label="Insights">
        <h2>Insights</h2>
        <button type="button" onClick={async () => {
          insights.value = null;
          try {
            const q = new URLSearchParams();
            const f = localInputToIso(from.value);
            const t = localInputToIso(to.value);
            if (f) q.set('from', f);
            if (t) q.set('to', t);
            insights.value = await call<Insights>('GET', `/v1/audit/insights?${q}`);
          } catch (err) {
            error.value = describeError(err);
          }
        }}>Show insights</button>
        {insights.value && Object.entries(kInsightTitles).map(([key, title]) => {
          const rows = insights.value![key] ?? [];
          const cols = rows[0] ? Object.keys(rows[0]) : [];
          return (
            <table class="insight">
              <caption>{title}: {rows.length}</caption>
              {rows.length > 0 && <thead><tr>{cols.map((c) => <th scope="col">{c}</th>)}</tr></thead>}
              <tbody>{rows.map((r) => <tr>{cols.map((c) => <td>{String(r[c])}</td>)}</tr>)}</tbody>
            </table>
          );
        })}
      </section>
    </div>
  );
}
