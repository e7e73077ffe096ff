// A real OpenID Connect provider for the host tests, on loopback: oidc-provider with its development sign-in
// pages, issuing JWT access tokens for any resource the client names. Settings come from the environment:
//   IDP_PORT           the port on 127.0.0.1
//   IDP_PEOPLE         JSON: { login: { name, email, roles: [...], partner, tid } } — anyone else signs in with no claims
//   IDP_ROLES_AT       "roles" (a top-level array) or "realm_access" (nested, as Keycloak writes them)
//   IDP_REDIRECT_URIS  comma-separated redirect URIs of the public client "swagger" (Swagger UI's sign-in)
// The client "tests" (public, PKCE) redirects to http://127.0.0.1/callback; "tests-short" is the same with
// access tokens that live 1 second.
import Provider from 'oidc-provider';

const port = Number(process.env.IDP_PORT ?? 0);
const people = JSON.parse(process.env.IDP_PEOPLE ?? '{}');
const rolesAt = process.env.IDP_ROLES_AT ?? 'roles';
const swaggerRedirects = (process.env.IDP_REDIRECT_URIS ?? '').split(',').filter(Boolean);
const issuer = `http://127.0.0.1:${port}`;

const publicClient = (id, redirects) => ({
  client_id: id,
  token_endpoint_auth_method: 'none',
  grant_types: ['authorization_code'],
  response_types: ['code'],
  redirect_uris: redirects,
});

const provider = new Provider(issuer, {
  clients: [
    publicClient('tests', ['http://127.0.0.1/callback']),
    publicClient('tests-short', ['http://127.0.0.1/callback']),
    ...(swaggerRedirects.length ? [publicClient('swagger', swaggerRedirects)] : []),
  ],
  async findAccount(_ctx, id) {
    const person = people[id] ?? {};
    return {
      accountId: id,
      async claims() {
        return { sub: id, name: person.name, email: person.email };
      },
    };
  },
  claims: { openid: ['sub'], profile: ['name'], email: ['email'] },
  scopes: ['openid', 'offline_access', 'profile', 'email', 'deals'],
  // Every grant the client asks for is given: the tests sign people in, they do not test consent.
  async loadExistingGrant(ctx) {
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope(ctx.oidc.params.scope ?? 'openid');
    const resources = [ctx.oidc.params.resource].flat().filter(Boolean);
    for (const resource of resources.length ? resources : ['api://partnerdeals']) grant.addResourceScope(resource, 'deals');
    await grant.save();
    return grant;
  },
  features: {
    devInteractions: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: async () => 'api://partnerdeals',
      useGrantedResource: async () => true,
      getResourceServerInfo: async (_ctx, resource, client) => ({
        scope: 'deals',
        audience: resource,
        accessTokenFormat: 'jwt',
        accessTokenTTL: client.clientId === 'tests-short' ? 1 : 600,
        jwt: { sign: { alg: 'RS256' } },
      }),
    },
  },
  async extraTokenClaims(_ctx, token) {
    if (!token.accountId) return undefined;
    const person = people[token.accountId] ?? {};
    const claims = { name: person.name, email: person.email, partner: person.partner, tid: person.tid };
    if (person.roles) {
      if (rolesAt === 'realm_access') claims.realm_access = { roles: person.roles };
      else claims.roles = person.roles;
    }
    return claims;
  },
  pkce: { required: () => true },
});

const server = provider.listen(port, '127.0.0.1', () => {
  console.log(`idp listening on ${issuer}`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
