// Two-factor sign-in in Chromium against the real binary: enrol an authenticator from the account
// page (the QR code and the key shown once), keep the recovery codes, sign out, and sign in with
// the password and then a code; a wrong code is refused on screen.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { launchBrowser, startServer } from './harness.mjs';

const EMAIL = 'owner@example.com';
const PASSWORD = 'correct horse battery';

/** RFC 4648 base32 without padding, as authenticator apps read the key. */
function base32(text) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of text.replace(/=+$/, '').toUpperCase()) bits += alphabet.indexOf(c).toString(2).padStart(5, '0');
  return Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
}

/** The RFC 6238 code (SHA-1, 6 digits, 30 s) an authenticator app shows at `secs`. */
function totp(key, secs = Date.now() / 1000) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(secs / 30)));
  const mac = createHmac('sha1', base32(key)).update(counter).digest();
  const offset = mac[mac.length - 1] & 15;
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, '0');
}

let hk;
let browser;
let page;
const pageErrors = [];

describe('two-factor sign-in in the dashboard', { concurrency: false }, () => {
  before(async () => {
    hk = await startServer({ site: 'example.com', events: 100, days: 2 });
    browser = await launchBrowser();
    page = await (await browser.newContext()).newPage();
    page.on('pageerror', (e) => pageErrors.push(e.message));
  });

  after(async () => {
    await browser?.close();
    await hk?.stop();
    assert.deepEqual(pageErrors, [], 'no uncaught errors in the SPA');
  });

  it('enrols an authenticator, then sign-in asks for its code', async () => {
    await page.goto(`${hk.base}/setup`);
    await page.fill('#email', EMAIL);
    await page.fill('#password', PASSWORD);
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.waitForURL(/\/sites\/new/);

    await page.goto(`${hk.base}/account`);
    await page.getByTestId('enrol-2fa').click();
    await page.locator('[data-testid=totp-qr] svg').waitFor();
    const key = (await page.getByTestId('totp-secret').innerText()).trim();
    assert.match(key, /^[A-Z2-7]{32}$/, 'the key to type in');
    await page.fill('#enrol-code', totp(key));
    await page.getByTestId('confirm-2fa').click();
    const codes = page.locator('[data-testid=recovery-codes] li');
    await codes.first().waitFor();
    assert.equal(await codes.count(), 10, 'ten recovery codes, shown once');
    await page.getByTestId('codes-saved').click();
    await page.getByText('Two-factor sign-in is on.').waitFor();

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(/\/login/);
    await page.fill('#email', EMAIL);
    await page.fill('#password', PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByTestId('second-step').waitFor();
    await page.fill('#code', '000000');
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.getByTestId('error').waitFor();
    assert.match(await page.getByTestId('error').innerText(), /wrong or was already used/);
    // The enrolling code's step is used: the next step's code (one step of drift is accepted).
    await page.fill('#code', totp(key, Date.now() / 1000 + 30));
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.waitForURL(`${hk.base}/`);
    const me = await page.evaluate(() => fetch('/api/me').then((r) => r.json()));
    assert.equal(me.email, EMAIL);
  });
});
