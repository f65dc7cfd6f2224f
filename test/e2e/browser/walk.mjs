// Walks the demo in headless Chromium, the way a user does:
// sign in at the OP, see "signed in as <user>", sign out at the provider,
// come back to the app: the session is gone.
//
//   node walk.mjs APP_URL [--user NAME] [--out DIR] [--status]
//
// APP_URL is the demo app's URL through httpd (http://127.0.0.1:PORT/app/).
// --status also opens the status page linked from the app page.
// On failure it writes a screenshot (and the page's HTML) into --out (default:
// a new temp dir), prints "screenshot: PATH", and exits 1.
// Environment: CHROMIUM (default /usr/bin/chromium).
import { check, currentStep, failureShot, launch, outDir, signIn, step } from './lib.mjs';

function parseArgs(argv) {
  const args = { url: null, user: 'alice', out: null, status: false };
  for (let i = 0; i < argv.length; i += 1) {
    const a = argv[i];
    if (a === '--user') args.user = argv[++i];
    else if (a === '--out') args.out = argv[++i];
    else if (a === '--status') args.status = true;
    else if (!args.url) args.url = a;
    else throw new Error(`unexpected argument ${a}`);
  }
  if (!args.url) throw new Error('usage: node walk.mjs APP_URL [--user NAME] [--out DIR] [--status]');
  return args;
}

const args = parseArgs(process.argv.slice(2));
const out = outDir(args.out);
const browser = await launch();
const context = await browser.newContext();
const page = await context.newPage();
page.setDefaultTimeout(15000);
let rc = 0;
try {
  const appCookie = async () => (await context.cookies(args.url))
    .find((c) => c.name === 'DEMOSESSION');

  step(`open ${args.url}`);
  await page.goto(args.url);
  check((await page.textContent('#state')).includes('not signed in'), 'the app says: not signed in');

  step('sign in at the OP');
  const { who, sid } = await signIn(page, args.user);
  check(who === args.user, `the app says: signed in as ${who}`);
  check(sid && sid !== '(none)', `with the OP session's sid ${sid}`);
  check(!!(await appCookie()), 'the browser holds DEMOSESSION');

  step('use the app');
  await page.reload();
  check((await page.textContent('#state')).includes(`signed in as ${args.user}`), 'still signed in after a reload');

  step('sign out at the provider');
  await page.click('#signout');
  await page.waitForSelector('button[name="logout"][value="yes"]');
  await page.click('button[name="logout"][value="yes"]');

  step('back at the app');
  await page.waitForURL((u) => u.toString().startsWith(args.url));
  await page.waitForSelector('#state');
  const state = await page.textContent('#state');
  check(state.includes('not signed in'), `the app says: ${state.trim()}`);
  check(!(await appCookie()), 'the browser no longer holds DEMOSESSION');
  await page.goto(args.url);
  check((await page.textContent('#state')).includes('not signed in'), 'session gone: still not signed in on a fresh visit');

  if (args.status) {
    step('the status page');
    await page.goto(args.url);
    await page.click('#status');
    const body = await page.textContent('body');
    const accepted = /^bcl_tokens_accepted_total (\d+)/m.exec(body);
    check(accepted && Number(accepted[1]) >= 1, `the status page counts accepted logout tokens (${accepted ? accepted[1] : 'none'})`);
    check(/^bcl_sessions_refused_total\{reason="revoked",[^}]*\} [1-9]/m.test(body), 'the status page counts the refused session');
  }
  console.log('browser walk: session gone after the OP logout');
} catch (e) {
  rc = 1;
  await failureShot(page, out);
  console.log(`browser walk FAILED at step ${currentStep()}: ${e.message}`);
} finally {
  await browser.close();
}
process.exit(rc);
