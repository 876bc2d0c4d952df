/*
 * hk-vitals.js - Core Web Vitals for HitKeep. Not meant to be included by hand: hk.js injects it
 * (after its own privacy checks) when its script tag has `data-web-vitals` (or HitKeep's
 * `data-enable-web-vitals`).
 *
 *   POST <base>/ingest/web-vitals  {"n":"LCP","v":1234.5,"p":"/path","nt":"navigate","mid":"v5-..."}
 *
 * <base> is the directory of this script's URL. Bodies are strings (text/plain, no CORS preflight).
 */
// The per-metric ES modules (the package's main entry is a Babel-transpiled bundle with helpers).
import { onCLS } from 'web-vitals/onCLS.js';
import { onFCP } from 'web-vitals/onFCP.js';
import { onINP } from 'web-vitals/onINP.js';
import { onLCP } from 'web-vitals/onLCP.js';
import { onTTFB } from 'web-vitals/onTTFB.js';
import type { MetricType } from 'web-vitals';

try {
  const src = (document.currentScript as HTMLScriptElement).src;
  const url = new URL('ingest/web-vitals', src).href;
  // The page the metrics belong to: the one that loaded (metrics such as CLS and INP are reported
  // when the page is hidden, possibly after SPA navigations).
  const loaded = location.pathname;
  const send = (m: MetricType): void => {
    try {
      const body = JSON.stringify({
        n: m.name,
        v: m.value,
        p: m.navigationURL ? new URL(m.navigationURL).pathname : loaded,
        nt: m.navigationType,
        mid: m.id,
      });
      // Most metrics are final only when the page is hidden: a beacon survives that.
      if (!navigator.sendBeacon?.(url, body)) {
        fetch(url, { method: 'POST', body, keepalive: true }).catch(() => {});
      }
    } catch {
      // Never let the tracker break the page.
    }
  };
  for (const on of [onCLS, onFCP, onINP, onLCP, onTTFB]) on(send);
} catch {
  // Never let the tracker break the page.
}
