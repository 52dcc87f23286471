// The demo OpenID provider: the npm package oidc-provider (OpenID Certified) with one client (the dashboard) and
// two demo accounts, for trying partner sign-in locally (`make idp`) and for the tests (tests/idp.py).
// Never for production: accounts are in this file, the login form (oidc-provider's devInteractions) takes any
// password, and keys are made afresh at each start.
//
// Settings (environment): IDP_PORT (3000), IDP_HOST (127.0.0.1), IDP_ISSUER (http://IDP_HOST:IDP_PORT),
// IDP_CLIENT_ID (vrp-dashboard), IDP_CLIENT_SECRET (vrp-demo-secret), IDP_REDIRECT_URIS (comma list; the app's
// /auth/callback on 127.0.0.1:8050 and localhost:8050), IDP_POST_LOGOUT_URIS (comma list; the app's home page),
// OIDC_PROVIDER_DIR (a folder whose node_modules holds oidc-provider; else beside this file, else build/idp).
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const env = process.env;
const port = Number(env.IDP_PORT || 3000);
const host = env.IDP_HOST || '127.0.0.1';
const issuer = env.IDP_ISSUER || `http://${host}:${port}`;
const list = (value, fallback) => (value || fallback).split(',').map((s) => s.trim()).filter(Boolean);
const redirectUris = list(env.IDP_REDIRECT_URIS, 'http://127.0.0.1:8050/auth/callback,http://localhost:8050/auth/callback');
const postLogoutUris = list(env.IDP_POST_LOGOUT_URIS, 'http://127.0.0.1:8050/,http://localhost:8050/');

// The demo accounts: the login name is the account id. `roles` is the claim the dashboard reads
// (VRP_OIDC_ROLE_CLAIM=roles, VRP_OIDC_PARTNER_VALUE=vrp-partner).
export const ACCOUNTS = {
  partner: { name: 'Demo Partner', email: 'partner@example.org', roles: ['vrp-partner'] },
  viewer: { name: 'Demo Viewer', email: 'viewer@example.org', roles: ['staff'] },
};

function locate() {
  const folders = [env.OIDC_PROVIDER_DIR, here, resolve(here, '..', '..', 'build', 'idp')]
    .filter(Boolean)
    .map((folder) => resolve(folder));
  for (const folder of folders) {
    if (existsSync(join(folder, 'node_modules', 'oidc-provider', 'package.json'))) {
      return createRequire(join(folder, 'package.json')).resolve('oidc-provider');
    }
  }
  throw new Error(`oidc-provider is not installed in ${folders.join(' or ')}: run \`make idp\` (npm ci in build/idp)`);
}

const { default: Provider } = await import(pathToFileURL(locate()).href);

const configuration = {
  clients: [
    {
      client_id: env.IDP_CLIENT_ID || 'vrp-dashboard',
      client_secret: env.IDP_CLIENT_SECRET || 'vrp-demo-secret',
      redirect_uris: redirectUris,
      post_logout_redirect_uris: postLogoutUris,
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    },
  ],
  async findAccount(ctx, id) {
    const account = Object.hasOwn(ACCOUNTS, id) ? ACCOUNTS[id] : undefined;
    if (!account) return undefined;
    return { accountId: id, async claims() { return { sub: id, ...account }; } };
  },
  claims: { openid: ['sub', 'roles'], profile: ['name'], email: ['email'] },
  // Claims in the ID token as well as from userinfo (as Microsoft Entra ID sends app roles).
  conformIdTokenClaims: false,
  // The dashboard is the provider's own first-party client: no consent screen, only the login form.
  async loadExistingGrant(ctx) {
    const accountId = ctx.oidc.session?.accountId;
    if (!accountId) return undefined;
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId });
    grant.addOIDCScope('openid profile email');
    grant.addOIDCClaims(['roles', 'name', 'email']);
    await grant.save();
    return grant;
  },
  pkce: { required: () => true },
  features: { devInteractions: { enabled: true }, rpInitiatedLogout: { enabled: true } },
  cookies: { keys: ['vrp-demo-idp-only-not-a-secret'] },
  ttl: { Session: 3600, Interaction: 600, Grant: 3600, IdToken: 3600, AccessToken: 600, AuthorizationCode: 60 },
};

const provider = new Provider(issuer, configuration);
provider.on('server_error', (ctx, err) => console.error('server_error', err.message));
provider.listen(port, host, () => {
  console.log(`demo OpenID provider at ${issuer} (accounts: ${Object.keys(ACCOUNTS).join(', ')}; any password)`);
});
