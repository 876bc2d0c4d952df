// Passkeys in Chromium against the real binary, with a virtual authenticator (DevTools protocol
// WebAuthn domain: CTAP2, internal, resident keys, user verification): add a passkey on the
// account page, sign out, sign in with the passkey alone and land on the dashboard; rename it; use
// it as the second step after the password; delete it, and the next passkey sign-in is refused.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, startServer } from './harness.mjs';

const EMAIL = 'owner@example.com';
const PASSWORD = 'correct horse battery';

let hk;
let base;
let browser;
let page;
let cdp;
let authenticatorId;
const pageErrors = [];

async function signOut() {
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL(/\/login/);
}

describe('passkeys in the dashboard', { concurrency: false }, () => {
  before(async () => {
    hk = await startServer({ site: 'example.com', events: 100, days: 2 });
    // WebAuthn needs a domain: without --public-url the relying party is localhost (any port).
    base = hk.base.replace('127.0.0.1', 'localhost');
    browser = await launchBrowser();
    page = await (await browser.newContext()).newPage();
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('dialog', (d) => d.accept());
    cdp = await page.context().newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    ({ authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: {
        protocol: 'ctap2',
        transport: 'internal',
        hasResidentKey: true,
        hasUserVerification: true,
        isUserVerified: true,
        automaticPresenceSimulation: true,
      },
    }));
  });

  after(async () => {
    await browser?.close();
    await hk?.stop();
    assert.deepEqual(pageErrors, [], 'no uncaught errors in the SPA');
  });

  it('adds a passkey, then it alone signs in', async () => {
    await page.goto(`${base}/setup`);
    await page.fill('#email', EMAIL);
    await page.fill('#password', PASSWORD);
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.waitForURL(/\/sites\/new/);

    await page.goto(`${base}/account`);
    await page.getByTestId('passkeys-empty').waitFor();
    await page.getByTestId('passkey-name').fill('Laptop');
    await page.getByTestId('add-passkey').click();
    await page.getByTestId('passkey-row').filter({ hasText: 'Laptop' }).waitFor();
    const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
    assert.equal(credentials.length, 1, 'the authenticator holds one credential');
    assert.equal(credentials[0].isResidentCredential, true, 'discoverable: no e-mail needed to find it');

    await signOut();
    await page.getByTestId('passkey-sign-in').click();
    await page.waitForURL(`${base}/`);
    const me = await page.evaluate(() => fetch('/api/me').then((r) => r.json()));
    assert.equal(me.email, EMAIL);
  });

  it('renames the passkey', async () => {
    await page.goto(`${base}/account`);
    await page.getByTestId('rename-passkey').click();
    await page.getByTestId('passkey-new-name').fill('Work laptop');
    await page.getByTestId('save-passkey-name').click();
    await page.getByTestId('passkey-row').filter({ hasText: 'Work laptop' }).waitFor();
  });

  it('after the password, the passkey is the second step', async () => {
    await signOut();
    await page.fill('#email', EMAIL);
    await page.fill('#password', PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByTestId('second-step').waitFor();
    assert.equal(await page.locator('#code').count(), 0, 'no code to type: the account has no authenticator app');
    await page.getByTestId('second-step-passkey').click();
    await page.waitForURL(`${base}/`);
    const me = await page.evaluate(() => fetch('/api/me').then((r) => r.json()));
    assert.equal(me.email, EMAIL);
  });

  it('a deleted passkey no longer signs in', async () => {
    await page.goto(`${base}/account`);
    await page.getByTestId('delete-passkey').click();
    await page.getByTestId('passkeys-empty').waitFor();
    await signOut();
    await page.getByTestId('passkey-sign-in').click();
    await page.getByTestId('error').waitFor();
    assert.match(await page.getByTestId('error').innerText(), /not accepted/);
    assert.match(page.url(), /\/login/, 'still signed out');
    const me = await page.evaluate(() => fetch('/api/me').then((r) => r.status));
    assert.equal(me, 401);
  });
});
