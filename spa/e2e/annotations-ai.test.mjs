// End-to-end tests of issue 19 in the dashboard, against the real binary: an annotation written
// through the API is drawn on the time chart (a marker on its day and the note below the chart),
// a site admin adds, edits and deletes one in the dashboard while a viewer only sees it, and the
// AI visibility page shows the crawler fetches the API reports.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import AxeBuilder from '@axe-core/playwright';
import { SHOTS, apiIn, eventually, launchBrowser, startServer } from './harness.mjs';

const SITE = 'example.com';
const GPTBOT = 'Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)';
const CLAUDEBOT = 'Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; ClaudeBot/1.0; +claudebot@anthropic.com)';

let hk;
let browser;
let page;
const pageErrors = [];

const api = apiIn;

/** A UTC date `days` before today, YYYY-MM-DD. */
const daysAgo = (days) => new Date(Date.now() - days * 86400000).toISOString().slice(0, 10);

describe('annotations and AI visibility in the dashboard', { concurrency: false }, () => {
  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    hk = await startServer({ site: SITE, events: 4000, days: 20 });
    browser = await launchBrowser();
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 1000 }, locale: 'en-US' });
    page = await ctx.newPage();
    page.on('pageerror', (e) => pageErrors.push(`${page.url()}: ${e.message}`));
    await page.goto(`${hk.base}/setup`);
    await api(page, 'POST', '/setup', { name: 'Ada Admin', email: 'admin@example.com', password: 'correct horse battery' });
  });

  after(async () => {
    await browser?.close();
    await hk?.stop();
    assert.deepEqual(pageErrors, [], 'no uncaught errors in the SPA');
  });

  it('an annotation appears on the time chart on its day', async () => {
    const date = daysAgo(3);
    await api(page, 'POST', `/sites/${SITE}/annotations`, { date, note: 'Launched v2' });
    await api(page, 'POST', `/sites/${SITE}/annotations`, { date: daysAgo(200), note: 'Long before the period' });
    await page.goto(`${hk.base}/sites/${SITE}?period=30d&interval=day`);
    const note = page.getByTestId('annotation');
    await note.first().waitFor();
    assert.equal(await note.count(), 1, 'only the period’s annotation is listed');
    assert.equal(await note.getAttribute('data-date'), date);
    assert.match(await note.innerText(), /Launched v2/);

    const pin = page.getByTestId('annotation-pin');
    await pin.waitFor();
    assert.equal(await pin.count(), 1);
    assert.match(await pin.getAttribute('title'), /Launched v2/);
    // The marker sits over the chart, right of its middle (3 days before the end of 30 days).
    const chart = await page.getByTestId('time-chart').boundingBox();
    const at = await pin.boundingBox();
    assert.ok(at.x > chart.x + chart.width / 2 && at.x < chart.x + chart.width, `marker at ${at.x} within ${JSON.stringify(chart)}`);
    await page.locator('.chart-card').screenshot({ path: join(SHOTS, 'chart-annotation.png') });

    // Deleted, it leaves the chart.
    const [a] = await api(page, 'GET', `/sites/${SITE}/annotations?date_range=30d`);
    await api(page, 'DELETE', `/sites/${SITE}/annotations/${a.id}`);
    await page.reload();
    await page.getByTestId('time-chart').locator('canvas').waitFor();
    await eventually(() => page.getByTestId('annotation-pin').count(), 0, 'no marker after the delete');
  });

  it('a site admin adds, edits and deletes an annotation from the chart; a viewer only sees it', async () => {
    await page.goto(`${hk.base}/sites/${SITE}?period=30d&interval=day`);
    await page.getByTestId('time-chart').locator('canvas').waitFor();
    const date = daysAgo(5);
    // Add: the button opens the dialog (today by default); the date is set to five days ago.
    await page.getByTestId('annotation-add').click();
    await page.getByTestId('annotation-date').fill(date);
    await page.getByTestId('annotation-note').fill('Pricing page redesign');
    await page.getByTestId('annotation-save').click();
    const note = page.getByTestId('annotation');
    await eventually(() => note.allInnerTexts().then((l) => l.map((x) => x.includes('Pricing page redesign'))), [true], 'the note is listed');
    assert.equal(await note.getAttribute('data-date'), date);
    await eventually(() => page.getByTestId('annotation-pin').count(), 1, 'one marker on the chart');
    let stored = await api(page, 'GET', `/sites/${SITE}/annotations?date_range=30d`);
    assert.deepEqual(stored.map((a) => [a.date, a.note]), [[date, 'Pricing page redesign']]);

    // Edit: reworded and moved a day.
    await page.getByTestId('annotation-edit').click();
    const moved = daysAgo(4);
    await page.getByTestId('annotation-date').fill(moved);
    await page.getByTestId('annotation-note').fill('Pricing page redesign (EU)');
    await page.getByTestId('annotation-save').click();
    await eventually(() => note.getAttribute('data-date'), moved, 'the note moved');
    stored = await api(page, 'GET', `/sites/${SITE}/annotations?date_range=30d`);
    assert.deepEqual(stored.map((a) => [a.date, a.note]), [[moved, 'Pricing page redesign (EU)']]);

    // A click on a day of the chart opens a new note on that day (closed again unsaved).
    const box = await page.getByTestId('time-chart').locator('.u-over').boundingBox();
    await page.mouse.move(box.x + box.width - 4, box.y + box.height / 2);
    await page.mouse.click(box.x + box.width - 4, box.y + box.height / 2);
    const clicked = await page.getByTestId('annotation-date').inputValue();
    assert.match(clicked, /^\d{4}-\d{2}-\d{2}$/);
    assert.ok(clicked >= daysAgo(1), `the last day of the chart, got ${clicked}`);
    await page.keyboard.press('Escape');
    await eventually(() => page.getByTestId('annotation-form').count(), 0, 'the dialog closed');
    assert.equal((await api(page, 'GET', `/sites/${SITE}/annotations?date_range=30d`)).length, 1, 'nothing saved');
    await page.locator('.chart-card').screenshot({ path: join(SHOTS, 'chart-annotation-edit.png') });

    // A viewer sees the note but no way to write one.
    await page.goto(`${hk.base}/sites/${SITE}/settings`);
    const members = page.locator('#members');
    await members.getByRole('textbox', { name: 'Email' }).fill('reader@example.com');
    await members.getByRole('button', { name: 'Create invitation' }).click();
    const url = (await members.getByTestId('invite-url').innerText()).trim();
    const other = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-US' });
    const viewer = await other.newPage();
    await viewer.goto(url.replace(/^https?:\/\/[^/]+/, hk.base));
    await viewer.fill('#password', 'a viewer password');
    await viewer.getByRole('button', { name: 'Accept and sign in' }).click();
    await viewer.waitForURL(`${hk.base}/sites/${SITE}`);
    await viewer.goto(`${hk.base}/sites/${SITE}?period=30d&interval=day`);
    await viewer.getByTestId('annotation').waitFor();
    assert.match(await viewer.getByTestId('annotation').innerText(), /Pricing page redesign \(EU\)/);
    assert.equal(await viewer.getByTestId('annotation-add').count(), 0, 'no add button for a viewer');
    assert.equal(await viewer.getByTestId('annotation-edit').count(), 0, 'no edit button for a viewer');
    assert.equal(await viewer.getByTestId('annotation-delete').count(), 0, 'no delete button for a viewer');
    await other.close();

    // Delete (confirmed): gone from the chart and from the API.
    await page.goto(`${hk.base}/sites/${SITE}?period=30d&interval=day`);
    await page.getByTestId('annotation').waitFor();
    page.once('dialog', (d) => d.accept());
    await page.getByTestId('annotation-delete').click();
    await eventually(() => page.getByTestId('annotation').count(), 0, 'the note is gone');
    await eventually(() => page.getByTestId('annotation-pin').count(), 0, 'the marker is gone');
    assert.deepEqual(await api(page, 'GET', `/sites/${SITE}/annotations?date_range=30d`), []);
  });

  it('the AI visibility page shows the crawler fetches the API reports', async () => {
    for (const [ua, path] of [[GPTBOT, '/pricing'], [GPTBOT, '/pricing'], [CLAUDEBOT, '/docs']]) {
      const r = await fetch(`${hk.api}/api/event`, {
        method: 'POST',
        headers: { 'user-agent': ua, 'content-type': 'text/plain' },
        body: JSON.stringify({ n: 'pageview', u: `https://${SITE}${path}`, d: SITE }),
      });
      assert.equal(r.status, 202);
    }
    let want;
    await eventually(async () => {
      want = await api(page, 'GET', `/sites/${SITE}/ai-visibility?date_range=day`);
      return want.crawlers.find((c) => c.crawler === 'GPTBot')?.fetches >= 2 && want.crawlers.some((c) => c.crawler === 'ClaudeBot');
    }, true, 'the fetches are stored');
    await page.goto(`${hk.base}/sites/${SITE}?period=day`);
    await page.getByTestId('nav-ai').click();
    await page.waitForURL(new RegExp(`/sites/${SITE.replace('.', '\\.')}/ai`));
    await eventually(() => page.getByTestId('ai-total').innerText(), want.total_fetches.toLocaleString('en-US'), 'total fetches as the API');
    const rows = await page.getByTestId('ai-crawlers').locator('tbody tr').allInnerTexts();
    const gpt = want.crawlers.find((c) => c.crawler === 'GPTBot');
    assert.ok(rows.some((r) => r.includes('GPTBot') && r.includes('OpenAI') && r.includes(String(gpt.fetches))), rows.join(' | '));
    assert.ok((await page.getByTestId('ai-pages').innerText()).includes('/pricing'));
    await page.screenshot({ path: join(SHOTS, 'ai-visibility.png'), fullPage: true });
    const r = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa']).analyze();
    const bad = r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    assert.equal(bad.length, 0, bad.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`).join('\n'));
  });
});
