// jsvectormap ships no types; the dashboard uses only the constructor, `destroy` and the series update.
declare module 'jsvectormap' {
  export interface JsVectorMapInstance {
    destroy(): void;
    updateSize(): void;
    series: { regions: { setValues(values: Record<string, number>): void; clear(): void }[] };
  }
  const JsVectorMap: new (options: Record<string, unknown>) => JsVectorMapInstance;
  export default JsVectorMap;
}
declare module 'jsvectormap/dist/maps/world.js';
