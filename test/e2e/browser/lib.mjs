// What the browser walks share: Debian's Chromium, numbered steps and
// checks, the OP's development sign-in, a screenshot on failure.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

export function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

let stepNo = 0;
const t0 = Date.now();
export function step(msg) {
  stepNo += 1;
  console.log(`step ${stepNo} (${((Date.now() - t0) / 1000).toFixed(1)} s): ${msg}`);
}
export function currentStep() {
  return stepNo;
}
export function check(ok, msg) {
  if (!ok) throw new Error(`check failed: ${msg}`);
  console.log(`  ok ${msg}`);
}

// From the app's page ("not signed in", a #signin link) through the OP's
// development login and consent pages back to the app's "signed in as".
// Returns { who, sid } as the app shows them.
export async function signIn(page, user) {
  await page.click('#signin');
  await page.waitForSelector('input[name="login"]');
  await page.fill('input[name="login"]', user);
  await page.fill('input[name="password"]', 'any-password');
  await page.click('button[type="submit"]');
  // consent ("Continue"): the development interaction's second page
  await page.waitForSelector('button[type="submit"]');
  await page.click('button[type="submit"]');
  await page.waitForSelector('#user');
  return { who: await page.textContent('#user'), sid: await page.textContent('#sid') };
}

export function outDir(dir) {
  return dir || mkdtempSync(join(tmpdir(), 'bcl-browser-'));
}

// A screenshot and the HTML of `page` into `out`; prints their paths.
export async function failureShot(page, out, name = 'failure') {
  try {
    const shot = join(out, `${name}.png`);
    await page.screenshot({ path: shot, fullPage: true });
    writeFileSync(join(out, `${name}.html`), await page.content());
    console.log(`screenshot: ${shot}`);
    console.log(`page: ${page.url()}`);
  } catch (e) {
    console.log(`screenshot failed: ${e.message}`);
  }
}
