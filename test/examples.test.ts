// The examples stay true: the runnable ones run against the emulator, the trust policies pass the
// real CLI's lint and are byte for byte what `podcreds trust-policy generate` prints, the
// Kubernetes manifests agree with the policies and READMEs, and every README embedding an example
// embeds its current text (issue 9, "examples/ holds runnable, type-checked examples").
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Emulator } from '@podcreds/emulator'
import { startEmulator } from '@podcreds/emulator'
import { afterEach, describe, expect, it } from 'vitest'
import { main as assumeRole } from '../examples/assume-role.js'
import { main as containerExplicit, EKS_POD_IDENTITY } from '../examples/container-explicit.js'
import { main as emulatorLocal } from '../examples/emulator-local.js'
import { EKS_IRSA, main as webIdentityExplicit } from '../examples/web-identity-explicit.js'
import type { RunResult } from './support/subprocess.js'
import { runCli } from './support/subprocess.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const K8S = join(ROOT, 'examples/kubernetes')
const read = (path: string): string => readFileSync(join(ROOT, path), 'utf8')

const ISSUER = 'https://oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE'
const ISSUER_KEY = 'oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE'
const ACCOUNT = '111122223333'
/** The arguments the IRSA README shows; the committed files must be what they print. */
const GENERATE = [
  'trust-policy',
  'generate',
  '--issuer',
  ISSUER,
  '--namespace',
  'shop',
  '--service-account',
  'checkout',
  '--account',
  ACCOUNT,
]

/** Runs the built `podcreds` binary, as a user would, with a minimal environment. */
function podcreds(args: string[]): Promise<RunResult> {
  return runCli(args, {}, { cwd: ROOT })
}

/** The documents of a YAML file: enough structure for string checks, no YAML library. */
function yamlDocuments(path: string): string[] {
  return readFileSync(path, 'utf8')
    .split(/^---\s*$/m)
    .map((doc) => doc.replace(/^\s*#.*$/gm, '').trim())
    .filter((doc) => doc.length > 0)
}

/** The value of a `key: value` line (first match), quotes removed. */
function field(doc: string, key: string): string | undefined {
  const escaped = key.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')
  const match = new RegExp(`^\\s*${escaped}:\\s*(.+?)\\s*$`, 'm').exec(doc)
  return match?.[1]?.replace(/^["']|["']$/g, '')
}

function kind(docs: string[], name: string): string {
  const doc = docs.find((d) => field(d, 'kind') === name)
  if (doc === undefined) throw new Error(`no ${name} document`)
  return doc
}

describe('examples/emulator-local.ts', () => {
  it('resolves Pod Identity credentials through defaultChain() and STS GetCallerIdentity accepts them', async () => {
    const run = await emulatorLocal()

    expect(run.account).toBe(ACCOUNT)
    expect(run.arn).toMatch(/^arn:aws:sts::111122223333:assumed-role\/podcreds-demo\/eks-/)
    expect(run.accessKeyId).toMatch(/^ASIA…[A-Z0-9]{4}$/)
    expect(run.expiresAt?.getTime()).toBeGreaterThan(Date.now())
    expect(run.nextRefreshAt?.getTime()).toBeLessThan(run.expiresAt?.getTime() ?? 0)
  })

  it('resolves IRSA credentials through the emulated STS with main("irsa")', async () => {
    const run = await emulatorLocal('irsa')

    expect(run.account).toBe(ACCOUNT)
    expect(run.arn).toMatch(/^arn:aws:sts::111122223333:assumed-role\/podcreds-demo-irsa\//)
    expect(run.accessKeyId).toMatch(/^ASIA…[A-Z0-9]{4}$/)
  })
})

describe('examples/assume-role.ts (issue 19)', () => {
  let emulator: Emulator | undefined
  afterEach(async () => {
    await emulator?.close()
    emulator = undefined
  })
  const CROSS = 'arn:aws:iam::444455556666:role/podcreds-demo-cross-account'

  it.each(['env', 'irsaEnv'] as const)(
    'the same code crosses into account 444455556666 from a %s pod',
    async (which) => {
      emulator = await startEmulator()
      const run = await assumeRole(CROSS, emulator[which])
      expect(run).toEqual({ owner: '444455556666', buckets: ['podcreds-demo'] })
    },
  )
})

describe('examples/container-explicit.ts and examples/web-identity-explicit.ts', () => {
  let emulator: Emulator | undefined
  afterEach(async () => {
    await emulator?.close()
    emulator = undefined
  })

  it('fromContainer() with explicit settings lists the buckets through a real S3Client', async () => {
    emulator = await startEmulator()
    const agentUrl = emulator.env.AWS_CONTAINER_CREDENTIALS_FULL_URI
    expect(agentUrl).toBeDefined()

    const buckets = await containerExplicit({
      agentUrl: agentUrl ?? '',
      tokenFile: emulator.tokenFiles.podIdentity,
      region: emulator.region,
      s3Endpoint: emulator.awsUrl,
    })

    expect(buckets).toEqual(['podcreds-demo'])
    expect(emulator.stats().agentRequests).toBe(1)
  })

  it('fromWebIdentity() with explicit settings lists the buckets through a real S3Client', async () => {
    emulator = await startEmulator()
    const roleArn = emulator.irsaEnv.AWS_ROLE_ARN
    expect(roleArn).toBeDefined()

    const buckets = await webIdentityExplicit({
      roleArn: roleArn ?? '',
      tokenFile: emulator.tokenFiles.irsa,
      region: emulator.region,
      stsEndpoint: emulator.stsUrl,
      s3Endpoint: emulator.awsUrl,
    })

    expect(buckets).toEqual(['podcreds-demo'])
    expect(emulator.stats().stsRequests).toBe(1)
  })

  it('default to what EKS injects, as the Deployments’ comments say', () => {
    const podIdentity = read('examples/kubernetes/pod-identity/manifests/deployment.yaml')
    const irsa = read('examples/kubernetes/irsa/manifests/deployment.yaml')
    const irsaAccount = read('examples/kubernetes/irsa/manifests/serviceaccount.yaml')

    expect(podIdentity).toContain(`AWS_CONTAINER_CREDENTIALS_FULL_URI=${EKS_POD_IDENTITY.agentUrl}`)
    expect(podIdentity).toContain(`AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=${EKS_POD_IDENTITY.tokenFile}`)
    expect(irsa).toContain(`AWS_WEB_IDENTITY_TOKEN_FILE=${EKS_IRSA.tokenFile}`)
    expect(irsa).toContain(`AWS_ROLE_ARN=${EKS_IRSA.roleArn}`)
    expect(irsaAccount).toContain(`eks.amazonaws.com/role-arn: ${EKS_IRSA.roleArn}`)
  })
})

describe('examples/kubernetes trust policies', () => {
  it('the IRSA policy passes `podcreds trust-policy lint --mode irsa`', async () => {
    const res = await podcreds([
      'trust-policy',
      'lint',
      '--mode',
      'irsa',
      'examples/kubernetes/irsa/iam/trust-policy.json',
    ])

    expect(res.stderr).toBe('')
    expect(res.stdout).toContain('no problems found')
    expect(res.code).toBe(0)
  })

  it('the Pod Identity policy passes `podcreds trust-policy lint --mode pod-identity`', async () => {
    const res = await podcreds([
      'trust-policy',
      'lint',
      '--json',
      '--mode',
      'pod-identity',
      'examples/kubernetes/pod-identity/iam/trust-policy.json',
    ])

    expect(res.stderr).toBe('')
    expect(JSON.parse(res.stdout)).toMatchObject({ findings: [] })
    expect(res.code).toBe(0)
  })

  it('the lint is not vacuous: the IRSA policy with a wildcard sub fails it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'podcreds-examples-'))
    try {
      const policy = JSON.parse(read('examples/kubernetes/irsa/iam/trust-policy.json'))
      const condition = policy.Statement[0].Condition
      condition.StringLike = { [`${ISSUER_KEY}:sub`]: 'system:serviceaccount:*' }
      delete condition.StringEquals[`${ISSUER_KEY}:sub`]
      const file = join(dir, 'weak.json')
      await writeFile(file, JSON.stringify(policy))

      const res = await podcreds(['trust-policy', 'lint', '--json', '--mode', 'irsa', file])

      expect(res.code).toBe(1)
      expect(JSON.parse(res.stdout).findings.map((f: { code: string }) => f.code)).toContain('WILDCARD_SUB')
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('`podcreds trust-policy generate` still prints exactly the committed IRSA policy', async () => {
    const res = await podcreds(GENERATE)

    expect(res.code).toBe(0)
    expect(res.stderr).toBe('')
    expect(res.stdout).toBe(read('examples/kubernetes/irsa/iam/trust-policy.json'))
  })

  it('`--format terraform` still prints exactly the committed Terraform variant', async () => {
    const res = await podcreds([...GENERATE, '--format', 'terraform'])

    expect(res.code).toBe(0)
    expect(res.stdout).toBe(read('examples/kubernetes/irsa/iam/trust-policy.tf'))
  })

  it('the IRSA README shows the same generate command', () => {
    const readme = read('examples/kubernetes/irsa/README.md').replace(/\\\n\s*/g, '')

    expect(readme).toContain(`--issuer ${ISSUER}`)
    expect(readme).toContain(
      `--namespace shop --service-account checkout --account ${ACCOUNT} > iam/trust-policy.json`,
    )
    expect(readme).toContain(`--account ${ACCOUNT} > iam/trust-policy.tf`)
  })
})

describe('examples/kubernetes manifests', () => {
  it('Pod Identity: a plain service account, the Deployment uses it, the association and policy name it', () => {
    const account = kind(
      yamlDocuments(join(K8S, 'pod-identity/manifests/serviceaccount.yaml')),
      'ServiceAccount',
    )
    const deployment = kind(yamlDocuments(join(K8S, 'pod-identity/manifests/deployment.yaml')), 'Deployment')
    const readme = read('examples/kubernetes/pod-identity/README.md').replace(/\\\n\s*/g, '')
    const policy = JSON.parse(read('examples/kubernetes/pod-identity/iam/trust-policy.json'))
    const terraform = read('examples/kubernetes/pod-identity/iam/pod-identity.tf')
    const name = field(account, 'name')
    const namespace = field(account, 'namespace')

    expect(field(account, 'apiVersion')).toBe('v1')
    expect([name, namespace]).toEqual(['checkout', 'shop'])
    // An IRSA annotation as well would make IRSA win over the association.
    expect(account).not.toContain('eks.amazonaws.com/role-arn')
    expect(field(deployment, 'apiVersion')).toBe('apps/v1')
    expect(field(deployment, 'namespace')).toBe(namespace)
    expect(field(deployment, 'serviceAccountName')).toBe(name)
    // The webhook injects these; a manifest that sets them fights it.
    expect(deployment).not.toMatch(/name: AWS_(CONTAINER_|ROLE_ARN|WEB_IDENTITY)/)
    expect(readme).toContain(
      `aws eks create-pod-identity-association --cluster-name my-cluster --namespace ${namespace} --service-account ${name} --role-arn arn:aws:iam::${ACCOUNT}:role/checkout-pod-identity`,
    )
    expect(readme).toContain('aws iam create-role --role-name checkout-pod-identity')
    expect(terraform).toMatch(
      /^\s*assume_role_policy\s*=\s*file\("\$\{path\.module\}\/trust-policy\.json"\)$/m,
    )
    expect(terraform).toMatch(/^\s*name\s*=\s*"checkout-pod-identity"$/m)
    expect(terraform).toMatch(new RegExp(`^\\s*namespace\\s*=\\s*"${namespace}"$`, 'm'))
    expect(terraform).toMatch(new RegExp(`^\\s*service_account\\s*=\\s*"${name}"$`, 'm'))
    expect(policy.Statement[0].Principal).toEqual({ Service: 'pods.eks.amazonaws.com' })
    expect(policy.Statement[0].Action).toEqual(['sts:AssumeRole', 'sts:TagSession'])
    expect(policy.Statement[0].Condition.StringEquals).toEqual({
      'aws:RequestTag/kubernetes-namespace': namespace,
      'aws:RequestTag/kubernetes-service-account': name,
    })
  })

  it('IRSA: the annotation names the role the Terraform creates, and the policy trusts this service account', () => {
    const account = kind(yamlDocuments(join(K8S, 'irsa/manifests/serviceaccount.yaml')), 'ServiceAccount')
    const deployment = kind(yamlDocuments(join(K8S, 'irsa/manifests/deployment.yaml')), 'Deployment')
    const policy = JSON.parse(read('examples/kubernetes/irsa/iam/trust-policy.json'))
    const terraform = read('examples/kubernetes/irsa/iam/trust-policy.tf')
    const readme = read('examples/kubernetes/irsa/README.md').replace(/\\\n\s*/g, '')
    const name = field(account, 'name')
    const namespace = field(account, 'namespace')
    const roleArn = field(account, 'eks.amazonaws.com/role-arn')
    const roleName = /^\s*name\s*=\s*"([^"]+)"/m.exec(terraform)?.[1]

    expect(field(account, 'apiVersion')).toBe('v1')
    expect([name, namespace]).toEqual(['checkout', 'shop'])
    expect(roleName).toBe('checkout-irsa')
    expect(roleArn).toBe(`arn:aws:iam::${ACCOUNT}:role/${roleName}`)
    expect(readme).toContain(`aws iam create-role --role-name ${roleName}`)
    expect(field(deployment, 'apiVersion')).toBe('apps/v1')
    expect(field(deployment, 'namespace')).toBe(namespace)
    expect(field(deployment, 'serviceAccountName')).toBe(name)
    expect(deployment).not.toMatch(/name: AWS_(CONTAINER_|ROLE_ARN|WEB_IDENTITY)/)
    expect(policy.Statement[0].Condition.StringEquals[`${ISSUER_KEY}:sub`]).toBe(
      `system:serviceaccount:${namespace}:${name}`,
    )
  })

  it('are plain YAML: no tabs, two-space indentation, one kind per file', () => {
    for (const file of [
      'pod-identity/manifests/serviceaccount.yaml',
      'pod-identity/manifests/deployment.yaml',
      'irsa/manifests/serviceaccount.yaml',
      'irsa/manifests/deployment.yaml',
    ]) {
      const text = readFileSync(join(K8S, file), 'utf8')
      expect(text, file).not.toContain('\t')
      for (const line of text.split('\n')) {
        expect((line.length - line.trimStart().length) % 2, `${file}: ${line}`).toBe(0)
      }
      expect(yamlDocuments(join(K8S, file)), file).toHaveLength(1)
    }
  })
})

describe('READMEs embed the examples as they are', () => {
  const readmes = [
    'packages/sts/README.md',
    'packages/chain/README.md',
    'packages/container/README.md',
    'packages/web-identity/README.md',
    'packages/cli/README.md',
  ]

  it.each(readmes)('%s: every "From [`examples/…`]" block equals the file', (readme) => {
    const lines = read(readme).split('\n')
    let embedded = 0
    for (let i = 0; i < lines.length; i++) {
      const link = /\[`(examples\/[\w./-]+\.ts)`\]\(([^)]+)\)/.exec(lines[i] ?? '')
      if (link === null || !/^From /.test(lines[i] ?? '')) continue
      const [, file = '', href = ''] = link
      // The link resolves from the README's folder to the example.
      expect(relative(ROOT, join(ROOT, dirname(readme), href)), readme).toBe(file)
      const start = lines.findIndex((line, j) => j > i && line === '```ts')
      const end = lines.findIndex((line, j) => j > start && line === '```')
      expect(start, `${readme}: no code block after the link to ${file}`).toBeGreaterThan(i)
      expect(`${lines.slice(start + 1, end).join('\n')}\n`, `${readme} embeds ${file}`).toBe(read(file))
      embedded++
    }
    expect(embedded, `${readme} embeds no example`).toBeGreaterThan(0)
  })

  it('every example file exists where the READMEs point', () => {
    for (const readme of readmes) {
      for (const [, file] of read(readme).matchAll(/\[`(examples\/[\w./-]+)`\]/g)) {
        expect(existsSync(join(ROOT, file ?? '')), `${readme} → ${file}`).toBe(true)
      }
    }
  })
})

// Terraform is optional here: the check runs where `terraform` is on PATH (it needs no provider
// and no network), and says why it was skipped elsewhere.
const terraformVersion = spawnSync('terraform', ['version'], { encoding: 'utf8' })
const hasTerraform = terraformVersion.status === 0
if (!hasTerraform) console.warn('examples: terraform fmt check skipped, `terraform` is not on PATH')

describe.skipIf(!hasTerraform)('examples/kubernetes Terraform', () => {
  it.each([
    'examples/kubernetes/irsa/iam/trust-policy.tf',
    'examples/kubernetes/pod-identity/iam/pod-identity.tf',
  ])('%s is in canonical `terraform fmt` form', (file) => {
    const res = spawnSync('terraform', ['fmt', '-check', '-diff', '-'], {
      input: read(file),
      encoding: 'utf8',
      env: { PATH: process.env.PATH, TF_CLI_CONFIG_FILE: '/dev/null', CHECKPOINT_DISABLE: '1' },
    })

    expect(res.stdout).toBe('')
    expect(res.status).toBe(0)
  })
})
