/**
 * The offline basemap: US state and county outlines from us-atlas (counties-10m TopoJSON, shipped with the
 * console as a hashed file and fetched once), drawn on a canvas renderer so panning over ~3,200 county
 * polygons stays cheap. Counties only from zoom 7, where they help; states always.
 */
import L from 'leaflet';
import { feature, mesh } from 'topojson-client';
import type { GeometryCollection, Topology } from 'topojson-specification';

const kCountiesFromZoom = 7;

// Leaflet hands a GeoJSON layer's options to each path it makes (so `renderer` works); its types omit it.
function canvasOptions(renderer: L.Renderer, style: L.PathOptions): L.GeoJSONOptions {
  return { renderer, interactive: false, style } as L.GeoJSONOptions;
}

export async function addOutlines(map: L.Map, atlasUrl: string): Promise<void> {
  const res = await fetch(atlasUrl);
  if (!res.ok) throw new Error(`outlines: HTTP ${res.status}`);
  const topo = (await res.json()) as Topology<{ states: GeometryCollection; counties: GeometryCollection; nation: GeometryCollection }>;
  const renderer = L.canvas({ padding: 0.2 });
  const nation = feature(topo, topo.objects.nation);
  L.geoJSON(nation as GeoJSON.FeatureCollection, canvasOptions(renderer, { color: '#6b7a8a', weight: 1, fill: true, fillColor: '#f4f1ea', fillOpacity: 1 })).addTo(map);
  const counties = L.geoJSON(mesh(topo, topo.objects.counties, (a, b) => a !== b) as GeoJSON.MultiLineString, canvasOptions(renderer, { color: '#b8c0c8', weight: 0.6 }));
  L.geoJSON(mesh(topo, topo.objects.states, (a, b) => a !== b) as GeoJSON.MultiLineString, canvasOptions(renderer, { color: '#7d8b99', weight: 1.2 })).addTo(map);
  const sync = (): void => {
    if (map.getZoom() >= kCountiesFromZoom) counties.addTo(map);
    else counties.remove();
  };
  map.on('zoomend', sync);
  sync();
}
