import { afterEach, describe, expect, it } from 'vitest';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { LocalObjectStore, openObjectStore } from '../src/store/local-object-store.js';
import { checkObjectKey } from '../src/store/object-store.js';
import { setStoreFs } from '../src/store/fs.js';
import { FaultPlan, faultyStoreFs } from './helpers/fault-fs.js';

const dirs: string[] = [];
let restore: (() => void) | undefined;
afterEach(async () => {
  restore?.();
  restore = undefined;
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function store(): Promise<{ root: string; objects: LocalObjectStore }> {
  const root = await mkdtemp(path.join(tmpdir(), 'ps-objects-'));
  dirs.push(root);
  return { root, objects: new LocalObjectStore(path.join(root, 'shards')) };
}

const bytesOf = (n: number, seed = 1) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);

describe('local object store', () => {
  it('put / get / getRange / head / list / delete round-trip bytes, in pieces too', async () => {
    const { objects } = await store();
    expect(await objects.list()).toEqual([]); // the root does not exist yet
    const a = bytesOf(5000);
    await objects.put('a.bin', a);
    await objects.put('day/b.bin', [bytesOf(10, 2), bytesOf(7, 3)]);
    expect(Buffer.from(await objects.get('a.bin')).equals(Buffer.from(a))).toBe(true);
    expect([...(await objects.get('day/b.bin'))]).toEqual([...bytesOf(10, 2), ...bytesOf(7, 3)]);
    expect([...(await objects.getRange('a.bin', 100, 50))]).toEqual([...a.subarray(100, 150)]);
    // into a caller's buffer: the view returned is that buffer's memory
    const target = new Uint8Array(64);
    const view = await objects.getRange('a.bin', 4000, 40, target);
    expect(view.buffer).toBe(target.buffer);
    expect([...target.subarray(0, 40)]).toEqual([...a.subarray(4000, 4040)]);
    expect(await objects.head('a.bin')).toBe(5000);
    expect(await objects.head('nope.bin')).toBeUndefined();
    expect((await objects.list()).sort()).toEqual(['a.bin', 'day/b.bin']);
    expect(await objects.list('day/')).toEqual(['day/b.bin']);
    await objects.delete(['a.bin', 'missing.bin']);
    expect(await objects.list()).toEqual(['day/b.bin']);
    expect(await objects.head('a.bin')).toBeUndefined();
  });

  it('a missing object is ENOENT; a range past the end is ERANGE', async () => {
    const { objects } = await store();
    await objects.put('x', bytesOf(10));
    await expect(objects.get('y')).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(objects.getRange('y', 0, 1)).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(objects.getRange('x', 5, 6)).rejects.toMatchObject({ code: 'ERANGE' });
    expect([...(await objects.getRange('x', 5, 5))]).toEqual([...bytesOf(10).subarray(5)]);
  });

  it('refuses keys that could leave the root or collide with temp files', () => {
    for (const bad of ['', '../x', 'a/../b', '.hidden', 'a//b', '/abs', 'a b', 'a\\b']) expect(() => checkObjectKey(bad), bad).toThrow(RangeError);
    for (const good of ['20261101-00000001.arrow', 'a/b/c.bin', 'x_y-z.1']) expect(() => checkObjectKey(good)).not.toThrow();
  });

  it('a put that fails at any step leaves the old object (or none) and no listed debris; recover sweeps temp files', async () => {
    const { root, objects } = await store();
    await objects.put('keep.bin', bytesOf(100, 9));
    for (const op of ['open', 'write', 'sync', 'rename'] as const) {
      const plan = new FaultPlan().add({ op, kind: 'EIO', mode: 'once', path: /shards\// });
      restore = setStoreFs(faultyStoreFs(plan));
      await expect(objects.put('keep.bin', bytesOf(100, 1)), op).rejects.toThrow();
      await expect(objects.put('new.bin', bytesOf(10)).then(() => 'ok'), op).resolves.toBe('ok'); // 'once': the next put works
      restore();
      restore = undefined;
      expect([...(await objects.get('keep.bin'))], op).toEqual([...bytesOf(100, 9)]);
      await objects.delete(['new.bin']);
    }
    // a crash mid-put leaves a hidden temp file: never listed, removed by recover()
    await writeFile(path.join(root, 'shards', '.keep.bin.tmp-1-0-1'), 'partial');
    expect(await objects.list()).toEqual(['keep.bin']);
    await objects.recover();
    expect((await readdir(path.join(root, 'shards'))).sort()).toEqual(['keep.bin']);
  });

  it('opens the same store from its spec (what a worker thread does)', async () => {
    const { objects } = await store();
    await objects.put('k', bytesOf(3));
    const again = openObjectStore(JSON.parse(JSON.stringify(objects.spec)));
    expect([...(await again.get('k'))]).toEqual([...bytesOf(3)]);
    expect(again.locate('k')).toBe(objects.locate('k'));
  });
});
