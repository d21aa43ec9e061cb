/**
 * What the pages ask the map to show. Pages write these signals; map/map-view.tsx (the one Leaflet map,
 * kept across pages) draws them. One direction only: the map never reaches into a page.
 */
import { signal } from '@preact/signals';

/** A search area, in the API's shapes (API.md "Search"): `near`, `bbox`, or `polygon` of [lon, lat]. */
export type Area =
  | { kind: 'near'; lat: number; lon: number; radiusM: number }
  | { kind: 'bbox'; bbox: [number, number, number, number] }
  | { kind: 'polygon'; ring: Array<[number, number]> };

export interface MapPoint {
  /** The read id (unique per point). */
  id: string;
  lat: number;
  lon: number;
  plate: string;
  ts: string;
  camera: string;
}

/** Hits to draw, clustered. */
export const mapPoints = signal<MapPoint[]>([]);
/** A path to draw through the points in this order (the vehicle view, a cloned pair). */
export const mapTrack = signal<Array<[number, number]>>([]);
/** Areas to outline (the analytics sites). */
export const mapSites = signal<Area[]>([]);
/** Where to pan to next (a new alert); the map clears it once done. */
export const mapFocus = signal<{ lat: number; lon: number; label: string } | null>(null);
/** Drawing tool in use on the map. */
export const drawMode = signal<'none' | 'near' | 'bbox' | 'polygon'>('none');
/** The area drawn for the search or analytics form. */
export const drawnArea = signal<Area | null>(null);
/** Radius for `near` drawing, metres. */
export const drawRadiusM = signal(500);
/** Called with a point's id when the user opens it on the map. */
export const onPointOpen = signal<((p: MapPoint) => void) | null>(null);
/** Cameras seen in answers this session: their place (the camera layer of the offline basemap). */
export const knownCameras = signal<Map<string, { lat: number; lon: number }>>(new Map());
/** Asks the map for its current view as a box (keyboard alternative to drawing). */
export const viewBounds = signal<[number, number, number, number] | null>(null);

export function learnCameras(hits: ReadonlyArray<{ camera: string; lat: number; lon: number }>): void {
  let changed = false;
  const cams = knownCameras.value;
  for (const h of hits) {
    if (!cams.has(h.camera)) {
      cams.set(h.camera, { lat: h.lat, lon: h.lon });
      changed = true;
    }
  }
  if (changed) knownCameras.value = new Map(cams);
}

/** The search body's area fields for an Area. */
export function areaFields(area: Area | null): Record<string, unknown> {
  if (!area) return {};
  if (area.kind === 'near') return { near: { lat: area.lat, lon: area.lon, radiusM: area.radiusM } };
  if (area.kind === 'bbox') return { bbox: area.bbox };
  return { polygon: area.ring };
}

export function describeArea(area: Area | null): string {
  if (!area) return 'none';
  if (area.kind === 'near') return `${Math.round(area.radiusM)} m around ${area.lat.toFixed(5)}, ${area.lon.toFixed(5)}`;
  if (area.kind === 'bbox') return `box ${area.bbox.map((v) => v.toFixed(4)).join(', ')}`;
  return `polygon of ${area.ring.length} points`;
}
