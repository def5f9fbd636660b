/**
 * The client side of SCRAM-SHA-256 (RFC 5802, RFC 7677) as PostgreSQL uses it, with optional
 * channel binding `tls-server-end-point` (RFC 5929) for SCRAM-SHA-256-PLUS. Built on node:crypto.
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import { PgwardenError } from '../errors.js';

/** One SCRAM exchange; create a new one per connection attempt. */
export class ScramClient {
  private readonly nonce: string;
  private readonly gs2Header: string;
  private readonly clientFirstBare: string;
  private serverSignature: Buffer | null = null;

  /**
   * @param password the upstream password (PostgreSQL ignores the SCRAM user name and uses the
   *   startup user, so none is sent)
   * @param binding the server certificate hash for SCRAM-SHA-256-PLUS, or null for plain SCRAM
   *   (then `y` is sent when the connection uses TLS but the server offered no binding)
   */
  constructor(
    private readonly password: string,
    private readonly binding: Buffer | null,
    overTls = false,
    /** Fixed nonce and user name, for the RFC 7677 test vector only. */
    vector?: { nonce: string; user: string },
  ) {
    this.nonce = vector?.nonce ?? randomBytes(18).toString('base64');
    if (binding) this.gs2Header = 'p=tls-server-end-point,,';
    else this.gs2Header = overTls ? 'y,,' : 'n,,';
    this.clientFirstBare = `n=${vector?.user ?? '*'},r=${this.nonce}`;
  }

  /** The mechanism name to send in SASLInitialResponse. */
  get mechanism(): string {
    return this.binding ? 'SCRAM-SHA-256-PLUS' : 'SCRAM-SHA-256';
  }

  /** The client-first message. */
  clientFirst(): Buffer {
    return Buffer.from(this.gs2Header + this.clientFirstBare, 'utf8');
  }

  /** Computes the client-final message from the server-first message. */
  clientFinal(serverFirstBytes: Buffer): Buffer {
    const serverFirst = serverFirstBytes.toString('utf8');
    const attrs = parseAttributes(serverFirst);
    const serverNonce = attrs.get('r');
    const salt = attrs.get('s');
    const iterations = Number(attrs.get('i'));
    if (!serverNonce || !salt || !Number.isInteger(iterations) || iterations < 1) {
      throw fail('malformed SCRAM server-first message');
    }
    // Step: the server nonce must extend ours, or someone is replaying another exchange.
    if (!serverNonce.startsWith(this.nonce)) throw fail('SCRAM server nonce does not match');
    const cbind = this.binding
      ? Buffer.concat([Buffer.from(this.gs2Header), this.binding])
      : Buffer.from(this.gs2Header);
    const withoutProof = `c=${cbind.toString('base64')},r=${serverNonce}`;
    const salted = pbkdf2Sync(
      this.password.normalize('NFKC'),
      Buffer.from(salt, 'base64'),
      iterations,
      32,
      'sha256',
    );
    const clientKey = hmac(salted, 'Client Key');
    const storedKey = createHash('sha256').update(clientKey).digest();
    const authMessage = `${this.clientFirstBare},${serverFirst},${withoutProof}`;
    const signature = hmac(storedKey, authMessage);
    const proof = Buffer.alloc(clientKey.length);
    for (let i = 0; i < proof.length; i++) proof[i] = clientKey[i]! ^ signature[i]!;
    this.serverSignature = hmac(hmac(salted, 'Server Key'), authMessage);
    return Buffer.from(`${withoutProof},p=${proof.toString('base64')}`, 'utf8');
  }

  /** Verifies the server-final message: proof that the server knew the password too. */
  verifyServerFinal(serverFinalBytes: Buffer): void {
    const attrs = parseAttributes(serverFinalBytes.toString('utf8'));
    const error = attrs.get('e');
    if (error) throw fail(`SCRAM authentication failed: ${error}`);
    const verifier = Buffer.from(attrs.get('v') ?? '', 'base64');
    if (
      !this.serverSignature ||
      verifier.length !== this.serverSignature.length ||
      !timingSafeEqual(verifier, this.serverSignature)
    ) {
      throw fail('SCRAM server signature does not verify');
    }
  }
}

/**
 * The `tls-server-end-point` binding: a hash of the server's DER certificate. RFC 5929 uses the
 * certificate's signature hash, with SHA-256 for MD5 and SHA-1; SHA-384 and SHA-512 signatures
 * are recognised by their algorithm identifiers in the certificate.
 */
export function serverEndPointHash(certificateDer: Buffer): Buffer {
  const algorithm = signatureHash(certificateDer);
  return createHash(algorithm).update(certificateDer).digest();
}

// DER encodings of the signature algorithm OIDs that use SHA-384 or SHA-512.
const SHA384_OIDS = ['2a864886f70d01010c', '2a8648ce3d040303'];
const SHA512_OIDS = ['2a864886f70d01010d', '2a8648ce3d040304'];

function signatureHash(der: Buffer): 'sha256' | 'sha384' | 'sha512' {
  // The outer signatureAlgorithm sits near the end, after the TBSCertificate; look there only.
  const tail = der.subarray(Math.max(0, der.length - 600)).toString('hex');
  if (SHA512_OIDS.some((oid) => tail.includes(oid))) return 'sha512';
  if (SHA384_OIDS.some((oid) => tail.includes(oid))) return 'sha384';
  return 'sha256';
}

function parseAttributes(message: string): Map<string, string> {
  const attrs = new Map<string, string>();
  for (const part of message.split(',')) {
    const eq = part.indexOf('=');
    if (eq === 1) attrs.set(part[0]!, part.slice(2));
  }
  return attrs;
}

function hmac(key: Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data).digest();
}

function md5hex(data: Buffer | string): string {
  return createHash('md5').update(data).digest('hex');
}

/** PostgreSQL's md5 password response: `md5` + md5(md5(password + user) + salt). */
export function md5Password(user: string, password: string, salt: Buffer): string {
  const inner = md5hex(password + user);
  return `md5${md5hex(Buffer.concat([Buffer.from(inner), salt]))}`;
}

function fail(message: string): PgwardenError {
  return new PgwardenError('ERR_UPSTREAM', message);
}
