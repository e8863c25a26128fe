// A real OpenID provider for the SSO tests: oidc-provider (npm, pinned in
// package-lock.json) on a loopback port.
//
//   node tests/sso/provider.mjs PORT CLIENT_ID CLIENT_SECRET REDIRECT_URI...
//
// One confidential client (client_secret_basic) whose redirect URIs are the
// arguments; a loopback redirect URI (http://127.0.0.1/...) matches any port,
// as RFC 8252 allows for native clients, so a live server on a free port works.
// Accounts live in memory: "alice" and "bob" (password "secret"), with email,
// email_verified, name, department and level claims. The sign-in page is this
// script's own small form (accessible, so the browser tests' axe audit passes);
// consent is given at once. Test hooks, for the tests only:
//   PUT /test/accounts/<id>   (JSON claims) replaces or adds an account's claims.
// Prints "listening <issuer>" on stdout when ready.
import * as crypto from 'node:crypto';
import * as http from 'node:http';
import { URL } from 'node:url';

import Provider from 'oidc-provider';

const [port, clientId, clientSecret, ...redirectUris] = process.argv.slice(2);
if (!port || !clientId || !clientSecret || redirectUris.length === 0) {
  console.error('usage: provider.mjs PORT CLIENT_ID CLIENT_SECRET REDIRECT_URI...');
  process.exit(2);
}
const issuer = `http://127.0.0.1:${port}`;
const PASSWORD = 'secret';

const accounts = {
  alice: {
    email: 'alice@corp.example.com',
    email_verified: true,
    name: 'Alice Example',
    department: 'Research',
    level: 7,
  },
  bob: {
    email: 'bob@corp.example.com',
    email_verified: true,
    name: 'Bob Example',
    department: 'Sales',
    level: 3,
  },
};

const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: 'test-1', use: 'sig', alg: 'RS256' };
const loopback = redirectUris.some((uri) => new URL(uri).hostname === '127.0.0.1');

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: clientId,
      client_secret: clientSecret,
      redirect_uris: redirectUris,
      // "native" lets a loopback redirect URI match any port (RFC 8252 §7.3).
      application_type: loopback ? 'native' : 'web',
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    },
  ],
  jwks: { keys: [signingKey] },
  cookies: { keys: ['mixer-test-provider-cookie-key'] },
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'department', 'level'],
  },
  features: { devInteractions: { enabled: false } },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  pkce: { required: () => true },
  async findAccount(ctx, id) {
    if (!accounts[id]) return undefined;
    return { accountId: id, claims: async () => ({ sub: id, ...accounts[id] }) };
  },
});

function page(res, status, body) {
  res.writeHead(status, { 'Content-Type': 'text/html; charset=utf-8' });
  res.end(`<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Test provider sign-in</title></head><body><main>${body}</main></body></html>`);
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    let data = '';
    req.on('data', (chunk) => { data += chunk; });
    req.on('end', () => resolve(data));
    req.on('error', reject);
  });
}

async function interaction(req, res, uid, method) {
  const details = await provider.interactionDetails(req, res);
  if (details.prompt.name === 'consent') {
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: details.session.accountId, clientId: details.params.client_id });
    grant.addOIDCScope(details.params.scope);
    const grantId = await grant.save();
    await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
    return;
  }
  if (method === 'POST') {
    const form = new URLSearchParams(await readBody(req));
    const login = form.get('login');
    if (accounts[login] && form.get('password') === PASSWORD) {
      await provider.interactionFinished(req, res, { login: { accountId: login } }, { mergeWithLastSubmission: false });
      return;
    }
    page(res, 401, '<h1>Test provider</h1><p role="alert">Wrong login or password.</p>');
    return;
  }
  page(res, 200, `<h1>Sign in to the test provider</h1>
<form method="post" action="/interaction/${uid}">
<p><label for="login">Login</label> <input id="login" name="login" autocomplete="username"></p>
<p><label for="password">Password</label> <input id="password" name="password" type="password" autocomplete="current-password"></p>
<p><button type="submit">Sign in</button></p></form>`);
}

const handle = provider.callback();
const server = http.createServer(async (req, res) => {
  try {
    const url = new URL(req.url, issuer);
    const match = url.pathname.match(/^\/interaction\/([\w-]+)$/);
    if (match) {
      await interaction(req, res, match[1], req.method);
      return;
    }
    const hook = url.pathname.match(/^\/test\/accounts\/(\w+)$/);
    if (hook && req.method === 'PUT') {
      accounts[hook[1]] = JSON.parse(await readBody(req));
      res.writeHead(204);
      res.end();
      return;
    }
    handle(req, res);
  } catch (err) {
    console.error(err);
    if (!res.headersSent) res.writeHead(500);
    res.end(String(err));
  }
});
server.listen(Number(port), '127.0.0.1', () => {
  console.log(`listening ${issuer}`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
