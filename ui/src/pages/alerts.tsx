/**
 * The dispatcher's alert panel: a live log (role=log, "Alerts"), newest on top, the new one highlighted
 * (and announced, and sounded; the map pans to it); each alert acknowledged with an outcome and a note
 * (`POST /v1/alerts/{id}/ack`, v1.1).
 */
import { useSignal } from '@preact/signals';
import { useEffect } from 'preact/hooks';
import { acknowledge, alerts, streamState, unseen, type Alert } from '../alerts-state';
import { describeError } from '../api';
import { mapFocus, mapPoints, mapSites, mapTrack } from '../map/map-state';
import { go } from '../route';
import { formatTime } from '../time';

function AckForm({ alert }: { alert: Alert }) {
  const outcome = useSignal('confirmed');
  const note = useSignal('');
  const error = useSignal<string | null>(null);
  const busy = useSignal(false);
  const id = `ack-${alert.id}`;
  return (
    <form class="ack" onSubmit={async (e) => {
      e.preventDefault();
      busy.value = true;
      error.value = null;
      try {
        await acknowledge(alert.id, outcome.value, note.value);
      } catch (err) {
        error.value = describeError(err);
      } finally {
        busy.value = false;
      }
    }}>
      <label for={`${id}-outcome`}>Outcome<span class="sr-only"> for alert {alert.id}</span></label>
      <select id={`${id}-outcome`} value={outcome.value} onChange={(e) => (outcome.value = (e.target as HTMLSelectElement).value)}>
        <option value="confirmed">Confirmed</option>
        <option value="rejected">Rejected (misread)</option>
        <option value="not-actioned">Not actioned</option>
      </select>
      <label for={`${id}-note`}>Note<span class="sr-only"> for alert {alert.id}</span></label>
      <input id={`${id}-note`} value={note.value} onInput={(e) => (note.value = (e.target as HTMLInputElement).value)} />
      <button type="submit" disabled={busy.value}>Acknowledge<span class="sr-only"> alert {alert.id}</span></button>
      {error.value && <p class="status error" role="alert">{error.value}</p>}
    </form>
  );
}

export function AlertsPage() {
  useEffect(() => {
    unseen.value = 0;
    mapPoints.value = [];
    mapTrack.value = [];
    mapSites.value = [];
  }, []);
  unseen.value = 0;
  return (
    <div class="page alerts-page">
      <h1>Live alerts</h1>
      <p class="stream-state">Stream: {streamState.value}</p>
      <div role="log" aria-label="Alerts" aria-live="polite">
      <ol class="alerts">
        {alerts.value.length === 0 && <li class="empty">No alerts yet. New hot-list matches appear here within a second.</li>}
        {alerts.value.map((a) => (
          <li key={a.id} class={a.fresh ? 'alert fresh' : 'alert'} data-alert-id={a.id}>
            <div class="alert-head">
              <strong class="plate">{a.read.plate}</strong>
              <span> on hot list <em>{a.hotlist}</em> (entry {a.entry}{a.distance > 0 ? `, ${a.distance} edit${a.distance > 1 ? 's' : ''}` : ''})</span>
            </div>
            <div>{a.note && <span class="note">{a.note} · </span>}{formatTime(a.read.ts)} at {a.read.camera} ({a.read.tenant})</div>
            <div class="buttons">
              <button type="button" onClick={() => (mapFocus.value = { lat: a.read.lat, lon: a.read.lon, label: a.read.plate })}>Show on map<span class="sr-only"> {a.read.plate}</span></button>
              <button type="button" onClick={() => go('vehicle', a.read.plate)}>Open vehicle<span class="sr-only"> {a.read.plate}</span></button>
            </div>
            {a.ack ? <p class="acked">Acknowledged: {a.ack.outcome}{a.ack.note ? ` — ${a.ack.note}` : ''} ({a.ack.user})</p> : <AckForm alert={a} />}
          </li>
        ))}
      </ol>
      </div>
    </div>
  );
}
