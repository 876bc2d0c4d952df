// A real OpenID Connect provider for the single sign-on tests: node-oidc-provider (an OpenID
// certified library) on 127.0.0.1 with one confidential test client and its development
// sign-in form (any login and password; the login is the account id).
//
//   node provider.mjs <port> <redirect_uri> [client_id] [client_secret]
//
// Accounts: a login that looks like an e-mail has it as a verified e-mail; a login starting with
// "unverified." has it unverified; "admin@..." carries groups ["hitkeep-admins"]. Prints
// "ready <issuer>" once listening. With OIDC_TLS_CERT and OIDC_TLS_KEY (PEM files) it serves https.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import Provider from 'oidc-provider';

const [port, redirectUri, clientId = 'hitkeep', clientSecret = 'hitkeep-test-secret'] = process.argv.slice(2);
if (!port || !redirectUri) {
  console.error('usage: node provider.mjs <port> <redirect_uri> [client_id] [client_secret]');
  process.exit(2);
}
const tls = process.env.OIDC_TLS_CERT && { cert: readFileSync(process.env.OIDC_TLS_CERT), key: readFileSync(process.env.OIDC_TLS_KEY) };
const issuer = `${tls ? 'https' : 'http'}://127.0.0.1:${port}`;
// A test that stops reading our output must not end the provider (EPIPE on a notice).
process.stdout.on('error', () => {});
process.stderr.on('error', () => {});

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: clientId,
      client_secret: clientSecret,
      redirect_uris: [redirectUri],
      response_types: ['code'],
      grant_types: ['authorization_code'],
    },
  ],
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name', 'groups'] },
  // The e-mail in the ID token itself (as Google, Keycloak and Entra ID send it), not only at userinfo.
  conformIdTokenClaims: false,
  pkce: { required: () => true },
  cookies: { keys: ['test-only-cookie-key'] },
  async findAccount(_ctx, id) {
    const email = id.replace(/^unverified\./, '');
    return {
      accountId: id,
      async claims() {
        return {
          sub: id,
          email,
          email_verified: !id.startsWith('unverified.'),
          name: email.split('@')[0],
          groups: email.startsWith('admin@') ? ['hitkeep-admins'] : [],
        };
      },
    };
  },
});
provider.proxy = false;

const ready = () => console.log(`ready ${issuer}`);
const server = tls ? createServer(tls, provider.callback()).listen(Number(port), '127.0.0.1', ready) : provider.listen(Number(port), '127.0.0.1', ready);
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
