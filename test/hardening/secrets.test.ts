// Issue 11, "Secrets": a canary secret key, session token, service-account token (and a URL
// password) flow through every path — success, each error, explain(), stats(), diagnostics-channel
// messages, logger calls, util.inspect of every public object, and the CLI (doctor --json,
// token inspect, credential-process). Everything is captured and grepped; the one exempt stream
// is credential-process's stdout, where the secrets must be present (and nowhere else).
import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { existsSync } from 'node:fs'
import { readdir, readFile, stat } from 'node:fs/promises'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { join } from 'node:path'
import { format, inspect } from 'node:util'
import { workloadIdentityCredential } from '@podcreds/azure'
import { chain, defaultChain, explain, fromEnv } from '@podcreds/chain'
import {
  checkEndpoint,
  checkInstanceMetadata,
  fromContainer,
  fromInstanceMetadata,
} from '@podcreds/container'
import { CredentialsError, redactCredentials } from '@podcreds/core'
import { startEmulator } from '@podcreds/emulator'
import { refreshing } from '@podcreds/refresh'
import { fromAssumeRole } from '@podcreds/sts'
import { decodeToken, inspectToken, readToken } from '@podcreds/token'
import { fromWebIdentity } from '@podcreds/web-identity'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { printedForms } from '../support/secrets.js'
import type { RunResult } from '../support/subprocess.js'
import { CLI_BIN, runCli } from '../support/subprocess.js'
import { tempDir } from '../support/tempDir.js'
import type { Recorder } from './helpers.js'
import {
  agentBody,
  assumeRoleBody,
  CANARIES,
  CANARY_ACCESS_TOKEN,
  CANARY_KEY_ID,
  CANARY_PASSWORD,
  CANARY_SECRET,
  CANARY_SESSION,
  CANARY_TOKEN,
  CANARY_TOKEN_SIGNATURE,
  canaryToken,
  leaks,
  recordingLogger,
  startRecorder,
  stsBody,
  stsError,
  VirtualClock,
} from './helpers.js'

const CHANNELS = [
  'podcreds:refresh:start',
  'podcreds:refresh:success',
  'podcreds:refresh:unchanged',
  'podcreds:refresh:failure',
  'podcreds:refresh:stale',
]
const ROLE = 'arn:aws:iam::123456789012:role/hardening'

/** Everything any path printed, with where it came from. */
const captured: { where: string; text: string }[] = []
const capture = (where: string, ...values: unknown[]): void => {
  for (const value of values) {
    if (typeof value === 'string') captured.push({ where, text: value })
    else {
      captured.push({ where, text: inspect(value, { depth: 12, showHidden: true }) })
      captured.push({ where, text: format('%o %O %j %s', value, value, value, value) })
      try {
        captured.push({ where, text: JSON.stringify(value) ?? '' })
      } catch {
        // circular: inspect covered it
      }
    }
  }
}
const captureError = (where: string, error: unknown): void => {
  for (const text of printedForms(error)) captured.push({ where, text })
}
beforeEach(() => {
  captured.length = 0
})
const expectCapturedClean = (): void => {
  const leaked = captured
    .filter(({ text }) => leaks(text).length > 0)
    .map(({ where, text }) => `${where}: ${leaks(text).join(',')}: ${text.slice(0, 300)}`)
  expect(leaked).toEqual([])
}

let agent: Recorder
// Issue 17: a hostile IMDS. It hands out the node's credentials (the canaries), and in its other
// modes answers garbage, echoes its session token (itself a canary), redirects, or is huge.
let imds: Recorder
let imdsMode: 'ok' | 'garbage' | 'echo' | 'redirect' | 'huge' = 'ok'
const IMDS_TOKEN = `IMDS${CANARY_PASSWORD}`
let sts: Recorder
let files: Awaited<ReturnType<typeof tempDir>>
let tokenFile: string
const log = recordingLogger()
const channelMessages: unknown[] = []
const onChannel = (message: unknown): void => {
  channelMessages.push(message)
}

beforeAll(async () => {
  for (const name of CHANNELS) subscribe(name, onChannel)
  files = await tempDir('podcreds-hardening-')
  tokenFile = await files.write('token', `${CANARY_TOKEN}\n`)
  // The agent answers by path: the credentials, or a hostile error that echoes every secret.
  agent = await startRecorder((req, res: ServerResponse) => {
    // A hostile agent echoes what it was sent: the token, twice. It cannot know credentials it never
    // issued to this caller, so those are not echoed here.
    const echo = `token=${req.headers.authorization} auth=${req.headers.authorization}`
    switch (req.url) {
      case '/v1/credentials':
        return void res.writeHead(200, { 'content-type': 'application/json' }).end(agentBody())
      case '/400':
        return void res.writeHead(400, { 'content-type': 'text/plain' }).end(`invalid token: ${echo}`)
      case '/403':
        return void res.writeHead(403).end(`AccessDenied ${echo}`)
      case '/500':
        return void res.writeHead(500).end(`panic\n${echo}\n${'x'.repeat(2000)}`)
      case '/bad-json':
        return void res.writeHead(200).end(`${agentBody().slice(0, -3)} ${echo}`)
      case '/past':
        return void res.writeHead(200).end(agentBody({ Expiration: '2001-01-01T00:00:00Z' }))
      case '/types':
        return void res.writeHead(200).end(agentBody({ Expiration: CANARY_SECRET, Token: 7 }))
      case '/redirect':
        return void res
          .writeHead(302, { location: `http://u:${CANARY_PASSWORD}@169.254.169.254/?${echo}` })
          .end(echo)
      default:
        return void res.writeHead(404).end(`no association ${echo}`)
    }
  })
  imds = await startRecorder((req, res: ServerResponse) => {
    const echo = `token=${req.headers['x-aws-ec2-metadata-token']}`
    if (req.url === '/latest/api/token') return void res.writeHead(200).end(IMDS_TOKEN)
    if (req.url === '/latest/meta-data/iam/security-credentials/')
      return void res.writeHead(200).end('node-role')
    switch (imdsMode) {
      case 'ok':
        return void res.writeHead(200).end(agentBody({ Code: 'Success', Type: 'AWS-HMAC' }))
      case 'garbage':
        return void res.writeHead(200).end(`${agentBody().slice(0, -5)} ${echo}`)
      case 'echo':
        return void res.writeHead(500).end(`internal error ${echo} ${agentBody()}`)
      case 'redirect':
        return void res
          .writeHead(301, { location: `http://u:${CANARY_PASSWORD}@169.254.169.254/?${echo}` })
          .end(echo)
      case 'huge':
        return void res.writeHead(200).end(`${agentBody()}${' '.repeat(70_000)}`)
    }
  })
  sts = await startRecorder((req, res: ServerResponse, body) => {
    const role = new URLSearchParams(body).get('RoleArn') ?? ''
    // Issue 19: a signed AssumeRole (fromAssumeRole, the profile link). A hostile STS echoes what
    // it was sent: the Authorization header (the source's whole key id), the session token header,
    // and the body.
    if (new URLSearchParams(body).get('Action') === 'AssumeRole')
      return assumeRoleAnswer(req, res, role, body)
    const token = new URLSearchParams(body).get('WebIdentityToken') ?? ''
    const echo = `${token} (${token})`
    const route = (name: string): boolean => role.endsWith(`-${name}`)
    if (route('ok')) return void res.writeHead(200, { 'content-type': 'text/xml' }).end(stsBody())
    if (route('denied'))
      return void res.writeHead(403).end(stsError('AccessDenied', `Not authorized ${echo}`))
    if (route('invalid')) return void res.writeHead(400).end(stsError('InvalidIdentityToken', echo))
    if (route('throttled')) return void res.writeHead(400).end(stsError('Throttling', echo))
    if (route('html')) return void res.writeHead(502).end(`<html>${echo}`)
    if (route('doctype')) return void res.writeHead(200).end(`<!DOCTYPE x>${stsBody()}`)
    if (route('malformed')) return void res.writeHead(200).end(stsBody().slice(0, -40))
    return void res.writeHead(200).end(stsBody({ expiration: 'never' }))
  })
})

function assumeRoleAnswer(req: IncomingMessage, res: ServerResponse, role: string, body: string): void {
  const echo = `auth=${req.headers.authorization} token=${req.headers['x-amz-security-token']} body=${body} source secret=${CANARY_SECRET}`
  const route = (name: string): boolean => role.endsWith(`-${name}`)
  const xml = { 'content-type': 'text/xml' }
  if (route('ok')) return void res.writeHead(200, xml).end(assumeRoleBody())
  if (route('denied')) return void res.writeHead(403).end(stsError('AccessDenied', `Not authorized ${echo}`))
  // The source's key rejected: fromAssumeRole invalidates it at the source and tries once more.
  if (route('expired-key')) return void res.writeHead(400).end(stsError('ExpiredToken', echo))
  if (route('invalid-key')) return void res.writeHead(403).end(stsError('InvalidClientTokenId', echo))
  if (route('throttled')) return void res.writeHead(400).end(stsError('Throttling', echo))
  if (route('html')) return void res.writeHead(502).end(`<html>${echo}`)
  if (route('doctype'))
    return void res.writeHead(200, xml).end(`<!DOCTYPE x>${assumeRoleBody()}<!-- ${echo} -->`)
  if (route('malformed')) return void res.writeHead(200, xml).end(`${assumeRoleBody().slice(0, -40)} ${echo}`)
  if (route('no-credentials'))
    return void res.writeHead(200, xml).end(assumeRoleBody({ credentials: `<Echo>${echo}</Echo>` }))
  if (route('past'))
    return void res.writeHead(200, xml).end(assumeRoleBody({ expiration: '2001-01-01T00:00:00Z' }))
  return void res.writeHead(200, xml).end(assumeRoleBody({ expiration: 'never' }))
}

afterAll(async () => {
  for (const name of CHANNELS) unsubscribe(name, onChannel)
  await agent.close()
  await imds.close()
  await sts.close()
  await files.cleanup()
})

const container = (path: string, extra: Parameters<typeof fromContainer>[0] = {}) =>
  fromContainer({
    fullUri: `${agent.origin}${path}`,
    authorizationTokenFile: tokenFile,
    maxAttempts: 2,
    logger: log.logger,
    random: () => 0,
    env: {},
    ...extra,
  })

const webIdentity = (name: string) =>
  fromWebIdentity({
    tokenFile,
    roleArn: `${ROLE}-${name}`,
    region: 'eu-west-1',
    endpoint: sts.origin,
    maxAttempts: 2,
    logger: log.logger,
    random: () => 0,
    env: {},
  })

describe('library paths', () => {
  it('success: credentials print redacted everywhere, and the secrets really flowed', async () => {
    const provider = container('/v1/credentials')
    const credentials = await provider()
    // Non-vacuous: the canaries went through.
    expect(credentials.secretAccessKey).toBe(CANARY_SECRET)
    expect(credentials.sessionToken).toBe(CANARY_SESSION)
    expect(agent.hits.at(-1)?.headers.authorization).toBe(CANARY_TOKEN)
    capture(
      'container credentials',
      credentials,
      String(credentials),
      `${credentials}`,
      redactCredentials(credentials),
    )
    capture('container provider', provider, await provider.describe())

    const irsa = webIdentity('ok')
    const assumed = await irsa()
    expect(assumed.secretAccessKey).toBe(CANARY_SECRET)
    expect(new URLSearchParams(sts.hits.at(-1)?.body).get('WebIdentityToken')).toBe(CANARY_TOKEN)
    capture('web identity credentials', assumed, irsa, await irsa.describe())

    const token = await readToken(tokenFile)
    capture('token views', decodeToken(token), inspectToken(token, { now: Date.now() }))
    capture('checkEndpoint', checkEndpoint(`https://agent.example/`))
    expectCapturedClean()
  })

  it.each(['/400', '/403', '/500', '/bad-json', '/past', '/types', '/redirect', '/404'])(
    'container error %s: message, stack, inspect, JSON, cause — clean',
    async (path) => {
      const error = await container(path)().catch((e: unknown) => e)
      expect(error).toBeInstanceOf(CredentialsError)
      captureError(`container ${path}`, error)
      expectCapturedClean()
    },
  )

  it('container errors from configuration: password in the URI, CR/LF token, unreadable file', async () => {
    const errors = [
      await fromContainer({
        env: { AWS_CONTAINER_CREDENTIALS_FULL_URI: `http://u:${CANARY_PASSWORD}@127.0.0.1:${agent.port}/` },
      })().catch((e: unknown) => e),
      await fromContainer({
        env: { AWS_CONTAINER_CREDENTIALS_FULL_URI: `http://u:${CANARY_PASSWORD}@169.254.169.254/` },
      })().catch((e: unknown) => e),
      await fromContainer({
        env: {
          AWS_CONTAINER_CREDENTIALS_FULL_URI: `${agent.origin}/v1/credentials`,
          AWS_CONTAINER_AUTHORIZATION_TOKEN: `${CANARY_TOKEN}\r\nX: y`,
        },
      })().catch((e: unknown) => e),
      await container('/v1/credentials', { authorizationTokenFile: join(files.dir, 'missing') })().catch(
        (e: unknown) => e,
      ),
      (() => {
        try {
          fromContainer({
            fullUri: `http://u:${CANARY_PASSWORD}@127.0.0.1/`,
            authorizationToken: CANARY_TOKEN,
          })
        } catch (e) {
          return e
        }
      })(),
      (() => {
        try {
          fromContainer({ fullUri: `${agent.origin}/`, authorizationToken: `${CANARY_TOKEN}\nx` })
        } catch (e) {
          return e
        }
      })(),
    ]
    for (const error of errors) {
      expect(error).toBeInstanceOf(Error)
      captureError('container configuration', error)
    }
    expectCapturedClean()
  })

  it.each(['denied', 'invalid', 'throttled', 'html', 'doctype', 'malformed', 'bad-date'])(
    'web identity error %s: clean',
    async (name) => {
      const error = await webIdentity(name)().catch((e: unknown) => e)
      expect(error).toBeInstanceOf(CredentialsError)
      captureError(`sts ${name}`, error)
      expectCapturedClean()
    },
  )

  it('refresh engine: events, channel messages, logger lines, stats and errors through success and failure', async () => {
    const clock = new VirtualClock(Date.now())
    const events: unknown[] = []
    let path = '/v1/credentials'
    const engine = refreshing((props) => container(path, { clock: undefined })(props), {
      clock,
      logger: log.logger,
      onEvent: (event) => events.push(event),
    })
    try {
      const credentials = await engine()
      expect(credentials.secretAccessKey).toBe(CANARY_SECRET)
      capture('engine', engine, engine.stats())
      for (const failing of ['/400', '/500', '/bad-json', '/403']) {
        path = failing
        const error = await engine.refresh().catch((e: unknown) => e)
        expect(error).toBeInstanceOf(CredentialsError)
        captureError(`engine refresh ${failing}`, error)
        capture(`engine stats after ${failing}`, engine.stats(), engine.stats().lastError)
      }
      // Past expiry with the source failing: ERR_CREDENTIALS_EXPIRED carrying the cause.
      await clock.advance(Date.UTC(2099, 0, 1) - clock.now() + 1000)
      const expired = await engine().catch((e: unknown) => e)
      captureError('engine expired', expired)
      // A source that first succeeds, then throws a foreign (non-podcreds) error echoing the secrets
      // it handed out: the engine scrubs what it holds from stats, events and log lines.
      let foreignCalls = 0
      const foreignClock = new VirtualClock(Date.now())
      const foreign = refreshing(
        async () => {
          if (foreignCalls++ === 0) return container('/v1/credentials')()
          throw new Error(`boom ${CANARY_SECRET} ${CANARY_SESSION}`)
        },
        { clock: foreignClock, logger: log.logger, onEvent: (event) => events.push(event) },
      )
      await foreign()
      await foreign.refresh().catch((e: unknown) => e)
      const fresh = refreshing(container('/v1/credentials'), {
        clock: new VirtualClock(Date.now()),
        logger: log.logger,
      })
      await fresh()
      capture('fresh engine', fresh, fresh.stats())
      fresh.close()
      await foreign().catch(() => undefined)
      capture('foreign engine stats', foreign.stats())
      foreign.close()
    } finally {
      engine.close()
    }
    expect(events.length).toBeGreaterThan(5)
    expect(channelMessages.length).toBeGreaterThan(5)
    capture('events', ...events)
    capture('channel messages', ...channelMessages)
    capture('logger', ...log.lines)
    expectCapturedClean()
  })

  it('imds (issue 17): node credentials, garbage, an echoed token, a redirect, a huge body: never a secret', async () => {
    const env = { AWS_EC2_METADATA_SERVICE_ENDPOINT: imds.origin }
    try {
      for (const mode of ['ok', 'garbage', 'echo', 'redirect', 'huge'] as const) {
        imdsMode = mode
        const provider = fromInstanceMetadata({ env, logger: log.logger })
        const result = await provider().catch((e: unknown) => e)
        if (result instanceof Error) captureError(`imds ${mode}`, result)
        else capture(`imds ${mode} credentials`, result)
        capture(`imds ${mode} describe`, provider, await provider.describe())
        const explanation = await explain({ env, sdkFallback: false, instanceMetadata: true })
        capture(`explain imds ${mode}`, explanation, String(explanation))
        capture(`probe imds ${mode}`, await checkInstanceMetadata({ env }))
        if (mode === 'ok') expect(explanation.chosen).toBe('imds')
        else expect(result).toBeInstanceOf(CredentialsError)
      }
    } finally {
      imdsMode = 'ok'
    }
    capture('logger', ...log.lines)
    expectCapturedClean()
  })

  it('chain, defaultChain and explain(): success, failure, exhausted, dry run', async () => {
    const envKeys = {
      AWS_ACCESS_KEY_ID: CANARY_KEY_ID,
      AWS_SECRET_ACCESS_KEY: CANARY_SECRET,
      AWS_SESSION_TOKEN: CANARY_SESSION,
    }
    const podIdentity = {
      AWS_CONTAINER_CREDENTIALS_FULL_URI: `${agent.origin}/v1/credentials`,
      AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: tokenFile,
    }
    const irsa = {
      AWS_ROLE_ARN: `${ROLE}-ok`,
      AWS_WEB_IDENTITY_TOKEN_FILE: tokenFile,
      AWS_REGION: 'eu-west-1',
      AWS_ENDPOINT_URL_STS: sts.origin,
    }
    const envs: Record<string, Record<string, string>>[] = [
      { 'env keys': envKeys },
      { 'pod identity': podIdentity },
      { irsa },
      { 'irsa denied': { ...irsa, AWS_ROLE_ARN: `${ROLE}-denied` } },
      { 'broken agent': { ...podIdentity, AWS_CONTAINER_CREDENTIALS_FULL_URI: `${agent.origin}/400` } },
      {
        'password in uri': {
          ...podIdentity,
          AWS_CONTAINER_CREDENTIALS_FULL_URI: `http://u:${CANARY_PASSWORD}@127.0.0.1:${agent.port}/v1/credentials`,
        },
      },
      {
        'inline token': {
          AWS_CONTAINER_CREDENTIALS_FULL_URI: `${agent.origin}/v1/credentials`,
          AWS_CONTAINER_AUTHORIZATION_TOKEN: CANARY_TOKEN,
        },
      },
      {
        'password in the sts endpoint': {
          ...irsa,
          AWS_ENDPOINT_URL_STS: `http://u:${CANARY_PASSWORD}@127.0.0.1:${sts.port}/`,
        },
      },
      { nothing: {} },
      { everything: { ...envKeys, ...podIdentity, ...irsa } },
      // Issue 17: a pod that opted in to the node's role (the imds link chosen).
      { 'pod opted in to imds': { KUBERNETES_SERVICE_HOST: '10.0.0.1', PODCREDS_INSTANCE_METADATA: 'true' } },
    ]
    for (const entry of envs) {
      const [name, scenarioEnv] = Object.entries(entry)[0]!
      // Every scenario meets the hostile IMDS (off-cluster the imds link is on).
      const env = { ...scenarioEnv, AWS_EC2_METADATA_SERVICE_ENDPOINT: imds.origin }
      const provider = defaultChain({
        env,
        sdkFallback: false,
        logger: log.logger,
        webIdentity: { maxAttempts: 1 },
        container: { maxAttempts: 1 },
      })
      try {
        const result = await provider().catch((e: unknown) => e)
        if (result instanceof Error) captureError(`defaultChain ${name}`, result)
        else capture(`defaultChain ${name} credentials`, result)
        capture(`defaultChain ${name}`, provider, provider.stats())
      } finally {
        provider.close()
      }
      for (const dryRun of [true, false]) {
        const explanation = await explain({
          env,
          sdkFallback: false,
          dryRun,
          webIdentity: { maxAttempts: 1 },
          container: { maxAttempts: 1 },
        })
        capture(`explain ${name} dryRun=${dryRun}`, explanation, String(explanation), explanation.links)
      }
    }
    const custom = chain(
      { name: 'env', provider: fromEnv({ env: {} }) },
      { name: 'agent', provider: container('/403') },
    )
    captureError('chain', await custom().catch((e: unknown) => e))
    capture('logger', ...log.lines)
    capture('channel messages', ...channelMessages)
    expectCapturedClean()
  })
})

// Issue 19: fromAssumeRole and the chain's `profile` link. The source's secret key and session
// token (canaries) sign AssumeRole; STS answers that echo them (and the whole source key id) come
// back as errors, and a success returns canaries too. None of it may reach an error, a log line,
// util.inspect of the providers, describe(), stats() or explain().
describe('fromAssumeRole and the profile link (issue 19)', () => {
  const canarySource = () =>
    refreshing(async () => ({
      accessKeyId: CANARY_KEY_ID,
      secretAccessKey: CANARY_SECRET,
      sessionToken: CANARY_SESSION,
      expiration: new Date('2099-01-01T00:00:00Z'),
    }))
  const assume = (name: string, extra: Partial<Parameters<typeof fromAssumeRole>[0]> = {}) =>
    fromAssumeRole({
      source: canarySource(),
      roleArn: `${ROLE}-${name}`,
      region: 'eu-west-1',
      endpoint: sts.origin,
      maxAttempts: 2,
      logger: log.logger,
      random: () => 0,
      env: {},
      ...extra,
    })

  it('fromAssumeRole: success, every STS error that echoes the request, a failing source', async () => {
    const ok = assume('ok')
    const cross = refreshing(ok, { logger: log.logger })
    try {
      const credentials = await cross()
      // Non-vacuous: the source's secrets signed the call, and STS's answer carried canaries.
      const hit = sts.hits.at(-1)!
      expect(hit.headers['x-amz-security-token']).toBe(CANARY_SESSION)
      expect(hit.headers.authorization).toContain(`Credential=${CANARY_KEY_ID}/`)
      expect(credentials.secretAccessKey).toBe(CANARY_SECRET)
      expect(credentials.sessionToken).toBe(CANARY_SESSION)
      capture('assume-role credentials', credentials, String(credentials), `${credentials}`)
      capture('assume-role provider', ok, await ok.describe(), cross, cross.stats())
    } finally {
      cross.close()
    }
    for (const name of [
      'denied',
      'expired-key',
      'invalid-key',
      'throttled',
      'html',
      'doctype',
      'malformed',
      'no-credentials',
      'past',
      'never',
    ]) {
      const provider = assume(name)
      const error = await provider().catch((e: unknown) => e)
      expect(error, name).toBeInstanceOf(CredentialsError)
      // Still a clear error: the echoed secrets and the whole key id are cut out, the cause stays.
      if (name === 'denied') expect(String(error)).toMatch(/AccessDenied \(HTTP 403\): Not authorized auth=/)
      captureError(`assume-role ${name}`, error)
      capture(`assume-role ${name} provider`, provider, await provider.describe())
    }
    // A chained hop longer than AWS's 1 h cap is refused before STS, naming the option.
    const long = await assume('ok', { durationSeconds: 7200 })().catch((e: unknown) => e)
    expect(String(long)).toMatch(/durationSeconds 7200/)
    captureError('assume-role durationSeconds', long)
    // The source is the pod's chain; its failure (a hostile agent echoing the token) is the cause.
    for (const path of ['/v1/credentials', '/400', '/500']) {
      const podChain = defaultChain({
        env: {
          AWS_CONTAINER_CREDENTIALS_FULL_URI: `${agent.origin}${path}`,
          AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: tokenFile,
          AWS_EC2_METADATA_SERVICE_ENDPOINT: imds.origin,
          KUBERNETES_SERVICE_HOST: '10.0.0.1',
        },
        sdkFallback: false,
        logger: log.logger,
        container: { maxAttempts: 1 },
      })
      const provider = refreshing(assume('ok', { source: podChain }), { logger: log.logger })
      try {
        const result = await provider().catch((e: unknown) => e)
        if (result instanceof Error) captureError(`assume-role from the pod chain ${path}`, result)
        else capture(`assume-role from the pod chain ${path}`, result)
        capture(`assume-role from the pod chain ${path} provider`, provider, provider.stats(), podChain)
      } finally {
        provider.close()
        podChain.close()
      }
    }
    capture('logger', ...log.lines)
    capture('channel messages', ...channelMessages)
    expectCapturedClean()
  })

  it('the profile link: each hop, each bad profile, explain() with and without a dry run', async () => {
    const config = await files.write(
      'profile-config',
      [
        '[profile env-ok]',
        `role_arn = ${ROLE}-ok`,
        'credential_source = Environment',
        '',
        '[profile container-ok]',
        `role_arn = ${ROLE}-ok`,
        'credential_source = EcsContainer',
        '',
        '[profile web-identity-ok]',
        `role_arn = ${ROLE}-ok`,
        `web_identity_token_file = ${tokenFile}`,
        '',
        '[profile chained-ok]',
        `role_arn = ${ROLE}-second-ok`,
        'source_profile = web-identity-ok',
        '',
        '[profile env-denied]',
        `role_arn = ${ROLE}-denied`,
        'credential_source = Environment',
        '',
        '[profile chained-denied]',
        `role_arn = ${ROLE}-denied`,
        'source_profile = container-ok',
        '',
        '[profile web-identity-denied]',
        `role_arn = ${ROLE}-denied`,
        `web_identity_token_file = ${tokenFile}`,
        '',
        ...['expired-key', 'doctype', 'malformed', 'no-credentials', 'past'].flatMap((name) => [
          `[profile ${name}]`,
          `role_arn = ${ROLE}-${name}`,
          'source_profile = env-ok',
          '',
        ]),
        '[profile too-long]',
        `role_arn = ${ROLE}-ok`,
        'source_profile = env-ok',
        'duration_seconds = 7200',
        '',
        '[profile static]',
        `aws_access_key_id = ${CANARY_KEY_ID}`,
        `aws_secret_access_key = ${CANARY_SECRET}`,
        `aws_session_token = ${CANARY_SESSION}`,
        '',
        '[profile from-static]',
        `role_arn = ${ROLE}-ok`,
        'source_profile = static',
        '',
        '[profile missing-source]',
        `role_arn = ${ROLE}-ok`,
        'source_profile = nowhere',
        '',
        '[profile loop-a]',
        `role_arn = ${ROLE}-ok`,
        'source_profile = loop-b',
        '',
        '[profile loop-b]',
        `role_arn = ${ROLE}-ok`,
        'source_profile = loop-a',
        '',
      ].join('\n'),
    )
    // A file the loader cannot parse, with the secrets in it: the error names the file, no line.
    const broken = await files.write(
      'profile-config-broken',
      `[profile broken\nrole_arn = ${ROLE}-ok\naws_secret_access_key = ${CANARY_SECRET}\naws_session_token = ${CANARY_SESSION}\n`,
    )
    const base = {
      AWS_SHARED_CREDENTIALS_FILE: join(files.dir, 'no-credentials'),
      AWS_ACCESS_KEY_ID: CANARY_KEY_ID,
      AWS_SECRET_ACCESS_KEY: CANARY_SECRET,
      AWS_SESSION_TOKEN: CANARY_SESSION,
      AWS_CONTAINER_CREDENTIALS_FULL_URI: `${agent.origin}/v1/credentials`,
      AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: tokenFile,
      AWS_REGION: 'eu-west-1',
      AWS_ENDPOINT_URL_STS: sts.origin,
      AWS_EC2_METADATA_SERVICE_ENDPOINT: imds.origin,
    }
    const cases: [string, string][] = [
      ...[
        'env-ok',
        'container-ok',
        'web-identity-ok',
        'chained-ok',
        'env-denied',
        'chained-denied',
        'web-identity-denied',
        'expired-key',
        'doctype',
        'malformed',
        'no-credentials',
        'past',
        'too-long',
        'from-static',
        'missing-source',
        'loop-a',
      ].map((name): [string, string] => [name, config]),
      ['broken', broken],
    ]
    const resolved: string[] = []
    for (const [name, file] of cases) {
      const env = { ...base, AWS_CONFIG_FILE: file, AWS_PROFILE: name }
      const chainOptions = {
        env,
        sdkFallback: false,
        logger: log.logger,
        webIdentity: { maxAttempts: 1 },
        container: { maxAttempts: 1 },
      }
      const provider = defaultChain(chainOptions)
      try {
        const result = await provider().catch((e: unknown) => e)
        if (result instanceof Error) captureError(`profile ${name}`, result)
        else {
          resolved.push(name)
          capture(`profile ${name} credentials`, result)
        }
        capture(`profile ${name}`, provider, provider.stats())
      } finally {
        provider.close()
      }
      for (const dryRun of [true, false]) {
        const explanation = await explain({ ...chainOptions, dryRun })
        capture(
          `explain profile ${name} dryRun=${dryRun}`,
          explanation,
          String(explanation),
          explanation.links,
        )
      }
    }
    // Non-vacuous: the role hops resolved through signed AssumeRole calls (from-static's root is
    // the static profile's canary keys, read natively).
    expect(resolved).toEqual(['env-ok', 'container-ok', 'web-identity-ok', 'chained-ok', 'from-static'])
    expect(sts.hits.some((hit) => hit.headers['x-amz-security-token'] === CANARY_SESSION)).toBe(true)
    capture('logger', ...log.lines)
    capture('channel messages', ...channelMessages)
    expectCapturedClean()
  })
})

describe('azure and the emulator', () => {
  it('workloadIdentityCredential: access token, federated token and errors never printed', async () => {
    let mode: 'ok' | 'refused' | 'garbage' = 'ok'
    const entra = await startRecorder((_req, res: ServerResponse, body) => {
      const assertion = new URLSearchParams(body).get('client_assertion') ?? ''
      if (mode === 'refused') {
        return void res.writeHead(400, { 'content-type': 'application/json' }).end(
          JSON.stringify({
            error: 'invalid_client',
            error_description: `AADSTS700213: no match for ${assertion}`,
          }),
        )
      }
      if (mode === 'garbage')
        return void res.writeHead(200).end(`{"access_token":"${CANARY_ACCESS_TOKEN}","expires_in":`)
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ token_type: 'Bearer', expires_in: 3600, access_token: CANARY_ACCESS_TOKEN }))
    })
    const azureToken = await files.write('azure-token', canaryToken({ aud: 'api://AzureADTokenExchange' }))
    const options = {
      tenantId: '00000000-0000-0000-0000-000000000001',
      clientId: '00000000-0000-0000-0000-000000000002',
      tokenFilePath: azureToken,
      authorityHost: `${entra.origin}/`,
      logger: log.logger,
      maxAttempts: 1,
      env: {},
    }
    const credential = workloadIdentityCredential(options)
    try {
      const token = await credential.getToken('https://vault.azure.net/.default')
      expect(token.token).toBe(CANARY_ACCESS_TOKEN)
      expect(new URLSearchParams(entra.hits.at(-1)?.body).get('client_assertion')).toContain(
        CANARY_TOKEN_SIGNATURE,
      )
      capture('azure token', token, String(token))
      capture('azure credential', credential, await credential.describe())
      for (const next of ['refused', 'garbage'] as const) {
        mode = next
        const fresh = workloadIdentityCredential(options)
        captureError(
          `azure ${next}`,
          await fresh.getToken('https://storage.azure.com/.default').catch((e: unknown) => e),
        )
        capture(`azure credential after ${next}`, fresh)
        fresh.close()
      }
      capture('logger', ...log.lines)
      expectCapturedClean()
    } finally {
      credential.close()
      await entra.close()
    }
  })

  it('the emulator object never prints the credentials it issued or the tokens it minted', async () => {
    const emulator = await startEmulator()
    try {
      const issued = await fromContainer({ env: emulator.env })()
      const assumed = await fromWebIdentity({ env: emulator.irsaEnv })()
      const minted = await emulator.mintToken()
      const secrets = [
        issued.secretAccessKey,
        issued.sessionToken!,
        assumed.secretAccessKey,
        assumed.sessionToken!,
        minted.split('.')[2]!,
        (await readToken(emulator.tokenFiles.podIdentity)).split('.')[2]!,
        (await readToken(emulator.tokenFiles.irsa)).split('.')[2]!,
      ]
      for (const value of [
        emulator,
        emulator.stats(),
        emulator.faults,
        emulator.faults.current(),
        emulator.env,
        emulator.irsaEnv,
      ]) {
        const texts = [
          inspect(value, { depth: 12, showHidden: true }),
          JSON.stringify(value) ?? '',
          String(value),
        ]
        for (const text of texts) for (const secret of secrets) expect(text).not.toContain(secret)
      }
      for (const credentials of [issued, assumed]) {
        const text = inspect(credentials, { showHidden: true })
        for (const secret of secrets) expect(text).not.toContain(secret)
      }
    } finally {
      await emulator.close()
    }
  })
})

// ---- the CLI, as users run it ---------------------------------------------------------------

const run = (args: string[], env: Record<string, string>, stdin?: string): Promise<RunResult> =>
  runCli(args, env, { pipeStdin: true, stdin })

describe.runIf(existsSync(CLI_BIN))('CLI output', () => {
  let home: string
  let base: Record<string, string>
  let profileConfig: string
  beforeAll(async () => {
    // Issue 19: doctor in a pod whose selected profile chains roles from the pod's credentials.
    profileConfig = await files.write(
      'cli-profile-config',
      ['ok', 'denied', 'expired-key']
        .map(
          (name) => `[profile hop-${name}]\nrole_arn = ${ROLE}-${name}\ncredential_source = EcsContainer\n`,
        )
        .join('\n'),
    )
    home = join(files.dir, 'home')
    base = {
      HOME: home,
      XDG_CACHE_HOME: join(home, '.cache'),
      AWS_CONFIG_FILE: join(home, 'nonexistent-config'),
      AWS_SHARED_CREDENTIALS_FILE: join(home, 'nonexistent-credentials'),
      AWS_EC2_METADATA_DISABLED: 'true',
    }
  })

  const podIdentity = () => ({
    AWS_CONTAINER_CREDENTIALS_FULL_URI: `${agent.origin}/v1/credentials`,
    AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: tokenFile,
  })
  const irsa = (role = 'ok') => ({
    AWS_ROLE_ARN: `${ROLE}-${role}`,
    AWS_WEB_IDENTITY_TOKEN_FILE: tokenFile,
    AWS_REGION: 'eu-west-1',
    AWS_ENDPOINT_URL_STS: sts.origin,
  })
  const envKeys = {
    AWS_ACCESS_KEY_ID: CANARY_KEY_ID,
    AWS_SECRET_ACCESS_KEY: CANARY_SECRET,
    AWS_SESSION_TOKEN: CANARY_SESSION,
  }

  const scenarios: [string, () => Record<string, string>][] = [
    ['pod identity', podIdentity],
    ['irsa', () => irsa()],
    ['irsa denied', () => irsa('denied')],
    ['env keys', () => envKeys],
    [
      'inline agent token',
      () => ({
        AWS_CONTAINER_CREDENTIALS_FULL_URI: `${agent.origin}/v1/credentials`,
        AWS_CONTAINER_AUTHORIZATION_TOKEN: CANARY_TOKEN,
      }),
    ],
    ['broken agent', () => ({ ...podIdentity(), AWS_CONTAINER_CREDENTIALS_FULL_URI: `${agent.origin}/400` })],
    [
      'password in the agent URI',
      () => ({
        ...podIdentity(),
        AWS_CONTAINER_CREDENTIALS_FULL_URI: `http://u:${CANARY_PASSWORD}@127.0.0.1:${agent.port}/v1/credentials`,
      }),
    ],
    [
      'password in the STS endpoint',
      () => ({ ...irsa(), AWS_ENDPOINT_URL_STS: `http://u:${CANARY_PASSWORD}@127.0.0.1:${sts.port}/` }),
    ],
    ['everything', () => ({ ...envKeys, ...podIdentity(), ...irsa() })],
    ...['ok', 'denied', 'expired-key'].map((name): [string, () => Record<string, string>] => [
      `a selected profile that assumes a role from the pod's credentials (${name})`,
      () => ({
        ...podIdentity(),
        AWS_CONFIG_FILE: profileConfig,
        AWS_PROFILE: `hop-${name}`,
        AWS_REGION: 'eu-west-1',
        AWS_ENDPOINT_URL_STS: sts.origin,
      }),
    ]),
    // Issue 17: doctor probes the (hostile) IMDS a pod reaches.
    [
      'a pod that reaches IMDS',
      () => ({
        ...podIdentity(),
        KUBERNETES_SERVICE_HOST: '10.0.0.1',
        AWS_EC2_METADATA_SERVICE_ENDPOINT: imds.origin,
      }),
    ],
  ]

  it.each(scenarios)('doctor --json and doctor: %s — no canary on stdout or stderr', async (_name, env) => {
    for (const args of [['doctor', '--json'], ['doctor']]) {
      const { stdout, stderr } = await run(args, { ...base, ...env() })
      expect(stdout.length + stderr.length).toBeGreaterThan(0)
      expect(leaks(stdout), `${args.join(' ')} stdout: ${stdout}`).toEqual([])
      expect(leaks(stderr), `${args.join(' ')} stderr: ${stderr}`).toEqual([])
      if (args[1] === '--json') expect(() => JSON.parse(stdout)).not.toThrow()
    }
  })

  it('token inspect (file and stdin) prints claims, never the signature', async () => {
    for (const [args, stdin] of [
      [['token', 'inspect', tokenFile], undefined],
      [['token', 'inspect', '-'], CANARY_TOKEN],
      [['token', 'inspect', '--json', tokenFile], undefined],
      [['token', 'inspect', tokenFile, '--json'], undefined],
    ] as [string[], string | undefined][]) {
      const { stdout, stderr } = await run(args, base, stdin)
      expect(stdout + stderr).toMatch(/system:serviceaccount:payments:api/)
      expect(leaks(stdout + stderr), `${args.join(' ')}: ${stdout}${stderr}`).toEqual([])
      expect(stdout + stderr).not.toContain(CANARY_TOKEN_SIGNATURE)
    }
  })

  it('token inspect of a broken token: a clear error, no content echoed', async () => {
    const broken = await files.write(
      'broken-token',
      `${CANARY_TOKEN.slice(0, 30)}!!${CANARY_TOKEN_SIGNATURE}`,
    )
    const { code, stdout, stderr } = await run(['token', 'inspect', broken], base)
    expect(code).not.toBe(0)
    expect(leaks(stdout + stderr)).toEqual([])
  })

  it('credential-process: the secrets are on stdout (its job) and nowhere else', async () => {
    for (const [name, env] of [
      ['pod identity', podIdentity()],
      ['irsa', irsa()],
      ['env keys', envKeys],
    ] as const) {
      const { code, stdout, stderr } = await run(['credential-process'], { ...base, ...env })
      expect(code, `${name}: ${stderr}`).toBe(0)
      const out = JSON.parse(stdout) as Record<string, unknown>
      expect(out['Version']).toBe(1)
      expect(out['SecretAccessKey']).toBe(CANARY_SECRET)
      expect(out['SessionToken']).toBe(CANARY_SESSION)
      expect(stdout).not.toContain(CANARY_TOKEN_SIGNATURE)
      expect(leaks(stderr), `${name} stderr: ${stderr}`).toEqual([])
    }
  })

  it('credential-process --cache: the cache file is 0600 in a 0700 directory; stderr stays clean', async () => {
    const first = await run(['credential-process', '--cache'], { ...base, ...podIdentity() })
    expect(first.code, first.stderr).toBe(0)
    expect(JSON.parse(first.stdout).SecretAccessKey).toBe(CANARY_SECRET)
    expect(leaks(first.stderr)).toEqual([])
    const hitsBefore = agent.hits.length
    const second = await run(['credential-process', '--cache'], { ...base, ...podIdentity() })
    expect(second.stdout).toBe(first.stdout)
    expect(agent.hits.length).toBe(hitsBefore)
    const cacheDir = join(base.XDG_CACHE_HOME!, 'podcreds')
    expect((await stat(cacheDir)).mode & 0o777).toBe(0o700)
    for (const name of await readdir(cacheDir)) {
      const path = join(cacheDir, name)
      expect((await stat(path)).mode & 0o777, path).toBe(0o600)
      // The cache holds the credentials (that is its job) but never the service-account token.
      expect(await readFile(path, 'utf8')).not.toContain(CANARY_TOKEN_SIGNATURE)
    }
  })

  it('credential-process failures: nothing on stdout, a clean error on stderr', async () => {
    for (const env of [
      { ...podIdentity(), AWS_CONTAINER_CREDENTIALS_FULL_URI: `${agent.origin}/400` },
      { ...podIdentity(), AWS_CONTAINER_CREDENTIALS_FULL_URI: `${agent.origin}/bad-json` },
      irsa('denied'),
      irsa('invalid'),
      {
        ...podIdentity(),
        AWS_CONTAINER_CREDENTIALS_FULL_URI: `http://u:${CANARY_PASSWORD}@169.254.169.254/`,
      },
    ]) {
      const { code, stdout, stderr } = await run(['credential-process'], { ...base, ...env })
      expect(code).not.toBe(0)
      expect(stdout).toBe('')
      expect(stderr.length).toBeGreaterThan(0)
      expect(leaks(stderr), stderr).toEqual([])
    }
  })

  it('every canary is still a canary (the check is not vacuous)', () => {
    expect(leaks(CANARIES.join(' '))).toHaveLength(CANARIES.length)
  })
})
