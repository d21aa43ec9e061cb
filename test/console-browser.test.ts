/// <reference lib="dom" />
/**
 * The web console end to end in a real browser: Debian's chromium through playwright-core
 * (test/helpers/browser.ts), against a real server on port 0 holding generated reads (`platesearch gen`,
 * ingested over HTTP). What the browser shows is compared with what the API answers for the same request;
 * the API is also asked directly that roles which do not see a function are refused it.
 *
 * The v1.1 parts (cursor paging, analytics, alert ack, insights, policy, holds, approvals) run unconditionally:
 * their routes are part of the contract, so a missing one fails here rather than skipping.
 * Screenshots of every page go to docs/console/; the browser-side timings to docs/console/perf.json.
 * Without chromium the whole file is skipped with the reason.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumMissing, launchBrowser, type TestBrowser } from './helpers/browser.js';
import { call, kCliMain, kRepoRoot, startTestServer, type TestServer } from './helpers/server.js';

const missing = chromiumMissing();
if (missing) console.warn(missing);

const kShots = join(kRepoRoot, 'docs', 'console');
const kReads = 24_000;
const kReason = { purpose: 'console test investigation', case: 'CT-2026-0001' };
const kHotPlate = 'ZZT0P9';
// clustering runs in timed chunks that yield to the page: on a loaded two-core machine, placing takes seconds
const kMapTimeoutMs = 30_000;

let ts: TestServer;
let browser: TestBrowser;
const perf: Record<string, unknown> = {};
const pageErrors: string[] = [];

async function openPage(): Promise<Page> {
  const page = await browser.context.newPage();
  page.on('pageerror', (err) => pageErrors.push(String(err)));
  await page.addInitScript(() => {
    const w = window as unknown as { __csp: string[] };
    w.__csp = [];
    document.addEventListener('securitypolicyviolation', (e) => w.__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  return page;
}

async function signIn(page: Page, token: string): Promise<void> {
  await page.goto(ts.url + '/');
  await page.getByLabel('Token', { exact: true }).fill(token);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.getByRole('navigation', { name: 'Pages' }).waitFor();
}

async function giveReason(page: Page): Promise<void> {
  const dialog = page.getByRole('dialog');
  await dialog.waitFor();
  await page.getByLabel('Purpose', { exact: true }).fill(kReason.purpose);
  await page.getByLabel('Case', { exact: true }).fill(kReason.case);
  await page.getByRole('button', { name: 'Save reason' }).click();
  await dialog.waitFor({ state: 'detached' });
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(kShots, `${name}.png`) });
}

async function navLinks(page: Page): Promise<string[]> {
  return (await page.getByRole('navigation', { name: 'Pages' }).getByRole('link').allTextContents()).map((s) => s.replace(/\s*\(.*\)$/, ''));
}

/** The grid's rows as [plate, time text, camera, tenant]. */
async function gridRows(page: Page): Promise<string[][]> {
  return page.locator('table.hits tbody tr').evaluateAll((rows) =>
    rows.map((r) => Array.from(r.querySelectorAll('td')).slice(0, 4).map((td) => td.textContent ?? '')));
}

function searchBody(extra: Record<string, unknown>): Record<string, unknown> {
  return { ...extra, ...kReason };
}

describe.skipIf(missing !== undefined)('web console in chromium', () => {
  beforeAll(async () => {
    mkdirSync(kShots, { recursive: true });
    ts = await startTestServer({ users: [
      { tenant: 'pd-a', user: 'ingest', roles: ['ingest'] },
      { tenant: 'pd-b', user: 'ingest', roles: ['ingest'] },
      { tenant: 'pd-a', user: 'investigator', roles: ['investigator'] },
      { tenant: 'pd-a', user: 'dispatcher', roles: ['dispatcher'] },
      { tenant: 'pd-a', user: 'auditor', roles: ['auditor'] },
      { tenant: 'pd-a', user: 'admin', roles: ['admin'] },
      { tenant: 'pd-b', user: 'admin', roles: ['admin'] },
    ] });
    // a generated week ending now, for two agencies; pd-b shares with pd-a (hits carry both tenants)
    const file = join(ts.dataDir, '..', `console-gen-${process.pid}.ndjson`);
    const start = new Date(Date.now() - 6 * 86_400_000).toISOString();
    execFileSync(process.execPath, [kCliMain, 'gen', '--reads', String(kReads), '--seed', '16', '--out', file,
      '--tenants', 'pd-a,pd-b', '--start', start, '--days', '5'], { stdio: 'pipe' });
    const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean);
    for (const tenant of ['pd-a', 'pd-b']) {
      const mine = lines.filter((l) => l.includes(`"tenant":"${tenant}"`)).join('\n');
      const res = await call(ts.url, 'POST', '/v1/reads', { token: ts.token(tenant, 'ingest'), body: mine, contentType: 'application/x-ndjson' });
      expect(res.status).toBe(200);
      expect(res.json.rejected).toEqual([]);
    }
    expect((await call(ts.url, 'PUT', '/v1/sharing/pd-a', { token: ts.token('pd-b', 'admin'), json: {} })).status).toBe(200);
    browser = await launchBrowser();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await ts?.close();
    // only a run that measured everything replaces the figures (a run filtered with -t would blank them)
    if (perf.firstRender && perf.panOver10000) writeFileSync(join(kShots, 'perf.json'), JSON.stringify(perf, null, 2) + '\n');
  });

  it('serves the page and its hashed files with a strict CSP and long caching', async () => {
    const page = await call(ts.url, 'GET', '/');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.headers['cache-control']).toBe('no-cache');
    const csp = String(page.headers['content-security-policy']);
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).toContain("img-src 'self' data:");
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|https?:/);
    const js = /src="(\/ui\/console-[A-Z0-9]+\.js)"/.exec(page.text)?.[1];
    expect(js).toBeDefined();
    const asset = await call(ts.url, 'GET', js!);
    expect(asset.status).toBe(200);
    expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(asset.headers['content-type']).toMatch(/^text\/javascript/);
    expect(asset.headers['content-security-policy']).toBe(csp);
    expect((await call(ts.url, 'GET', '/ui/nope.js')).status).toBe(404);
  });

  it('signs in with a pasted token kept in sessionStorage only, renders fast, and signs out', async () => {
    const measure = (p: Page) => p.evaluate(() => ({
      rendered: performance.getEntriesByName('console-rendered')[0]?.startTime ?? null,
      fcp: performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? null,
      domContentLoaded: (performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming).domContentLoadedEventEnd,
    }));
    const page = await openPage();
    await page.goto(ts.url + '/');
    await page.getByLabel('Token', { exact: true }).waitFor();
    // three first renders: the first page of a browser just started (cold process and caches); a reload (hashed
    // files from the cache); a new tab after the HTTP cache is emptied (a user's first visit, browser running)
    const timing = await measure(page);
    await page.reload();
    await page.getByLabel('Token', { exact: true }).waitFor();
    const warm = await measure(page);
    const cdp = await browser.context.newCDPSession(page);
    await cdp.send('Network.clearBrowserCache');
    await cdp.detach();
    const tab = await openPage();
    await tab.goto(ts.url + '/');
    await tab.getByLabel('Token', { exact: true }).waitFor();
    const newTab = await measure(tab);
    await tab.close();
    perf.firstRender = { coldBrowser: timing, reload: warm, newTabEmptyCache: newTab };
    console.log('console first render (ms from navigation start):', perf.firstRender);
    expect(timing.rendered).not.toBeNull();
    expect(warm.rendered).not.toBeNull();
    // the target is 1 s on localhost; the bound has slack for a loaded two-core CI machine
    expect(timing.rendered!).toBeLessThan(5_000);
    expect(warm.rendered!).toBeLessThan(5_000);
    expect(newTab.rendered!).toBeLessThan(5_000);
    await shot(page, 'sign-in');

    await page.getByLabel('Token', { exact: true }).fill('not-a-token');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('PS_UNAUTHENTICATED');

    await signIn(page, ts.token('pd-a', 'investigator'));
    const storage = await page.evaluate(() => ({ local: localStorage.length, token: sessionStorage.getItem('platesearch.token') }));
    expect(storage).toEqual({ local: 0, token: ts.token('pd-a', 'investigator') });
    await giveReason(page);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Token', { exact: true }).waitFor();
    expect(await page.evaluate(() => [sessionStorage.length, localStorage.length])).toEqual([0, 0]);
    expect(await page.evaluate(() => (window as unknown as { __csp: string[] }).__csp)).toEqual([]);
    await page.close();
  });

  it('searches a wildcard: the grid and the map show what the API answers; pages forward; opens a vehicle', async () => {
    const token = ts.token('pd-a', 'investigator');
    const pattern = '*7*';
    const body = searchBody({ plate: pattern, limit: 100 });
    const api = await call(ts.url, 'POST', '/v1/search', { token, json: body });
    expect(api.status).toBe(200);
    expect(api.json.total).toBeGreaterThan(100);

    const page = await openPage();
    await signIn(page, token);
    await giveReason(page);
    await page.getByLabel('Plate', { exact: true }).fill(pattern);
    await page.getByLabel('Page size').selectOption('100');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    const table = page.getByRole('table', { name: /Search results/ });
    await table.waitFor();
    for (const h of ['Plate', 'Time', 'Camera', 'Tenant']) await expect.poll(() => table.getByRole('columnheader', { name: h, exact: true }).count()).toBe(1);
    const rows = await gridRows(page);
    expect(rows.map((r) => [r[0], r[2], r[3]])).toEqual(api.json.hits.map((h: any) => [h.plate, h.camera, h.tenant]));
    expect(new Set(rows.map((r) => r[3]))).toEqual(new Set(['pd-a', 'pd-b']));
    await expect.poll(() => page.locator('.summary').first().textContent()).toContain(`${api.json.total.toLocaleString('en-US')} hits`);

    const map = page.getByRole('region', { name: 'Map' });
    await expect.poll(() => map.locator('.map-status').textContent(), { timeout: kMapTimeoutMs }).toBe('100 hits on the map');
    await expect.poll(() => map.locator('.hit-marker, .marker-cluster').count()).toBeGreaterThan(0);
    // every marker counts: the clusters' numbers plus the single markers add up to the hits
    await expect.poll(async () => {
      const clustered = await map.locator('.marker-cluster span').allTextContents();
      return clustered.reduce((n, s) => n + Number(s.trim()), 0) + await map.locator('.hit-marker').count();
    }).toBe(100);
    expect(await map.getByText('basemap offline').count()).toBe(1);
    await page.locator('section.results').scrollIntoViewIfNeeded();
    await shot(page, 'search');

    // sorting by a header reorders the page
    await table.getByRole('button', { name: 'Plate', exact: true }).click();
    const sorted = (await gridRows(page)).map((r) => r[0]);
    expect(sorted).toEqual([...sorted].sort());
    expect(await table.getByRole('columnheader', { name: /Plate/ }).getAttribute('aria-sort')).toBe('ascending');

    // the vehicle view: every read of the first plate, as an exact search answers
    const plate = api.json.hits[0].plate as string;
    const vehicleApi = await call(ts.url, 'POST', '/v1/search', { token, json: searchBody({ plate, match: 'exact', limit: 10000 }) });
    await page.getByRole('button', { name: `Open vehicle ${plate}` }).first().click();
    await page.getByRole('heading', { name: `Vehicle ${plate}` }).waitFor();
    const vtable = page.getByRole('table', { name: `Reads of ${plate}` });
    await vtable.waitFor();
    // the grid puts 200 rows in the DOM at a time (a plate can have more reads: one had 379 here); show them all
    const more = page.getByRole('button', { name: 'Show more rows' });
    expect(await vtable.locator('tbody tr').count()).toBe(Math.min(200, vehicleApi.json.hits.length));
    while (await more.count() > 0) await more.click();
    expect((await gridRows(page)).map((r) => [r[0], r[2], r[3]])).toEqual(vehicleApi.json.hits.map((h: any) => [h.plate, h.camera, h.tenant]));
    await expect.poll(() => map.locator('.map-status').textContent(), { timeout: kMapTimeoutMs }).toBe(`${vehicleApi.json.hits.length} ${vehicleApi.json.hits.length === 1 ? 'hit' : 'hits'} on the map`);
    await shot(page, 'vehicle');
    expect(await page.evaluate(() => (window as unknown as { __csp: string[] }).__csp)).toEqual([]);
    await page.close();
  });

  it('draws a radius, a box and a polygon on the map; each search equals the API answer to the body sent; exports the page as CSV', async () => {
    const token = ts.token('pd-a', 'investigator');
    const page = await openPage();
    await signIn(page, token);
    await giveReason(page);
    await page.getByRole('button', { name: 'Search', exact: true }).click(); // all plates: the map zooms to the reads
    await expect.poll(() => page.locator('.map-status').textContent(), { timeout: kMapTimeoutMs }).toBe('1,000 hits on the map');
    const box = (await page.getByRole('region', { name: 'Map' }).boundingBox())!;
    const at = (fx: number, fy: number) => page.mouse.click(box.x + box.width * fx, box.y + box.height * fy);
    const drawings: Array<[string, () => Promise<void>, string]> = [
      ['Draw radius', async () => {
        await page.getByLabel('Radius (m)').fill('3000');
        await page.getByRole('button', { name: 'Draw radius' }).click();
        await at(0.5, 0.5);
      }, 'near'],
      ['Draw box', async () => {
        await page.getByRole('button', { name: 'Draw box' }).click();
        await at(0.3, 0.3);
        await at(0.7, 0.7);
      }, 'bbox'],
      ['Draw polygon', async () => {
        await page.getByRole('button', { name: 'Draw polygon' }).click();
        await at(0.3, 0.3);
        await at(0.75, 0.35);
        await at(0.6, 0.8);
        await page.getByRole('button', { name: 'Finish polygon' }).click();
      }, 'polygon'],
    ];
    for (const [label, draw, field] of drawings) {
      await draw();
      await expect.poll(() => page.locator('.area-now').textContent(), { message: label }).not.toBe('Area: none');
      const sent = page.waitForRequest((r) => r.url().endsWith('/v1/search'));
      await page.getByRole('button', { name: 'Search', exact: true }).click();
      const body = JSON.parse((await sent).postData()!);
      expect(body[field], label).toBeDefined();
      if (field === 'polygon') expect(body.polygon.length).toBe(4); // three corners, closed
      const api = await call(ts.url, 'POST', '/v1/search', { token, json: body });
      expect(api.status).toBe(200);
      await expect.poll(() => page.locator('.summary').first().textContent(), { message: label }).toContain(`${api.json.total.toLocaleString('en-US')} hits`);
      // the grid's rows can land a frame after the summary (seen once in CI: summary right, grid still empty)
      await expect.poll(async () => (await gridRows(page)).map((r) => r[0]), { message: label }).toEqual(api.json.hits.slice(0, 200).map((h: any) => h.plate));
    }
    await page.getByRole('button', { name: 'Clear area' }).click();
    expect(await page.locator('.area-now').textContent()).toBe('Area: none');

    // CSV export of the page: the hits as the API returned them, with a header
    const sent = page.waitForRequest((r) => r.url().endsWith('/v1/search'));
    await page.getByLabel('Plate', { exact: true }).fill('*12*');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    const api = await call(ts.url, 'POST', '/v1/search', { token, json: JSON.parse((await sent).postData()!) });
    await page.getByRole('table', { name: /Search results/ }).waitFor();
    const download = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Export page as CSV' }).click();
    const csv = readFileSync((await (await download).path())!, 'utf8').trim().split('\r\n');
    expect(csv[0]).toBe('id,tenant,plate,ts,lat,lon,camera,region,confidence,make,color,distance');
    expect(csv.slice(1).map((l) => l.split(',')[0])).toEqual(api.json.hits.map((h: any) => h.id));
    await page.close();
  }, 120_000);

  it('works from the keyboard, labels every control, and keeps text contrast at 4.5:1 or more', async () => {
    const page = await openPage();
    await page.goto(ts.url + '/');
    // sign in with the keyboard only: the token field has the focus order's first place after the skip link
    await page.getByLabel('Token', { exact: true }).focus();
    await page.keyboard.type(ts.token('pd-a', 'dispatcher'));
    await page.keyboard.press('Enter');
    await page.getByRole('dialog').waitFor();
    await page.keyboard.type(kReason.purpose); // the dialog focuses Purpose
    await page.keyboard.press('Tab');
    await page.keyboard.type(kReason.case);
    await page.keyboard.press('Enter');
    await page.getByRole('dialog').waitFor({ state: 'detached' });
    await page.getByLabel('Plate', { exact: true }).focus();
    await page.keyboard.type('*5*');
    await page.keyboard.press('Enter');
    const open = page.getByRole('button', { name: /^Open vehicle / }).first();
    await open.waitFor();
    await open.focus();
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: /^Vehicle / }).waitFor();

    const audit = () => page.evaluate(() => {
        const out: string[] = [];
        for (const el of Array.from(document.querySelectorAll<HTMLInputElement | HTMLSelectElement>('main input, main select, main textarea'))) {
          const visible = Array.from(el.labels ?? []).some((l) => l.offsetParent !== null && !l.classList.contains('sr-only'));
          const inTableRow = el.closest('td') !== null; // a row's field is labelled by its column header
          if (!visible && !inTableRow) out.push(`no visible label: ${el.outerHTML.slice(0, 80)}`);
        }
        const lum = (c: string) => {
          const [r, g, b] = (c.match(/[\d.]+/g) ?? ['0', '0', '0']).slice(0, 3).map(Number).map((v) => {
            const x = v / 255;
            return x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4;
          });
          return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
        };
        const background = (el: Element | null): string => {
          for (let e = el; e; e = e.parentElement) {
            const bg = getComputedStyle(e).backgroundColor;
            if (bg && bg !== 'transparent' && !/rgba\(.*,\s*0\)$/.test(bg)) return bg;
          }
          return 'rgb(255, 255, 255)';
        };
        for (const el of Array.from(document.querySelectorAll<HTMLElement>('main label, main button, main p, main td, main th, main legend, main a, header span, nav a'))) {
          if (el.offsetParent === null || !el.textContent?.trim() || el.classList.contains('sr-only')) continue;
          const style = getComputedStyle(el);
          if ((el as HTMLButtonElement).disabled) continue; // WCAG exempts inactive controls
          const [a, b] = [lum(style.color), lum(background(el))];
          const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
          if (ratio < 4.5) out.push(`contrast ${ratio.toFixed(2)}: ${el.tagName} "${el.textContent.trim().slice(0, 30)}"`);
        }
        return out;
      });
    // the checks can fail: a grey paragraph and an unlabelled field planted in the page are both reported
    await page.evaluate(() => {
      const p = document.createElement('p');
      p.id = 'canary-p';
      p.textContent = 'low contrast canary';
      p.style.color = '#aaaaaa';
      const input = document.createElement('input');
      input.id = 'canary-input';
      document.querySelector('main')!.append(p, input);
    });
    const planted = await audit();
    expect(planted.some((m) => m.includes('low contrast canary'))).toBe(true);
    expect(planted.some((m) => m.includes('canary-input'))).toBe(true);
    await page.evaluate(() => ['canary-p', 'canary-input'].forEach((id) => document.getElementById(id)?.remove()));
    for (const where of ['#/search', '#/alerts', '#/hotlists']) {
      await page.goto(ts.url + '/' + where);
      await page.locator('main h1').waitFor();
      expect(await audit(), where).toEqual([]);
    }
    await page.close();
  }, 120_000);

  it('draws tiles from the configured tile server; shows "basemap offline" when they fail', async () => {
    // a 1×1 PNG for every tile: an agency's own tile server, on this machine
    const png = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');
    let served = 0;
    const tiles = createServer((_req, res) => {
      served++;
      res.writeHead(200, { 'content-type': 'image/png' });
      res.end(png);
    });
    await new Promise<void>((resolve) => tiles.listen(0, '127.0.0.1', resolve));
    const config = ts.server.services.config; // read per request by the console route
    try {
      config.tileUrl = `http://127.0.0.1:${(tiles.address() as AddressInfo).port}/{z}/{x}/{y}.png`;
      let page = await openPage();
      await signIn(page, ts.token('pd-a', 'investigator'));
      await giveReason(page);
      let map = page.getByRole('region', { name: 'Map' });
      await expect.poll(() => map.locator('img.leaflet-tile-loaded').count()).toBeGreaterThan(0);
      await expect.poll(() => map.getByText('basemap offline').count()).toBe(0);
      expect(served).toBeGreaterThan(0);
      expect(await page.evaluate(() => (window as unknown as { __csp: string[] }).__csp)).toEqual([]);
      await page.close();

      config.tileUrl = 'http://127.0.0.1:1/{z}/{x}/{y}.png'; // nothing listens on port 1
      page = await openPage();
      await signIn(page, ts.token('pd-a', 'investigator'));
      await giveReason(page);
      map = page.getByRole('region', { name: 'Map' });
      await expect.poll(() => map.locator('img.leaflet-tile').count()).toBeGreaterThan(0);
      await page.waitForTimeout(500);
      expect(await map.getByText('basemap offline').count()).toBe(1);
      await page.close();
    } finally {
      config.tileUrl = undefined;
      await new Promise((resolve) => tiles.close(resolve));
    }
  });

  it('pages forward with the v1.1 cursor (next/after), as the API pages', async () => {
    const token = ts.token('pd-a', 'investigator');
    const body = searchBody({ plate: '*7*', limit: 100 });
    const first = await call(ts.url, 'POST', '/v1/search', { token, json: body });
    expect(first.json.truncated).toBe(true);
    expect(typeof first.json.next).toBe('string');
    const second = await call(ts.url, 'POST', '/v1/search', { token, json: { ...body, after: first.json.next } });
    const page = await openPage();
    await signIn(page, token);
    await giveReason(page);
    await page.getByLabel('Plate', { exact: true }).fill('*7*');
    await page.getByLabel('Page size').selectOption('100');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await page.getByRole('table', { name: 'Search results, page 1' }).waitFor();
    await page.getByRole('button', { name: 'Next page' }).click();
    await page.getByRole('table', { name: 'Search results, page 2' }).waitFor();
    // read at once: the caption names page 2 only together with page 2's hits (it once changed on the click)
    const row = (h: any) => [h.plate, h.camera, h.tenant];
    expect((await gridRows(page)).map((r) => [r[0], r[2], r[3]])).toEqual(second.json.hits.map(row));
    await page.getByRole('button', { name: 'Previous page' }).click();
    await page.getByRole('table', { name: 'Search results, page 1' }).waitFor();
    expect((await gridRows(page)).map((r) => [r[0], r[2], r[3]])).toEqual(first.json.hits.map(row));
    await page.close();
  });

  it('keeps 10,000 hits on the map responsive while panning (Performance API)', async () => {
    const token = ts.token('pd-a', 'investigator');
    const page = await openPage();
    await signIn(page, token);
    await giveReason(page);
    await page.getByLabel('Page size').selectOption('10000');
    const t0 = Date.now();
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    const map = page.getByRole('region', { name: 'Map' });
    await expect.poll(() => map.locator('.map-status').textContent(), { timeout: 60_000 }).toBe('10,000 hits on the map');
    await page.locator('.marker-cluster').first().waitFor();
    perf.tenThousandShownMs = Date.now() - t0;
    perf.loadAverage = loadavg().map((v) => Math.round(v * 100) / 100);
    await shot(page, 'map-10000');
    const box = (await map.boundingBox())!;
    await page.evaluate(() => {
      const w = window as unknown as { __frames: number[]; __run: boolean };
      w.__frames = [];
      w.__run = true;
      let last = performance.now();
      const tick = (now: number) => {
        w.__frames.push(now - last);
        last = now;
        if (w.__run) requestAnimationFrame(tick);
      };
      requestAnimationFrame(tick);
      const lt = window as unknown as { __longTasks: number[] };
      lt.__longTasks = [];
      // long tasks reach only an observer (not getEntriesByType)
      new PerformanceObserver((list) => {
        for (const e of list.getEntries()) lt.__longTasks.push(e.duration);
      }).observe({ type: 'longtask' });
      performance.mark('pan-start');
    });
    const cx = box.x + box.width / 2;
    const cy = box.y + box.height / 2;
    await page.mouse.move(cx, cy);
    await page.mouse.down();
    // a drag away and back, then arrow keys both ways (the map has the focus after the drag)
    for (let i = 1; i <= 20; i++) await page.mouse.move(cx - i * 12, cy - i * 6);
    for (let i = 19; i >= 0; i--) await page.mouse.move(cx - i * 12, cy - i * 6);
    await page.mouse.up();
    for (const key of ['ArrowRight', 'ArrowLeft']) for (let i = 0; i < 10; i++) await page.keyboard.press(key);
    const pan = await page.evaluate(async () => {
      await new Promise((r) => setTimeout(r, 300));
      performance.mark('pan-end');
      const m = performance.measure('pan', 'pan-start', 'pan-end');
      const w = window as unknown as { __frames: number[]; __run: boolean };
      w.__run = false;
      const frames = w.__frames.slice(1).sort((a, b) => a - b);
      const longTasks = (window as unknown as { __longTasks: number[] }).__longTasks;
      return {
        panMs: Math.round(m.duration),
        frames: frames.length,
        medianFrameMs: Math.round(frames[Math.floor(frames.length / 2)]! * 10) / 10,
        p95FrameMs: Math.round(frames[Math.floor(frames.length * 0.95)]! * 10) / 10,
        maxFrameMs: Math.round(frames[frames.length - 1]! * 10) / 10,
        longTasks: longTasks.length,
        longestTaskMs: Math.round(Math.max(0, ...longTasks)),
      };
    });
    perf.panOver10000 = pan;
    console.log('pan over 10,000 clustered hits:', pan);
    // responsive: no frame of the pan took more than a second, even on a loaded CI machine
    expect(pan.frames).toBeGreaterThan(10);
    expect(pan.maxFrameMs).toBeLessThan(1_000);
    await page.close();
  }, 120_000);

  it('dispatcher: creates a hot list from a CSV upload, edits it, sees a live alert and acknowledges it', async () => {
    const token = ts.token('pd-a', 'dispatcher');
    const page = await openPage();
    await signIn(page, token);
    await giveReason(page);
    expect(await navLinks(page)).toEqual(['Search', 'Analytics', 'Alerts', 'Hot lists', 'Approvals']);
    await page.getByRole('link', { name: 'Hot lists' }).click();
    await page.getByLabel('List name').fill('stolen');
    await page.getByLabel('CSV file').setInputFiles({ name: 'stolen.csv', mimeType: 'text/csv', buffer: Buffer.from(`plate,note\n${kHotPlate},stolen grey van\nQQ1234,"robbery, armed"\n`) });
    await expect.poll(() => page.getByText('2 entries read.').count()).toBe(1);
    await page.getByRole('button', { name: 'Create hot list' }).click();
    await page.getByRole('cell', { name: 'stolen', exact: true }).waitFor();
    let stored = await call(ts.url, 'GET', '/v1/hotlists/stolen', { token });
    expect(stored.json.entries.map((e: any) => [e.plate, e.note])).toEqual([[kHotPlate, 'stolen grey van'], ['QQ1234', 'robbery, armed']]);

    await page.getByRole('button', { name: 'Edit stolen' }).click();
    await page.getByRole('button', { name: 'Remove QQ1234' }).click();
    await page.getByLabel('New entry plate').fill('AB12CD');
    await page.getByLabel('New entry note').fill('warrant');
    await page.getByRole('button', { name: 'Add entry' }).click();
    await page.getByRole('button', { name: 'Save list' }).click();
    await expect.poll(async () => (await call(ts.url, 'GET', '/v1/hotlists/stolen', { token })).json.entries.map((e: any) => e.plate)).toEqual([kHotPlate, 'AB12CD']);
    await shot(page, 'hotlists');

    // a second list, deleted from the page
    await page.getByLabel('List name').fill('temp-list');
    await page.getByLabel('CSV file').setInputFiles({ name: 't.csv', mimeType: 'text/csv', buffer: Buffer.from('XY99\n') });
    await page.getByRole('button', { name: 'Create hot list' }).click();
    await page.getByRole('cell', { name: 'temp-list', exact: true }).waitFor();
    page.once('dialog', (d) => void d.accept());
    await page.getByRole('button', { name: 'Delete temp-list' }).click();
    await expect.poll(async () => (await call(ts.url, 'GET', '/v1/hotlists/temp-list', { token })).status).toBe(404);

    await page.getByRole('link', { name: /Alerts/ }).click();
    const log = page.getByRole('log', { name: 'Alerts' });
    await log.waitFor();
    await expect.poll(() => page.locator('.stream-state').textContent(), { timeout: 15_000 }).toBe('Stream: open');
    const read = { plate: kHotPlate, ts: new Date().toISOString(), lat: 37.7793, lon: -122.4193, camera: 'cam-civic-1', region: 'CA' };
    const ingest = await call(ts.url, 'POST', '/v1/reads', { token: ts.token('pd-a', 'ingest'), json: [read] });
    expect(ingest.json.accepted).toBe(1);
    const item = log.locator('li.alert').first();
    await expect.poll(() => item.locator('.plate').textContent(), { timeout: 10_000 }).toBe(kHotPlate);
    expect(await item.getAttribute('class')).toContain('fresh');
    expect(await item.textContent()).toContain('stolen grey van');
    await page.getByRole('region', { name: 'Map' }).locator('.alert-marker').waitFor();
    await shot(page, 'alerts');

    await item.getByLabel(/^Outcome/).selectOption('confirmed');
    await item.getByLabel(/^Note/).fill('unit 12 stopped the van');
    await item.getByRole('button', { name: /^Acknowledge/ }).click();
    await expect.poll(() => item.locator('.acked').textContent()).toContain('confirmed');
    const recent = await call(ts.url, 'GET', '/v1/alerts/recent?limit=5', { token });
    expect(recent.json.alerts[0].read.plate).toBe(kHotPlate);
    expect(recent.json.alerts[0].ack).toMatchObject({ outcome: 'confirmed', note: 'unit 12 stopped the van', user: 'dispatcher' });
    // the API refuses a second acknowledgement of the same alert
    const again = await call(ts.url, 'POST', `/v1/alerts/${encodeURIComponent(recent.json.alerts[0].id)}/ack`, { token, json: { outcome: 'rejected' } });
    expect(again.status).toBe(409);

    // newest on top: a second hot-listed read (the entry added in the editor)
    await call(ts.url, 'POST', '/v1/reads', { token: ts.token('pd-a', 'ingest'), json: [{ ...read, plate: 'AB12CD', ts: new Date().toISOString() }] });
    await expect.poll(() => log.locator('li.alert .plate').allTextContents(), { timeout: 10_000 }).toEqual(['AB12CD', kHotPlate]);
    expect(await log.locator('li.alert').first().textContent()).toContain('warrant');
    await page.close();
  }, 120_000);

  it('auditor: reads the log with filters and verifies the chain as the API does', async () => {
    const token = ts.token('pd-a', 'auditor');
    const page = await openPage();
    await signIn(page, token);
    expect(await navLinks(page)).toEqual(['Audit']);
    await page.getByRole('button', { name: 'Verify chain' }).click();
    const verified = page.getByRole('status').filter({ hasText: 'Chain verified' });
    await verified.waitFor();
    const api = await call(ts.url, 'GET', '/v1/audit/verify', { token });
    expect(api.json.ok).toBe(true);
    const shown = Number(/Chain verified: (\d+) records/.exec((await verified.textContent())!)![1]);
    // the API's own verify call is one more record than the console's
    expect(shown).toBeGreaterThan(0);
    expect(shown).toBeLessThanOrEqual(api.json.count);

    await page.getByLabel('Action').fill('search');
    await page.getByRole('button', { name: 'Show records' }).click();
    const table = page.getByRole('table', { name: /audit records/ });
    await table.waitFor();
    const actions = await table.locator('tbody tr td:nth-child(4)').allTextContents();
    const apiRecords = await call(ts.url, 'GET', '/v1/audit?action=search&limit=100', { token });
    expect(actions.length).toBe(apiRecords.json.records.length);
    expect(actions.length).toBeGreaterThan(0);
    expect(new Set(actions)).toEqual(new Set(['search']));
    expect(await table.textContent()).toContain(kReason.case);
    await shot(page, 'audit');

    const insightsSent = page.waitForResponse((r) => r.url().includes('/v1/audit/insights'));
    await page.getByRole('button', { name: 'Show insights' }).click();
    const insights = await (await insightsSent).json();
    await page.getByRole('table', { name: /Same user, same plate/ }).waitFor();
    // one table per list of the answer, each as long as the list (the test's searches repeat plates)
    const captions = await page.locator('table.insight caption').allTextContents();
    const lists = ['repeatPlates', 'offHours', 'reusedCases', 'boilerplatePurposes', 'foreign'];
    expect(captions.map((c) => Number(/: (\d+)$/.exec(c)?.[1]))).toEqual(lists.map((k) => insights[k].length));
    expect(insights.repeatPlates.length).toBeGreaterThan(0);
    expect(await page.locator('table.insight').first().locator('tbody tr').count()).toBe(insights.repeatPlates.length);
    await page.evaluate(() => document.querySelector('section[aria-label="Insights"]')?.scrollIntoView({ block: 'start' }));
    await shot(page, 'audit-insights');
    await page.close();
  });

  it('admin: changes retention, grants and revokes sharing, publishes transparency counts, places and releases a hold', async () => {
    const token = ts.token('pd-a', 'admin');
    const page = await openPage();
    await signIn(page, token);
    expect(await navLinks(page)).toEqual(['Hot lists', 'Admin']);
    await page.getByRole('link', { name: 'Admin' }).click();
    await page.getByLabel('Retention (days)').fill('30');
    await page.getByRole('button', { name: 'Set retention' }).click();
    await expect.poll(async () => (await call(ts.url, 'GET', '/v1/retention', { token })).json.retentionSeconds).toBe(30 * 86400);
    await expect.poll(() => page.locator('.current-retention').textContent()).toContain('30 days');

    await page.getByLabel('Share with agency').fill('pd-b');
    await page.getByRole('button', { name: 'Grant access' }).click();
    await page.getByRole('button', { name: 'Revoke pd-b' }).waitFor();
    expect((await call(ts.url, 'GET', '/v1/sharing', { token })).json.given.map((g: any) => g.grantee)).toEqual(['pd-b']);
    await page.getByRole('button', { name: 'Revoke pd-b' }).click();
    await expect.poll(async () => (await call(ts.url, 'GET', '/v1/sharing', { token })).json.given).toEqual([]);

    expect((await call(ts.url, 'GET', '/v1/transparency?tenant=pd-a')).status).toBe(404);
    await page.getByLabel('Publish transparency counts').check();
    await page.getByRole('button', { name: 'Save policy' }).click();
    await expect.poll(async () => (await call(ts.url, 'GET', '/v1/policy', { token })).json.transparency).toBe(true);
    expect((await call(ts.url, 'GET', '/v1/transparency?tenant=pd-a')).status).toBe(200);

    await page.getByLabel('Hold id').fill('h1');
    await page.getByLabel('Hold case').fill('2026-HOLD-1');
    await page.getByLabel('Hold reason').fill('court order');
    await page.getByLabel('Hold plates').fill(kHotPlate);
    await page.getByRole('button', { name: 'Place hold' }).click();
    await page.getByRole('button', { name: 'Release hold h1' }).waitFor();
    expect((await call(ts.url, 'GET', '/v1/holds', { token })).json.holds).toMatchObject([{ id: 'h1', case: '2026-HOLD-1', reason: 'court order', plates: [kHotPlate] }]);
    await shot(page, 'admin');
    await page.getByRole('button', { name: 'Release hold h1' }).click();
    await expect.poll(async () => (await call(ts.url, 'GET', '/v1/holds', { token })).json.holds).toEqual([]);
    await page.close();
  });

  /**
   * Runs one analytics form and compares the table with the API's answer to the very body the page sent
   * (captured from the request), so drawn areas need no re-computation here.
   */
  async function runAnalytics(page: Page, kind: string, button: string, caption: string): Promise<Record<string, any>> {
    const sent = page.waitForRequest((r) => r.url().endsWith(`/v1/analytics/${kind}`));
    await page.getByRole('button', { name: button }).click();
    const body = JSON.parse((await sent).postData()!);
    expect(body).toMatchObject(kReason);
    const api = await call(ts.url, 'POST', `/v1/analytics/${kind}`, { token: ts.token('pd-a', 'investigator'), json: body });
    expect(api.status).toBe(200);
    const table = page.getByRole('table', { name: caption });
    await table.waitFor();
    expect(await table.locator('tbody tr').count()).toBe(api.json.results.length);
    const plates = await table.locator('tbody tr td:first-child').allTextContents();
    expect(plates).toEqual(api.json.results.map((r: any) => r.plate));
    return body;
  }

  async function analyticsPage(kind: string): Promise<Page> {
    const page = await openPage();
    await signIn(page, ts.token('pd-a', 'investigator'));
    await giveReason(page);
    // a search first: the map (one for all pages) then shows where the reads are, for drawing sites
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await expect.poll(() => page.locator('.map-status').textContent(), { timeout: kMapTimeoutMs }).toBe('1,000 hits on the map');
    await page.goto(`${ts.url}/#/analytics/${kind}`);
    await page.getByRole('heading', { name: 'Analytics' }).waitFor();
    return page;
  }

  it('analytics pages: one form per analysis (screenshot), each drawing on the map', async () => {
    const page = await analyticsPage('convoy');
    expect(await page.getByRole('navigation', { name: 'Analyses' }).getByRole('link').allTextContents())
      .toEqual(['Convoy', 'Multi-site', 'Frequent visitor', 'Cloned plate']);
    await shot(page, 'analytics');
    await page.close();
  });

  it('analytics: convoy, as the API answers', async () => {
    const token = ts.token('pd-a', 'investigator');
    const some = await call(ts.url, 'POST', '/v1/search', { token, json: searchBody({ limit: 1 }) });
    const page = await analyticsPage('convoy');
    await page.getByLabel('Plate', { exact: true }).fill(some.json.hits[0].plate);
    await page.getByLabel('Window (seconds)').fill('600');
    await page.getByLabel('Minimum cameras').fill('1');
    await runAnalytics(page, 'convoy', 'Find convoys', 'Convoy results');
    await shot(page, 'analytics-convoy');
    await page.close();
  });

  it('analytics: frequent visitors in the map view, as the API answers', async () => {
    const page = await analyticsPage('frequent');
    const map = (await page.getByRole('region', { name: 'Map' }).boundingBox())!;
    await page.getByRole('button', { name: 'Draw box' }).click();
    await page.mouse.click(map.x + map.width * 0.2, map.y + map.height * 0.2);
    await page.mouse.click(map.x + map.width * 0.8, map.y + map.height * 0.8);
    await page.getByLabel('Minimum reads').fill('2');
    const body = await runAnalytics(page, 'frequent', 'Find frequent visitors', 'Frequent visitor results');
    expect(body.bbox, 'the drawn box is sent').toHaveLength(4);
    await page.close();
  });

  it('analytics: multi-site with two drawn sites, as the API answers', async () => {
    const page = await analyticsPage('multisite');
    const map = (await page.getByRole('region', { name: 'Map' }).boundingBox())!;
    // the corners keep clear of Leaflet's zoom buttons (top left, about 45 px square: a click there zooms)
    for (const [x0, x1] of [[0.1, 0.5], [0.5, 0.95]]) {
      await page.getByRole('button', { name: 'Draw box' }).click();
      await page.mouse.click(map.x + map.width * x0!, map.y + map.height * 0.05);
      await page.mouse.click(map.x + map.width * x1!, map.y + map.height * 0.95);
      await page.getByRole('button', { name: 'Add site' }).click();
    }
    await expect.poll(() => page.locator('ol.sites li').count()).toBe(2);
    const body = await runAnalytics(page, 'multisite', 'Find plates at several sites', 'Multi-site results');
    expect(body.sites.map((s: any) => Object.keys(s))).toEqual([['bbox'], ['bbox']]);
    expect(body.sites[0].bbox[2], 'the sites meet in the middle').toBeCloseTo(body.sites[1].bbox[0], 4);
    await page.close();
  });

  it('analytics: cloned plates, as the API answers', async () => {
    const page = await analyticsPage('cloned');
    await runAnalytics(page, 'cloned', 'Find cloned plates', 'Cloned plate results');
    await page.close();
  });

  it('approvals: an investigator asks, a supervisor approves (v1.1)', async () => {
    const token = ts.token('pd-a', 'investigator');
    const supervisor = (await ts.server.services.directory.createToken('pd-a', 'supervisor', ['supervisor' as never])).token;
    const page = await openPage();
    await signIn(page, token);
    await giveReason(page);
    await page.getByRole('link', { name: 'Approvals' }).click();
    await page.getByLabel('Why this broad search is needed').fill('area sweep after a robbery');
    await page.getByRole('button', { name: 'Request approval' }).click();
    const requested = /Approval (\S+) requested/.exec((await page.getByRole('status').filter({ hasText: 'requested' }).textContent())!)![1]!;
    // the requester sees no decision buttons, and the API refuses the requester's own decision anyway
    expect(await page.getByRole('button', { name: `Approve ${requested}` }).count()).toBe(0);
    expect((await call(ts.url, 'PUT', `/v1/approvals/${requested}`, { token, json: { decision: 'approved' } })).status).toBe(403);
    await shot(page, 'approvals');
    await page.close();

    const sup = await openPage();
    await signIn(sup, supervisor);
    // a supervisor may search, so the console asks for the reason on landing on Search, as for an investigator
    await giveReason(sup);
    await sup.getByRole('link', { name: 'Approvals' }).click();
    await sup.getByRole('button', { name: `Approve ${requested}` }).click();
    await expect.poll(async () => (await call(ts.url, 'GET', '/v1/approvals?state=approved', { token: supervisor })).json.approvals.map((a: any) => a.id)).toContain(requested);
    const decided = (await call(ts.url, 'GET', '/v1/approvals?state=approved', { token: supervisor })).json.approvals.find((a: any) => a.id === requested);
    expect(decided).toMatchObject({ state: 'approved', requester: 'investigator', decidedBy: 'supervisor', note: null, route: '/v1/search' });
    await sup.close();
  });

  it('shows each role only what it may do, and the API refuses the rest anyway', async () => {
    const page = await openPage();
    await signIn(page, ts.token('pd-a', 'investigator'));
    expect(await navLinks(page)).toEqual(['Search', 'Analytics', 'Approvals']);
    await page.goto(ts.url + '/#/admin');
    await page.getByRole('heading', { name: 'Search', exact: true }).waitFor();
    expect(await page.getByRole('heading', { name: 'Administration' }).count()).toBe(0);
    await page.close();

    const ingestPage = await openPage();
    await signIn(ingestPage, ts.token('pd-a', 'ingest')).catch(() => {});
    await ingestPage.getByText(/give you no page/).waitFor();
    await ingestPage.close();

    const refused: Array<[string, 'GET' | 'POST' | 'PUT', string, unknown?]> = [
      ['investigator', 'PUT', '/v1/retention', { retentionSeconds: 86400 }],
      ['investigator', 'GET', '/v1/audit/verify'],
      ['investigator', 'GET', '/v1/alerts'],
      ['investigator', 'PUT', '/v1/hotlists/x', { entries: [{ plate: 'AB1' }] }],
      ['auditor', 'POST', '/v1/search', searchBody({ plate: 'AB1' })],
      ['admin', 'POST', '/v1/search', searchBody({ plate: 'AB1' })],
      ['dispatcher', 'GET', '/v1/audit'],
      ['ingest', 'GET', '/v1/sharing'],
    ];
    for (const [user, method, path, json] of refused) {
      const res = await call(ts.url, method, path, { token: ts.token('pd-a', user), json });
      expect(res.status, `${user} ${method} ${path}`).toBe(403);
    }
    expect(pageErrors).toEqual([]);
  });
});
