import { describeValue, InvalidOptionError } from '../errors.js'
import { parseBoolean } from '../limit/units.js'

/** TLS settings of a client's connections (passed to undici's `connect`, then to tls.connect). */
export interface ClientTlsOptions {
  /**
   * Certificate authorities to trust (PEM), **instead of** Node's bundled ones, as tls.connect does:
   * a corporate CA, a self-signed server. To trust both: `[...tls.rootCertificates, myCa]`.
   */
  ca?: PemInput
  /** Client certificate chain (PEM) for mutual TLS; with `key`. */
  cert?: PemInput
  /** The private key (PEM) of `cert`. */
  key?: PemInput
  /** Refuse servers whose certificate does not verify. false accepts any certificate: never in production. @default true */
  rejectUnauthorized?: boolean
  /** Name sent by SNI and checked against the certificate. @default the URL's host name */
  servername?: string
}

export type PemInput = string | Buffer | (string | Buffer)[]

const TLS_FIELDS = new Set(['ca', 'cert', 'key', 'rejectUnauthorized', 'servername'])

function isPem(value: unknown): boolean {
  return (typeof value === 'string' || Buffer.isBuffer(value)) && value.length > 0
}

/** What a bad `ca`/`cert`/`key` is, without showing it. */
function describePem(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return value.length === 0 ? 'an empty array' : 'an array holding something else'
  if (typeof value === 'string' || Buffer.isBuffer(value)) return 'an empty one'
  return `a ${typeof value}`
}

/** `tls`, checked field by field. Certificates and keys are never shown in an error: a key is a secret. */
export function resolveTls(
  value: unknown,
  name: (option: string) => string,
  caller: string,
): ClientTlsOptions | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidOptionError(
      `${name('tls')} must be { ca, cert, key, rejectUnauthorized, servername }, got ${typeof value === 'string' ? 'a string' : describeValue(value)}`,
    )
  }
  const tls = value as Record<string, unknown>
  for (const field of Object.keys(tls)) {
    if (!TLS_FIELDS.has(field)) {
      throw new InvalidOptionError(
        `${name('tls')} has an unknown field \`${field}\` (known: ${[...TLS_FIELDS].join(', ')})`,
      )
    }
  }
  for (const field of ['ca', 'cert', 'key']) {
    const pem = tls[field]
    if (pem !== undefined && !(isPem(pem) || (Array.isArray(pem) && pem.length > 0 && pem.every(isPem)))) {
      throw new InvalidOptionError(
        `${name(`tls.${field}`)} must be a PEM string or Buffer, or a non-empty array of them, got ${describePem(pem)}`,
      )
    }
  }
  if ((tls.cert === undefined) !== (tls.key === undefined)) {
    throw new InvalidOptionError(
      `${caller}: give \`tls.cert\` and \`tls.key\` together (a client certificate and its key), not one of them`,
    )
  }
  parseBoolean(tls.rejectUnauthorized, name('tls.rejectUnauthorized'), true)
  if (tls.servername !== undefined && (typeof tls.servername !== 'string' || tls.servername === '')) {
    throw new InvalidOptionError(
      `${name('tls.servername')} must be a non-empty host name, got ${describeValue(tls.servername)}`,
    )
  }
  return { ...tls }
}
