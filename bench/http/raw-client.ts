/**
 * A load generator's HTTP/1.1 client for the search phases, on bare sockets: one keep-alive connection per
 * closed-loop client, each request written as one string (the head undici writes — host, connection:
 * keep-alive, authorization, content-type, content-length — and the JSON body), each answer read by its
 * content-length and kept as bytes; `tookMs` is found in the answer's last bytes, nothing else is decoded.
 *
 * Why: on the 2-core box the client shares the cores with the server, and undici's request path (its
 * dispatcher, the body's stream and the answer's text) cost 0.15–0.73 ms of the client's CPU per exact-plate
 * request at 8 clients, a quarter to a third of the machine, taken from the server being measured; this one
 * costs about half that (bench/RESULTS.md, "Issue 12: exact plate at 8 clients, where every core-second goes"). What the server receives and answers is the same; `--client undici` keeps the old way.
 *
 * Only what a search answer needs: no chunked answers (an NDJSON stream), no pipelining; a `connection:
 * close` answer closes the socket and the next request opens a new one.
 */
import { connect, type Socket } from 'node:net';
import type { Outcome } from './closed-loop.js';

const kHeadEnd = Buffer.from('\r\n\r\n');
const kTookMs = Buffer.from('"tookMs":');
// an answer's number fields sit at its end (bench/http/closed-loop.ts numberField): look only there
const kTailBytes = 4096;

interface Waiter {
  resolve(r: { status: number; body: Buffer }): void;
  reject(e: Error): void;
}

/** One keep-alive connection, one request at a time. */
export class RawConnection {
  private socket: Socket | undefined;
  /** The head read so far. */
  private buf: Buffer = Buffer.alloc(0);
  private waiter: Waiter | undefined;
  /** Of the answer being read: its status, its body's length and the pieces of it read so far. */
  private status = 0;
  private inBody = false;
  private bodyLength = 0;
  private pieces: Buffer[] = [];
  private have = 0;
  private closeAfter = false;

  constructor(private readonly host: string, private readonly port: number) {}

  request(head: string, body: string): Promise<{ status: number; body: Buffer }> {
    if (this.waiter) return Promise.reject(new Error('raw client: one request at a time'));
    const socket = (this.socket ??= this.open());
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
      socket.write(head + body, 'utf8');
    });
  }

  close(): void {
    this.socket?.destroy();
    this.socket = undefined;
  }

  private open(): Socket {
    const s = connect({ host: this.host, port: this.port, noDelay: true });
    s.on('data', (chunk: Buffer) => this.onData(chunk));
    const fail = (err?: Error) => {
      if (this.socket !== s) return; // an earlier connection, closed by us
      this.socket = undefined;
      const w = this.waiter;
      this.waiter = undefined;
      this.buf = Buffer.alloc(0);
      this.pieces = [];
      this.have = 0;
      this.inBody = false;
      w?.reject(err ?? new Error('raw client: connection closed before the answer'));
    };
    s.on('error', fail);
    s.on('close', () => fail());
    return s;
  }

  private onData(chunk: Buffer): void {
    if (!this.inBody) {
      // the head (small): joined until its blank line is in
      this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
      const end = this.buf.indexOf(kHeadEnd);
      if (end < 0) return;
      const head = this.buf.toString('latin1', 0, end);
      this.status = Number(head.slice(9, 12));
      const length = /\r\ncontent-length:[ \t]*(\d+)/i.exec(head);
      if (!length) {
        this.socket?.destroy(new Error(`raw client: an answer without content-length (status ${this.status})`));
        return;
      }
      this.bodyLength = Number(length[1]);
      this.closeAfter = /\r\nconnection:[ \t]*close/i.test(head);
      this.inBody = true;
      chunk = this.buf.subarray(end + 4);
      this.buf = Buffer.alloc(0);
    }
    // the body's pieces are kept and joined once, when all are in (not joined piece by piece: a big answer
    // arrives in many)
    this.pieces.push(chunk);
    this.have += chunk.length;
    if (this.have < this.bodyLength) return;
    const all = this.pieces.length === 1 ? this.pieces[0]! : Buffer.concat(this.pieces, this.have);
    this.pieces = [];
    this.have = 0;
    this.inBody = false;
    const body = all.subarray(0, this.bodyLength);
    if (all.length > this.bodyLength) this.buf = Buffer.from(all.subarray(this.bodyLength));
    const w = this.waiter;
    this.waiter = undefined;
    if (this.closeAfter) this.close();
    w?.resolve({ status: this.status, body });
  }
}

/** `clients` connections to `url`, each POSTing JSON with a bearer token; `tookMs` read from the answer. */
export function rawSearchClients(url: string, clients: number, token: string): {
  post(client: number, path: string, json: string): Promise<Outcome>;
  close(): void;
} {
  const u = new URL(url);
  const conns = Array.from({ length: clients }, () => new RawConnection(u.hostname, Number(u.port)));
  const fixed = `host: ${u.host}\r\nconnection: keep-alive\r\nauthorization: Bearer ${token}\r\ncontent-type: application/json\r\ncontent-length: `;
  return {
    async post(client, path, json) {
      const head = `POST ${path} HTTP/1.1\r\n${fixed}${Buffer.byteLength(json, 'utf8')}\r\n\r\n`;
      const r = await conns[client]!.request(head, json);
      return { status: r.status, tookMs: tookMsOf(r.body) };
    },
    close() {
      for (const c of conns) c.close();
    },
  };
}

/** The top-level `"tookMs":<number>` of a JSON answer, from its last bytes. */
export function tookMsOf(body: Buffer): number | undefined {
  const from = Math.max(0, body.length - kTailBytes);
  const at = body.lastIndexOf(kTookMs);
  if (at < from) return undefined;
  let end = at + kTookMs.length;
  while (end < body.length && '0123456789.eE+-'.includes(String.fromCharCode(body[end]!))) end++;
  const n = Number(body.toString('latin1', at + kTookMs.length, end));
  return end > at + kTookMs.length && Number.isFinite(n) ? n : undefined;
}
