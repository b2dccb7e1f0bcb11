// A real OpenID Connect provider for the single sign-on tests (oidc-provider, a certified implementation).
// Usage: node provider.mjs PORT CONFIG_JSON — CONFIG_JSON has "clients" and "accounts" ({login: {email, email_verified, name}}).
// Logins use the provider's own development login and consent pages: any login name, any password.
import Provider from 'oidc-provider';

const [port, raw] = process.argv.slice(2);
const { clients, accounts } = JSON.parse(raw);
const issuer = `http://127.0.0.1:${port}`;

const provider = new Provider(issuer, {
  clients,
  pkce: { required: () => true },
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
  scopes: ['openid', 'email', 'profile'],
  features: { devInteractions: { enabled: true } },
  cookies: { keys: ['pointsapp-test-only'] },
  async findAccount(ctx, id) {
    const account = accounts[id];
    if (!account) return undefined;
    return { accountId: id, async claims() { return { sub: id, ...account }; } };
  },
});
provider.proxy = false;

const server = provider.listen(Number(port), '127.0.0.1', () => console.log(`listening ${issuer}`));
// Stop with the test run: when the parent closes stdin, or after 10 minutes at most.
process.stdin.on('end', () => server.close(() => process.exit(0)));
process.stdin.resume();
setTimeout(() => process.exit(0), 10 * 60 * 1000).unref();
