/**
 * Investigative analytics (API.md v1.1): convoy, multi-site, frequent visitor, cloned plate. Each form sends
 * its body with the session's reason; results are a table (a plate opens its vehicle) and the sites are
 * drawn on the map: the drawn area (frequent), the list of sites (multi-site), the target's reads (convoy),
 * the fastest pair of each plate (cloned).
 */
import { signal, useSignal, type Signal } from '@preact/signals';
import { describeError } from '../api';
import { Fieldset, Status, TextField } from '../components/field';
import type { Hit } from '../hit';
import { toMapPoints, type SearchAnswer } from '../hit';
import { areaFields, describeArea, drawMode, drawnArea, learnCameras, mapPoints, mapSites, mapTrack, type Area } from '../map/map-state';
import { go } from '../route';
import { ReasonMissing, withReason } from '../search-request';
import { localInputToIso } from '../time';

type Row = Record<string, unknown>;
interface Answer { results: Row[]; total: number; truncated: boolean; tookMs: number }

const kKinds = [
  ['convoy', 'Convoy'],
  ['multisite', 'Multi-site'],
  ['frequent', 'Frequent visitor'],
  ['cloned', 'Cloned plate'],
] as const;
type Kind = (typeof kKinds)[number][0];

const answer = signal<{ kind: Kind; a: Answer } | null>(null);
const error = signal<string | null>(null);
const busy = signal(false);
const sites = signal<Array<{ area: Area; from: string; to: string }>>([]);

async function run(kind: Kind, body: Record<string, unknown>): Promise<void> {
  busy.value = true;
  error.value = null;
  answer.value = null;
  try {
    const a = await withReason<Answer>(`/v1/analytics/${kind}`, body);
    answer.value = { kind, a };
    mapPoints.value = [];
    mapTrack.value = [];
    if (kind === 'cloned') {
      const pairs = a.results.map((r) => r.example as Hit[] | undefined).filter((p): p is Hit[] => Array.isArray(p));
      const hits = pairs.flat();
      learnCameras(hits);
      mapPoints.value = toMapPoints(hits);
      if (pairs[0]) mapTrack.value = pairs[0].map((h) => [h.lat, h.lon]);
    }
    if (kind === 'convoy' && typeof body.plate === 'string') {
      const target = await withReason<SearchAnswer>('/v1/search', { plate: body.plate, match: 'exact', limit: 1000, ...(body.from ? { from: body.from } : {}), ...(body.to ? { to: body.to } : {}) });
      learnCameras(target.hits);
      mapPoints.value = toMapPoints(target.hits);
    }
  } catch (err) {
    error.value = err instanceof ReasonMissing ? err.message : describeError(err);
  } finally {
    busy.value = false;
  }
}

function cell(v: unknown): string {
  if (Array.isArray(v)) return v.every((x) => typeof x !== 'object') ? v.join(', ') : `${v.length} reads`;
  if (v && typeof v === 'object') return JSON.stringify(v);
  return String(v ?? '');
}

function Results() {
  const got = answer.value;
  if (!got) return null;
  const rows = got.a.results;
  // the plate first (it opens the vehicle), then the analysis's own columns; the example pair is on the map
  const cols = ['plate', ...(rows[0] ? Object.keys(rows[0]).filter((c) => c !== 'example' && c !== 'plate') : [])];
  return (
    <section aria-label="Analytics results">
      <p class="summary" role="status">{got.a.total} results{got.a.truncated ? ` (first ${rows.length})` : ''} · {got.a.tookMs} ms</p>
      <div class="table-wrap">
        <table>
          <caption>{kKinds.find(([k]) => k === got.kind)![1]} results</caption>
          <thead><tr>{cols.map((c) => <th scope="col">{c[0]!.toUpperCase() + c.slice(1)}</th>)}</tr></thead>
          <tbody>
            {rows.map((r) => (
              <tr>
                {cols.map((c) => <td>{c === 'plate' ? <button type="button" class="link" onClick={() => go('vehicle', String(r.plate))}>{String(r.plate)}</button> : cell(r[c])}</td>)}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

function Window({ from, to }: { from: Signal<string>; to: Signal<string> }) {
  return (
    <Fieldset legend="Time window">
      <TextField label="From" type="datetime-local" value={from} />
      <TextField label="To" type="datetime-local" value={to} />
    </Fieldset>
  );
}

function windowFields(from: string, to: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const f = localInputToIso(from);
  const t = localInputToIso(to);
  if (f) out.from = f;
  if (t) out.to = t;
  return out;
}

function AreaPicker() {
  return (
    <div class="buttons">
      <span>Area: {describeArea(drawnArea.value)}</span>
      <button type="button" onClick={() => (drawMode.value = 'near')}>Draw radius</button>
      <button type="button" onClick={() => (drawMode.value = 'bbox')}>Draw box</button>
      <button type="button" onClick={() => (drawMode.value = 'polygon')}>Draw polygon</button>
    </div>
  );
}

function ConvoyForm() {
  const plate = useSignal('');
  const windowSeconds = useSignal('120');
  const minCameras = useSignal('3');
  const from = useSignal('');
  const to = useSignal('');
  return (
    <form onSubmit={(e) => {
      e.preventDefault();
      mapSites.value = [];
      void run('convoy', { plate: plate.value.trim(), windowSeconds: Number(windowSeconds.value), minCameras: Number(minCameras.value), ...windowFields(from.value, to.value) });
    }}>
      <TextField label="Plate" value={plate} required />
      <TextField label="Window (seconds)" value={windowSeconds} inputMode="numeric" />
      <TextField label="Minimum cameras" value={minCameras} inputMode="numeric" />
      <Window from={from} to={to} />
      <button type="submit" class="primary" disabled={busy.value}>Find convoys</button>
    </form>
  );
}

function MultisiteForm() {
  const minSites = useSignal('');
  const from = useSignal('');
  const to = useSignal('');
  return (
    <form onSubmit={(e) => {
      e.preventDefault();
      const body: Record<string, unknown> = {
        sites: sites.value.map((s) => ({ ...areaFields(s.area), ...windowFields(s.from, s.to) })),
      };
      if (minSites.value) body.minSites = Number(minSites.value);
      void run('multisite', body);
    }}>
      <p>Draw an area on the map, give its time window, and add it as a site (2 to 10 sites).</p>
      <AreaPicker />
      <Window from={from} to={to} />
      <button type="button" disabled={!drawnArea.value || sites.value.length >= 10} onClick={() => {
        sites.value = [...sites.value, { area: drawnArea.value!, from: from.value, to: to.value }];
        mapSites.value = sites.value.map((s) => s.area);
        drawnArea.value = null;
      }}>Add site</button>
      <button type="button" onClick={() => {
        sites.value = [];
        mapSites.value = [];
      }}>Clear sites</button>
      <ol class="sites">{sites.value.map((s, i) => <li>Site {i + 1}: {describeArea(s.area)}{s.from || s.to ? `, ${s.from || '…'} – ${s.to || '…'}` : ''}</li>)}</ol>
      <TextField label="Minimum sites" value={minSites} inputMode="numeric" hint="Empty: all sites" />
      <button type="submit" class="primary" disabled={busy.value || sites.value.length < 2}>Find plates at several sites</button>
    </form>
  );
}

function FrequentForm() {
  const minReads = useSignal('5');
  const minDays = useSignal('1');
  const from = useSignal('');
  const to = useSignal('');
  return (
    <form onSubmit={(e) => {
      e.preventDefault();
      mapSites.value = drawnArea.value ? [drawnArea.value] : [];
      void run('frequent', { ...areaFields(drawnArea.value), minReads: Number(minReads.value), minDays: Number(minDays.value), ...windowFields(from.value, to.value) });
    }}>
      <AreaPicker />
      <TextField label="Minimum reads" value={minReads} inputMode="numeric" />
      <TextField label="Minimum days" value={minDays} inputMode="numeric" />
      <Window from={from} to={to} />
      <button type="submit" class="primary" disabled={busy.value}>Find frequent visitors</button>
    </form>
  );
}

function ClonedForm() {
  const maxSpeed = useSignal('250');
  const minDistance = useSignal('5000');
  const from = useSignal('');
  const to = useSignal('');
  return (
    <form onSubmit={(e) => {
      e.preventDefault();
      mapSites.value = [];
      void run('cloned', { maxSpeedKmh: Number(maxSpeed.value), minDistanceM: Number(minDistance.value), ...windowFields(from.value, to.value) });
    }}>
      <TextField label="Speed above (km/h)" value={maxSpeed} inputMode="numeric" />
      <TextField label="Distance at least (m)" value={minDistance} inputMode="numeric" />
      <Window from={from} to={to} />
      <button type="submit" class="primary" disabled={busy.value}>Find cloned plates</button>
    </form>
  );
}

export function AnalyticsPage({ kind }: { kind: string }) {
  const k = (kKinds.some(([x]) => x === kind) ? kind : 'convoy') as Kind;
  return (
    <div class="page analytics-page">
      <h1>Analytics</h1>
      <nav class="tabs" aria-label="Analyses">
        {kKinds.map(([id, label]) => <a href={`#/analytics/${id}`} aria-current={id === k ? 'page' : undefined}>{label}</a>)}
      </nav>
      <h2>{kKinds.find(([x]) => x === k)![1]}</h2>
      {k === 'convoy' && <ConvoyForm />}
      {k === 'multisite' && <MultisiteForm />}
      {k === 'frequent' && <FrequentForm />}
      {k === 'cloned' && <ClonedForm />}
      <Status error={error.value} info={busy.value ? 'Running…' : null} />
      {answer.value?.kind === k && <Results />}
    </div>
  );
}
