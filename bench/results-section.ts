/**
 * bench/RESULTS.md is shared by several benchmarks; each owns one section between its own HTML comment
 * markers (`<!-- name:begin -->` … `<!-- name:end -->`) and rewrites only that, so a run of one
 * benchmark leaves the others' figures as they are.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

export interface SectionMarkers {
  begin: string;
  end: string;
}

export function sectionMarkers(name: string): SectionMarkers {
  return { begin: `<!-- ${name}:begin -->`, end: `<!-- ${name}:end -->` };
}

/** Replaces the text between the markers (markers included) by `section`, or appends it; other text is kept. */
export function writeResultsSection(file: string, markers: SectionMarkers, section: string): void {
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmark results\n';
  const begin = text.indexOf(markers.begin);
  const end = text.indexOf(markers.end);
  let next: string;
  if (begin >= 0 && end > begin) next = text.slice(0, begin) + section + text.slice(end + markers.end.length);
  else next = text.replace(/\n*$/, '\n\n') + section + '\n';
  writeFileSync(file, next);
}
