/**
 * A property-based HTTP fuzzer (fast-check) for a running server: every route and method, every header the
 * server reads (Authorization, Content-Type, Content-Encoding, Last-Event-ID, Accept), and body shapes from
 * plausible-but-wrong documents to random JSON, truncated JSON, NDJSON with junk lines, MessagePack and raw
 * bytes. The property, per case: an answer comes (no hang), it is not a 5xx (a query cancelled by its time
 * budget, 503 PS_QUERY_TIMEOUT, is counted apart), an error is `{"error":{"code","message"}}`, and the
 * server process is alive. Used by test/reliability-fuzz.test.ts (short) and bench/fuzz.ts (long).
 */
import fc from 'fast-check';
import { pack } from 'msgpackr';
import { request } from 'undici';

export interface FuzzTarget {
  url: string;
  /** Tokens by role name (plus 'all'), all of tenant pd-a; 'other' is pd-b's admin. */
  tokens: Record<string, string>;
  /** Is the server process still there? */
  alive(): boolean;
}

export interface FuzzStats {
  cases: number;
  /** Cases the client could not even send (an invalid path or header for undici): not counted in `cases`. */
  unsendable: number;
  byStatus: Record<string, number>;
  fiveXx: number;
  budgetCancelled: number;
  hangs: number;
  badErrorBodies: number;
  failures: string[];
  /** `X-Request-Id` of every answered case (the audit record's `requestId`), when asked for. */
  requestIds?: Array<{ requestId: string; status: number; method: string; path: string }>;
}

const kRoutes = [
  '/v1/search/preview', '/v1/policy', '/v1/approvals', '/v1/audit/insights', '/v1/transparency',
  '/v1/reads', '/v1/search', '/v1/search/hotlist', '/v1/hotlists', '/v1/hotlists/wanted', '/v1/audit', '/v1/audit/verify',
  '/v1/export', '/v1/retention', '/v1/sharing', '/v1/sharing/pd-b', '/v1/sharing/pd-a', '/v1/alerts', '/healthz', '/metrics',
  '/v1/openapi.yaml', '/v1', '/', '/v1/reads/', '/V1/SEARCH', '/v1//search', '/v1/search?x', '/v2/search',
];

const kContentTypes = [
  'application/json', 'application/json; charset=utf-8', 'application/x-ndjson', 'application/msgpack', 'application/vnd.msgpack',
  'application/problem+json', 'text/csv', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', '',
  'application/json; charset=latin1', 'APPLICATION/JSON', 'application/json;;;', 'application/', ';', 'application/x-ndjson; q=0.5',
];

const junkString = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.constantFrom('', ' ', '\u0000', '../../etc/passwd', '%2e%2e%2f', 'ß', 'ı', '\uD800', '🚓', 'A'.repeat(10_000), '__proto__', 'constructor', 'NaN', '1e309', '-0'),
);
const junkNumber = fc.oneof(fc.integer(), fc.double(), fc.constantFrom(0, -1, 1, 2, 3, 10_000, 10_001, 2 ** 53, -(2 ** 53), 1e308, -1e-320, 0.5));
const junkValue: fc.Arbitrary<unknown> = fc.oneof(junkString, junkNumber, fc.boolean(), fc.constant(null), fc.constant([]), fc.constant({}));

const platePattern = fc.oneof(
  fc.stringMatching(/^[A-Z0-9?*]{0,14}$/),
  fc.stringMatching(/^[a-z0-9 \-.]{0,12}$/),
  fc.constantFrom('*', '?', '**********', '*?*?*?*?*?*?*?*?*?*?*', 'T00001?', 'T*', '7ABC123', 'WNT0001', '0ODQ1IL2Z5S', `T${'*'.repeat(60_000)}1`),
  junkString,
);
const isoish = fc.oneof(
  fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
  fc.integer({ min: -8.64e15, max: 8.64e15 }),
  fc.constantFrom('2026-11-01', '2026-11-01T00:00:00', '2026-13-45T99:99:99Z', 'yesterday', '1700000000000'),
  junkValue,
);
const coord = fc.oneof(fc.double({ min: -200, max: 200, noNaN: true }), junkValue);
const maybe = <T>(a: fc.Arbitrary<T>): fc.Arbitrary<T | unknown> => fc.oneof({ weight: 4, arbitrary: a }, { weight: 1, arbitrary: junkValue });

const searchBody = fc.record({
  plate: platePattern, match: maybe(fc.constantFrom('exact', 'wildcard', 'fuzzy')), maxEdits: maybe(fc.integer({ min: -1, max: 3 })),
  ocr: maybe(fc.boolean()), transpositions: maybe(fc.boolean()), from: isoish, to: isoish,
  bbox: maybe(fc.array(coord, { maxLength: 6 })),
  near: maybe(fc.record({ lat: coord, lon: coord, radiusM: maybe(fc.double({ min: -10, max: 1e8, noNaN: true })) }, { requiredKeys: [] })),
  polygon: maybe(fc.array(fc.oneof(fc.tuple(coord, coord), junkValue), { maxLength: 40 })),
  cameras: maybe(fc.array(junkString, { maxLength: 5 })), regions: maybe(fc.array(junkString, { maxLength: 5 })),
  limit: maybe(fc.integer({ min: -2, max: 10_010 })), purpose: maybe(fc.constantFrom('investigation', 'fuzz')), case: maybe(fc.constantFrom('c-1', 'x')),
  plates: maybe(fc.array(platePattern, { maxLength: 30 })), limitPerPlate: maybe(fc.integer({ min: -1, max: 20_000 })),
  unknownField: junkValue,
}, { requiredKeys: [] });

const readItem = fc.oneof(
  { weight: 5, arbitrary: fc.record({
    plate: platePattern, ts: isoish, lat: coord, lon: coord, camera: maybe(fc.string({ minLength: 1, maxLength: 70 })),
    region: maybe(fc.string({ maxLength: 5 })), confidence: maybe(fc.double({ min: -1, max: 2, noNaN: true })), make: maybe(fc.string()),
    color: maybe(fc.string()), readId: maybe(fc.string({ minLength: 0, maxLength: 70 })), tenant: maybe(fc.constantFrom('pd-b', 'pd-a')),
  }, { requiredKeys: [] }) },
  { weight: 1, arbitrary: junkValue },
);
const readsBody = fc.array(readItem, { maxLength: 25 });

const hotlistBody = fc.record({
  entries: maybe(fc.array(fc.oneof(
    fc.record({ plate: platePattern, note: maybe(fc.string({ maxLength: 30 })), priority: junkValue, expires: isoish }, { requiredKeys: [] }),
    junkValue,
  ), { maxLength: 30 })),
  match: maybe(fc.constantFrom('exact', 'fuzzy', 'wildcard')), maxEdits: maybe(fc.integer({ min: -1, max: 3 })), ocr: maybe(fc.boolean()),
  transpositions: maybe(fc.boolean()), lookbackDays: maybe(fc.double({ min: -1, max: 5000, noNaN: true })), purpose: junkValue, case: junkValue,
}, { requiredKeys: [] });

const policyBody = fc.record({
  broad: maybe(fc.record({ maxAreaKm2: maybe(fc.double({ min: -1, max: 1e9, noNaN: true })), maxDays: maybe(fc.double({ min: -1, max: 1e5, noNaN: true })), requireApproval: maybe(fc.boolean()) }, { requiredKeys: [] })),
  timezone: maybe(fc.constantFrom('UTC', 'America/Chicago', 'Asia/Kolkata', 'Mars/Base', '', 'utc')),
  transparency: maybe(fc.boolean()),
}, { requiredKeys: [] });
const approvalBody = fc.record({
  request: maybe(searchBody), route: maybe(fc.constantFrom('/v1/search', '/v1/search/hotlist', '/v1/analytics/convoy', '/v1/export', '')), reason: junkValue,
}, { requiredKeys: [] });

const smallDocs = fc.oneof(
  fc.record({ expires: isoish }, { requiredKeys: [] }),
  fc.record({ retentionSeconds: fc.oneof(fc.integer({ min: -10, max: 400_000_000 }), junkValue) }, { requiredKeys: [] }),
);

const document: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: searchBody }, { weight: 3, arbitrary: readsBody }, { weight: 2, arbitrary: hotlistBody },
  { weight: 1, arbitrary: smallDocs }, { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 4 }) },
  { weight: 1, arbitrary: fc.constant(Array.from({ length: 200 }, () => ({ a: [[[[[[[[[[[]]]]]]]]]]] }))) },
);

/** encodeURIComponent, but a lone surrogate becomes U+FFFD instead of throwing. */
function enc(s: string): string {
  return encodeURIComponent(s.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD'));
}

/** How the document goes on the wire. */
const encoding = fc.constantFrom('json', 'json', 'json', 'json', 'json', 'json', 'ndjson', 'msgpack', 'msgpack', 'truncated', 'bytes', 'none', 'deep');

function encode(doc: unknown, how: string, cut: number, bytes: Uint8Array): Uint8Array | string | undefined {
  switch (how) {
    case 'json':
      return JSON.stringify(doc) ?? 'null';
    case 'ndjson':
      return Array.isArray(doc) ? doc.map((d, i) => (i % 7 === 3 ? '{"broken' : JSON.stringify(d) ?? '')).join('\n') + '\n\n' : `${JSON.stringify(doc)}\n`;
    case 'msgpack':
      try {
        return pack(doc);
      } catch {
        return bytes;
      }
    case 'truncated': {
      const s = JSON.stringify(doc) ?? '';
      return s.slice(0, Math.floor(s.length * cut));
    }
    case 'bytes':
      return bytes;
    case 'deep':
      return '['.repeat(5000 + Math.floor(cut * 100_000)) + ']'.repeat(10);
    default:
      return undefined;
  }
}

/** The routes as served (method, path, the body shape they take). */
const kEndpoints: Array<{ method: string; path: string; doc: fc.Arbitrary<unknown>; auth: string }> = [
  { method: 'POST', path: '/v1/reads', doc: readsBody, auth: 'ingest' },
  { method: 'POST', path: '/v1/search', doc: searchBody, auth: 'investigator' },
  { method: 'POST', path: '/v1/search/hotlist', doc: searchBody, auth: 'investigator' },
  { method: 'PUT', path: '/v1/hotlists/wanted2', doc: hotlistBody, auth: 'dispatcher' },
  { method: 'GET', path: '/v1/hotlists/wanted', doc: fc.constant(undefined), auth: 'dispatcher' },
  { method: 'DELETE', path: '/v1/hotlists/wanted2', doc: fc.constant(undefined), auth: 'dispatcher' },
  { method: 'GET', path: '/v1/hotlists', doc: fc.constant(undefined), auth: 'dispatcher' },
  { method: 'GET', path: '/v1/alerts', doc: fc.constant(undefined), auth: 'dispatcher' },
  { method: 'GET', path: '/v1/audit', doc: fc.constant(undefined), auth: 'auditor' },
  { method: 'GET', path: '/v1/audit/verify', doc: fc.constant(undefined), auth: 'auditor' },
  { method: 'GET', path: '/v1/export', doc: fc.constant(undefined), auth: 'admin' },
  { method: 'GET', path: '/v1/retention', doc: fc.constant(undefined), auth: 'admin' },
  { method: 'PUT', path: '/v1/retention', doc: smallDocs, auth: 'admin' },
  { method: 'GET', path: '/v1/sharing', doc: fc.constant(undefined), auth: 'admin' },
  { method: 'PUT', path: '/v1/sharing/pd-b', doc: smallDocs, auth: 'admin' },
  { method: 'DELETE', path: '/v1/sharing/pd-b', doc: fc.constant(undefined), auth: 'admin' },
  // v1.1 accountability
  { method: 'POST', path: '/v1/search/preview', doc: searchBody, auth: 'investigator' },
  { method: 'GET', path: '/v1/policy', doc: fc.constant(undefined), auth: 'auditor' },
  { method: 'PUT', path: '/v1/policy', doc: policyBody, auth: 'admin' },
  { method: 'POST', path: '/v1/approvals', doc: approvalBody, auth: 'investigator' },
  { method: 'PUT', path: '/v1/approvals/apr_x', doc: fc.record({ decision: maybe(fc.constantFrom('approved', 'denied')), note: junkValue }, { requiredKeys: [] }), auth: 'supervisor' },
  { method: 'GET', path: '/v1/approvals', doc: fc.constant(undefined), auth: 'supervisor' },
  { method: 'GET', path: '/v1/audit/insights', doc: fc.constant(undefined), auth: 'auditor' },
  { method: 'GET', path: '/v1/transparency?tenant=pd-a', doc: fc.constant(undefined), auth: 'none' },
  { method: 'GET', path: '/healthz', doc: fc.constant(undefined), auth: 'none' },
  { method: 'GET', path: '/metrics', doc: fc.constant(undefined), auth: 'none' },
  { method: 'GET', path: '/v1/openapi.yaml', doc: fc.constant(undefined), auth: 'none' },
];

/** Header values: printable, so that the client can send them (the server's parser sees the rest as bytes). */
const headerJunk = fc.oneof(fc.stringMatching(/^[\x20-\x7e]{0,60}$/), fc.constantFrom('', ' ', 'A'.repeat(8000), 'null', '0', '-1', '1e3'));

const endpointCase = fc.constantFrom(...kEndpoints).chain((e) => fc.record({
  method: fc.oneof({ weight: 9, arbitrary: fc.constant(e.method) }, { weight: 1, arbitrary: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS') }),
  path: fc.constant(e.path),
  auth: fc.oneof({ weight: 8, arbitrary: fc.constant(e.auth === 'none' ? 'all' : e.auth) }, { weight: 1, arbitrary: fc.constant('all') }),
  doc: fc.oneof({ weight: 8, arbitrary: e.doc }, { weight: 2, arbitrary: document }),
}));

const anyCase = fc.record({
  method: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS'),
  path: fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...kRoutes) },
    { weight: 1, arbitrary: junkString.map((s) => `/v1/hotlists/${enc(s)}`) },
    { weight: 1, arbitrary: junkString.map((s) => `/v1/sharing/${enc(s)}`) },
    { weight: 1, arbitrary: fc.webPath() },
    { weight: 1, arbitrary: fc.constantFrom('/v1/hotlists/%E0%A4%A', '/v1/sharing/%', '/v1/hotlists/%00', '/v1/hotlists/..%2F..%2Fcontrol', '/v1/hotlists/a%2Fb', '/v1/%2e%2e/healthz', '/v1/hotlists/' + 'x'.repeat(5000)) },
  ),
  auth: fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom('ingest', 'investigator', 'dispatcher', 'auditor', 'admin', 'all', 'all', 'other') },
    { weight: 4, arbitrary: fc.constantFrom('none', 'garbage', 'basic', 'empty-bearer', 'forged', 'lowercase') },
  ),
  doc: document,
});

export const fuzzCase = fc.tuple(
  fc.oneof({ weight: 3, arbitrary: endpointCase }, { weight: 1, arbitrary: anyCase }),
  fc.record({
    query: fc.oneof(
      { weight: 3, arbitrary: fc.constant('') },
      { weight: 2, arbitrary: fc.array(fc.tuple(
        fc.constantFrom('from', 'to', 'limit', 'after', 'user', 'action', 'format', 'lastEventId', 'x', 'format'),
        fc.oneof(junkString, fc.constantFrom('csv', 'ndjson', '0', '-1', '1000', '1001', '2026-11-01T00:00:00Z')),
      ), { maxLength: 4 }).map((kv) => `?${kv.map(([k, v]) => `${k}=${enc(v)}`).join('&')}`) },
    ),
    contentType: fc.oneof({ weight: 12, arbitrary: fc.constantFrom(...kContentTypes.slice(0, 2)) }, { weight: 6, arbitrary: fc.constantFrom(...kContentTypes) }, { weight: 1, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: headerJunk }),
    contentEncoding: fc.option(fc.constantFrom('gzip', 'deflate', 'br', 'identity', 'x-unknown'), { freq: 15 }),
    lastEventId: fc.option(fc.oneof(headerJunk, fc.constantFrom('0', '1', '99999999999999999999', '-1')), { freq: 4 }),
    how: encoding,
    cut: fc.double({ min: 0, max: 1, noNaN: true }),
    bytes: fc.uint8Array({ maxLength: 300 }),
  }),
).map(([a, b]) => ({ ...a, ...b }));

export type FuzzCase = typeof fuzzCase extends fc.Arbitrary<infer T> ? T : never;

function authHeader(c: FuzzCase, tokens: Record<string, string>): string | undefined {
  switch (c.auth) {
    case 'none': return undefined;
    case 'garbage': return 'Bearer \u00ff\u00fe garbage';
    case 'basic': return 'Basic cGQtYTphZG1pbg==';
    case 'empty-bearer': return 'Bearer ';
    case 'forged': return `Bearer ps_${'0'.repeat(16)}_${'A'.repeat(43)}`;
    case 'lowercase': return `bearer ${tokens.all}`;
    default: return `Bearer ${tokens[c.auth]}`;
  }
}

/** Sends one case; returns a failure message, or undefined when the property holds. */
export async function sendCase(t: FuzzTarget, c: FuzzCase, stats: FuzzStats, timeoutMs = 15_000): Promise<string | undefined> {
  const headers: Record<string, string> = {};
  const auth = authHeader(c, t.tokens);
  if (auth !== undefined) headers.authorization = auth;
  if (c.contentType !== undefined) headers['content-type'] = c.contentType;
  if (c.contentEncoding) headers['content-encoding'] = c.contentEncoding;
  if (c.lastEventId !== null) headers['last-event-id'] = c.lastEventId;
  headers.accept = c.path === '/v1/alerts' ? 'text/event-stream' : 'application/json';
  const body = c.method === 'GET' || c.method === 'HEAD' ? undefined : encode(c.doc, c.how, c.cut, c.bytes);
  const ac = new AbortController();
  let hung = false;
  const timer = setTimeout(() => {
    hung = true;
    ac.abort();
  }, timeoutMs);
  let res;
  try {
    res = await request(t.url + c.path + c.query, { method: c.method as 'GET', headers, body, signal: ac.signal });
  } catch (err) {
    clearTimeout(timer);
    if (hung) {
      stats.hangs++;
      return `no answer within ${timeoutMs} ms: ${c.method} ${c.path}`;
    }
    if (!t.alive()) return `server died on ${c.method} ${c.path}: ${String(err)}`;
    const code = (err as { code?: string }).code ?? '';
    // undici refuses some requests itself (invalid header value or path): never reached the server
    if (/INVALID_ARG|UND_ERR_INVALID_ARG|ERR_INVALID_CHAR|ERR_INVALID_HTTP_TOKEN/.test(code) || err instanceof TypeError) {
      stats.unsendable++;
      return undefined;
    }
    // the server closed the connection (e.g. after a 413 while the body was still being sent)
    if (/UND_ERR_SOCKET|ECONNRESET|EPIPE|UND_ERR_REQ_CONTENT_LENGTH_MISMATCH/.test(code)) {
      stats.cases++;
      stats.byStatus.reset = (stats.byStatus.reset ?? 0) + 1;
      return undefined;
    }
    return `client error ${code} on ${c.method} ${c.path}: ${String(err)}`;
  }
  stats.cases++;
  const status = res.statusCode;
  const rid = res.headers['x-request-id'];
  if (stats.requestIds && typeof rid === 'string') stats.requestIds.push({ requestId: rid, status, method: c.method, path: c.path + c.query });
  stats.byStatus[status] = (stats.byStatus[status] ?? 0) + 1;
  const type = String(res.headers['content-type'] ?? '');
  let text = '';
  try {
    if (type.startsWith('text/event-stream')) {
      res.body.on('error', () => undefined);
      res.body.destroy(); // a live stream: its head is the answer
    } else {
      text = await res.body.text();
    }
  } catch {
    // a destroyed stream
  } finally {
    clearTimeout(timer);
  }
  if (status >= 500) {
    let code = '';
    try {
      code = JSON.parse(text).error.code;
    } catch {
      // not JSON
    }
    if (status === 503 && code === 'PS_QUERY_TIMEOUT') {
      stats.budgetCancelled++;
      return undefined;
    }
    stats.fiveXx++;
    return `${status} ${code} for ${c.method} ${c.path}${c.query} (${c.contentType}, ${c.how}): ${text.slice(0, 300)}`;
  }
  if (status >= 400 && c.method !== 'HEAD') {
    let ok = false;
    try {
      const e = JSON.parse(text).error;
      ok = typeof e.code === 'string' && e.code.length > 0 && typeof e.message === 'string';
    } catch {
      ok = false;
    }
    if (!ok) {
      stats.badErrorBodies++;
      return `error ${status} without a coded JSON body for ${c.method} ${c.path}: ${text.slice(0, 200)}`;
    }
  }
  if (!t.alive()) return `server died after ${c.method} ${c.path}`;
  return undefined;
}

export function newStats(): FuzzStats {
  return { cases: 0, unsendable: 0, byStatus: {}, fiveXx: 0, budgetCancelled: 0, hangs: 0, badErrorBodies: 0, failures: [] };
}

/** Runs `numRuns` cases as a fast-check property (shrinks the first failure); resolves with the stats. */
export async function runHttpFuzz(t: FuzzTarget, numRuns: number, seed?: number): Promise<FuzzStats & { counterexample?: string }> {
  const stats = newStats();
  const out = await fc.check(
    fc.asyncProperty(fuzzCase, async (c) => {
      const failure = await sendCase(t, c, stats);
      if (failure) {
        if (stats.failures.length < 20) stats.failures.push(failure);
        throw new Error(failure);
      }
    }),
    { numRuns, seed, endOnFailure: false, maxSkipsPerRun: 1000 },
  );
  const result: FuzzStats & { counterexample?: string } = stats;
  if (out.failed) result.counterexample = `seed ${out.seed} path ${out.counterexample ? out.counterexample.length : ''} ${String(out.errorInstance ?? '')}`.slice(0, 2000);
  return result;
}
