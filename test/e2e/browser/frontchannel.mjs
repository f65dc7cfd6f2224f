// Front-channel logout in headless Chromium: a user signs in at the real OP,
// then the browser loads an OP's logout page that embeds the app's
// front-channel logout URL in a hidden iframe and, once the iframe has
// loaded, goes on to the app (test/e2e/op_logout_page.py serves that page).
//
//   node frontchannel.mjs APP_URL --cross PAGE_URL --same PAGE_URL
//        --sid-user NAME --cookie-user NAME [--cookie DEMOSESSION] [--out DIR]
//
// --cross is the logout page on another site than the app (localhost against
// 127.0.0.1): there the browser withholds the app's SameSite=Lax cookie from
// the iframe, as it does from Entra ID's sign-out page. --same is the page on
// the app's site at another origin (another port).
//
// 1. --sid-user: the page sends iss and sid; the browser sends no cookie to
//    the iframe, and the app's next request (the page's redirect) is refused
//    by the guard all the same.
// 2. --cookie-user: the page sends no sid. Cross-site the browser withholds
//    the cookie and nothing is revoked: the user is still signed in. Same-site
//    the cookie goes with the iframe and its session is revoked; a copy of the
//    cookie put back into the browser is refused by the guard.
// Prints "fc-result {json}" (the cookie values and the sid, for the test to
// replay from outside the browser) and "front-channel walk: ok"; on failure a
// screenshot path and exit status 1.
import { check, currentStep, failureShot, launch, outDir, signIn, step } from './lib.mjs';

function parseArgs(argv) {
  const args = { url: null, cross: null, same: null, sidUser: null, cookieUser: null, cookie: 'DEMOSESSION', out: null };
  const names = { '--cross': 'cross', '--same': 'same', '--sid-user': 'sidUser', '--cookie-user': 'cookieUser', '--cookie': 'cookie', '--out': 'out' };
  for (let i = 0; i < argv.length; i += 1) {
    if (names[argv[i]]) args[names[argv[i]]] = argv[++i];
    else if (!args.url) args.url = argv[i];
    else throw new Error(`unexpected argument ${argv[i]}`);
  }
  for (const k of ['url', 'cross', 'same', 'sidUser', 'cookieUser']) {
    if (!args[k]) throw new Error(`missing ${k}: node frontchannel.mjs APP_URL --cross URL --same URL --sid-user NAME --cookie-user NAME`);
  }
  return args;
}

const args = parseArgs(process.argv.slice(2));
const out = outDir(args.out);
const browser = await launch();

function logoutPage(base, sid) {
  const q = new URLSearchParams({ client_id: 'app', post_logout_redirect_uri: args.url });
  if (sid) q.set('sid', sid);
  return `${base}?${q}`;
}

async function appCookie(context) {
  return (await context.cookies(args.url)).find((c) => c.name === args.cookie);
}

function sends(headers, value) {
  return (headers.cookie || '').split(/;\s*/).includes(`${args.cookie}=${value}`);
}

// Loads the OP's logout page and waits for the iframe's answer and for the
// page's redirect to the app. Returns the iframe's response with the
// headers the browser sent, and the app's first answer with its headers.
async function throughLogoutPage(page, url) {
  const frame = page.waitForResponse((r) => r.url().includes('/frontchannel-logout'));
  const appAnswers = [];
  const onResponse = (r) => {
    if (r.request().isNavigationRequest() && r.url().startsWith(args.url)) appAnswers.push(r);
  };
  page.on('response', onResponse);
  await page.goto(url);
  const fr = await frame;
  await page.waitForURL((u) => u.toString().startsWith(args.url));
  await page.waitForSelector('#state');
  page.off('response', onResponse);
  check(appAnswers.length > 0, 'the logout page went on to the app once the iframe had loaded');
  return {
    frame: fr,
    frameSent: await fr.request().allHeaders(),
    app: appAnswers[0],
    appSent: await appAnswers[0].request().allHeaders(),
    state: (await page.textContent('#state')).trim(),
  };
}

function refusedByGuard(answer) {
  return answer.status() === 302 && (answer.headers().location || '').endsWith('/signed-out');
}

const pages = [];
let rc = 0;
try {
  const result = {};

  step(`${args.sidUser} signs in`);
  const ctxA = await browser.newContext();
  const pageA = await ctxA.newPage();
  pages.push(pageA);
  pageA.setDefaultTimeout(15000);
  await pageA.goto(args.url);
  const a = await signIn(pageA, args.sidUser);
  check(a.who === args.sidUser, `the app says: signed in as ${a.who}`);
  check(a.sid && a.sid !== '(none)', `with the OP session's sid ${a.sid}`);
  check(!!(await appCookie(ctxA)), `the browser holds ${args.cookie}`);
  const cookieA = (await appCookie(ctxA)).value;
  result.sid_user = { sid: a.sid, cookie: cookieA };

  step('the OP logout page on another site, iframe with iss and sid');
  let r = await throughLogoutPage(pageA, logoutPage(args.cross, a.sid));
  check(r.frame.status() === 200, `the front-channel URL answered ${r.frame.status()} in the iframe`);
  check(!(r.frameSent.cookie || '').includes(`${args.cookie}=`), 'the browser sent no app cookie to the cross-site iframe');
  check(sends(r.appSent, cookieA), 'the browser still presents its cookie to the app');
  check(refusedByGuard(r.app), `the guard refused it: ${r.app.status()} Location: ${r.app.headers().location}`);
  check(r.state.includes('session has ended'), `the app says: ${r.state}`);
  check(!(await appCookie(ctxA)), 'the browser no longer holds the cookie (the guard expired it)');

  step(`${args.cookieUser} signs in`);
  const ctxB = await browser.newContext();
  const pageB = await ctxB.newPage();
  pages.push(pageB);
  pageB.setDefaultTimeout(15000);
  await pageB.goto(args.url);
  const b = await signIn(pageB, args.cookieUser);
  check(b.who === args.cookieUser, `the app says: signed in as ${b.who}`);
  check(!!(await appCookie(ctxB)), `the browser holds ${args.cookie}`);
  const cookieB = (await appCookie(ctxB)).value;
  result.cookie_user = { sid: b.sid, cookie: cookieB };

  step('the OP logout page on another site, iframe without sid');
  r = await throughLogoutPage(pageB, logoutPage(args.cross, null));
  check(r.frame.status() === 200, `the front-channel URL answered ${r.frame.status()} in the iframe`);
  check(!(r.frameSent.cookie || '').includes(`${args.cookie}=`), 'the browser withheld the app cookie from the cross-site iframe');
  check(r.app.status() === 200 && r.state.includes(`signed in as ${args.cookieUser}`),
    `nothing was revoked: the app says: ${r.state}`);

  step('the OP logout page on the app\'s site (another port), iframe without sid');
  r = await throughLogoutPage(pageB, logoutPage(args.same, null));
  check(r.frame.status() === 200, `the front-channel URL answered ${r.frame.status()} in the iframe`);
  check(sends(r.frameSent, cookieB), 'the browser sent the app cookie to the same-site iframe');
  check(!(await appCookie(ctxB)), 'the iframe\'s answer expired the cookie in the browser');
  check(r.state.includes('not signed in'), `the app says: ${r.state}`);

  step('a copy of the cookie, put back into the same browser');
  await ctxB.addCookies([{ name: args.cookie, value: cookieB, domain: new URL(args.url).hostname, path: '/' }]);
  const answers = [];
  pageB.on('response', (resp) => { if (resp.url() === args.url) answers.push(resp); });
  await pageB.goto(args.url);
  check(answers.length > 0 && refusedByGuard(answers[0]),
    `the guard refused it: ${answers.length ? answers[0].status() : 'no answer'}`);
  check((await pageB.textContent('#state')).includes('session has ended'), 'the app says: your session has ended');

  console.log(`fc-result ${JSON.stringify(result)}`);
  console.log('front-channel walk: ok');
} catch (e) {
  rc = 1;
  for (const [i, p] of pages.entries()) await failureShot(p, out, `failure-${i + 1}`);
  console.log(`front-channel walk FAILED at step ${currentStep()}: ${e.message}`);
} finally {
  await browser.close();
}
process.exit(rc);
