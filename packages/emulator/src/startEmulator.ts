import { mkdir, mkdtemp, realpath, rm } from 'node:fs/promises'
import type { Server } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TimerHandle } from '@podcreds/core'
import {
  systemClock,
  systemRandom,
  validateClock,
  validateMilliseconds,
  validateRandom,
} from '@podcreds/core'
import type { Emulator, EmulatorStats, MintTokenOptions, TokenKind } from './Emulator.js'
import type {
  EmulatorAssociation,
  EmulatorOptions,
  EmulatorRole,
  TrustPolicyContext,
} from './EmulatorOptions.js'
import { generateTrustPolicy } from './generateTrustPolicy.js'
import { type AgentState, handleAgent, POD_IDENTITY_AUDIENCE } from './internal/agent.js'
import { handleAws } from './internal/aws.js'
import type { Context } from './internal/context.js'
import { accountOf, oidcProviderArn } from './internal/context.js'
import { createCredentialStore } from './internal/credentialStore.js'
import { loadDeps } from './internal/deps.js'
import { createFaultState } from './internal/faultState.js'
import { hex } from './internal/ids.js'
import { handleImds, type ImdsState } from './internal/imds.js'
import { createIssuer, type Issuer } from './internal/issuer.js'
import { handleOidc } from './internal/oidc.js'
import { createRateLimiter } from './internal/rateLimiter.js'
import { type Lifecycle, listen } from './internal/server.js'
import { handleSts } from './internal/sts.js'
import { createTokenVolume } from './internal/tokenVolume.js'
import { createXmlWriter } from './internal/xml.js'
import { ENTRA_TOKEN_EXCHANGE_AUDIENCE, startEntraEndpoint } from './startEntraEndpoint.js'
import type { TrustPolicy } from './TrustPolicy.js'

/** @defaultValue 3_600_000 (1 h): STS's default session; see {@link EmulatorOptions.credentialLifetimeMs}. */
export const DEFAULT_CREDENTIAL_LIFETIME_MS = 3_600_000
/**
 * @defaultValue 21_600_000 (6 h): the lifetime of the sets the Pod Identity agent serves (EKS Auth
 * `AssumeRoleForPodIdentity` credentials last 6 h), unless `credentialLifetimeMs` is given.
 */
export const DEFAULT_AGENT_CREDENTIAL_LIFETIME_MS = 21_600_000
/** @defaultValue 86_400_000 (24 h): the `expirationSeconds` EKS projects tokens with. */
export const DEFAULT_TOKEN_LIFETIME_MS = 86_400_000
/** @defaultValue `'111122223333'`: the documentation account id of AWS examples. */
export const DEFAULT_ACCOUNT_ID = '111122223333'
// The other documentation account id of AWS examples: the default cross-account role's (issue 19).
const CROSS_ACCOUNT_ID = '444455556666'

/** The file names EKS uses in its projected volumes. */
const POD_IDENTITY_FILE = 'eks-pod-identity-token'
const IRSA_FILE = 'token'
const AZURE_FILE = 'azure-identity-token'
// Fixed, recognisable ids of the emulated AKS workload identity.
const AZURE_TENANT_ID = '72f988bf-0000-4000-8000-00000000e0a1'
const AZURE_CLIENT_ID = '00000000-0000-4000-8000-0000000c11e7'

const OPTION_KEYS = new Set([
  'credentialLifetimeMs',
  'tokenLifetimeMs',
  'rotateEveryMs',
  'roles',
  'associations',
  'clientIds',
  'namespace',
  'serviceAccount',
  'accountId',
  'region',
  'buckets',
  'clock',
  'random',
  'agent',
  'imds',
])
const MINT_KEYS = new Set([
  'audience',
  'namespace',
  'serviceAccount',
  'subject',
  'issuer',
  'issuedAt',
  'lifetimeMs',
  'claims',
  'foreignKey',
])
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/
const SA_NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/
const ROLE_ARN = /^arn:aws[\w-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/

/**
 * Starts the whole EKS identity stack on loopback (127.0.0.1, ephemeral ports), with no setup:
 * an OIDC issuer (discovery + JWKS), projected-token files written like kubelet (atomic `..data`
 * symlink swap, rotation on demand and on a schedule), an EKS Pod Identity agent, STS
 * (`AssumeRoleWithWebIdentity` evaluating role trust policies, signed `GetCallerIdentity`), and
 * an AWS endpoint that verifies SigV4 with `@smithy/signature-v4` and answers STS
 * `GetCallerIdentity` and S3 `ListBuckets` only for credentials it issued that have not expired.
 * Faults (latency, outages, error rates, throttling, same-credentials answers, clock skew) are
 * switched on with `faults.set()`.
 *
 * Options are validated at once: a bad one throws a `TypeError` naming it. `close()` stops
 * everything and removes the token directory.
 *
 * @example
 * ```ts
 * await using emulator = await startEmulator()
 * const credentials = await fromContainer({ env: emulator.env })()
 * const s3 = new S3Client({ endpoint: emulator.awsUrl, forcePathStyle: true, credentials })
 * ```
 */
export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const settings = validateOptions(options)
  const deps = await loadDeps()
  const { clock } = settings
  const faults = createFaultState()
  const lifecycle: Lifecycle = { pending: new Set(), closed: false }
  const servers: Server[] = []
  const closers: (() => Promise<void>)[] = []
  const rootDir = await realpath(await mkdtemp(join(tmpdir(), 'podcreds-emulator-')))
  const tokenDir = join(rootDir, 'serviceaccount')
  const agentState: AgentState = {
    byToken: new Map(),
    byAssociation: new Map(),
    cache: settings.agentCache,
    lifetimeMs: settings.agentCredentialLifetimeMs,
    // aws/eks-pod-identity-agent: configuration.RequestRate = 1000, burst RequestRate/2.
    limiter: createRateLimiter(clock, 1000, 500),
  }
  const imdsState: ImdsState = { roleArn: settings.instanceRoleArn, tokens: new Map() }
  let rotationTimer: TimerHandle | undefined
  let rotations = 0
  let chain: Promise<void> = Promise.resolve()

  const context: Context = {
    deps,
    xml: createXmlWriter(deps),
    clock,
    random: settings.random,
    store: createCredentialStore(),
    issuer: undefined as unknown as Issuer, // set once the issuer's port is known, before any URL is shared
    faults,
    issuerUrl: '',
    issuerHostPath: '',
    region: settings.region,
    credentialLifetimeMs: settings.credentialLifetimeMs,
    roles: new Map(),
    associations: settings.associations,
    clientIds: settings.clientIds,
    buckets: settings.buckets,
    startedAt: clock.now(),
    counters: { agent: 0, sts: 0, aws: 0, imds: 0 },
  }

  const shutdown = async (): Promise<void> => {
    lifecycle.closed = true
    if (rotationTimer !== undefined) clock.clearTimeout(rotationTimer)
    for (const handle of lifecycle.pending) clock.clearTimeout(handle)
    lifecycle.pending.clear()
    await Promise.all(
      servers.map(
        (server) =>
          new Promise<void>((resolve) => {
            server.close(() => resolve())
            server.closeAllConnections()
          }),
      ),
    )
    await Promise.all(closers.map((close) => close()))
    await chain.catch(() => undefined)
    await rm(rootDir, { recursive: true, force: true })
  }

  try {
    const oidc = await listen(context, lifecycle, undefined, (exchange) => handleOidc(context, exchange))
    servers.push(oidc.server)
    // EKS issuers look like https://oidc.eks.<region>.amazonaws.com/id/<32 hex>; keep the shape.
    const issuerUrl = `${oidc.url}/id/${hex(16).toUpperCase()}`
    const issuerHostPath = issuerUrl.replace(/^https?:\/\//, '')
    context.issuerUrl = issuerUrl
    context.issuerHostPath = issuerHostPath
    context.issuer = await createIssuer(deps, issuerUrl, clock, {
      namespace: settings.namespace,
      serviceAccount: settings.serviceAccount,
      tokenLifetimeMs: settings.tokenLifetimeMs,
    })
    const irsaRoleArn = resolveRoles(context, settings)

    const agent = await listen(context, lifecycle, 'agent', (exchange) =>
      handleAgent(context, exchange, agentState),
    )
    servers.push(agent.server)
    const imds = await listen(context, lifecycle, 'imds', (exchange) =>
      handleImds(context, exchange, imdsState),
    )
    servers.push(imds.server)
    const sts = await listen(context, lifecycle, 'sts', (exchange, skewMs) =>
      handleSts(context, exchange, skewMs),
    )
    servers.push(sts.server)
    const aws = await listen(context, lifecycle, 'aws', (exchange, skewMs) =>
      handleAws(context, exchange, skewMs),
    )
    servers.push(aws.server)

    await mkdir(tokenDir, { mode: 0o755 })
    const volume = createTokenVolume(tokenDir)
    const tokens = { podIdentity: '', irsa: '', azure: '' }
    const mintPodIdentity = (): Promise<string> => context.issuer.mint({ audience: POD_IDENTITY_AUDIENCE })
    const mintIrsa = (): Promise<string> => context.issuer.mint({ audience: 'sts.amazonaws.com' })
    const writeTokens = async (which: TokenKind, initial: boolean): Promise<void> => {
      if (which !== 'irsa') tokens.podIdentity = await mintPodIdentity()
      if (which !== 'pod-identity') tokens.irsa = await mintIrsa()
      if (which === 'all')
        tokens.azure = await context.issuer.mint({ audience: ENTRA_TOKEN_EXCHANGE_AUDIENCE })
      if (lifecycle.closed) return
      await volume.write(
        { [POD_IDENTITY_FILE]: tokens.podIdentity, [IRSA_FILE]: tokens.irsa, [AZURE_FILE]: tokens.azure },
        clock.now(),
      )
      if (!initial) rotations += 1
    }
    const rotate = (which: TokenKind, initial = false): Promise<void> => {
      // One volume write at a time: kubelet never interleaves two payloads.
      const next = chain.then(() => writeTokens(which, initial))
      chain = next.catch(() => undefined)
      return next
    }
    await rotate('all', true)
    const schedule = (): void => {
      if (settings.rotateEveryMs === 0 || lifecycle.closed) return
      rotationTimer = clock.setTimeout(() => {
        rotationTimer = undefined
        if (lifecycle.closed) return
        rotate('all').then(schedule, schedule)
      }, settings.rotateEveryMs)
    }
    schedule()

    const tokenFiles = {
      podIdentity: join(tokenDir, POD_IDENTITY_FILE),
      irsa: join(tokenDir, IRSA_FILE),
      azure: join(tokenDir, AZURE_FILE),
    }
    // Entra Workload ID (AKS) trusts the same issuer through a federated identity credential.
    const federated = {
      clientId: AZURE_CLIENT_ID,
      tenantId: AZURE_TENANT_ID,
      issuer: issuerUrl,
      subject: `system:serviceaccount:${settings.namespace}:${settings.serviceAccount}`,
    }
    const entra = await startEntraEndpoint({
      jwks: () => context.issuer.jwks(),
      federatedCredentials: [federated],
      clock,
      random: settings.random,
    })
    closers.push(() => entra.close())
    faults.attachEntra(entra.faults)
    const azureEnv: Record<string, string> = {
      ...entra.envFor(federated),
      AZURE_FEDERATED_TOKEN_FILE: tokenFiles.azure,
    }
    const common = {
      AWS_REGION: settings.region,
      AWS_DEFAULT_REGION: settings.region,
      AWS_ENDPOINT_URL_STS: sts.url,
      AWS_ENDPOINT_URL_S3: aws.url,
      // Issue 17: not AWS_EC2_METADATA_DISABLED any more. A pod meets the node's IMDS; here it
      // meets the stand-in, so nothing (ours, the AWS SDK, botocore) ever reaches 169.254.169.254.
      AWS_EC2_METADATA_SERVICE_ENDPOINT: imds.url,
      // Every pod has these (the kubelet injects the `kubernetes` service); podcreds reads
      // KUBERNETES_SERVICE_HOST as "inside Kubernetes". Nothing connects to it.
      KUBERNETES_SERVICE_HOST: '127.0.0.1',
      KUBERNETES_SERVICE_PORT: '443',
    }
    const env: Record<string, string> = {
      AWS_CONTAINER_CREDENTIALS_FULL_URI: `${agent.url}/v1/credentials`,
      AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: tokenFiles.podIdentity,
      ...common,
    }
    const irsaEnv: Record<string, string> = {
      AWS_ROLE_ARN: irsaRoleArn,
      AWS_WEB_IDENTITY_TOKEN_FILE: tokenFiles.irsa,
      AWS_STS_REGIONAL_ENDPOINTS: 'regional',
      ...common,
    }
    let closing: Promise<void> | undefined
    const close = (): Promise<void> => {
      closing ??= shutdown()
      return closing
    }
    const emulator: Emulator = {
      env: Object.freeze(env),
      irsaEnv: Object.freeze(irsaEnv),
      azureEnv: Object.freeze(azureEnv),
      entraUrl: entra.url,
      agentUrl: agent.url,
      stsUrl: sts.url,
      issuerUrl,
      oidcProviderArn: oidcProviderArn(settings.accountId, issuerHostPath),
      awsUrl: aws.url,
      imdsUrl: imds.url,
      instanceRoleArn: settings.instanceRoleArn,
      tokenDir,
      tokenFiles,
      associations: Object.freeze(settings.associations.map((a) => Object.freeze({ ...a }))),
      roleArns: Object.freeze([...context.roles.keys()]),
      region: settings.region,
      accountId: settings.accountId,
      faults: {
        set: (value) => faults.set(value),
        clear: (target) => faults.clear(target),
        current: () => faults.current(),
      },
      async mintToken(mintOptions?: MintTokenOptions): Promise<string> {
        validateMintOptions(mintOptions)
        return context.issuer.mint(mintOptions)
      },
      rotateToken(which: TokenKind = 'all'): Promise<void> {
        if (which !== 'all' && which !== 'pod-identity' && which !== 'irsa') {
          return Promise.reject(new TypeError("which must be 'pod-identity', 'irsa' or 'all'"))
        }
        if (lifecycle.closed) return Promise.reject(new Error('the emulator is closed'))
        return rotate(which)
      },
      stats(): EmulatorStats {
        return {
          agentRequests: context.counters.agent,
          stsRequests: context.counters.sts,
          awsRequests: context.counters.aws,
          imdsRequests: context.counters.imds,
          entraRequests: entra.requests().length,
          credentialsIssued: context.store.issued,
          rotations,
        }
      },
      close,
      [Symbol.asyncDispose]: close,
    }
    return emulator
  } catch (error) {
    await shutdown()
    throw error
  }
}

interface Settings {
  credentialLifetimeMs: number
  tokenLifetimeMs: number
  rotateEveryMs: number
  roles: readonly EmulatorRole[] | undefined
  associations: readonly EmulatorAssociation[]
  clientIds: readonly string[]
  namespace: string
  serviceAccount: string
  accountId: string
  region: string
  buckets: readonly string[]
  clock: NonNullable<EmulatorOptions['clock']>
  random: NonNullable<EmulatorOptions['random']>
  agentCache: boolean
  agentCredentialLifetimeMs: number
  instanceRoleArn: string
}

function validateOptions(options: EmulatorOptions): Settings {
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object')
  for (const key of Object.keys(options)) {
    if (!OPTION_KEYS.has(key)) throw new TypeError(`${key} is not an option of startEmulator()`)
  }
  validateMilliseconds('credentialLifetimeMs', options.credentialLifetimeMs, {
    min: 1000,
    max: 7 * 86_400_000,
  })
  validateMilliseconds('tokenLifetimeMs', options.tokenLifetimeMs, { min: 1000, max: 7 * 86_400_000 })
  validateMilliseconds('rotateEveryMs', options.rotateEveryMs, { min: 0, max: 7 * 86_400_000 })
  validateClock('clock', options.clock)
  validateRandom('random', options.random)
  const namespace = options.namespace ?? 'default'
  if (typeof namespace !== 'string' || !DNS_LABEL.test(namespace)) {
    throw new TypeError('namespace must be a Kubernetes namespace name (lowercase DNS label)')
  }
  const serviceAccount = options.serviceAccount ?? 'app'
  if (typeof serviceAccount !== 'string' || !SA_NAME.test(serviceAccount)) {
    throw new TypeError('serviceAccount must be a Kubernetes service account name (lowercase DNS subdomain)')
  }
  const accountId = options.accountId ?? DEFAULT_ACCOUNT_ID
  if (typeof accountId !== 'string' || !/^\d{12}$/.test(accountId)) {
    throw new TypeError('accountId must be a 12-digit AWS account id')
  }
  const region = options.region ?? 'us-east-1'
  if (typeof region !== 'string' || !/^[a-z]{2}(-[a-z]+)+-\d{1,2}$/.test(region)) {
    throw new TypeError('region must be an AWS region such as us-east-1')
  }
  const roles = options.roles
  if (roles !== undefined) {
    if (!Array.isArray(roles)) throw new TypeError('roles must be an array of { arn, trustPolicy }')
    roles.forEach((role: unknown, index) => {
      const r = role as Partial<EmulatorRole> | null
      if (typeof r !== 'object' || r === null || typeof r.arn !== 'string' || !ROLE_ARN.test(r.arn)) {
        throw new TypeError(
          `roles[${index}].arn must be an IAM role ARN (arn:aws:iam::<12 digits>:role/<name>)`,
        )
      }
      const policy = r.trustPolicy
      if (typeof policy !== 'function' && !isPolicy(policy)) {
        throw new TypeError(
          `roles[${index}].trustPolicy must be a policy document with a Statement, or a function returning one`,
        )
      }
    })
  }
  const tokenLifetimeMs = options.tokenLifetimeMs ?? DEFAULT_TOKEN_LIFETIME_MS
  const associations = options.associations ?? [
    { namespace, serviceAccount, roleArn: `arn:aws:iam::${accountId}:role/podcreds-demo` },
  ]
  if (!Array.isArray(associations)) throw new TypeError('associations must be an array')
  associations.forEach((association: unknown, index) => {
    const a = association as Partial<EmulatorAssociation> | null
    if (
      typeof a !== 'object' ||
      a === null ||
      typeof a.namespace !== 'string' ||
      typeof a.serviceAccount !== 'string' ||
      typeof a.roleArn !== 'string' ||
      !ROLE_ARN.test(a.roleArn)
    ) {
      throw new TypeError(
        `associations[${index}] must be { namespace, serviceAccount, roleArn } with an IAM role ARN`,
      )
    }
  })
  const clientIds = options.clientIds ?? ['sts.amazonaws.com']
  if (!Array.isArray(clientIds) || clientIds.some((id) => typeof id !== 'string' || id === '')) {
    throw new TypeError('clientIds must be an array of non-empty strings')
  }
  const buckets = options.buckets ?? ['podcreds-demo']
  if (
    !Array.isArray(buckets) ||
    buckets.some((b) => typeof b !== 'string' || !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(b))
  ) {
    throw new TypeError('buckets must be an array of S3 bucket names')
  }
  const agent = validateSection(options.agent, 'agent', ['cache']) as EmulatorOptions['agent']
  if (agent?.cache !== undefined && typeof agent.cache !== 'boolean') {
    throw new TypeError('agent.cache must be a boolean')
  }
  const imds = validateSection(options.imds, 'imds', ['roleArn']) as EmulatorOptions['imds']
  if (imds?.roleArn !== undefined && (typeof imds.roleArn !== 'string' || !ROLE_ARN.test(imds.roleArn))) {
    throw new TypeError('imds.roleArn must be an IAM role ARN (arn:aws:iam::<12 digits>:role/<name>)')
  }
  return {
    agentCache: agent?.cache ?? true,
    agentCredentialLifetimeMs: options.credentialLifetimeMs ?? DEFAULT_AGENT_CREDENTIAL_LIFETIME_MS,
    instanceRoleArn: imds?.roleArn ?? `arn:aws:iam::${accountId}:role/podcreds-demo-node`,
    credentialLifetimeMs: options.credentialLifetimeMs ?? DEFAULT_CREDENTIAL_LIFETIME_MS,
    tokenLifetimeMs,
    rotateEveryMs: options.rotateEveryMs ?? Math.floor(tokenLifetimeMs * 0.8),
    roles,
    associations: [...associations],
    clientIds: [...clientIds],
    namespace,
    serviceAccount,
    accountId,
    region,
    buckets: [...buckets],
    clock: options.clock ?? systemClock,
    random: options.random ?? systemRandom,
  }
}

function validateSection(value: unknown, name: string, keys: readonly string[]): unknown {
  if (value === undefined) return undefined
  if (typeof value !== 'object' || value === null) throw new TypeError(`${name} must be an object`)
  for (const key of Object.keys(value)) {
    if (!keys.includes(key)) throw new TypeError(`${name}.${key} is not an option of startEmulator()`)
  }
  return value
}

function isPolicy(value: unknown): value is TrustPolicy {
  return typeof value === 'object' && value !== null && 'Statement' in value
}

/** The Pod Identity trust: the EKS service principal with `sts:AssumeRole` and `sts:TagSession`. */
function podIdentityTrustPolicy(): TrustPolicy {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { Service: POD_IDENTITY_AUDIENCE },
        Action: ['sts:AssumeRole', 'sts:TagSession'],
      },
    ],
  }
}

/**
 * Fills `context.roles` and returns the role ARN for `irsaEnv`: the first role whose trust
 * policy names a federated principal, else the default IRSA role.
 */
function resolveRoles(context: Context, settings: Settings): string {
  const roles = context.roles as Map<string, TrustPolicy>
  const defaultIrsa = `arn:aws:iam::${settings.accountId}:role/podcreds-demo-irsa`
  const given: readonly EmulatorRole[] = settings.roles ?? [
    { arn: `arn:aws:iam::${settings.accountId}:role/podcreds-demo`, trustPolicy: podIdentityTrustPolicy() },
    {
      arn: defaultIrsa,
      trustPolicy: (ctx) =>
        generateTrustPolicy({
          issuer: ctx.issuerUrl,
          namespace: settings.namespace,
          serviceAccount: settings.serviceAccount,
          accountId: ctx.accountId,
        }),
    },
    // Issue 19: a role in another account that trusts both pod roles, for a cross-account hop
    // (fromAssumeRole, AWS CLI profiles with role_arn) out of the box.
    {
      arn: `arn:aws:iam::${CROSS_ACCOUNT_ID}:role/podcreds-demo-cross-account`,
      trustPolicy: {
        Version: '2012-10-17',
        Statement: {
          Effect: 'Allow',
          Principal: { AWS: [`arn:aws:iam::${settings.accountId}:role/podcreds-demo`, defaultIrsa] },
          Action: 'sts:AssumeRole',
        },
      },
    },
  ]
  let irsa: string | undefined
  given.forEach((role, index) => {
    const accountId = accountOf(role.arn) ?? settings.accountId
    const trustContext: TrustPolicyContext = {
      issuerUrl: context.issuerUrl,
      issuerHostPath: context.issuerHostPath,
      oidcProviderArn: oidcProviderArn(accountId, context.issuerHostPath),
      accountId,
    }
    const policy = typeof role.trustPolicy === 'function' ? role.trustPolicy(trustContext) : role.trustPolicy
    if (!isPolicy(policy)) throw new TypeError(`roles[${index}].trustPolicy returned no policy document`)
    roles.set(role.arn, structuredClone(policy))
    if (irsa === undefined && JSON.stringify(policy).includes('"Federated"')) irsa = role.arn
  })
  for (const association of settings.associations) {
    if (!roles.has(association.roleArn)) roles.set(association.roleArn, podIdentityTrustPolicy())
  }
  return irsa ?? defaultIrsa
}

function validateMintOptions(options: MintTokenOptions | undefined): void {
  if (options === undefined) return
  if (typeof options !== 'object' || options === null) {
    throw new TypeError('mintToken options must be an object')
  }
  for (const key of Object.keys(options)) {
    if (!MINT_KEYS.has(key)) {
      throw new TypeError(`${key} is not an option of mintToken(); put raw claims under \`claims\``)
    }
  }
  const { audience } = options
  if (
    audience !== undefined &&
    typeof audience !== 'string' &&
    !(Array.isArray(audience) && audience.every((a) => typeof a === 'string'))
  ) {
    throw new TypeError('audience must be a string or an array of strings')
  }
  validateMilliseconds('lifetimeMs', options.lifetimeMs, { min: -Number.MAX_SAFE_INTEGER })
  if (
    options.issuedAt !== undefined &&
    (typeof options.issuedAt !== 'number' || !Number.isFinite(options.issuedAt))
  ) {
    throw new TypeError('issuedAt must be epoch milliseconds')
  }
  if (options.claims !== undefined && (typeof options.claims !== 'object' || options.claims === null)) {
    throw new TypeError('claims must be an object')
  }
}
