// node-oidc-provider (npm "oidc-provider", v9) as a real OpenID Provider for
// mod_backchannel_logout's end-to-end tests and demo.
//
//   node op.js CONFIG.json
//
// CONFIG.json:
//   {
//     "port": 4000,                       // 127.0.0.1:port (0: a free port)
//     "issuer": "http://127.0.0.1:4000",  // optional, default from the port
//     "jwks_out": "/path/op.jwks.json",   // the OP's public JWKS is written here
//     "clients": [ { oidc-provider client metadata: client_id, client_secret,
//                    redirect_uris, post_logout_redirect_uris,
//                    backchannel_logout_uri, backchannel_logout_session_required,
//                    id_token_signed_response_alg, id_token_encrypted_response_alg,
//                    jwks, ... } ]
//   }
// The environment variable BCL_OP_CONFIG may hold the same JSON instead of a
// file argument.
//
// Output (stdout), one event a line, for tests and the demo to read:
//   ready issuer=<issuer> port=<port> jwks=<jwks_out>
//   backchannel.success client=<id> sub=<sub> sid=<sid>
//   backchannel.error client=<id> sub=<sub> sid=<sid> error=<message>
//   end_session.success / authorization.success / grant.success ...
//
// The signing keys (RSA 2048 with kid "op-rs256", EC P-256 with kid
// "op-es256") are generated at start: every run is a fresh OP.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync, renameSync } from 'node:fs';
import Provider from 'oidc-provider';

function fail(msg) {
  process.stderr.write(`op.js: ${msg}\n`);
  process.exit(2);
}

function loadConfig() {
  if (process.argv[2]) {
    try {
      return JSON.parse(readFileSync(process.argv[2], 'utf8'));
    } catch (e) {
      return fail(`cannot read config ${process.argv[2]}: ${e.message}`);
    }
  }
  if (process.env.BCL_OP_CONFIG) {
    try {
      return JSON.parse(process.env.BCL_OP_CONFIG);
    } catch (e) {
      return fail(`BCL_OP_CONFIG is not JSON: ${e.message}`);
    }
  }
  return fail('usage: node op.js CONFIG.json (or BCL_OP_CONFIG=JSON)');
}

function privateJwk(type, kid, alg) {
  const { privateKey } = type === 'rsa'
    ? generateKeyPairSync('rsa', { modulusLength: 2048 })
    : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { ...privateKey.export({ format: 'jwk' }), kid, alg, use: 'sig' };
}

function publicJwk(jwk) {
  const pub = { ...jwk };
  for (const member of ['d', 'p', 'q', 'dp', 'dq', 'qi']) delete pub[member];
  return pub;
}

function writeAtomically(path, text) {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, text, { mode: 0o644 });
  renameSync(tmp, path);
}

function say(line) {
  process.stdout.write(`${line}\n`);
}

const config = loadConfig();
const port = Number(config.port || 0);
if (!Array.isArray(config.clients) || config.clients.length === 0) {
  fail('config needs a non-empty "clients" array');
}

const signingKeys = [
  privateJwk('rsa', 'op-rs256', 'RS256'),
  privateJwk('ec', 'op-es256', 'ES256'),
];

async function start() {
  // Listen first (port 0 picks a free port), then build the provider with
  // the issuer that names the port actually bound.
  const http = await import('node:http');
  const server = http.createServer();
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  const boundPort = server.address().port;
  const issuer = config.issuer || `http://127.0.0.1:${boundPort}`;

  const provider = new Provider(issuer, {
    clients: config.clients,
    jwks: { keys: signingKeys },
    cookies: { keys: [randomBytes(32).toString('hex')] },
    features: {
      devInteractions: { enabled: true },
      backchannelLogout: { enabled: true },
      encryption: { enabled: true },
      rpInitiatedLogout: { enabled: true },
    },
    enabledJWA: {
      idTokenSigningAlgValues: ['RS256', 'PS256', 'ES256', 'HS256', 'EdDSA'],
      idTokenEncryptionAlgValues: ['RSA-OAEP', 'RSA-OAEP-256'],
      idTokenEncryptionEncValues: ['A128CBC-HS256', 'A128GCM', 'A256CBC-HS512', 'A256GCM'],
    },
    // The ID token carries what the apps show; `sub` is the login name
    // typed into the development login form.
    claims: { openid: ['sub'], profile: ['name'] },
    async findAccount(ctx, sub) {
      return { accountId: sub, async claims() { return { sub, name: sub }; } };
    },
    // Since 9.7 the provider refuses to POST to loopback and private
    // addresses (an SSRF guard installed as the fetch dispatcher). Our
    // receiver is on 127.0.0.1, so drop that dispatcher and use the plain
    // global fetch: only ever do this for a test or demo OP.
    fetch(url, options) {
      const opts = { ...options };
      delete opts.dispatcher;
      return globalThis.fetch(url, opts);
    },
    ttl: { Session: 3600, Interaction: 600, Grant: 3600, IdToken: 3600 },
  });
  provider.proxy = false;

  provider.on('backchannel.success', (ctx, client, sub, sid) => {
    say(`backchannel.success client=${client.clientId} sub=${sub} sid=${sid}`);
  });
  provider.on('backchannel.error', (ctx, err, client, sub, sid) => {
    const why = (err && err.message ? err.message : String(err)).replace(/\s+/g, ' ');
    say(`backchannel.error client=${client.clientId} sub=${sub} sid=${sid} error=${why}`);
  });
  provider.on('end_session.success', (ctx) => {
    say(`end_session.success client=${ctx.oidc.client ? ctx.oidc.client.clientId : '-'}`);
  });
  provider.on('authorization.success', (ctx) => {
    say(`authorization.success client=${ctx.oidc.client ? ctx.oidc.client.clientId : '-'}`);
  });
  provider.on('server_error', (ctx, err) => {
    say(`server_error ${(err && err.stack ? err.stack : String(err)).replace(/\s+/g, ' ')}`);
  });
  for (const evt of ['authorization.error', 'grant.error', 'end_session.error']) {
    provider.on(evt, (ctx, err) => {
      say(`${evt} ${err && err.message ? err.message : String(err)} ${err && err.error_description ? err.error_description : ''}`);
    });
  }

  if (config.jwks_out) {
    writeAtomically(config.jwks_out,
      `${JSON.stringify({ keys: signingKeys.map(publicJwk) }, null, 2)}\n`);
  }

  server.on('request', provider.callback());
  say(`ready issuer=${issuer} port=${boundPort} jwks=${config.jwks_out || '-'}`);

  // Keep-alive connections (httpd, mod_auth_openidc, browsers) would hold
  // server.close() open: drop them, and do not wait long in any case.
  const stop = () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
    setTimeout(() => process.exit(0), 1000).unref();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

start().catch((e) => fail(e && e.stack ? e.stack : String(e)));
