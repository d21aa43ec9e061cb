/**
 * Search: plate pattern (match mode, OCR, max edits), time window, an area drawn on the map, cameras,
 * regions, makes and colors; results as a grid (sortable, paged with the v1.1 `next`/`after` cursor, CSV
 * export of the page), as clustered markers on the map, and as a time histogram. A hit opens its vehicle.
 *
 * The form's state lives at module level, so going to a vehicle and back keeps the search and its page.
 */
import { signal } from '@preact/signals';
import { ApiError, describeError } from '../api';
import { CheckField, Fieldset, SelectField, Status, TextField } from '../components/field';
import { Histogram } from '../components/histogram';
import { HitsTable } from '../components/hits-table';
import { download, toCsv } from '../csv';
import { kHitColumns, toMapPoints, type Hit, type SearchAnswer } from '../hit';
import { areaFields, describeArea, drawMode, drawnArea, drawRadiusM, learnCameras, mapPoints, mapSites, mapTrack, onPointOpen } from '../map/map-state';
import { finishPolygon, mapViewBox } from '../map/map-view';
import { go } from '../route';
import { ReasonMissing, withReason } from '../search-request';
import { listInput, localInputToIso } from '../time';

const plate = signal('');
const match = signal('auto');
const ocr = signal(false);
const maxEdits = signal('1');
const transpositions = signal(false);
const from = signal('');
const to = signal('');
const cameras = signal('');
const regions = signal('');
const makes = signal('');
const colors = signal('');
const limit = signal('1000');
const approval = signal('');
const radius = signal('500');

const answer = signal<SearchAnswer | null>(null);
/** Cursors of the pages before the current one (`undefined` = the first page), for "Previous page". */
const pages = signal<Array<string | undefined>>([]);
const currentAfter = signal<string | undefined>(undefined);
const busy = signal(false);
const error = signal<string | null>(null);
const needsApproval = signal(false);
/** The body of the last search run, without paging: paging must repeat it exactly. */
let lastBody: Record<string, unknown> | null = null;

function body(): Record<string, unknown> {
  const b: Record<string, unknown> = {};
  const p = plate.value.trim();
  if (p) b.plate = p;
  if (match.value !== 'auto') b.match = match.value;
  if (ocr.value) b.ocr = true;
  if (match.value === 'fuzzy') {
    b.maxEdits = Number(maxEdits.value);
    if (transpositions.value) b.transpositions = true;
  }
  const f = localInputToIso(from.value);
  const t = localInputToIso(to.value);
  if (f) b.from = f;
  if (t) b.to = t;
  Object.assign(b, areaFields(drawnArea.value));
  const lists: Array<[string, string]> = [['cameras', cameras.value], ['regions', regions.value], ['makes', makes.value], ['colors', colors.value]];
  for (const [k, v] of lists) {
    const l = listInput(v);
    if (l) b[k] = l;
  }
  b.limit = Number(limit.value);
  if (approval.value.trim()) b.approval = approval.value.trim();
  return b;
}

/** The last search's body (or the form's, if none ran): what an approval request asks for. */
export function lastSearchBody(): Record<string, unknown> {
  return lastBody ?? body();
}

export function showHits(hits: Hit[]): void {
  learnCameras(hits);
  mapTrack.value = [];
  mapSites.value = [];
  mapPoints.value = toMapPoints(hits);
}

/**
 * Runs the search (a page of it when `after` is given). `history` is the "Previous page" cursors that go with
 * the answer: they change together with it, on success only, so the grid's caption ("page N") never names a
 * page whose hits have not arrived yet (or never arrive, when the call fails).
 */
async function run(after: string | undefined, history: Array<string | undefined>, base?: Record<string, unknown>): Promise<void> {
  const b = base ?? body();
  busy.value = true;
  error.value = null;
  needsApproval.value = false;
  try {
    const a = await withReason<SearchAnswer>('/v1/search', after ? { ...b, after } : b);
    lastBody = b;
    currentAfter.value = after;
    pages.value = history;
    answer.value = a;
    showHits(a.hits);
  } catch (err) {
    if (err instanceof ApiError && err.code === 'PS_APPROVAL_REQUIRED') needsApproval.value = true;
    error.value = err instanceof ReasonMissing ? err.message : describeError(err);
  } finally {
    busy.value = false;
  }
}

function openHit(h: { plate: string }): void {
  go('vehicle', h.plate);
}

function exportPage(): void {
  const a = answer.value;
  if (!a) return;
  download(`platesearch-${new Date().toISOString().slice(0, 19).replace(/:/g, '')}.csv`, toCsv(kHitColumns, a.hits as unknown as Array<Record<string, unknown>>));
}

export function SearchPage() {
  onPointOpen.value = (p) => openHit(p);
  const a = answer.value;
  const fuzzy = match.value === 'fuzzy';
  const pageNo = pages.value.length + 1;
  return (
    <div class="page search-page">
      <h1>Search</h1>
      <form class="search-form" onSubmit={(e) => {
        e.preventDefault();
        void run(undefined, []);
      }}>
        <Fieldset legend="Plate">
          <TextField label="Plate" value={plate} placeholder="7AB?12*" hint="? one character, * any run; empty: all plates in the area and window" />
          <SelectField label="Match" value={match} options={[['auto', 'Automatic'], ['exact', 'Exact'], ['wildcard', 'Wildcard'], ['fuzzy', 'Fuzzy (edit distance)']]} />
          <SelectField label="Max edits" value={maxEdits} disabled={!fuzzy} options={[['0', '0'], ['1', '1'], ['2', '2']]} />
          <CheckField label="Transpositions count as one edit" value={transpositions} disabled={!fuzzy} />
          <CheckField label="OCR confusions (0/O/D/Q, 1/I/L, 8/B, …)" value={ocr} />
        </Fieldset>
        <Fieldset legend="Time window">
          <TextField label="From" type="datetime-local" value={from} />
          <TextField label="To" type="datetime-local" value={to} />
        </Fieldset>
        <Fieldset legend="Area">
          <p class="area-now">Area: {describeArea(drawnArea.value)}</p>
          <TextField label="Radius (m)" value={radius} inputMode="numeric" />
          <div class="buttons">
            <button type="button" aria-pressed={drawMode.value === 'near'} onClick={() => {
              drawRadiusM.value = Math.max(1, Number(radius.value) || 500);
              drawMode.value = 'near';
            }}>Draw radius</button>
            <button type="button" aria-pressed={drawMode.value === 'bbox'} onClick={() => (drawMode.value = 'bbox')}>Draw box</button>
            <button type="button" aria-pressed={drawMode.value === 'polygon'} onClick={() => (drawMode.value = 'polygon')}>Draw polygon</button>
            {drawMode.value === 'polygon' && <button type="button" onClick={finishPolygon}>Finish polygon</button>}
            <button type="button" onClick={() => {
              const box = mapViewBox();
              if (box) drawnArea.value = { kind: 'bbox', bbox: box };
            }}>Use map view</button>
            <button type="button" onClick={() => {
              drawnArea.value = null;
              drawMode.value = 'none';
            }}>Clear area</button>
          </div>
        </Fieldset>
        <Fieldset legend="Filters">
          <TextField label="Cameras" value={cameras} placeholder="cam-17, cam-18" />
          <TextField label="Regions" value={regions} placeholder="CA, NV" />
          <TextField label="Makes" value={makes} placeholder="TOYOTA" />
          <TextField label="Colors" value={colors} placeholder="WHITE" />
          <SelectField label="Page size" value={limit} options={[['100', '100'], ['500', '500'], ['1000', '1,000'], ['5000', '5,000'], ['10000', '10,000']]} />
          <TextField label="Approval id" value={approval} hint="Only for broad searches that need a supervisor's approval" />
        </Fieldset>
        <div class="buttons">
          <button type="submit" class="primary" disabled={busy.value}>Search</button>
        </div>
      </form>
      <Status error={error.value} info={busy.value ? 'Searching…' : null} />
      {needsApproval.value && <p class="status">This search is broad under your agency's policy. <a href="#/approvals">Request an approval</a> and enter its id above.</p>}
      {a && (
        <section class="results" aria-label="Results">
          <p class="summary" role="status">
            {a.total.toLocaleString('en-US')} hits{a.truncated ? `, page ${pageNo} shows ${a.hits.length.toLocaleString('en-US')}` : ''} · {a.tookMs} ms
          </p>
          <div class="buttons">
            <button type="button" disabled={busy.value || pages.value.length === 0} onClick={() => {
              void run(pages.value[pages.value.length - 1], pages.value.slice(0, -1), lastBody ?? undefined);
            }}>Previous page</button>
            <button type="button" disabled={busy.value || !a.next} onClick={() => {
              void run(a.next!, [...pages.value, currentAfter.value], lastBody ?? undefined);
            }}>Next page</button>
            <button type="button" disabled={a.hits.length === 0} onClick={exportPage}>Export page as CSV</button>
          </div>
          <Histogram times={a.hits.map((h) => h.ts)} label="Hits over time" />
          <HitsTable key={a.queryId} hits={a.hits} caption={`Search results, page ${pageNo}`} onOpen={openHit} />
        </section>
      )}
    </div>
  );
}
