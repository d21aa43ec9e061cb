/**
 * A minimal Server-Sent Events client over undici for the alert tests: collects events (`id`, `event`,
 * `data`) and comment lines (heartbeats), and waits for a number of events with a deadline.
 */
import { request } from 'undici';

export interface SseEvent {
  id?: string;
  event?: string;
  data: string;
  /** performance.now() when the event's blank line arrived. */
  at: number;
}

export class SseClient {
  readonly events: SseEvent[] = [];
  readonly comments: string[] = [];
  status = 0;
  headers: Record<string, string | string[] | undefined> = {};
  ended = false;
  private readonly abort = new AbortController();
  private waiters: Array<() => void> = [];
  private done!: Promise<void>;

  static async open(url: string, token: string, lastEventId?: number | string): Promise<SseClient> {
    const c = new SseClient();
    const headers: Record<string, string> = { authorization: `Bearer ${token}`, accept: 'text/event-stream' };
    if (lastEventId !== undefined) headers['last-event-id'] = String(lastEventId);
    const res = await request(url + '/v1/alerts', { method: 'GET', headers, signal: c.abort.signal });
    c.status = res.statusCode;
    c.headers = res.headers;
    c.done = c.consume(res.body);
    return c;
  }

  /** Parsed `data` of every `alert` event so far. */
  alerts<T = any>(): Array<T & { _id: number }> {
    return this.events.filter((e) => e.event === 'alert').map((e) => ({ ...JSON.parse(e.data), _id: Number(e.id) }));
  }

  async waitFor(count: number, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.events.length < count) {
      if (this.ended) throw new Error(`stream ended with ${this.events.length} of ${count} events`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out with ${this.events.length} of ${count} events`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Waits until the server ends the stream. */
  async waitEnd(timeoutMs = 5000): Promise<void> {
    await Promise.race([this.done, new Promise((_, rej) => setTimeout(() => rej(new Error('stream did not end')), timeoutMs))]);
  }

  close(): void {
    this.abort.abort();
  }

  private async consume(body: AsyncIterable<Buffer>): Promise<void> {
    let buf = '';
    let cur: Partial<SseEvent> & { data?: string } = {};
    try {
      for await (const chunk of body) {
        buf += chunk.toString('utf8');
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl).replace(/\r$/, '');
          buf = buf.slice(nl + 1);
          if (line === '') {
            if (cur.data !== undefined) this.events.push({ id: cur.id, event: cur.event, data: cur.data, at: performance.now() });
            cur = {};
            this.wake();
          } else if (line.startsWith(':')) {
            this.comments.push(line.slice(1).trim());
          } else {
            const i = line.indexOf(':');
            const field = i < 0 ? line : line.slice(0, i);
            const value = i < 0 ? '' : line.slice(i + 1).replace(/^ /, '');
            if (field === 'data') cur.data = cur.data === undefined ? value : cur.data + '\n' + value;
            else if (field === 'id') cur.id = value;
            else if (field === 'event') cur.event = value;
          }
        }
      }
    } catch {
      // aborted by close()
    } finally {
      this.ended = true;
      this.wake();
    }
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
}
