/**
 * The map: one Leaflet map for the whole session (region "Map"), drawing what map/map-state.ts holds.
 *
 *   tiles (optional, `serve --tile-url`)      ─ when none are configured or they fail: "basemap offline" badge
 *   state + county outlines (canvas)          ─ always: the offline basemap (map/basemap.ts)
 *   cameras seen this session (canvas dots)
 *   sites / drawn area / track (SVG)
 *   hits, clustered (leaflet.markercluster; DOM markers only for what is unclustered on screen)
 *
 * No WebGL. Markers are small div icons (CSS dots), focusable, opened with Enter as with a click.
 */
import { effect } from '@preact/signals';
import { useEffect, useRef } from 'preact/hooks';
import { signal } from '@preact/signals';
import L from 'leaflet';
import 'leaflet.markercluster';
import { addOutlines } from './basemap';
import {
  drawMode, drawnArea, drawRadiusM, knownCameras, mapFocus, mapPoints, mapSites, mapTrack, onPointOpen, type Area,
} from './map-state';

// the contiguous US, the atlas's extent: where the map opens before any hit is shown
const kUsBounds: L.LatLngBoundsExpression = [[24.5, -125], [49.5, -66.9]];

const offline = signal(true);
/** Markers still being placed (clustering 10,000 runs in chunks, so the page stays responsive). */
const placing = signal(false);
const outlinesFailed = signal(false);
let theMap: L.Map | null = null;
let polygonDraft: Array<[number, number]> = [];
let polygonFinish: (() => void) | null = null;

/** The current view as a bbox `[minLon, minLat, maxLon, maxLat]` (keyboard alternative to drawing). */
export function mapViewBox(): [number, number, number, number] | null {
  if (!theMap) return null;
  const b = theMap.getBounds();
  return [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map((v) => Math.round(v * 1e6) / 1e6) as [number, number, number, number];
}

/** Closes the polygon being drawn (the "Finish polygon" button; a double click does the same). */
export function finishPolygon(): void {
  polygonFinish?.();
}

function meta(name: string): string {
  return document.querySelector<HTMLMetaElement>(`meta[name="${name}"]`)?.content ?? '';
}

function areaLayer(area: Area, color: string): L.Layer {
  const style = { color, weight: 2, fillOpacity: 0.08 };
  if (area.kind === 'near') return L.circle([area.lat, area.lon], { ...style, radius: area.radiusM });
  if (area.kind === 'bbox') {
    const [w, s, e, n] = area.bbox;
    return L.rectangle([[s, w], [n, e]], style);
  }
  return L.polygon(area.ring.map(([lon, lat]) => [lat, lon] as [number, number]), style);
}

const dotIcon = L.divIcon({ className: 'hit-marker', iconSize: [12, 12] });
const alertIcon = L.divIcon({ className: 'alert-marker', iconSize: [22, 22] });

function setUpDrawing(map: L.Map, layer: L.LayerGroup): void {
  let corner: L.LatLng | null = null;
  const draft = L.polyline([], { color: '#a33', dashArray: '4 4' }).addTo(layer);
  polygonFinish = () => {
    if (polygonDraft.length >= 3) drawnArea.value = { kind: 'polygon', ring: [...polygonDraft, polygonDraft[0]!] };
    polygonDraft = [];
    draft.setLatLngs([]);
    drawMode.value = 'none';
  };
  map.on('click', (e: L.LeafletMouseEvent) => {
    const { lat, lng } = e.latlng;
    const mode = drawMode.value;
    if (mode === 'near') {
      drawnArea.value = { kind: 'near', lat: round(lat), lon: round(lng), radiusM: drawRadiusM.value };
      drawMode.value = 'none';
    } else if (mode === 'bbox') {
      if (!corner) {
        corner = e.latlng;
        draft.setLatLngs([corner]);
        return;
      }
      const b = L.latLngBounds(corner, e.latlng);
      drawnArea.value = { kind: 'bbox', bbox: [round(b.getWest()), round(b.getSouth()), round(b.getEast()), round(b.getNorth())] };
      corner = null;
      draft.setLatLngs([]);
      drawMode.value = 'none';
    } else if (mode === 'polygon') {
      polygonDraft.push([round(lng), round(lat)]);
      draft.setLatLngs(polygonDraft.map(([lon, la]) => [la, lon] as [number, number]));
    }
  });
  map.on('dblclick', () => {
    if (drawMode.value === 'polygon') polygonFinish?.();
  });
  effect(() => {
    const mode = drawMode.value;
    if (mode === 'none') {
      corner = null;
      map.doubleClickZoom.enable();
      map.getContainer().classList.remove('drawing');
    } else {
      map.doubleClickZoom.disable();
      map.getContainer().classList.add('drawing');
    }
  });
}

function hitCount(n: number): string {
  return `${n.toLocaleString('en-US')} ${n === 1 ? 'hit' : 'hits'}`;
}

function round(v: number): number {
  return Math.round(v * 1e6) / 1e6;
}

export function MapView({ hidden }: { hidden: boolean }) {
  const host = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const map = L.map(host.current!, { maxZoom: 18, zoomControl: true, attributionControl: false, keyboard: true, minZoom: 3 });
    theMap = map;
    map.fitBounds(kUsBounds);
    const tiles = meta('platesearch-tiles');
    if (tiles) {
      let loaded = 0;
      let failed = 0;
      const layer = L.tileLayer(tiles, { maxZoom: 19, crossOrigin: false });
      layer.on('tileload', () => {
        loaded++;
        offline.value = false;
      });
      layer.on('tileerror', () => {
        failed++;
        if (loaded === 0 || failed > loaded) offline.value = true;
      });
      layer.addTo(map);
    }
    addOutlines(map, meta('platesearch-atlas')).catch(() => {
      outlinesFailed.value = true;
    });

    const cameras = L.layerGroup().addTo(map);
    const sites = L.layerGroup().addTo(map);
    const drawn = L.layerGroup().addTo(map);
    const track = L.layerGroup().addTo(map);
    const focus = L.layerGroup().addTo(map);
    const clusters = L.markerClusterGroup({
      chunkedLoading: true, showCoverageOnHover: false, maxClusterRadius: 60,
      chunkProgress: (processed: number, total: number) => {
        placing.value = processed < total;
      },
    }).addTo(map);
    const canvas = L.canvas({ padding: 0.2 });
    setUpDrawing(map, drawn);

    const disposers = [
      effect(() => {
        cameras.clearLayers();
        for (const [camera, p] of knownCameras.value) {
          L.circleMarker([p.lat, p.lon], { renderer: canvas, radius: 3, color: '#444', weight: 1, fillColor: '#fff', fillOpacity: 1, interactive: false })
            .bindTooltip(camera).addTo(cameras);
        }
      }),
      effect(() => {
        const points = mapPoints.value;
        clusters.clearLayers();
        if (points.length === 0) return;
        // the view first, then the markers: clustering runs in chunks, and a view reset in the middle of it
        // left markers placed for the old view
        const bounds = L.latLngBounds(points.map((p) => [p.lat, p.lon] as [number, number]));
        map.fitBounds(bounds.pad(0.1), { maxZoom: 15, animate: false });
        const markers = points.map((p) => {
          const m = L.marker([p.lat, p.lon], { icon: dotIcon, title: `${p.plate} at ${p.camera}, ${p.ts}`, keyboard: true });
          m.on('click', () => onPointOpen.value?.(p));
          return m;
        });
        placing.value = true;
        clusters.addLayers(markers);
      }),
      effect(() => {
        track.clearLayers();
        const line = mapTrack.value;
        if (line.length > 1) L.polyline(line, { color: '#1f5fa8', weight: 2, opacity: 0.7 }).addTo(track);
      }),
      effect(() => {
        sites.clearLayers();
        mapSites.value.forEach((a, i) => areaLayer(a, '#7a3ea8').bindTooltip(`Site ${i + 1}`, { permanent: true }).addTo(sites));
      }),
      effect(() => {
        const area = drawnArea.value;
        drawn.eachLayer((l) => {
          if (!(l instanceof L.Polyline) || l instanceof L.Polygon) drawn.removeLayer(l);
        });
        if (area) areaLayer(area, '#a33').addTo(drawn);
      }),
      effect(() => {
        const f = mapFocus.value;
        if (!f) return;
        focus.clearLayers();
        L.marker([f.lat, f.lon], { icon: alertIcon, title: f.label, keyboard: false }).addTo(focus);
        map.setView([f.lat, f.lon], Math.max(map.getZoom(), 13));
      }),
    ];
    return () => {
      for (const d of disposers) d();
      map.remove();
      theMap = null;
    };
  }, []);

  useEffect(() => {
    if (!hidden) theMap?.invalidateSize();
  }, [hidden]);

  return (
    <section class={hidden ? 'map-pane hidden' : 'map-pane'} role="region" aria-label="Map">
      <div class="map-host" ref={host} />
      {offline.value && <span class="badge offline-badge">basemap offline</span>}
      {outlinesFailed.value && <span class="badge offline-badge second">outlines unavailable</span>}
      <p class="map-status" aria-live="polite">
        {mapPoints.value.length === 0 ? 'No hits on the map' : placing.value ? `Placing ${hitCount(mapPoints.value.length)}…` : `${hitCount(mapPoints.value.length)} on the map`}
        {drawMode.value !== 'none' && ` — drawing ${drawMode.value === 'near' ? 'a radius: click the centre' : drawMode.value === 'bbox' ? 'a box: click two corners' : 'a polygon: click the corners, double-click to finish'}`}
      </p>
    </section>
  );
}
