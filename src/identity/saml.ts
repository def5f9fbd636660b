/**
 * SAML 2.0 assertions as credentials: a base64 signed Response or a bare signed Assertion.
 * Signature checking is @node-saml/node-saml's (on xml-crypto 6), with assertions required to be
 * signed themselves; it also checks NotBefore/NotOnOrAfter of the Conditions and the audience.
 * node-saml does not check the assertion's Issuer, the SubjectConfirmationData's Recipient or
 * its NotOnOrAfter when InResponseTo is not validated (a gateway never sent an AuthnRequest),
 * so those are checked here on the verified assertion.
 */
import { DOMParser, type Document } from '@xmldom/xmldom';
import { SAML, ValidateInResponseTo, type Profile } from '@node-saml/node-saml';
import { PgwardenError } from '../errors.js';
import type { Identity } from './types.js';
import { AuthError, authExpired, authFailed } from './errors.js';
import { checkRequired, mapGroups, mapSubject } from './claims.js';
import { checkSamlProvider, type SamlProviderOptions } from './options.js';

const ASSERTION_NS = 'urn:oasis:names:tc:SAML:2.0:assertion';
const BASE64 = /^[A-Za-z0-9+/=\r\n]+$/;

/** Decodes a base64 credential to XML text, or undefined when it is not base64 XML. */
export function decodeSaml(credential: string): string | undefined {
  if (credential.length < 16 || !BASE64.test(credential)) return undefined;
  const xml = Buffer.from(credential, 'base64').toString('utf8').trimStart();
  return xml.startsWith('<') ? xml : undefined;
}

/** Parses XML, refusing DTDs: SAML never needs one, and entity expansion is an attack surface. */
function parse(xml: string): Document {
  if (/<!DOCTYPE/i.test(xml)) throw authFailed('malformed', 'SAML with a DTD is refused');
  const errors: string[] = [];
  let doc: Document | undefined;
  try {
    doc = new DOMParser({
      onError: (level, message) => {
        if (level !== 'warning') errors.push(message);
      },
    }).parseFromString(xml, 'text/xml');
  } catch {
    // xmldom throws on fatal errors (mismatched tags); the same refusal as any other.
  }
  if (!doc || errors.length > 0 || !doc.documentElement) {
    throw authFailed('malformed', 'the SAML credential is not well-formed XML');
  }
  return doc;
}

function firstText(doc: Document, name: string): string | undefined {
  const node = doc.getElementsByTagNameNS(ASSERTION_NS, name).item(0);
  return node?.textContent?.trim() || undefined;
}

/** Issuer and NameID as the document claims them, unverified: for lockout and audit only. */
export function peekSaml(xml: string): { issuer?: string; subject?: string; root: string } {
  const doc = parse(xml);
  return {
    issuer: firstText(doc, 'Issuer'),
    subject: firstText(doc, 'NameID'),
    root: doc.documentElement?.localName ?? '',
  };
}

/**
 * A bare Assertion is placed in a minimal unsigned Response so node-saml can verify it; its
 * enveloped signature covers only the assertion (exclusive canonicalisation), so the envelope
 * changes nothing that is signed.
 */
function envelope(xml: string): string {
  const body = xml.replace(/^<\?xml[^>]*\?>\s*/, '');
  return Buffer.from(
    '<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ' +
      `ID="_pgwarden_envelope" Version="2.0" IssueInstant="${new Date().toISOString()}">` +
      '<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/>' +
      `</samlp:Status>${body}</samlp:Response>`,
  ).toString('base64');
}

interface Provider {
  options: SamlProviderOptions;
  saml: SAML;
}

type XmlNode = { $?: Record<string, string> } & Record<string, unknown>;

/** Verifies SAML credentials against the configured identity providers. */
export class SamlVerifier {
  private readonly providers = new Map<string, Provider>();

  constructor(providers: SamlProviderOptions[]) {
    for (const options of providers) {
      checkSamlProvider(options);
      if (this.providers.has(options.issuer)) {
        throw new PgwardenError(
          'ERR_CONFIG_INVALID',
          `SAML provider ${options.issuer} is configured twice`,
        );
      }
      const saml = new SAML({
        issuer: options.audience,
        audience: options.audience,
        callbackUrl: options.recipient ?? 'urn:pgwarden:gateway',
        idpCert: options.cert,
        idpIssuer: options.issuer,
        wantAssertionsSigned: true,
        wantAuthnResponseSigned: false,
        validateInResponseTo: ValidateInResponseTo.never,
        acceptedClockSkewMs: (options.clockSkewSeconds ?? 60) * 1000,
      });
      this.providers.set(options.issuer, { options, saml });
    }
  }

  /** Verifies `xml` (the decoded `base64`); returns the identity or throws an AuthError. */
  async verify(base64: string, xml: string): Promise<Identity> {
    const peek = peekSaml(xml);
    const provider = peek.issuer === undefined ? undefined : this.providers.get(peek.issuer);
    if (!provider) {
      throw new AuthError('ERR_AUTH_FAILED', 'unknown_issuer', 'SAML from an unknown issuer', {
        sqlstate: '28000',
      });
    }
    if (peek.root !== 'Response' && peek.root !== 'Assertion') {
      throw authFailed('malformed', 'expected a SAML Response or Assertion');
    }
    const response = peek.root === 'Assertion' ? envelope(xml) : base64;

    let profile: Profile | null;
    try {
      ({ profile } = await provider.saml.validatePostResponseAsync({ SAMLResponse: response }));
    } catch (err) {
      throw translate(err, xml);
    }
    if (!profile) throw authFailed('malformed', 'the SAML response holds no assertion');
    return this.identity(provider.options, profile);
  }

  private identity(options: SamlProviderOptions, profile: Profile): Identity {
    // Everything below reads the verified assertion node-saml returns, never the raw input.
    if (profile.issuer !== options.issuer) throw authFailed('issuer', 'wrong SAML issuer');
    const assertion = (profile.getAssertion?.() as { Assertion?: XmlNode } | undefined)?.Assertion;
    if (!assertion) throw authFailed('malformed', 'the SAML assertion could not be read');
    const expiresAt = this.checkConfirmation(options, assertion);

    const attributes = (profile.attributes ?? {}) as Record<string, unknown>;
    const claims: Record<string, unknown> = { ...attributes, nameID: profile.nameID };
    if (profile.nameIDFormat) claims.nameIDFormat = profile.nameIDFormat;
    checkRequired(claims, options.requiredAttributes, 'attribute');
    const identity: Identity = {
      subject: mapSubject(options.subjectTemplate ?? '{nameID}', claims),
      issuer: options.issuer,
      groups: mapGroups(claims, options.groupsAttribute, options.groupTemplates),
      claims,
      kind: 'saml',
      expiresAt,
    };
    const id = assertion.$?.ID;
    if (id) identity.tokenId = id;
    return identity;
  }

  /** Recipient and the earliest NotOnOrAfter (the session may not outlive the assertion). */
  private checkConfirmation(options: SamlProviderOptions, assertion: XmlNode): Date {
    const skewMs = (options.clockSkewSeconds ?? 60) * 1000;
    const subject = (assertion.Subject as XmlNode[] | undefined)?.[0];
    const confirmations = (subject?.SubjectConfirmation as XmlNode[] | undefined) ?? [];
    const data = confirmations
      .map((c) => (c.SubjectConfirmationData as XmlNode[] | undefined)?.[0]?.$)
      .filter((attrs): attrs is Record<string, string> => attrs !== undefined)
      .filter((attrs) => options.recipient === undefined || attrs.Recipient === options.recipient);
    if (options.recipient !== undefined && data.length === 0) {
      throw authFailed('recipient', 'the SAML assertion is for another recipient');
    }
    const conditions = (assertion.Conditions as XmlNode[] | undefined)?.[0]?.$;
    const limits = [conditions?.NotOnOrAfter, ...data.map((attrs) => attrs.NotOnOrAfter)]
      .filter((value): value is string => typeof value === 'string')
      .map((value) => Date.parse(value));
    if (limits.length === 0 || limits.some(Number.isNaN)) {
      throw authFailed('claims', 'the SAML assertion has no valid NotOnOrAfter');
    }
    const expires = Math.min(...limits);
    if (Date.now() - skewMs >= expires) throw authExpired('the SAML assertion has expired');
    return new Date(expires);
  }
}

/** node-saml reports failures as plain Errors; map their messages to stable reasons. */
function translate(err: unknown, xml: string): AuthError {
  const message = err instanceof Error ? err.message : '';
  if (/expired/i.test(message)) return authExpired('the SAML assertion has expired');
  if (/not yet valid/i.test(message)) {
    return authFailed('not_yet_valid', 'the SAML assertion is not valid yet (NotBefore)');
  }
  if (/audience/i.test(message)) return authFailed('audience', 'wrong SAML audience');
  if (/signature|ID cannot refer|multiple assertions|transforms/i.test(message)) {
    return /<(\w+:)?Signature[\s>]/.test(xml)
      ? authFailed('signature', 'bad SAML signature (or signature wrapping)')
      : authFailed('unsigned', 'unsigned SAML assertion refused');
  }
  return authFailed('malformed', 'the SAML credential could not be verified');
}
