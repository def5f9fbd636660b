/**
 * A test identity provider over real HTTP on loopback, for every suite that needs tokens.
 *
 *   const idp = await startIdp();                 // keys generated now, server listening
 *   const jwt = await idp.token({ repository: 'acme/payments' }, { shape: 'github' });
 *   issuer config: { issuer: idp.issuer, audiences: [IDP_AUDIENCE], discovery: true }
 *   await idp.rotate();                           // new signing key, old one dropped from JWKS
 *   await idp.stop(); await idp.start();          // JWKS endpoint down, then up (same port)
 *   const saml = idp.saml({ nameID: 'etl-bot' });  // base64 signed SAML Response
 *   await idp.close();
 *
 * Serves `/.well-known/openid-configuration` and `/jwks`; `jwksRequests` counts JWKS fetches
 * and `delayMs` makes every answer slow.
 */
import { createServer, type Server } from 'node:http';
import { generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { SignedXml } from 'xml-crypto';

/** Audience the IdP puts in tokens unless told otherwise. */
export const IDP_AUDIENCE = 'pgwarden-test';
/** SAML entity id of the test service provider (the gateway), and its recipient URL. */
export const SAML_AUDIENCE = 'urn:pgwarden:test-gateway';
export const SAML_RECIPIENT = 'https://pgwarden.test/saml';

/** How to issue one JWT. Times are seconds relative to now. */
export interface TokenOptions {
  /**
   * Add the claims a GitHub Actions or GitLab CI job token, or a Kubernetes service-account
   * token, carries (`kubernetes` reads `namespace` and `serviceAccount` from `claims`).
   */
  shape?: 'github' | 'gitlab' | 'kubernetes';
  audience?: string | string[];
  /** Lifetime in seconds; negative issues an already expired token. Default 300. */
  expiresIn?: number;
  /** `nbf` offset in seconds (e.g. 600 for a token not valid for ten minutes). */
  notBefore?: number;
  /** Seconds from now of `iat` (default -5). */
  issuedAt?: number;
  issuer?: string;
  /** Override the header's `kid` (e.g. a key id the JWKS does not have). */
  kid?: string;
}

/** How to issue one SAML credential. Times are seconds relative to now. */
export interface SamlOptions {
  nameID?: string;
  issuer?: string;
  audience?: string;
  recipient?: string;
  attributes?: Record<string, string | string[]>;
  notBefore?: number;
  /** Lifetime in seconds; negative for an expired assertion. Default 300. */
  expiresIn?: number;
  /** Sign the assertion. Default true. */
  signed?: boolean;
  /** Return a bare Assertion instead of a Response. */
  bare?: boolean;
}

/** The running test IdP. */
export interface TestIdp {
  readonly issuer: string;
  readonly jwksUri: string;
  /** Key id of the current signing key. */
  readonly kid: string;
  /** Public JWK of the current key (for attacks such as HS256 with the public key). */
  readonly publicJwk: JWK;
  /** PEM of the SAML signing public key, for `SamlProviderOptions.cert`. */
  readonly samlCert: string;
  /** Entity id (`Issuer`) of the SAML side: `{issuer}/saml`. */
  readonly samlIssuer: string;
  /** JWKS fetches served so far. */
  jwksRequests: number;
  /** Delay before every HTTP answer, to simulate a slow IdP. */
  delayMs: number;
  token(claims?: Record<string, unknown>, options?: TokenOptions): Promise<string>;
  saml(options?: SamlOptions): string;
  rotate(): Promise<void>;
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

async function newKey(alg: string): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const kid = randomUUID();
  return { kid, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

function shapeClaims(shape: TokenOptions['shape'], claims: Record<string, unknown>) {
  const repository = (claims.repository as string | undefined) ?? 'acme/payments';
  if (shape === 'github') {
    const ref = (claims.ref as string | undefined) ?? 'refs/heads/main';
    return {
      sub: `repo:${repository}:ref:${ref}`,
      repository,
      repository_owner: repository.split('/')[0],
      ref,
      ref_type: 'branch',
      sha: 'a'.repeat(40),
      workflow: 'nightly',
      event_name: 'schedule',
      run_id: '1234567890',
      run_attempt: '1',
      actor: 'octocat',
      runner_environment: 'github-hosted',
      job_workflow_ref: `${repository}/.github/workflows/nightly.yml@${ref}`,
      ...claims,
    };
  }
  if (shape === 'gitlab') {
    const project = (claims.project_path as string | undefined) ?? repository;
    const ref = (claims.ref as string | undefined) ?? 'main';
    return {
      sub: `project_path:${project}:ref_type:branch:ref:${ref}`,
      namespace_path: project.split('/')[0],
      project_path: project,
      project_id: '42',
      ref,
      ref_type: 'branch',
      ref_protected: 'true',
      pipeline_id: '1001',
      pipeline_source: 'schedule',
      job_id: '5005',
      user_login: 'etl-bot',
      ...claims,
    };
  }
  if (shape === 'kubernetes') {
    const namespace = (claims.namespace as string | undefined) ?? 'etl';
    const account = (claims.serviceAccount as string | undefined) ?? 'nightly';
    return {
      sub: `system:serviceaccount:${namespace}:${account}`,
      'kubernetes.io': {
        namespace,
        serviceaccount: { name: account, uid: randomUUID() },
        pod: { name: `${account}-7d9f8`, uid: randomUUID() },
      },
    };
  }
  return { sub: 'machine-1', ...claims };
}

/** Starts a test IdP on 127.0.0.1 (a free port unless `port` is given). */
export async function startIdp(options: { alg?: string; port?: number } = {}): Promise<TestIdp> {
  const alg = options.alg ?? 'RS256';
  let current = await newKey(alg);
  // RSA key generation is slow; the SAML key is made only when a suite uses SAML.
  let samlKeys: { publicKey: KeyObject; privateKey: KeyObject } | undefined;
  const saml = () => (samlKeys ??= generateKeyPairSync('rsa', { modulusLength: 2048 }));
  let server: Server | undefined;
  let port = options.port ?? 0;

  const idp: TestIdp = {
    issuer: '',
    jwksUri: '',
    get kid() {
      return current.kid;
    },
    get publicJwk() {
      return current.publicJwk;
    },
    get samlIssuer() {
      return `${idp.issuer}/saml`;
    },
    get samlCert() {
      return saml().publicKey.export({ type: 'spki', format: 'pem' }).toString();
    },
    jwksRequests: 0,
    delayMs: 0,
    async token(claims = {}, opts = {}) {
      const now = Math.floor(Date.now() / 1000);
      const jwt = new SignJWT({ jti: randomUUID(), ...shapeClaims(opts.shape, claims) })
        .setProtectedHeader({ alg, kid: opts.kid ?? current.kid, typ: 'JWT' })
        .setIssuer(opts.issuer ?? idp.issuer)
        .setAudience(opts.audience ?? IDP_AUDIENCE)
        .setIssuedAt(now + (opts.issuedAt ?? -5))
        .setExpirationTime(now + (opts.expiresIn ?? 300));
      if (opts.notBefore !== undefined) jwt.setNotBefore(now + opts.notBefore);
      return jwt.sign(current.privateKey);
    },
    saml: (opts = {}) => samlCredential(idp.issuer, saml().privateKey, opts),
    async rotate() {
      current = await newKey(alg);
    },
    async stop() {
      const running = server;
      server = undefined;
      if (!running) return;
      running.closeAllConnections();
      await new Promise<void>((resolve) => running.close(() => resolve()));
    },
    async start() {
      if (server) return;
      server = createServer((req, res) => {
        setTimeout(() => {
          if (req.url === '/.well-known/openid-configuration') {
            res.setHeader('content-type', 'application/json');
            res.end(JSON.stringify({ issuer: idp.issuer, jwks_uri: idp.jwksUri }));
          } else if (req.url === '/jwks') {
            idp.jwksRequests += 1;
            res.setHeader('content-type', 'application/json');
            res.end(JSON.stringify({ keys: [current.publicJwk] }));
          } else {
            res.statusCode = 404;
            res.end();
          }
        }, idp.delayMs);
      });
      const listening = server;
      await new Promise<void>((resolve) => listening.listen(port, '127.0.0.1', resolve));
      port = (listening.address() as AddressInfo).port;
      Object.assign(idp, {
        issuer: `http://127.0.0.1:${port}`,
        jwksUri: `http://127.0.0.1:${port}/jwks`,
      });
    },
    close() {
      return idp.stop();
    },
  };
  await idp.start();
  return idp;
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function samlCredential(issuerUrl: string, key: KeyObject, opts: SamlOptions): string {
  const now = Date.now();
  const at = (seconds: number) => new Date(now + seconds * 1000).toISOString();
  const issuer = escapeXml(opts.issuer ?? `${issuerUrl}/saml`);
  const notOnOrAfter = at(opts.expiresIn ?? 300);
  const id = `_${randomUUID()}`;
  const attributes = Object.entries(opts.attributes ?? { groups: ['etl'] })
    .map(([name, values]) => {
      const list = (Array.isArray(values) ? values : [values])
        .map((v) => `<saml:AttributeValue>${escapeXml(v)}</saml:AttributeValue>`)
        .join('');
      return `<saml:Attribute Name="${escapeXml(name)}">${list}</saml:Attribute>`;
    })
    .join('');
  const assertion =
    `<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="${id}" ` +
    `Version="2.0" IssueInstant="${at(0)}"><saml:Issuer>${issuer}</saml:Issuer>` +
    `<saml:Subject><saml:NameID>${escapeXml(opts.nameID ?? 'etl-bot')}</saml:NameID>` +
    '<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer">' +
    `<saml:SubjectConfirmationData NotOnOrAfter="${notOnOrAfter}" ` +
    `Recipient="${escapeXml(opts.recipient ?? SAML_RECIPIENT)}"/></saml:SubjectConfirmation>` +
    `</saml:Subject><saml:Conditions NotBefore="${at(opts.notBefore ?? -5)}" ` +
    `NotOnOrAfter="${notOnOrAfter}"><saml:AudienceRestriction><saml:Audience>` +
    `${escapeXml(opts.audience ?? SAML_AUDIENCE)}</saml:Audience></saml:AudienceRestriction>` +
    `</saml:Conditions><saml:AuthnStatement AuthnInstant="${at(0)}"><saml:AuthnContext>` +
    '<saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:unspecified' +
    '</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>' +
    `<saml:AttributeStatement>${attributes}</saml:AttributeStatement></saml:Assertion>`;
  const signed = opts.signed === false ? assertion : signAssertion(assertion, key);
  const xml = opts.bare
    ? signed
    : '<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ' +
      `ID="_r${randomUUID()}" Version="2.0" IssueInstant="${at(0)}" ` +
      `Destination="${escapeXml(opts.recipient ?? SAML_RECIPIENT)}">` +
      `<saml:Issuer xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion">${issuer}</saml:Issuer>` +
      '<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/>' +
      `</samlp:Status>${signed}</samlp:Response>`;
  return Buffer.from(xml).toString('base64');
}

/** Enveloped RSA-SHA256 signature over the assertion, placed after its Issuer (schema order). */
export function signAssertion(assertion: string, key: KeyObject): string {
  const sig = new SignedXml({
    privateKey: key.export({ type: 'pkcs8', format: 'pem' }),
    signatureAlgorithm: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
    canonicalizationAlgorithm: 'http://www.w3.org/2001/10/xml-exc-c14n#',
  });
  sig.addReference({
    xpath: "/*[local-name(.)='Assertion']",
    digestAlgorithm: 'http://www.w3.org/2001/04/xmlenc#sha256',
    transforms: [
      'http://www.w3.org/2000/09/xmldsig#enveloped-signature',
      'http://www.w3.org/2001/10/xml-exc-c14n#',
    ],
  });
  sig.computeSignature(assertion, {
    location: {
      reference: "/*[local-name(.)='Assertion']/*[local-name(.)='Issuer']",
      action: 'after',
    },
  });
  return sig.getSignedXml();
}
