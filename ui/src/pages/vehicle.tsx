/**
 * The vehicle view: every read of one plate (exact) in the caller's scope, on the map in time order (a track)
 * and on a timeline, with the grid below. One audited search, with the session's reason.
 */
import { signal } from '@preact/signals';
import { useEffect } from 'preact/hooks';
import { describeError } from '../api';
import { Status } from '../components/field';
import { HitsTable } from '../components/hits-table';
import { Timeline } from '../components/timeline';
import { toMapPoints, type SearchAnswer } from '../hit';
import { learnCameras, mapPoints, mapSites, mapTrack, onPointOpen } from '../map/map-state';
import { ReasonMissing, withReason } from '../search-request';
import { reason } from '../session-state';

const answer = signal<SearchAnswer | null>(null);
const error = signal<string | null>(null);
const busy = signal(false);

async function load(plate: string, after?: string): Promise<void> {
  busy.value = true;
  error.value = null;
  try {
    const body: Record<string, unknown> = { plate, match: 'exact', limit: 10000 };
    const a = await withReason<SearchAnswer>('/v1/search', after ? { ...body, after } : body);
    answer.value = a;
    learnCameras(a.hits);
    const inTime = [...a.hits].sort((x, y) => Date.parse(x.ts) - Date.parse(y.ts));
    mapSites.value = [];
    mapPoints.value = toMapPoints(inTime);
    mapTrack.value = inTime.map((h) => [h.lat, h.lon]);
  } catch (err) {
    answer.value = null;
    error.value = err instanceof ReasonMissing ? err.message : describeError(err);
  } finally {
    busy.value = false;
  }
}

export function VehiclePage({ plate }: { plate: string }) {
  // runs again once a reason is given (a vehicle link opened before the reason prompt was answered)
  const why = reason.value;
  useEffect(() => {
    onPointOpen.value = null;
    if (why) void load(plate);
  }, [plate, why]);
  const a = answer.value;
  return (
    <div class="page vehicle-page">
      <h1>Vehicle {plate}</h1>
      <p><a href="#/search">Back to the search</a></p>
      <Status error={error.value} info={busy.value ? 'Loading reads…' : null} />
      {a && (
        <>
          <p class="summary" role="status">{a.total.toLocaleString('en-US')} reads of {plate} in your scope{a.truncated ? `, ${a.hits.length.toLocaleString('en-US')} shown` : ''}</p>
          {a.next && <button type="button" onClick={() => void load(plate, a.next!)}>Next page</button>}
          <Timeline hits={a.hits} />
          <HitsTable key={a.queryId} hits={a.hits} caption={`Reads of ${plate}`} />
        </>
      )}
    </div>
  );
}
