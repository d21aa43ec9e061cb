/**
 * Live hot-list alerts of a dispatcher's session: followed from sign-in to sign-out whatever page is shown
 * (the nav counts new ones), with history from `GET /v1/alerts/recent` (v1.1) when the server has it.
 * Newest first; a new alert sounds, is highlighted, and pans the map to the read.
 */
import { signal } from '@preact/signals';
import { call, ApiError } from './api';
import { mapFocus } from './map/map-state';
import { me, token } from './session-state';
import { followEvents } from './sse';
import type { Hit } from './hit';

export interface AlertAck {
  outcome: string;
  note: string;
  user: string;
  ts: string;
}

export interface Alert {
  id: number;
  hotlist: string;
  entry: string;
  note: string;
  distance: number;
  raised?: string;
  read: Hit;
  ack?: AlertAck | null;
  /** Arrived while the console was open (highlighted). */
  fresh?: boolean;
}

// alerts kept in the panel; older ones stay in /v1/alerts/recent
const kKept = 500;

export const alerts = signal<Alert[]>([]);
export const streamState = signal<string>('not connected');
export const unseen = signal(0);
let lastId: string | undefined;
let stop: AbortController | null = null;

function beep(): void {
  try {
    const ctx = new AudioContext();
    const osc = ctx.createOscillator();
    const gain = ctx.createGain();
    osc.frequency.value = 880;
    gain.gain.value = 0.08;
    osc.connect(gain).connect(ctx.destination);
    osc.start();
    osc.stop(ctx.currentTime + 0.25);
    osc.onended = () => void ctx.close();
  } catch {
    // no audio device: the highlight and the map still show it
  }
}

function add(a: Alert): void {
  if (alerts.value.some((x) => x.id === a.id)) return;
  alerts.value = [{ ...a, fresh: true }, ...alerts.value].slice(0, kKept);
  unseen.value++;
  beep();
  mapFocus.value = { lat: a.read.lat, lon: a.read.lon, label: `Alert ${a.entry} (${a.hotlist})` };
  setTimeout(() => {
    alerts.value = alerts.value.map((x) => (x.id === a.id ? { ...x, fresh: false } : x));
  }, 15_000);
}

export async function startAlerts(): Promise<void> {
  stopAlerts();
  stop = new AbortController();
  const signal = stop.signal;
  try {
    const recent = await call<{ alerts: Alert[] }>('GET', '/v1/alerts/recent?limit=50', { signal });
    alerts.value = recent.alerts;
    if (recent.alerts.length > 0) lastId = String(recent.alerts[0]!.id);
  } catch (err) {
    if (!(err instanceof ApiError)) return;
    // a v1 server has no history route: the stream then starts with the next alert
  }
  void followEvents({
    url: '/v1/alerts',
    headers: (): Record<string, string> => (token.value ? { authorization: `Bearer ${token.value}` } : {}),
    lastEventId: () => lastId,
    signal,
    onState: (s, detail) => (streamState.value = detail ? `${s} (${detail})` : s),
    onEvent: (e) => {
      if (e.event !== 'alert') return;
      if (e.id !== undefined) lastId = e.id;
      try {
        const a = JSON.parse(e.data) as Alert;
        if (a.id === undefined && e.id !== undefined) a.id = Number(e.id);
        add(a);
      } catch {
        // a malformed event is skipped; the next one carries on
      }
    },
  });
}

export function stopAlerts(): void {
  stop?.abort();
  stop = null;
  lastId = undefined;
  alerts.value = [];
  unseen.value = 0;
  streamState.value = 'not connected';
}

export async function acknowledge(id: number, outcome: string, note: string): Promise<AlertAck> {
  await call('POST', `/v1/alerts/${id}/ack`, { body: { outcome, note } });
  const ack = { outcome, note, user: me.value?.user ?? '', ts: new Date().toISOString() };
  alerts.value = alerts.value.map((x) => (x.id === id ? { ...x, ack, fresh: false } : x));
  return ack;
}
