import type { IncomingHttpHeaders, Server, ServerResponse } from 'node:http'
import { createServer } from 'node:http'
import { closeServer, listenLoopback, readBody } from '../../../../test/support/loopback.js'

/** One request the fake STS received. */
export interface RecordedRequest {
  method: string
  path: string
  headers: IncomingHttpHeaders
  raw: string
  form: URLSearchParams
}

/** One answer: a status and an XML body, or `destroy` to reset the connection. */
export interface Answer {
  status?: number
  body?: string
  destroy?: boolean
  /** Never answer (the connection is closed when the fake closes). */
  hang?: boolean
}

export type Responder = (request: RecordedRequest) => Answer

export interface StsFake {
  /** `http://127.0.0.1:<port>/` */
  url: string
  port: number
  requests: RecordedRequest[]
  /** Queue answers; the last one repeats. */
  answer(...answers: (Answer | Responder)[]): void
  close(): Promise<void>
}

export interface FakeCredentials {
  accessKeyId: string
  secretAccessKey: string
  sessionToken: string
  expiration: string
  arn?: string
}

export const DEFAULT_CREDENTIALS: FakeCredentials = {
  accessKeyId: 'ASIAFAKEACCESSKEY123',
  secretAccessKey: 'SECRETCANARYsecretaccesskey0000000000000',
  sessionToken: 'SECRETCANARYsessiontoken//////++++====0000',
  expiration: '2030-01-01T01:00:00Z',
  arn: 'arn:aws:sts::123456789012:assumed-role/app-role/podcreds-session',
}

export function successXml(credentials: Partial<FakeCredentials> = {}): string {
  const c = { ...DEFAULT_CREDENTIALS, ...credentials }
  return `<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleWithWebIdentityResult>
    <Audience>sts.amazonaws.com</Audience>
    <AssumedRoleUser>
      <AssumedRoleId>AROAEXAMPLE:podcreds-session</AssumedRoleId>
      <Arn>${c.arn ?? ''}</Arn>
    </AssumedRoleUser>
    <Provider>arn:aws:iam::123456789012:oidc-provider/oidc.eks.example</Provider>
    <Credentials>
      <AccessKeyId>${c.accessKeyId}</AccessKeyId>
      <SecretAccessKey>${c.secretAccessKey}</SecretAccessKey>
      <SessionToken>${c.sessionToken}</SessionToken>
      <Expiration>${c.expiration}</Expiration>
    </Credentials>
    <SubjectFromWebIdentityToken>system:serviceaccount:default:app</SubjectFromWebIdentityToken>
  </AssumeRoleWithWebIdentityResult>
  <ResponseMetadata>
    <RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId>
  </ResponseMetadata>
</AssumeRoleWithWebIdentityResponse>`
}

export function errorXml(code: string, message: string, type = 'Sender'): string {
  return `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <Error>
    <Type>${type}</Type>
    <Code>${code}</Code>
    <Message>${message}</Message>
  </Error>
  <RequestId>7c7b1f6a-0000-0000-0000-000000000000</RequestId>
</ErrorResponse>`
}

/** A loopback STS: parses the form body, records every request, answers from a queue. */
export async function startStsFake(...initial: (Answer | Responder)[]): Promise<StsFake> {
  const queue: (Answer | Responder)[] = initial.length > 0 ? initial : [{ body: successXml() }]
  const requests: RecordedRequest[] = []
  const server: Server = createServer(async (req, res: ServerResponse) => {
    const raw = await readBody(req)
    const recorded: RecordedRequest = {
      method: req.method ?? '',
      path: req.url ?? '',
      headers: req.headers,
      raw,
      form: new URLSearchParams(raw),
    }
    requests.push(recorded)
    const next = queue.length > 1 ? queue.shift() : queue[0]
    const answer = typeof next === 'function' ? next(recorded) : (next ?? {})
    if (answer.hang === true) return
    if (answer.destroy === true) {
      req.socket.destroy()
      return
    }
    res.writeHead(answer.status ?? 200, { 'content-type': 'text/xml' })
    res.end(answer.body ?? '')
  })
  const { port, origin } = await listenLoopback(server)
  return {
    url: `${origin}/`,
    port,
    requests,
    answer(...answers) {
      queue.length = 0
      queue.push(...answers)
    },
    close: () => closeServer(server),
  }
}
