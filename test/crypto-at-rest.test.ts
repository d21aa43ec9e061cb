/**
 * Encryption at rest, end to end with real processes and real files (API.md "Encryption at rest"): after
 * ingest, hot lists, alerts, searches, legal holds, approvals, alert acks and an export through a running
 * server (and plaintext stores of the version before, sealed at open), and after sealing, no file
 * under the data dir holds any of the distinctive strings that went in; the server answers them opened.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { crc32 } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { call, spawnServer, type ChildServer } from './helpers/server.js';
import { runCli } from './helpers/crash-loop.js';
import { cliToken, filesUnder, scanForStrings } from './helpers/crypto.js';
import { SseClient } from './helpers/sse.js';

const kPlate = 'QZX4711';
const kFuzzy = 'QZX4712';
const kCamera = 'cam-quokka-bridge';
const kMake = 'MAKEWOMBAT';
const kColor = 'COLORNARWHAL';
const kRegion = 'RGNAXOLOTL';
const kNote = 'note-pangolin';
const kPurpose = 'purpose-okapi';
const kCase = 'case-2026-kakapo';
const kHotEntry = 'HOTQV88';
// legal holds, approvals and alert acks (stores of their own, sealed apart from the reads)
const kHoldPlate = 'HLDQ5150';
const kHoldCase = 'case-hold-tuatara';
const kHoldReason = 'reason-hold-quoll';
const kApprPlate = 'APRZ9090';
const kApprPurpose = 'purpose-approval-dugong';
const kApprCase = 'case-approval-numbat';
const kApprReason = 'reason-approval-bilby';
const kDecideNote = 'note-decision-takahe';
const kAckNote = 'ack-note-saw-QZX4711-kiwi';
// written in clear by the version before encryption at rest, sealed at open
const kOldHoldPlate = 'OLDH4242';
const kOldHoldCase = 'case-old-hold-wallaby';
const kOldApprPurpose = 'purpose-old-approval-potoroo';
const kOldAckNote = 'ack-note-old-echidna';

/** The plaintext stores of the version before encryption at rest (holds v1, approvals.json v1, acks v1). */
async function writeLegacyStores(dataDir: string, now: number): Promise<void> {
  await mkdir(join(dataDir, 'control', 'holds'), { recursive: true });
  await writeFile(join(dataDir, 'control', 'holds', 'pd-a.json'), JSON.stringify({
    format: 'platesearch-holds', version: 1, tenant: 'pd-a',
    holds: [{ id: 'old-hold', case: kOldHoldCase, reason: 'r', plates: [kOldHoldPlate], createdBy: 'boss', created: now, updated: now, updatedBy: 'boss' }],
  }) + '\n');
  await mkdir(join(dataDir, 'governance'), { recursive: true });
  await writeFile(join(dataDir, 'governance', 'approvals.json'), JSON.stringify({
    version: 1,
    approvals: [{
      id: 'apr_old', tenant: 'pd-a', requester: 'boss', route: '/v1/search', requestSha256: '0'.repeat(64),
      request: { purpose: kOldApprPurpose, case: kOldHoldCase, from: 0 }, reason: 'r', state: 'pending', created: now, expires: now + 3_600_000,
    }],
  }) + '\n');
  const payload = Buffer.from(JSON.stringify({ id: 999_999, outcome: 'confirmed', note: kOldAckNote, user: 'boss', ts: now }), 'utf8');
  const head = Buffer.alloc(16);
  head.write('PSAK', 0, 'latin1');
  head.writeUInt32LE(1, 4);
  head.writeUInt32LE(payload.length, 8);
  head.writeUInt32LE(crc32(payload), 12);
  await mkdir(join(dataDir, 'alerts'), { recursive: true });
  await writeFile(join(dataDir, 'alerts', 'pd-a.acks'), Buffer.concat([head, payload]));
}

let server: ChildServer | undefined;
const dirs: string[] = [];

afterEach(async () => {
  server?.kill('SIGKILL');
  server = undefined;
  for (const d of dirs.splice(0)) {
    await rm(d, { recursive: true, force: true });
    await rm(`${d}.keys`, { recursive: true, force: true });
  }
});

describe('no plate, camera, make, color, region, hot-list entry, search parameter, purpose, case, hold, approval or ack note on disk in clear', () => {
  it('after ingest, hot lists, alerts, searches and export through a server (sealed and live data alike)', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'ps-crypto-'));
    dirs.push(dataDir);
    const admin = await cliToken(dataDir, 'pd-a', 'boss', ['admin', 'dispatcher', 'investigator', 'ingest', 'auditor']);
    const sup = await cliToken(dataDir, 'pd-a', 'sup', ['supervisor']);
    const now = Date.now();
    await writeLegacyStores(dataDir, now);
    server = await spawnServer(dataDir, ['--seal-rows', '3', '--seal-age-ms', '200']);
    const read = (i: number, plate: string) => ({
      plate, ts: new Date(now - 3_600_000 + i * 1000).toISOString(), lat: 37.77, lon: -122.41,
      camera: kCamera, make: kMake, color: kColor, region: kRegion, confidence: 0.9,
    });
    // a hot list first, so the ingest raises alerts
    expect((await call(server.url, 'PUT', '/v1/hotlists/watch', { token: admin, json: { entries: [{ plate: kHotEntry, note: kNote }, { plate: kPlate, note: kNote }], match: 'exact' } })).status).toBe(200);
    const sse = await SseClient.open(server.url, admin);
    const ing = await call(server.url, 'POST', '/v1/reads', { token: admin, json: [read(1, kPlate), read(2, kPlate), read(3, kFuzzy), read(4, kHotEntry), read(5, 'ABC123')] });
    expect(ing.json.accepted).toBe(5);
    await sse.waitFor(3, 10_000);
    expect(sse.alerts().map((a: { entry: string }) => a.entry).sort()).toEqual([kHotEntry, kPlate, kPlate].sort());
    const search = await call(server.url, 'POST', '/v1/search', { token: admin, json: { plate: kPlate, purpose: kPurpose, case: kCase } });
    expect(search.json.total).toBe(2);
    expect(search.json.hits[0]).toMatchObject({ plate: kPlate, camera: kCamera, region: kRegion });
    const fuzzy = await call(server.url, 'POST', '/v1/search', { token: admin, json: { plate: kFuzzy, match: 'fuzzy', maxEdits: 1, cameras: [kCamera], purpose: kPurpose, case: kCase } });
    expect(fuzzy.json.total).toBe(3);
    const hl = await call(server.url, 'POST', '/v1/search/hotlist', { token: admin, json: { plates: [kHotEntry], purpose: kPurpose, case: kCase } });
    expect(hl.json.matches[0].total).toBe(1);
    // a legal hold, an approval request and its decision, an ack with a note: each names plates or cases
    const hold = await call(server.url, 'PUT', '/v1/holds/crypto-hold', { token: admin, json: { case: kHoldCase, reason: kHoldReason, plates: [kHoldPlate] } });
    expect(hold.status).toBe(200);
    const asked = await call(server.url, 'POST', '/v1/approvals', {
      token: admin, json: { request: { plates: [kApprPlate], purpose: kApprPurpose, case: kApprCase, from: now - 86_400_000 }, route: '/v1/search', reason: kApprReason },
    });
    expect(asked.status).toBe(200);
    expect((await call(server.url, 'PUT', `/v1/approvals/${asked.json.id}`, { token: sup, json: { decision: 'approved', note: kDecideNote } })).status).toBe(200);
    const alertId = (sse.alerts() as Array<{ id: number; entry: string }>).find((a) => a.entry === kPlate)!.id;
    const ack = await call(server.url, 'POST', `/v1/alerts/${alertId}/ack`, { token: admin, json: { outcome: 'confirmed', note: kAckNote } });
    expect(ack.status).toBe(200);
    // the plaintext stores of the version before were read (and sealed at open)
    const holds = await call(server.url, 'GET', '/v1/holds', { token: admin });
    expect(holds.json.holds.map((h: { id: string; case: string }) => [h.id, h.case])).toEqual([['crypto-hold', kHoldCase], ['old-hold', kOldHoldCase]]);
    const approvals = await call(server.url, 'GET', '/v1/approvals', { token: sup });
    expect(approvals.json.approvals.map((a: { id: string }) => a.id).sort()).toEqual([asked.json.id, 'apr_old'].sort());
    expect(existsSync(join(dataDir, 'governance', 'approvals.json'))).toBe(false);
    sse.close();
    const exp = await call(server.url, 'GET', '/v1/export?format=ndjson', { token: admin });
    expect(exp.text).toContain(kPlate);
    // sealing by size and age has run: shards exist
    await new Promise((r) => setTimeout(r, 2500));
    const shards = (await filesUnder(join(dataDir, 'tenants'))).filter((f) => f.endsWith('.shard'));
    expect(shards.length).toBeGreaterThan(0);
    // the audit log answers opened fields
    const audit = await call(server.url, 'GET', '/v1/audit?action=search', { token: admin });
    expect(audit.json.records.at(-1)).toMatchObject({ purpose: kPurpose, case: kCase });
    expect(audit.json.records.some((r: { params: { plate?: string } }) => r.params.plate === kFuzzy)).toBe(true);

    const needles = [
      kPlate, kFuzzy, kCamera, kMake, kColor, kRegion, kNote, kPurpose, kCase, kHotEntry, 'ABC123',
      kHoldPlate, kHoldCase, kHoldReason, kApprPlate, kApprPurpose, kApprCase, kApprReason, kDecideNote, kAckNote,
      kOldHoldPlate, kOldHoldCase, kOldApprPurpose, kOldAckNote,
    ];
    expect(await scanForStrings(dataDir, needles)).toEqual([]);
    server.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    server = undefined;
    // after a clean shutdown too (flushes, marks, keyrings)
    expect(await scanForStrings(dataDir, needles)).toEqual([]);
    // the key store is beside the data dir, 0600 files in a 0700 directory, and the chain verifies without it
    expect(existsSync(`${dataDir}.keys`)).toBe(true);
    expect(((await stat(`${dataDir}.keys`)).mode & 0o777).toString(8)).toBe('700');
    for (const f of await filesUnder(`${dataDir}.keys`)) expect(((await stat(f)).mode & 0o777).toString(8)).toBe('600');
    await rm(`${dataDir}.keys`, { recursive: true, force: true });
    const verify = await runCli(['audit', 'verify', '--data-dir', dataDir]);
    expect(verify.code).toBe(0);
    expect(verify.stdout).toMatch(/^pd-a ok count=\d+/m);
  }, 90_000);
});
