// Single sign-on in Chromium against the real binary and a real OpenID Connect provider
// (node-oidc-provider from tests/oidc on a loopback port): "Sign in with SSO" on the login page,
// the provider's sign-in and consent forms, and back on the dashboard, signed in as a new account.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, launchBrowser, startServer } from './harness.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const PROVIDER = resolve(here, '../../tests/oidc/provider.mjs');

/** Starts the test provider; resolves with its issuer and process. */
async function startProvider(redirectUri) {
  const port = await freePort();
  const proc = spawn(process.execPath, [PROVIDER, String(port), redirectUri, 'hitkeep', 'e2e-secret'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const issuer = await new Promise((ok, fail) => {
    proc.stdout.on('data', (d) => {
      const m = String(d).match(/ready (\S+)/);
      if (m) ok(m[1]);
    });
    proc.on('exit', (code) => fail(new Error(`the provider exited (${code}); run npm ci --prefix tests/oidc`)));
  });
  return { issuer, proc };
}

let hk;
let idp;
let browser;

describe('single sign-on in the dashboard', { concurrency: false }, () => {
  before(async () => {
    const port = await freePort();
    const publicUrl = `http://127.0.0.1:${port}`;
    idp = await startProvider(`${publicUrl}/api/auth/sso/callback`);
    const args = ['--public-url', publicUrl, '--oidc-issuer', idp.issuer, '--oidc-client-id', 'hitkeep', '--oidc-client-secret', 'e2e-secret', '--oidc-allowed-domains', 'example.com'];
    hk = await startServer({ site: 'example.com', events: 100, days: 2, port, args });
    // The instance has its first user already: the login page, not setup, greets newcomers.
    const r = await fetch(`${hk.api}/api/setup`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'root@example.org', password: 'correct horse battery' }) });
    assert.equal(r.status, 201);
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await hk?.stop();
    idp?.proc.kill('SIGTERM');
  });

  it('"Sign in with SSO" signs in at the provider and lands signed in on the dashboard', async () => {
    const page = await (await browser.newContext()).newPage();
    await page.goto(`${hk.base}/login`);
    await page.getByTestId('sso-button').click();
    await page.waitForURL(/\/interaction\//);
    await page.fill('input[name=login]', 'ada@example.com');
    await page.fill('input[name=password]', 'any password');
    await page.getByRole('button', { name: 'Sign-in' }).click();
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.waitForURL((url) => url.pathname === '/' || url.pathname.startsWith('/sites'));
    const me = await page.evaluate(() => fetch('/api/me').then((r) => r.json()));
    assert.equal(me.email, 'ada@example.com', 'a new account for an allowed domain');
    assert.deepEqual(me.sites, [], 'no site access until granted');
  });

  it('a person of another domain is sent back to the login page with the reason', async () => {
    const page = await (await browser.newContext()).newPage();
    await page.goto(`${hk.base}/login`);
    await page.getByTestId('sso-button').click();
    await page.waitForURL(/\/interaction\//);
    await page.fill('input[name=login]', 'eve@elsewhere.test');
    await page.fill('input[name=password]', 'any password');
    await page.getByRole('button', { name: 'Sign-in' }).click();
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.waitForURL(/\/login\?sso_error=no_account/);
    await page.getByTestId('sso-error').waitFor();
  });
});
