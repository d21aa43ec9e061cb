/**
 * A full garbage collection for a long-lived worker thread to run when it falls idle (the seal worker,
 * src/store/seal-worker.ts; the plate-index worker, src/store/plate-index-worker.ts). Their jobs
 * allocate hundreds of MiB that are garbage once answered (a seal's rows as objects, a merge's intermediate
 * arrays); V8 would keep that memory while the thread waits for its next job (measured: 570 MiB of RSS
 * after a 1M-row seal, for as long as the worker lived). The flag is set once, as bench/peers/memory.ts does.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let collect: (() => void) | undefined;

export function collectGarbage(): void {
  if (!collect) {
    setFlagsFromString('--expose-gc');
    collect = runInNewContext('gc') as () => void;
  }
  collect();
}
