/**
 * Server-Sent Events over fetch. EventSource cannot send an Authorization header (and a token in the URL
 * would land in logs), so the stream is read with fetch and parsed here (the WHATWG event-stream format:
 * `id:`, `event:`, `data:` lines, a blank line ends an event, `:` lines are comments). On any end or error it
 * reconnects after a back-off, sending `Last-Event-ID` so the server replays what was missed.
 */
export interface SseEvent {
  id: string | undefined;
  event: string;
  data: string;
}

export interface SseOptions {
  url: string;
  headers: () => Record<string, string>;
  /** The id to resume after (the last event seen), if any. */
  lastEventId: () => string | undefined;
  onEvent(e: SseEvent): void;
  onState(state: 'connecting' | 'open' | 'closed', detail?: string): void;
  signal: AbortSignal;
}

// back-off between reconnects: quick first retry (a server restart), capped so a dispatcher is not left long
const kRetryMs = [500, 1000, 2000, 5000, 10000];

export async function followEvents(o: SseOptions): Promise<void> {
  let attempt = 0;
  while (!o.signal.aborted) {
    o.onState('connecting');
    try {
      const headers: Record<string, string> = { accept: 'text/event-stream', ...o.headers() };
      const last = o.lastEventId();
      if (last !== undefined) headers['last-event-id'] = last;
      const res = await fetch(o.url, { headers, signal: o.signal, cache: 'no-store' });
      if (!res.ok || !res.body) {
        o.onState('closed', `HTTP ${res.status}`);
        if (res.status === 401 || res.status === 403) return; // retrying cannot help
      } else {
        attempt = 0;
        o.onState('open');
        await readEvents(res.body, o.onEvent);
        o.onState('closed', 'stream ended');
      }
    } catch (err) {
      if (o.signal.aborted) return;
      o.onState('closed', String((err as Error).message ?? err));
    }
    const wait = kRetryMs[Math.min(attempt++, kRetryMs.length - 1)]!;
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, wait);
      o.signal.addEventListener('abort', () => {
        clearTimeout(t);
        resolve();
      }, { once: true });
    });
  }
}

/** Parses an event stream body into events until it ends. */
export async function readEvents(body: ReadableStream<Uint8Array>, onEvent: (e: SseEvent) => void): Promise<void> {
  const reader = body.pipeThrough(new TextDecoderStream() as unknown as ReadableWritablePair<string, Uint8Array>).getReader();
  let buf = '';
  let id: string | undefined;
  let event = '';
  let data: string[] = [];
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buf += value;
    let nl: number;
    while ((nl = buf.search(/\r\n|\r|\n/)) >= 0) {
      // a CR at the end of what arrived may be the first half of a CRLF cut between two chunks: wait
      if (buf[nl] === '\r' && nl === buf.length - 1) break;
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + (buf[nl] === '\r' && buf[nl + 1] === '\n' ? 2 : 1));
      if (line === '') {
        if (data.length > 0) onEvent({ id, event: event || 'message', data: data.join('\n') });
        event = '';
        data = [];
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      let v = colon < 0 ? '' : line.slice(colon + 1);
      if (v.startsWith(' ')) v = v.slice(1);
      if (field === 'id') id = v;
      else if (field === 'event') event = v;
      else if (field === 'data') data.push(v);
    }
  }
}
