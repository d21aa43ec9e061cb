// The n-gram index's candidates (src/query/gram-match.ts) in wasm: the sorted union of posting lists, and
// the candidates' dictionary slots gathered side by side so the dictionary kernels can match them as one
// small dictionary. In JS both were loops over every candidate (60,000 for a fuzzy k=2 OCR pattern at 20M
// reads) that ran in V8's baseline tiers for the first ~30 searches of a process, so such a search took
// 2–3× longer until they were optimised; here they cost the same from the first call.

/** out[i] = the 16-byte slot `ids[i]` of the dictionary at `dict`, for i < n (ids u32, out 16-byte slots). */
export function gatherSlots(dict: usize, ids: usize, n: u32, out: usize): void {
  for (let i: usize = 0; i < <usize>n; i++) {
    const id = <usize>load<u32>(ids + (i << 2));
    v128.store(out + (i << 4), v128.load(dict + (id << 4)));
  }
}

/**
 * The sorted union of the ascending, duplicate-free u32 lists a[0..na) and b[0..nb) into `out` (room for
 * na + nb); returns its length. `out` must not overlap either list.
 */
export function unionSorted(a: usize, na: u32, b: usize, nb: u32, out: usize): u32 {
  let i: usize = 0, j: usize = 0, n: usize = 0;
  const ea = <usize>na, eb = <usize>nb;
  while (i < ea && j < eb) {
    const x = load<u32>(a + (i << 2)), y = load<u32>(b + (j << 2));
    if (x <= y) {
      store<u32>(out + (n << 2), x);
      i++;
      if (x == y) j++;
    } else {
      store<u32>(out + (n << 2), y);
      j++;
    }
    n++;
  }
  for (; i < ea; i++, n++) store<u32>(out + (n << 2), load<u32>(a + (i << 2)));
  for (; j < eb; j++, n++) store<u32>(out + (n << 2), load<u32>(b + (j << 2)));
  return <u32>n;
}
