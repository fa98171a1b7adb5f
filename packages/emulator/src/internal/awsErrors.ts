import { randomUUID } from 'node:crypto'
import type { ServerResponse } from 'node:http'
import { send } from './context.js'
import type { XmlWriter } from './xml.js'
import { STS_XMLNS } from './xml.js'

/** An STS (query protocol) error: `<ErrorResponse><Error><Type/><Code/><Message/></Error>…`. */
export function stsError(
  xml: XmlWriter,
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
): void {
  const requestId = randomUUID()
  send(
    res,
    status,
    'text/xml',
    xml(
      'ErrorResponse',
      {
        Error: { Type: status >= 500 ? 'Receiver' : 'Sender', Code: code, Message: message },
        RequestId: requestId,
      },
      STS_XMLNS,
    ),
    { 'x-amzn-requestid': requestId },
  )
}

/** An S3 (REST-XML) error: `<Error><Code/><Message/><RequestId/></Error>`. */
export function s3Error(
  xml: XmlWriter,
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
): void {
  const requestId = randomUUID()
  send(
    res,
    status,
    'application/xml',
    xml('Error', { Code: code, Message: message, RequestId: requestId, HostId: 'podcreds-emulator' }),
    { 'x-amz-request-id': requestId },
  )
}

/** The error code an injected status gets on STS and the AWS endpoint when none is given. */
export function codeForStatus(status: number): string {
  switch (status) {
    case 400:
      return 'InvalidParameterValue'
    case 403:
      return 'AccessDenied'
    case 404:
      return 'NotFound'
    case 429:
      return 'Throttling'
    case 500:
      return 'InternalFailure'
    case 503:
      return 'ServiceUnavailable'
    default:
      return status >= 500 ? 'InternalFailure' : 'InvalidRequest'
  }
}
