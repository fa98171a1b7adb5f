import type { AwsCredentialIdentity } from '@smithy/types'

// The signer is the AWS SDK's own (`@smithy/signature-v4`, issue 19: no hand-written SigV4). It
// and node:crypto load on the first AssumeRole call, in this chunk of its own, so importing
// @podcreds/sts (and through it the default chain) loads neither (DESIGN "Cold-start budget").

/** One request to sign: an STS Query-protocol `POST` of a form to `url`. */
export interface SignInput {
  url: URL
  headers: Record<string, string>
  body: string
  credentials: AwsCredentialIdentity
  /** The signing region (the endpoint's region; `us-east-1` for the global endpoint). */
  region: string
  /** The signing time, epoch ms on the caller's clock. */
  now: number
}

type SignatureV4 = typeof import('@smithy/signature-v4').SignatureV4
let loaded: Promise<{ SignatureV4: SignatureV4; Sha256: Sha256Constructor }> | undefined

interface Sha256Constructor {
  new (
    secret?: string | ArrayBuffer | ArrayBufferView,
  ): {
    update(data: string | ArrayBuffer | ArrayBufferView): void
    digest(): Promise<Uint8Array>
    reset(): void
  }
}

function load(): Promise<{ SignatureV4: SignatureV4; Sha256: Sha256Constructor }> {
  loaded ??= Promise.all([import('@smithy/signature-v4'), import('node:crypto')]).then(
    ([{ SignatureV4 }, crypto]) => {
      // The `sha256` the signer asks for (a @smithy/types HashConstructor): a hash, or an HMAC
      // when constructed with a secret. node:crypto does the hashing, as @smithy/hash-node does.
      class Sha256 {
        readonly #secret: string | ArrayBuffer | ArrayBufferView | undefined
        #hash: import('node:crypto').Hash | import('node:crypto').Hmac
        constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
          this.#secret = secret
          this.#hash = this.#create()
        }
        #create(): import('node:crypto').Hash | import('node:crypto').Hmac {
          const secret = this.#secret
          if (secret === undefined) return crypto.createHash('sha256')
          return crypto.createHmac('sha256', toBuffer(secret))
        }
        update(data: string | ArrayBuffer | ArrayBufferView): void {
          this.#hash.update(toBuffer(data))
        }
        async digest(): Promise<Uint8Array> {
          return new Uint8Array(this.#hash.digest())
        }
        reset(): void {
          this.#hash = this.#create()
        }
      }
      return { SignatureV4, Sha256 }
    },
  )
  return loaded
}

function toBuffer(data: string | ArrayBuffer | ArrayBufferView): Buffer {
  if (typeof data === 'string') return Buffer.from(data, 'utf8')
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength)
  return Buffer.from(data)
}

/**
 * The headers of the signed request: the input's, plus `host`, `x-amz-date`,
 * `x-amz-security-token` (when the source has a session token), `x-amz-content-sha256` and
 * `authorization`, as the AWS SDK's STS client sends them.
 */
export async function signStsRequest(input: SignInput): Promise<Record<string, string>> {
  const { SignatureV4, Sha256 } = await load()
  const { url } = input
  const signer = new SignatureV4({
    credentials: {
      accessKeyId: input.credentials.accessKeyId,
      secretAccessKey: input.credentials.secretAccessKey,
      ...(input.credentials.sessionToken === undefined
        ? {}
        : { sessionToken: input.credentials.sessionToken }),
    },
    region: input.region,
    service: 'sts',
    sha256: Sha256,
    uriEscapePath: true,
  })
  const query: Record<string, string | string[]> = {}
  for (const [name, value] of url.searchParams) {
    const existing = query[name]
    query[name] =
      existing === undefined ? value : [...(Array.isArray(existing) ? existing : [existing]), value]
  }
  const signed = await signer.sign(
    {
      method: 'POST',
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port === '' ? {} : { port: Number(url.port) }),
      path: url.pathname === '' ? '/' : url.pathname,
      query,
      // `host` as node:http sends it: the port only when it is not the scheme's default.
      headers: { ...input.headers, host: url.host },
      body: input.body,
    },
    { signingDate: new Date(input.now), signingRegion: input.region, signingService: 'sts' },
  )
  const headers: Record<string, string> = {}
  for (const [name, value] of Object.entries(signed.headers)) headers[name.toLowerCase()] = String(value)
  return headers
}
