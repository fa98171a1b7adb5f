// Issue #21: `podcreds doctor` in every pod situation, against the emulator (and two loopback
// fakes): for each, the findings expected, the fixes that must NOT appear (a wrong fix at 3 a.m.
// costs more than none), and the requests each endpoint got — doctor resolves once, with one
// attempt per endpoint (issue #17 part 3). Both outputs are checked: `--json`'s `findings` and the
// text rendering of the same list. Every run is bounded by a deadline (doctor never hangs), and no
// run prints a secret (canaries in the environment, in a fake agent's answer, the token files).

import { execFileSync } from 'node:child_process'
import { existsSync, statSync } from 'node:fs'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import type { Server } from 'node:http'
import { createServer } from 'node:http'
import { join } from 'node:path'
import type { Emulator } from '@podcreds/emulator'
import { startEmulator } from '@podcreds/emulator'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { closeServer, listenLoopback } from '../../../test/support/loopback.js'
import type { RunResult } from '../../../test/support/subprocess.js'
import { runCli } from '../../../test/support/subprocess.js'
import type { TempDir } from '../../../test/support/tempDir.js'
import { tempDir } from '../../../test/support/tempDir.js'
import { fakeJwt } from './run.js'

interface Finding {
  check: string
  severity: 'error' | 'warning' | 'ok'
  message: string
  fix?: string
}

/** A finding a row expects: its check and severity, what its message and fix say. */
interface Expected {
  check: string
  severity: Finding['severity']
  message: RegExp
  fix?: RegExp
}

interface Situation {
  name: string
  /** The pod's environment (on top of an isolated HOME and empty AWS config files). */
  env: () => Promise<Record<string, string | undefined>>
  /** Emulator faults during the run. */
  faults?: Parameters<Emulator['faults']['set']>[0]
  args?: string[]
  code: 0 | 1
  /** Every error and warning finding, exactly (ok findings may be more). */
  problems: Expected[]
  /** Ok findings that must be there too. */
  oks?: Expected[]
  /** Fixes that must not appear in any finding. */
  wrongFixes?: RegExp[]
  /**
   * The pod reaches the emulator's IMDS stand-in (the node's role). Otherwise IMDS is a closed
   * loopback port, as behind a NetworkPolicy that blocks it, so the row is about its own cause.
   */
  imds?: true
  /** Requests per emulator endpoint during one doctor run (`imds` and `entra`: 0 unless given). */
  requests: { agent: number; sts: number; imds?: number; entra?: number }
}

const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYDOCTORCANARY'
const SESSION = 'IQoJb3JpZ2luX2VjEDOCTORSESSIONCANARY0123456789'
const PASSWORD = 'PASSWORDCANARY0123456789'
// A closed loopback port: IMDS does not answer (as behind a NetworkPolicy that blocks it).
const IMDS_BLOCKED = { AWS_EC2_METADATA_SERVICE_ENDPOINT: 'http://127.0.0.1:9' }
const TRUST_FIX = /trust policy|trust-policy lint/
const ASSOCIATION_FIX = /association/
const POD_ADVICE = /rollout restart/
const FEDERATED_FIX = /federated identity credential/

let emulator: Emulator
let dir: TempDir
let fakeAgent: Server
let fakeAgentUrl: string
let hangingAgent: Server
let hangingAgentUrl: string

beforeAll(async () => {
  emulator = await startEmulator()
  dir = await tempDir('podcreds-doctor-')
  // An agent that answers canary secrets: doctor must show the key id shortened and nothing else.
  fakeAgent = createServer((_request, response) => {
    response.setHeader('content-type', 'application/json')
    response.end(
      JSON.stringify({
        AccessKeyId: 'ASIADOCTORCANARY0001',
        SecretAccessKey: SECRET,
        Token: SESSION,
        Expiration: new Date(Date.now() + 3_600_000).toISOString(),
      }),
    )
  })
  fakeAgentUrl = `${(await listenLoopback(fakeAgent)).origin}/v1/credentials`
  // An agent that accepts the connection and never answers (a hung node agent).
  hangingAgent = createServer(() => undefined)
  hangingAgentUrl = `${(await listenLoopback(hangingAgent)).origin}/v1/credentials`
})
afterAll(async () => {
  await closeServer(fakeAgent)
  await closeServer(hangingAgent)
  await emulator.close()
  await dir.cleanup()
})

const now = (): number => Math.floor(Date.now() / 1000)

async function expiredToken(audience: string): Promise<string> {
  return emulator.mintToken({ audience, issuedAt: Date.now() - 7_200_000, lifetimeMs: 3_600_000 })
}

/** A kubelet service-account folder of a pod running as shop/web. */
async function serviceAccountDir(): Promise<string> {
  const folder = join(dir.dir, 'serviceaccount')
  await mkdir(folder, { recursive: true })
  await writeFile(join(folder, 'namespace'), 'shop\n')
  await writeFile(
    join(folder, 'token'),
    fakeJwt({
      iss: 'https://oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE',
      sub: 'system:serviceaccount:shop:web',
      aud: ['https://kubernetes.default.svc'],
      iat: now(),
      exp: now() + 3600,
      'kubernetes.io': { namespace: 'shop', serviceaccount: { name: 'web', uid: 'u-1' } },
    }),
  )
  return folder
}

const SITUATIONS: Situation[] = [
  {
    name: 'a healthy Pod Identity pod: credentials once, no problem',
    env: async () => emulator.env,
    code: 0,
    problems: [],
    oks: [
      { check: 'token', severity: 'ok', message: /pod-identity token .* default\/app/ },
      { check: 'chain', severity: 'ok', message: /credentials from the container link: ASIA…/ },
    ],
    requests: { agent: 1, sts: 0 },
  },
  {
    name: 'a healthy IRSA pod: one AssumeRoleWithWebIdentity',
    env: async () => emulator.irsaEnv,
    code: 0,
    problems: [],
    oks: [{ check: 'chain', severity: 'ok', message: /credentials from the web-identity link/ }],
    requests: { agent: 0, sts: 1 },
  },
  {
    name: 'IRSA and Pod Identity both set by hand: IRSA is used, the webhook never injects both',
    env: async () => ({ ...emulator.env, ...emulator.irsaEnv }),
    code: 0,
    problems: [
      {
        check: 'environment',
        severity: 'warning',
        message: /both IRSA .* the chain uses IRSA .* never injects both/,
        fix: /keep one/,
      },
    ],
    oks: [
      { check: 'chain', severity: 'ok', message: /web-identity link/ },
      // The agent the chain did not reach is probed once, and a 404 at its root is not called health.
      {
        check: 'endpoint',
        severity: 'ok',
        message: /GET \/ gave 404, which only shows that something listens there/,
      },
    ],
    requests: { agent: 1, sts: 1 },
  },
  {
    name: 'a missing IRSA token file: the mount, not the trust policy',
    env: async () => ({ ...emulator.irsaEnv, AWS_WEB_IDENTITY_TOKEN_FILE: join(dir.dir, 'no-such-token') }),
    code: 1,
    problems: [
      { check: 'token', severity: 'error', message: /ERR_TOKEN_FILE/, fix: /projected volume mount/ },
    ],
    wrongFixes: [TRUST_FIX],
    requests: { agent: 0, sts: 0 },
  },
  {
    name: 'a token file that is a directory (unreadable): the mount',
    env: async () => ({ ...emulator.irsaEnv, AWS_WEB_IDENTITY_TOKEN_FILE: dir.dir }),
    code: 1,
    problems: [
      { check: 'token', severity: 'error', message: /ERR_TOKEN_FILE/, fix: /projected volume mount/ },
    ],
    wrongFixes: [TRUST_FIX],
    requests: { agent: 0, sts: 0 },
  },
  {
    name: 'a token file that is a named pipe nobody writes: a finding, not a hang',
    env: async () => {
      const fifo = join(dir.dir, 'token-fifo')
      if (!existsSync(fifo)) execFileSync('mkfifo', [fifo])
      return { ...emulator.irsaEnv, AWS_WEB_IDENTITY_TOKEN_FILE: fifo }
    },
    code: 1,
    problems: [
      { check: 'token', severity: 'error', message: /not a regular file/, fix: /projected volume mount/ },
    ],
    wrongFixes: [TRUST_FIX],
    requests: { agent: 0, sts: 0 },
  },
  {
    name: 'a garbage IRSA token file: not a JWT',
    env: async () => ({
      ...emulator.irsaEnv,
      AWS_WEB_IDENTITY_TOKEN_FILE: await dir.write('garbage', 'not a token at all\n'),
    }),
    code: 1,
    problems: [{ check: 'token', severity: 'error', message: /ERR_TOKEN_INVALID/, fix: /a JWT/ }],
    wrongFixes: [TRUST_FIX],
    // One resolve: the web-identity link sends the file as it is (as the AWS SDK does), and STS's
    // InvalidIdentityToken is retried once after re-reading the file (DESIGN: a rotation race).
    requests: { agent: 0, sts: 2 },
  },
  {
    name: "an expired IRSA token: kubelet's rotation and the projected volume, nothing sent",
    env: async () => ({
      ...emulator.irsaEnv,
      AWS_WEB_IDENTITY_TOKEN_FILE: await dir.write('irsa-expired', await expiredToken('sts.amazonaws.com')),
    }),
    code: 1,
    problems: [
      {
        check: 'token',
        severity: 'error',
        message: /expired/,
        fix: /kubelet .* projected serviceAccountToken volume/,
      },
    ],
    wrongFixes: [TRUST_FIX],
    requests: { agent: 0, sts: 0 },
  },
  {
    name: 'an expired Pod Identity token: the rotation, not the association',
    env: async () => ({
      ...emulator.env,
      AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: await dir.write(
        'pod-identity-expired',
        await expiredToken('pods.eks.amazonaws.com'),
      ),
    }),
    code: 1,
    problems: [{ check: 'token', severity: 'error', message: /expired/, fix: /kubelet/ }],
    wrongFixes: [ASSOCIATION_FIX, TRUST_FIX],
    requests: { agent: 1, sts: 0 },
  },
  {
    name: "an IRSA token for the wrong audience: the projected volume's audience, once",
    env: async () => ({
      ...emulator.irsaEnv,
      AWS_WEB_IDENTITY_TOKEN_FILE: await dir.write(
        'irsa-wrong-aud',
        await emulator.mintToken({ audience: 'wrong' }),
      ),
    }),
    code: 1,
    problems: [
      {
        check: 'token',
        severity: 'error',
        message: /audience wrong, but irsa needs sts\.amazonaws\.com/,
        fix: /eks\.amazonaws\.com\/role-arn/,
      },
    ],
    wrongFixes: [TRUST_FIX],
    // One resolve; InvalidIdentityToken ("Incorrect token audience") is retried once after
    // re-reading the file, as the web-identity link does for a rotation race.
    requests: { agent: 0, sts: 2 },
  },
  {
    name: 'STS AccessDenied (the trust policy does not name this service account): the trust policy',
    env: async () => ({
      ...emulator.irsaEnv,
      AWS_WEB_IDENTITY_TOKEN_FILE: await dir.write(
        'irsa-other-sa',
        await emulator.mintToken({ serviceAccount: 'other' }),
      ),
    }),
    code: 1,
    problems: [
      {
        check: 'chain',
        severity: 'error',
        message: /web-identity link is configured but fails: .*AccessDenied/,
        fix: /sub system:serviceaccount:default:other .*podcreds trust-policy lint/,
      },
    ],
    wrongFixes: [ASSOCIATION_FIX, /kubelet/],
    requests: { agent: 0, sts: 1 },
  },
  {
    name: 'no Pod Identity association for this service account (404): the association',
    env: async () => ({
      ...emulator.env,
      AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: await dir.write(
        'pod-identity-other-sa',
        await emulator.mintToken({ audience: 'pods.eks.amazonaws.com', serviceAccount: 'other' }),
      ),
    }),
    code: 1,
    problems: [
      {
        check: 'chain',
        severity: 'error',
        message: /container link is configured but fails: .*404/,
        fix: /no Pod Identity association .*list-pod-identity-associations/,
      },
    ],
    wrongFixes: [TRUST_FIX, /kubelet/],
    requests: { agent: 1, sts: 0 },
  },
  {
    name: 'the agent is down: the DaemonSet, after one attempt',
    env: async () => emulator.env,
    faults: { agent: { down: true } },
    code: 1,
    problems: [
      {
        check: 'chain',
        severity: 'error',
        message: /container link is configured but fails/,
        fix: /eks-pod-identity-agent DaemonSet/,
      },
    ],
    wrongFixes: [TRUST_FIX, ASSOCIATION_FIX],
    requests: { agent: 1, sts: 0 },
  },
  {
    name: 'the agent fails (500): its logs',
    env: async () => emulator.env,
    faults: { agent: { status: 500 } },
    code: 1,
    problems: [{ check: 'chain', severity: 'error', message: /500/, fix: /logs ds\/eks-pod-identity-agent/ }],
    wrongFixes: [TRUST_FIX],
    requests: { agent: 1, sts: 0 },
  },
  {
    name: 'an agent that never answers: a finding in bounded time',
    env: async () => ({ ...emulator.env, AWS_CONTAINER_CREDENTIALS_FULL_URI: hangingAgentUrl }),
    code: 1,
    problems: [
      {
        check: 'chain',
        severity: 'error',
        message: /ERR_HTTP_TIMEOUT|timed out|did not answer/,
        fix: /DaemonSet/,
      },
    ],
    requests: { agent: 0, sts: 0 },
  },
  {
    name: 'an STS that never answers: egress, in bounded time',
    env: async () => emulator.irsaEnv,
    faults: { sts: { latencyMs: 60_000 } },
    code: 1,
    problems: [
      {
        check: 'chain',
        severity: 'error',
        message: /web-identity link is configured but fails/,
        fix: /egress to STS/,
      },
    ],
    wrongFixes: [TRUST_FIX],
    requests: { agent: 0, sts: 1 },
  },
  {
    name: 'an agent URL that is not allowed: nothing sent there',
    env: async () => ({
      ...emulator.env,
      AWS_CONTAINER_CREDENTIALS_FULL_URI: 'http://169.254.169.254/latest/meta-data/',
    }),
    code: 1,
    problems: [{ check: 'chain', severity: 'error', message: /container link/, fix: /169\.254\.170\.23/ }],
    requests: { agent: 0, sts: 0 },
  },
  {
    name: 'IRSA without a region and with AWS_ENDPOINT_URL_STS: no us-east-1 warning',
    env: async () => ({ ...emulator.irsaEnv, AWS_REGION: undefined, AWS_DEFAULT_REGION: undefined }),
    code: 0,
    problems: [],
    requests: { agent: 0, sts: 1 },
  },
  {
    name: 'IRSA without a region or endpoint: the us-east-1 warning (token expired, so nothing is sent)',
    env: async () => ({
      ...emulator.irsaEnv,
      AWS_REGION: undefined,
      AWS_DEFAULT_REGION: undefined,
      AWS_ENDPOINT_URL_STS: undefined,
      AWS_WEB_IDENTITY_TOKEN_FILE: await dir.write('irsa-expired-2', await expiredToken('sts.amazonaws.com')),
    }),
    code: 1,
    problems: [
      { check: 'environment', severity: 'warning', message: /STS calls go to us-east-1/, fix: /AWS_REGION/ },
      { check: 'token', severity: 'error', message: /expired/, fix: /kubelet/ },
    ],
    requests: { agent: 0, sts: 0 },
  },
  {
    name: 'nothing set up, off-cluster: no pod advice',
    env: async () => ({}),
    code: 1,
    problems: [
      {
        check: 'chain',
        severity: 'error',
        message: /no credential source is set up in this environment/,
        fix: /AWS_PROFILE/,
      },
    ],
    oks: [{ check: 'pod', severity: 'ok', message: /not in a Kubernetes pod/ }],
    wrongFixes: [POD_ADVICE, ASSOCIATION_FIX],
    requests: { agent: 0, sts: 0 },
  },
  {
    name: 'nothing set up in a pod: its service account, and the webhook mutates only new pods',
    env: async () => ({ KUBERNETES_SERVICE_HOST: '10.100.0.1' }),
    args: ['--service-account-dir', join('{dir}', 'serviceaccount')],
    code: 1,
    problems: [
      {
        check: 'chain',
        severity: 'error',
        message: /no credential source is set up in this pod \(service account shop\/web\)/,
        fix: /added after this pod started.*kubectl -n shop rollout restart.*--namespace shop --service-account web/,
      },
    ],
    oks: [
      {
        check: 'pod',
        severity: 'ok',
        message: /running as service account shop\/web \(from .*serviceaccount\/token\)/,
      },
    ],
    requests: { agent: 0, sts: 0 },
  },
  {
    name: 'a Pod Identity pod in a cluster: named from the token claims',
    env: async () => ({ ...emulator.env, KUBERNETES_SERVICE_HOST: '10.100.0.1' }),
    args: ['--service-account-dir', join('{dir}', 'serviceaccount')],
    code: 0,
    problems: [],
    oks: [
      {
        check: 'pod',
        severity: 'ok',
        message: /service account default\/app \(from the claims of the Pod Identity token\)/,
      },
    ],
    requests: { agent: 1, sts: 0 },
  },
  {
    name: "a pod that can reach the node's instance role: the warning and the fixes (token PUT and role name, never the credentials)",
    env: async () => ({
      ...emulator.env,
      KUBERNETES_SERVICE_HOST: '10.100.0.1',
      AWS_EC2_METADATA_DISABLED: undefined,
    }),
    args: ['--service-account-dir', join('{dir}', 'serviceaccount')],
    imds: true,
    code: 0,
    problems: [
      {
        check: 'instance-metadata',
        severity: 'warning',
        message: /the instance role .+ is reachable from this pod/,
        fix: /hop limit of 1.*NetworkPolicy .*169\.254\.169\.254/,
      },
    ],
    oks: [{ check: 'chain', severity: 'ok', message: /container link/ }],
    requests: { agent: 1, sts: 0, imds: 2 },
  },
  {
    name: 'a pod that opted in to IMDS (kube2iam): the role is named, no warning',
    env: async () => ({
      ...emulator.env,
      KUBERNETES_SERVICE_HOST: '10.100.0.1',
      AWS_EC2_METADATA_DISABLED: undefined,
      PODCREDS_INSTANCE_METADATA: 'true',
    }),
    args: ['--service-account-dir', join('{dir}', 'serviceaccount')],
    imds: true,
    code: 0,
    problems: [],
    oks: [{ check: 'instance-metadata', severity: 'ok', message: /opted in/ }],
    requests: { agent: 1, sts: 0, imds: 2 },
  },
  {
    name: 'off-cluster with an IMDS: not probed by the instance-metadata check, no pod advice',
    imds: true,
    env: async () => ({
      ...emulator.env,
      AWS_EC2_METADATA_DISABLED: undefined,
      KUBERNETES_SERVICE_HOST: undefined,
      KUBERNETES_SERVICE_PORT: undefined,
    }),
    code: 0,
    problems: [],
    wrongFixes: [/NetworkPolicy/],
    requests: { agent: 1, sts: 0 },
  },
  {
    name: 'AWS_PROFILE naming a profile that is in no file: the profile and the config file',
    env: async () => ({ AWS_PROFILE: 'nosuch' }),
    code: 1,
    problems: [
      {
        check: 'chain',
        severity: 'error',
        message: /AWS_PROFILE is nosuch, and neither .*no-config nor .*no-credentials has that profile/,
        fix: /add \[profile nosuch\] to .*no-config/,
      },
    ],
    wrongFixes: [POD_ADVICE],
    requests: { agent: 0, sts: 0 },
  },
  {
    name: 'AWS_PROFILE with a config file that does not parse',
    env: async () => ({
      AWS_PROFILE: 'prod',
      AWS_CONFIG_FILE: await dir.write('config-garbage', 'this is not ini\n{"json": true}\n'),
    }),
    code: 1,
    problems: [
      {
        check: 'chain',
        severity: 'error',
        message: /has that profile \(line 1 of .*config-garbage is not INI/,
        fix: /\[profile prod\]/,
      },
    ],
    requests: { agent: 0, sts: 0 },
  },
  {
    name: 'half an environment key pair: set both, no secret shown',
    env: async () => ({ AWS_SECRET_ACCESS_KEY: SECRET, AWS_SESSION_TOKEN: SESSION }),
    code: 1,
    problems: [
      { check: 'chain', severity: 'error', message: /env link .*AWS_ACCESS_KEY_ID is not/, fix: /together/ },
    ],
    requests: { agent: 0, sts: 0 },
  },
  {
    name: 'an environment key pair with a bad expiry',
    env: async () => ({
      AWS_ACCESS_KEY_ID: 'AKIAHALFSETEXAMPLE01',
      AWS_SECRET_ACCESS_KEY: SECRET,
      AWS_CREDENTIAL_EXPIRATION: 'notadate',
    }),
    code: 1,
    problems: [
      {
        check: 'chain',
        severity: 'error',
        message: /AWS_CREDENTIAL_EXPIRATION/,
        fix: /RFC 3339 date-time in the future/,
      },
    ],
    requests: { agent: 0, sts: 0 },
  },
  {
    name: 'an agent answering secrets, a URL variable with a password, an inline token: none of them printed',
    env: async () => {
      // A URL variable with a password (shown as ***@); the agent URL itself may not carry one.
      const sts = new URL(emulator.stsUrl)
      sts.username = 'u'
      sts.password = PASSWORD
      return {
        AWS_CONTAINER_CREDENTIALS_FULL_URI: fakeAgentUrl,
        AWS_CONTAINER_AUTHORIZATION_TOKEN: SESSION,
        AWS_ENDPOINT_URL_STS: sts.href,
      }
    },
    code: 0,
    problems: [],
    oks: [{ check: 'chain', severity: 'ok', message: /ASIA…0001/ }],
    requests: { agent: 0, sts: 0 },
  },
  {
    name: 'an AKS pod (Entra Workload ID): a token, no AWS problem',
    env: async () => emulator.azureEnv,
    code: 0,
    problems: [],
    oks: [{ check: 'azure', severity: 'ok', message: /an Entra token, expires/ }],
    wrongFixes: [POD_ADVICE],
    requests: { agent: 0, sts: 0, entra: 1 },
  },
  {
    // Issue 21, "an endpoint that hangs": the Entra token endpoint takes the connection and never
    // answers (the emulator's entra latency fault, far past doctor's 2 s request timeout).
    name: 'an Entra token endpoint that never answers: egress, in bounded time',
    env: async () => emulator.azureEnv,
    faults: { entra: { latencyMs: 600_000 } },
    code: 1,
    problems: [
      {
        check: 'azure',
        severity: 'error',
        message: /Entra token endpoint did not answer: .*timed out after 2000 ms \[ERR_HTTP_TIMEOUT\]/,
        fix: /egress to AZURE_AUTHORITY_HOST/,
      },
    ],
    wrongFixes: [FEDERATED_FIX, POD_ADVICE],
    requests: { agent: 0, sts: 0, entra: 1 },
  },
  {
    name: 'an Entra token endpoint that answers 503: transient, try again',
    env: async () => emulator.azureEnv,
    faults: { entra: { status: 503 } },
    code: 1,
    problems: [
      {
        check: 'azure',
        severity: 'error',
        message: /could not issue a token now \(HTTP 503\)/,
        fix: /transient failure on Entra's side/,
      },
    ],
    wrongFixes: [FEDERATED_FIX, /egress/],
    requests: { agent: 0, sts: 0, entra: 1 },
  },
  {
    name: 'an Entra token endpoint that resets the connection: egress',
    env: async () => emulator.azureEnv,
    faults: { entra: { down: true } },
    code: 1,
    problems: [
      {
        check: 'azure',
        severity: 'error',
        message: /did not answer: .*\[ERR_NETWORK\]/,
        fix: /egress to AZURE_AUTHORITY_HOST/,
      },
    ],
    wrongFixes: [FEDERATED_FIX],
    requests: { agent: 0, sts: 0, entra: 1 },
  },
  {
    name: 'a half-configured AKS pod: the webhook label',
    env: async () => ({ AZURE_CLIENT_ID: emulator.azureEnv.AZURE_CLIENT_ID }),
    code: 1,
    problems: [
      {
        check: 'azure',
        severity: 'error',
        message: /half set up: .*AZURE_TENANT_ID/,
        fix: /azure\.workload\.identity\/use/,
      },
    ],
    requests: { agent: 0, sts: 0 },
  },
]

/** Runs doctor with `env` only (plus an isolated HOME), bounded: a hang fails the test, not the suite. */
function doctor(args: string[], env: Record<string, string | undefined>): Promise<RunResult> {
  // Never this machine's own service-account folder: an empty one unless the row names one.
  if (!args.includes('--service-account-dir'))
    args = [...args, '--service-account-dir', join(dir.dir, 'none')]
  return runCli(
    ['doctor', ...args],
    {
      HOME: dir.dir,
      AWS_CONFIG_FILE: join(dir.dir, 'no-config'),
      AWS_SHARED_CREDENTIALS_FILE: join(dir.dir, 'no-credentials'),
      AWS_EC2_METADATA_DISABLED: 'true',
      ...env,
    },
    { deadlineMs: 30_000 },
  )
}

function matches(finding: Finding, expected: Expected): boolean {
  return (
    finding.check === expected.check &&
    finding.severity === expected.severity &&
    expected.message.test(finding.message) &&
    (expected.fix === undefined || (finding.fix !== undefined && expected.fix.test(finding.fix)))
  )
}

async function secretsOf(env: Record<string, string | undefined>): Promise<string[]> {
  const secrets = [SECRET, SESSION, PASSWORD]
  // The tokens doctor read: neither the whole token nor its signature may be printed.
  for (const name of [
    'AWS_WEB_IDENTITY_TOKEN_FILE',
    'AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE',
    'AZURE_FEDERATED_TOKEN_FILE',
  ]) {
    const file = env[name]
    if (file === undefined || !statSync(file, { throwIfNoEntry: false })?.isFile()) continue
    const token = await readFile(file, 'utf8')
    const signature = token.trim().split('.')[2]
    if (signature !== undefined && signature.length > 16) secrets.push(token.trim(), signature)
  }
  return secrets
}

describe('podcreds doctor: every situation (issue #21)', () => {
  beforeAll(async () => {
    await serviceAccountDir()
  })

  for (const situation of SITUATIONS) {
    it(situation.name, async () => {
      const env = { ...(await situation.env()), ...(situation.imds ? {} : IMDS_BLOCKED) }
      const args = (situation.args ?? []).map((arg) => arg.replace('{dir}', dir.dir))
      if (situation.faults !== undefined) emulator.faults.set(situation.faults)
      try {
        for (const mode of ['json', 'text'] as const) {
          const before = emulator.stats()
          const res = await doctor(mode === 'json' ? ['--json', ...args] : args, env)
          const after = emulator.stats()
          expect(res.timedOut, 'doctor must not hang').toBe(false)
          expect({
            agent: after.agentRequests - before.agentRequests,
            sts: after.stsRequests - before.stsRequests,
            imds: after.imdsRequests - before.imdsRequests,
            entra: after.entraRequests - before.entraRequests,
          }).toEqual({ imds: 0, entra: 0, ...situation.requests })
          expect(res.code, res.stdout + res.stderr).toBe(situation.code)
          for (const secret of await secretsOf(env)) expect(res.stdout + res.stderr).not.toContain(secret)
          if (mode === 'text') {
            // The text renders the same findings (message and fix lines).
            expect(res.stdout).toMatch(/^findings$/m)
            for (const expected of [...situation.problems, ...(situation.oks ?? [])]) {
              expect(res.stdout).toMatch(expected.message)
              if (expected.fix !== undefined) expect(res.stdout).toMatch(expected.fix)
            }
            continue
          }
          const report = JSON.parse(res.stdout) as { ok: boolean; findings: Finding[] }
          expect(report.ok).toBe(situation.code === 0)
          expect(report).not.toHaveProperty('problems')
          const problems = report.findings.filter((finding) => finding.severity !== 'ok')
          // Exactly the expected problems: one cause, one finding, nothing generic beside it.
          expect(problems, JSON.stringify(report.findings, null, 2)).toHaveLength(situation.problems.length)
          for (const expected of situation.problems) {
            expect(
              problems.some((finding) => matches(finding, expected)),
              `${expected.check} ${expected.message} in ${JSON.stringify(problems, null, 2)}`,
            ).toBe(true)
          }
          for (const expected of situation.oks ?? []) {
            expect(
              report.findings.some((finding) => matches(finding, expected)),
              `${expected.message} in ${JSON.stringify(report.findings, null, 2)}`,
            ).toBe(true)
          }
          for (const wrong of situation.wrongFixes ?? []) {
            for (const finding of report.findings) expect(finding.fix ?? '').not.toMatch(wrong)
          }
          for (const finding of report.findings) {
            expect(['error', 'warning', 'ok']).toContain(finding.severity)
            expect(
              Object.keys(finding).every((key) => ['check', 'severity', 'message', 'fix'].includes(key)),
            ).toBe(true)
            if (finding.severity === 'error') expect(finding.fix?.length ?? 0).toBeGreaterThan(10)
          }
        }
      } finally {
        emulator.faults.clear()
      }
    })
  }
})

describe('podcreds doctor: one healthy run, one access key id', () => {
  it('shows the same shortened key id in the chain section and the finding, and no other', async () => {
    const res = await doctor([], emulator.env)
    expect(res.code).toBe(0)
    const ids = new Set(res.stdout.match(/ASIA…[A-Z0-9]{4}/g))
    expect(ids.size).toBe(1)
  })
})
