/*
 * hk.js - the HitKeep-compatible page tracker.
 *
 * Budget: <= 1100 bytes gzip -9 once minified (scripts/size.mjs fails the build above that), so
 * the code below is written for the minifier: short, few distinct identifiers, no helpers
 * beyond what is needed. Rules: never throw into the page; no cookies, no storage writes, no ids.
 *
 * Wire format (a subset of HitKeep's; the server parses utm_* from `path` and reads the UA header):
 *   POST <base>/ingest        {path, sc_w, lang, referrer}
 *   POST <base>/ingest/event  {n, p, u, r, revenue}
 *   POST <base>/ingest/event  {n: "engagement", u, sd, e}  (Plausible's engagement event: deepest
 *     scroll in percent of the page and visible milliseconds since the last report; sent when the
 *     page is hidden or left and before an SPA navigation)
 * (HitKeep's sc_h, vp_w and tsrc are left out: the server does not need them; an empty referrer is none.)
 * <base> is the directory of this script's own URL, so sub-path installs work.
 * Bodies are strings, so the browser sends them as text/plain: a CORS "simple" request, no preflight.
 */

interface HkNavigator extends Navigator {
  globalPrivacyControl?: boolean;
}
type Props = Record<string, string>;
declare global {
  interface Window {
    hk: { event(name: string, props?: Props, options?: { revenue?: object }): void; notFound(): void };
  }
}

const doc = document;
const loc = location;
const nav = navigator as HkNavigator;
const script = doc.currentScript as HTMLScriptElement | null;
const base = script && script.src;

// An option is on when its attribute is present (HitKeep's snippets write ="true").
// Only called when `script` is set (`base` is truthy).
const flag = (name: string): boolean => script!.hasAttribute('data-' + name);

const withHash = base && flag('hash');
let off = !base;

// The page: pathname [+ hash when data-hash is set].
const page = (): string => loc.pathname + (withHash ? loc.hash : '');

const post = (endpoint: string, body: object): void => {
  if (!off)
    try {
      const url = new URL(endpoint, base!);
      const data = JSON.stringify(body);
      // A hidden page may be going away: a beacon is the request that is sure to leave then.
      // Otherwise fetch with keepalive (it too outlives a navigation) and no cookies.
      // A rejection (offline, blocked) is swallowed by `page`: any function that cannot throw.
      if (!(doc.hidden && nav.sendBeacon(url, data)))
        fetch(url, { method: 'POST', body: data, keepalive: 1 as any }).catch(page);
    } catch {
      // Never let the tracker break the page (e.g. circular props passed to hk.event).
    }
};

// `o` adds fields: `{revenue: {amount, currency}}` from hk.event(name, props, {revenue}).
const event = (n: string, p?: Props, o?: object): void =>
  post('ingest/event', { n, p, u: page(), r: doc.referrer, ...o });

// Engagement of the current page view, sampled every second: engaged (visible) milliseconds not
// yet reported, and the deepest bottom edge seen as a share of the page. Focus is not checked
// (Plausible's script also stops the clock on blur): it did not fit the 1,100 byte budget.
let engaged = 0;
let deepest = 0;
// Reports the depth and the engaged time since the last report (Plausible's engagement event):
// when a sample finds the page hidden, when it is left (pagehide), and before an SPA navigation.
const report = (): void => {
  if (engaged) {
    post('ingest/event', { n: 'engagement', u: last, sd: deepest * 100, e: engaged });
    engaged = 0;
  }
};

// The same page twice in a row counts once (a change of the query string alone is no new page).
let last: string | undefined;
const pageview = (): void => {
  if (last != page()) {
    // An SPA navigation ends the previous page view: report its engagement first.
    report();
    last = page();
    deepest = 0;
    post('ingest', {
      path: loc.pathname + loc.search + (withHash ? loc.hash : ''),
      sc_w: screen.width,
      lang: nav.language,
      referrer: doc.referrer,
    });
  }
};

// Window listeners, capture phase: the page cannot stop them from running.
const on = (type: string, fn: (e: any) => void): void => addEventListener(type, fn, 1 as any);

off =
  off ||
  nav.globalPrivacyControl ||
  // `== 1`: doNotTrack is the string "1" when set.
  (nav.doNotTrack == (1 as any) && !flag('collect-dnt')) ||
  // An empty hostname is file:, about: and the like.
  (!flag('allow-local') && (nav.webdriver || /^(localhost|127\.|$)/.test(loc.hostname)));
try {
  // Any value counts (HitKeep's dashboard writes "true" and removes the key to undo).
  off = off || (localStorage.hk_ignore as any);
} catch {
  // localStorage may throw (storage disabled, sandboxed iframe): the signals above still hold.
}

window.hk = { event, notFound: () => event('404', { path: loc.pathname }) };

if (!off) {
  if (!flag('disable-spa-tracking')) {
    // Both history methods: a router may redirect with replaceState. Updates that keep the
    // path (state, query string) are no new page: `pageview` skips a repeated path.
    for (const k of ['pushState', 'replaceState'] as const) {
      const f = history[k];
      history[k] = function (this: History, ...a: [any, string, string?]) {
        f.apply(this, a);
        pageview();
      };
    }
    // Also covers hash changes (data-hash): a fragment navigation fires popstate too.
    on('popstate', pageview);
  }

  // Clicks: a tagged element (or ancestor) sends its event; otherwise a link to a file is a
  // download, a link to another host an outbound click. Nothing here prevents the default
  // action: links still navigate, and keepalive carries the hit past the navigation.
  // `?.`: a click dispatched at document or window has no closest(); skip it without throwing.
  on('click', (e: MouseEvent) => {
    const t = e.target as Element;
    const tagged = t.closest?.('[data-hk-event]');
    if (tagged) {
      const p: Props = {};
      for (const name of tagged.getAttributeNames())
        if (name.startsWith('data-hk-prop-')) p[name.slice(13)] = tagged.getAttribute(name)!;
      return event(tagged.getAttribute('data-hk-event')!, p);
    }
    const a = t.closest?.('a');
    const host = a && a.hostname; // empty for no href, mailto:, tel:, javascript: and the like
    if (host) {
      const file = a.pathname;
      const ext = /\.(pdf|zip|dmg|exe|csv|(xls|doc|ppt)x|mp[34]|gz|tar|7z|rar|txt)$/i.exec(file);
      if (ext) {
        if (!flag('disable-download-tracking'))
          event('file_download', { file_host: host, file_path: file, file_ext: ext[1] });
      } else if (host != loc.hostname && !flag('disable-outbound-tracking'))
        event('outbound_click', { target_host: host, target_path: file });
    }
  });

  if (!flag('disable-form-tracking')) on('submit', () => event('form_submit'));

  on('pagehide', report);
  setInterval(() => {
    deepest = Math.max(deepest, (scrollY + innerHeight) / doc.body.scrollHeight);
    if (!doc.hidden) engaged += 1e3;
    else report();
  }, 1e3);

  // data-web-vitals, or HitKeep's data-enable-web-vitals (the names, joined, contain it).
  if (/web-vitals/.test(script!.getAttributeNames() as any))
    script!.after(Object.assign(doc.createElement('script'), { src: new URL('hk-vitals.js', base!) }));

  pageview();
}

export {};
