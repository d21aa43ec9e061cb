/** What every system in the comparison offers the harness: answer a query, and go away. */
import type { Answer } from './answer.js';
import type { BenchQuery } from './query-set.js';

export type PeerName = 'engine' | 'duckdb' | 'postgres';

export interface Peer {
  readonly name: PeerName;
  run(query: BenchQuery): Promise<Answer>;
  /** The executed plan of the query with its timings, where the peer can tell (for `--explain`). */
  explain?(query: BenchQuery): Promise<string>;
  close(): Promise<void>;
}

/** How loading went, and what the loaded data costs: one row of the load table. */
export interface LoadReport {
  peer: PeerName;
  reads: number;
  /** Wall time of loading, including index builds and statistics where the peer has them. */
  loadMs: number;
  msPerMillionReads: number;
  /** The size figure that stands for "bytes per read" for this peer, and what it measures. */
  bytes: number;
  bytesPerRead: number;
  bytesWhat: string;
  /** Further figures (phase times in ms, other sizes in bytes), named. */
  details: Record<string, number>;
}

export function loadReport(peer: PeerName, reads: number, loadMs: number, bytes: number, bytesWhat: string,
  details: Record<string, number>): LoadReport {
  return {
    peer, reads, loadMs, msPerMillionReads: reads > 0 ? (loadMs * 1e6) / reads : 0,
    bytes, bytesPerRead: reads > 0 ? bytes / reads : 0, bytesWhat, details,
  };
}
