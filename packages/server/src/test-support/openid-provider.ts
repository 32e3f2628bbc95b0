/**
 * A real OpenID provider (`oidc-provider`) in the test process, on loopback, with its own login
 * page: `signIn` plays the browser — it follows the provider's redirects with a cookie jar, posts the
 * login form, and returns the URL the provider sends the browser back to (the relying party's
 * redirect URI with `code`, `state` and `iss`). Consent is granted for first-party use, so only
 * the login form appears. Tokens, codes and sessions live in an in-memory adapter the test can
 * reach, e.g. to make authorization codes expire without waiting.
 */
import { generateKeyPairSync } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';

export interface TestAccount {
  sub: string;
  password: string;
  /** Claims released by scope (email, profile, groups, remember_me). */
  claims: Record<string, unknown>;
  /** RFC 8176 methods the login asserts, e.g. ['pwd', 'mfa']. */
  amr?: string[];
}

export interface TestOpenIdProvider {
  issuer: string;
  /** Drives a sign-in from `authorizationUrl`; returns the redirect back to the relying party. */
  signIn(authorizationUrl: string, login: string, password: string): Promise<URL>;
  /** Moves every stored authorization code past its expiry. */
  expireAuthorizationCodes(): void;
  close(): Promise<void>;
}

interface Stored {
  payload: Record<string, unknown>;
  expiresAt: number | undefined;
}

/** The adapter contract of oidc-provider, kept in one Map per provider. */
function memoryAdapter(store: Map<string, Stored>) {
  return class MemoryAdapter {
    constructor(private readonly model: string) {}
    private key(id: string): string {
      return `${this.model}:${id}`;
    }
    upsert(id: string, payload: Record<string, unknown>, expiresIn?: number): Promise<void> {
      store.set(this.key(id), { payload: { ...payload }, expiresAt: expiresIn ? Date.now() + expiresIn * 1000 : undefined });
      return Promise.resolve();
    }
    find(id: string): Promise<Record<string, unknown> | undefined> {
      const found = store.get(this.key(id));
      return Promise.resolve(found && { ...found.payload });
    }
    findByUid(uid: string): Promise<Record<string, unknown> | undefined> {
      for (const [key, value] of store)
        if (key.startsWith(`${this.model}:`) && value.payload['uid'] === uid) return Promise.resolve({ ...value.payload });
      return Promise.resolve(undefined);
    }
    findByUserCode(): Promise<undefined> {
      return Promise.resolve(undefined);
    }
    consume(id: string): Promise<void> {
      const found = store.get(this.key(id));
      if (found) found.payload['consumed'] = Math.floor(Date.now() / 1000);
      return Promise.resolve();
    }
    destroy(id: string): Promise<void> {
      store.delete(this.key(id));
      return Promise.resolve();
    }
    revokeByGrantId(grantId: string): Promise<void> {
      for (const [key, value] of store) if (value.payload['grantId'] === grantId) store.delete(key);
      return Promise.resolve();
    }
  };
}

function loginPage(uid: string): string {
  return `<!doctype html><form method="post" action="/interaction/${uid}/login"><input name="login"><input name="password" type="password"><button>Sign in</button></form>`;
}

async function formBody(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

export async function startOpenIdProvider(options: {
  clientId: string;
  clientSecret: string;
  redirectUri: string;
  accounts: TestAccount[];
}): Promise<TestOpenIdProvider> {
  const store = new Map<string, Stored>();
  const accounts = new Map(options.accounts.map((a) => [a.sub, a]));
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const provider = new Provider(issuer, {
    adapter: memoryAdapter(store),
    // Its own signing key, so two providers never share one (and no development-key warning).
    jwks: {
      keys: [
        {
          ...generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' }),
          kid: 'test',
          use: 'sig',
          alg: 'RS256',
        },
      ],
    },
    clients: [
      {
        client_id: options.clientId,
        client_secret: options.clientSecret,
        redirect_uris: [options.redirectUri],
        response_types: ['code'],
        grant_types: ['authorization_code'],
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],
    pkce: { required: () => true },
    ttl: { AccessToken: 600, AuthorizationCode: 60, IdToken: 600, Interaction: 600, Grant: 3600, Session: 3600 },
    cookies: { keys: ['custos-test-cookie-key'] },
    // Like Entra ID and Okta, the ID token carries how the user authenticated (amr) unasked.
    claims: {
      sid: null,
      iss: null,
      openid: ['sub', 'amr', 'acr', 'auth_time'],
      email: ['email', 'email_verified'],
      profile: ['name', 'preferred_username'],
      groups: ['groups'],
      remember: ['remember_me'],
    },
    features: { devInteractions: { enabled: false } },
    interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
    findAccount: (_ctx: unknown, sub: string) => {
      const account = accounts.get(sub);
      return account && { accountId: sub, claims: () => Promise.resolve({ sub, ...account.claims }) };
    },
    // First-party client: every requested scope is granted without a consent page.
    loadExistingGrant: async (ctx: {
      oidc: {
        client: { clientId: string };
        session: { accountId?: string; grantIdFor(clientId: string): string | undefined };
        params: { scope?: string };
        provider: { Grant: new (init: Record<string, unknown>) => { addOIDCScope(s: string): void; save(): Promise<string> } };
      };
    }) => {
      const { oidc } = ctx;
      if (!oidc.session.accountId) return undefined;
      const grant = new oidc.provider.Grant({ clientId: oidc.client.clientId, accountId: oidc.session.accountId });
      grant.addOIDCScope(oidc.params.scope ?? 'openid');
      await grant.save();
      return grant;
    },
  });
  const callback = provider.callback();
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const match = /^\/interaction\/([\w-]+)(\/login)?$/.exec(req.url ?? '');
    if (!match?.[1]) {
      callback(req, res);
      return;
    }
    const uid = match[1];
    void (async () => {
      try {
        await provider.interactionDetails(req, res);
        if (req.method === 'GET' && !match[2]) {
          res.writeHead(200, { 'content-type': 'text/html' }).end(loginPage(uid));
          return;
        }
        const form = await formBody(req);
        const account = accounts.get(form.get('login') ?? '');
        if (!account || account.password !== form.get('password')) {
          res.writeHead(401, { 'content-type': 'text/html' }).end(loginPage(uid));
          return;
        }
        await provider.interactionFinished(
          req,
          res,
          { login: { accountId: account.sub, amr: account.amr ?? ['pwd'] } },
          { mergeWithLastSubmission: false },
        );
      } catch (error) {
        res.writeHead(400, { 'content-type': 'text/plain' }).end(String(error));
      }
    })();
  });

  return {
    issuer,
    async signIn(authorizationUrl: string, login: string, password: string): Promise<URL> {
      const jar = new Map<string, string>();
      const request = async (url: URL, init: RequestInit = {}): Promise<Response> => {
        const headers = new Headers(init.headers);
        if (jar.size > 0) headers.set('cookie', [...jar].map(([k, v]) => `${k}=${v}`).join('; '));
        const response = await fetch(url, { ...init, headers, redirect: 'manual' });
        for (const cookie of response.headers.getSetCookie()) {
          const [pair = ''] = cookie.split(';');
          const eq = pair.indexOf('=');
          if (eq > 0) jar.set(pair.slice(0, eq), pair.slice(eq + 1));
        }
        return response;
      };
      let url = new URL(authorizationUrl);
      let response = await request(url);
      for (let hop = 0; hop < 10; hop += 1) {
        if (response.status === 200 && url.pathname.startsWith('/interaction/')) {
          response = await request(new URL(`${url.pathname}/login`, url), {
            method: 'POST',
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
            body: new URLSearchParams({ login, password }).toString(),
          });
          if (response.status === 401) throw new Error('The test provider refused the login.');
        }
        const location = response.headers.get('location');
        if (response.status < 300 || response.status >= 400 || !location) {
          throw new Error(`The test provider answered ${response.status} at ${url.pathname}: ${await response.text()}`);
        }
        url = new URL(location, url);
        if (url.origin !== issuer) return url;
        response = await request(url);
      }
      throw new Error('Too many redirects at the test provider.');
    },
    expireAuthorizationCodes(): void {
      for (const [key, value] of store) {
        if (key.startsWith('AuthorizationCode:')) value.payload['exp'] = Math.floor(Date.now() / 1000) - 60;
      }
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
