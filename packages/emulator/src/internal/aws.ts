import { randomUUID } from 'node:crypto'
import { s3Error } from './awsErrors.js'
import type { Context, Exchange } from './context.js'
import { send } from './context.js'
import { rfc3339 } from './ids.js'
import { s3Code, scopeService, verifySigV4 } from './sigv4.js'
import { handleSts } from './sts.js'
import { S3_XMLNS } from './xml.js'

/** Whether a request to the AWS endpoint is an S3 one (REST-XML errors) rather than STS (query). */
export function isS3Request(exchange: Exchange): boolean {
  const service = scopeService(exchange.req.headers.authorization)
  if (service !== undefined) return service === 's3'
  return exchange.req.method !== 'POST'
}

/**
 * The AWS endpoint: STS actions (signed `GetCallerIdentity`; `AssumeRoleWithWebIdentity` too, for
 * clients pointed here by `AWS_ENDPOINT_URL`) and S3 `ListBuckets` (`GET /`, path-style), each
 * only for a valid SigV4 signature by credentials this emulator issued and that have not expired.
 */
export async function handleAws(context: Context, exchange: Exchange, skewMs: number): Promise<void> {
  if (!isS3Request(exchange)) return handleSts(context, exchange, skewMs)
  const verified = await verifySigV4(context, exchange, skewMs)
  if (!verified.ok) {
    const failure = s3Code(verified)
    return s3Error(context.xml, exchange.res, failure.status, failure.code, failure.message)
  }
  if (exchange.req.method !== 'GET' || exchange.url.pathname !== '/') {
    return s3Error(
      context.xml,
      exchange.res,
      501,
      'NotImplemented',
      'The emulator answers ListBuckets (GET /) only.',
    )
  }
  const { credentials } = verified
  const requestId = randomUUID()
  send(
    exchange.res,
    200,
    'application/xml',
    context.xml(
      'ListAllMyBucketsResult',
      {
        Owner: { ID: credentials.accountId, DisplayName: 'podcreds' },
        Buckets: {
          Bucket: context.buckets.map((name) => ({ Name: name, CreationDate: rfc3339(context.startedAt) })),
        },
      },
      S3_XMLNS,
    ),
    { 'x-amz-request-id': requestId },
  )
}
