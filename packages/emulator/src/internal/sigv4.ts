import { createHash, timingSafeEqual } from 'node:crypto'
import type { Context, Exchange } from './context.js'
import type { IssuedCredentials } from './credentialStore.js'

export type SigV4Failure = {
  ok: false
  status: number
  /** STS-style code; {@link s3Code} maps it for S3. */
  code:
    | 'MissingAuthenticationToken'
    | 'IncompleteSignature'
    | 'InvalidClientTokenId'
    | 'ExpiredToken'
    | 'SignatureDoesNotMatch'
    | 'RequestTimeTooSkewed'
  message: string
}
export type SigV4Result = { ok: true; credentials: IssuedCredentials; service: string } | SigV4Failure

const AUTH =
  /^AWS4-HMAC-SHA256\s+Credential=([^/,\s]+)\/(\d{8})\/([^/,\s]+)\/([^/,\s]+)\/aws4_request,\s*SignedHeaders=([a-z0-9;_-]+),\s*Signature=([0-9a-f]{64})\s*$/
const MAX_SKEW_MS = 15 * 60_000

/** The service named in a request's SigV4 credential scope, if it has one. */
export function scopeService(authorization: string | undefined): string | undefined {
  return authorization === undefined ? undefined : AUTH.exec(authorization)?.[4]
}

/**
 * Verifies a SigV4 `Authorization` header the way AWS does: by recomputing the signature of the
 * received request with the secret of the key the emulator issued (`@smithy/signature-v4`,
 * not our own signer) and comparing. Only credentials this emulator issued and that have not
 * expired on its clock pass.
 */
export async function verifySigV4(
  context: Context,
  exchange: Exchange,
  skewMs: number,
): Promise<SigV4Result> {
  const { req, body, url } = exchange
  const header = req.headers.authorization
  if (header === undefined || header === '') {
    return fail(403, 'MissingAuthenticationToken', 'Request is missing Authentication Token')
  }
  const match = AUTH.exec(header)
  if (match === null) {
    return fail(
      400,
      'IncompleteSignature',
      'Authorization header requires Credential, SignedHeaders and Signature',
    )
  }
  const [, keyId, scopeDate, region, service, signedList, signature] = match as unknown as [
    string,
    string,
    string,
    string,
    string,
    string,
    string,
  ]
  const credentials = context.store.get(keyId)
  if (credentials === undefined) {
    return fail(403, 'InvalidClientTokenId', 'The security token included in the request is invalid.')
  }
  const presentedToken = req.headers['x-amz-security-token']
  if (presentedToken !== credentials.sessionToken) {
    return fail(403, 'InvalidClientTokenId', 'The security token included in the request is invalid.')
  }
  const now = context.clock.now()
  if (now >= credentials.expiresAt) {
    return fail(403, 'ExpiredToken', 'The security token included in the request is expired')
  }
  const rawDate = req.headers['x-amz-date']
  const amzDate = typeof rawDate === 'string' ? rawDate : ''
  const signingDate = parseAmzDate(amzDate)
  if (signingDate === undefined || !amzDate.startsWith(scopeDate)) {
    return fail(
      400,
      'IncompleteSignature',
      'X-Amz-Date is missing or does not match the credential scope date',
    )
  }
  const serverNow = now + skewMs
  if (Math.abs(signingDate.getTime() - serverNow) > MAX_SKEW_MS) {
    return fail(
      403,
      'RequestTimeTooSkewed',
      `Signature expired: ${amzDate} is now earlier or later than ${formatAmzDate(serverNow - MAX_SKEW_MS)} (${formatAmzDate(serverNow)} +/- 15 min.)`,
    )
  }
  const declaredHash = req.headers['x-amz-content-sha256']
  if (
    typeof declaredHash === 'string' &&
    /^[0-9a-f]{64}$/.test(declaredHash) &&
    declaredHash !== createHash('sha256').update(body).digest('hex')
  ) {
    return fail(
      400,
      'SignatureDoesNotMatch',
      'The provided x-amz-content-sha256 header does not match the payload',
    )
  }

  const signed = signedList.split(';')
  const headers: Record<string, string> = {}
  for (const name of signed) {
    const value = req.headers[name]
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(',') : value
  }
  const query: Record<string, string | string[]> = {}
  for (const [name, value] of url.searchParams) {
    const existing = query[name]
    query[name] =
      existing === undefined ? value : [...(Array.isArray(existing) ? existing : [existing]), value]
  }
  const { SignatureV4, HttpRequest, Hash } = context.deps
  // S3 signs the path as sent; every other service signs the decoded path, escaped by the signer.
  const isS3 = service === 's3'
  let path = url.pathname
  if (!isS3) {
    try {
      path = decodeURIComponent(path)
    } catch {
      return fail(400, 'SignatureDoesNotMatch', 'The request path is not valid percent-encoding')
    }
  }
  const request = new HttpRequest({
    method: req.method ?? 'GET',
    protocol: 'http:',
    hostname: url.hostname,
    ...(url.port === '' ? {} : { port: Number(url.port) }),
    path,
    query,
    headers,
    body,
  })
  const signer = new SignatureV4({
    credentials: {
      accessKeyId: credentials.accessKeyId,
      secretAccessKey: credentials.secretAccessKey,
      sessionToken: credentials.sessionToken,
    },
    region,
    service,
    sha256: Hash.bind(null, 'sha256'),
    uriEscapePath: !isS3,
    applyChecksum: false,
  })
  const expected = await signer.sign(request, {
    signingDate,
    signingRegion: region,
    signingService: service,
    signableHeaders: new Set(signed),
  })
  const expectedHeader = String(expected.headers.authorization ?? '')
  const expectedSignature = /Signature=([0-9a-f]{64})$/.exec(expectedHeader)?.[1] ?? ''
  const expectedSigned = /SignedHeaders=([^,]+),/.exec(expectedHeader)?.[1] ?? ''
  const same =
    expectedSigned === signedList &&
    expectedSignature.length === signature.length &&
    timingSafeEqual(Buffer.from(expectedSignature), Buffer.from(signature))
  if (!same) {
    return fail(
      403,
      'SignatureDoesNotMatch',
      'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.',
    )
  }
  return { ok: true, credentials, service }
}

function fail(status: number, code: SigV4Failure['code'], message: string): SigV4Failure {
  return { ok: false, status, code, message }
}

/** The S3 spelling of a SigV4 failure (S3 speaks REST-XML with its own codes and statuses). */
export function s3Code(failure: SigV4Failure): { status: number; code: string; message: string } {
  switch (failure.code) {
    case 'InvalidClientTokenId':
      return {
        status: 403,
        code: 'InvalidAccessKeyId',
        message: 'The AWS Access Key Id you provided does not exist in our records.',
      }
    case 'ExpiredToken':
      return { status: 400, code: 'ExpiredToken', message: 'The provided token has expired.' }
    case 'MissingAuthenticationToken':
      return { status: 403, code: 'AccessDenied', message: 'Access Denied' }
    case 'IncompleteSignature':
      return { status: 400, code: 'AuthorizationHeaderMalformed', message: failure.message }
    default:
      return { status: failure.status, code: failure.code, message: failure.message }
  }
}

function parseAmzDate(value: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value)
  if (m === null) return undefined
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]))
  return Number.isNaN(ms) ? undefined : new Date(ms)
}

function formatAmzDate(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '')
}
