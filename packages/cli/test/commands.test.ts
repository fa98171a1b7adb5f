import { spawn } from 'node:child_process'
import { mkdtemp, readdir, readFile, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Emulator } from '@podcreds/emulator'
import { startEmulator } from '@podcreds/emulator'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BIN, fakeJwt, run } from './run.js'

let emulator: Emulator
let home: string

beforeAll(async () => {
  emulator = await startEmulator()
  home = await mkdtemp(join(tmpdir(), 'podcreds-cli-home-'))
})
afterAll(async () => {
  await emulator.close()
})

/** A pod's environment, isolated from this machine's AWS settings. */
function podEnv(extra: Record<string, string | undefined>): Record<string, string | undefined> {
  return {
    HOME: home,
    AWS_CONFIG_FILE: join(home, 'no-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(home, 'no-credentials'),
    AWS_EC2_METADATA_DISABLED: 'true',
    ...extra,
  }
}

describe('podcreds (global)', () => {
  it('prints help and exits 0 with --help; exits 2 without a command', async () => {
    const help = await run(['--help'])
    expect(help.code).toBe(0)
    expect(help.stdout).toMatch(/credential-process/)
    const bare = await run([])
    expect(bare.code).toBe(2)
    // A usage error: the usage goes to stderr, nothing to stdout.
    expect(bare.stdout).toBe('')
    expect(bare.stderr).toMatch(/usage: podcreds <command>/)
  })

  it('every command has --help', async () => {
    for (const args of [
      ['demo', '--help'],
      ['doctor', '--help'],
      ['credential-process', '--help'],
      ['token', 'inspect', '--help'],
      ['trust-policy', '--help'],
      ['emulate', '--help'],
    ]) {
      const res = await run(args)
      expect(res.code, args.join(' ')).toBe(0)
      expect(res.stdout).toMatch(/^usage: podcreds/)
    }
  })

  it("-h and 'help <command>' print the command's help (issue #21)", async () => {
    for (const args of [
      ['doctor', '-h'],
      ['help', 'doctor'],
    ]) {
      const res = await run(args)
      expect(res.code, args.join(' ')).toBe(0)
      expect(res.stdout).toMatch(/^usage: podcreds doctor/)
      expect(res.stderr).toBe('')
    }
    for (const command of ['demo', 'emulate', 'trust-policy']) {
      const res = await run([command, '-h'])
      expect(res.code, command).toBe(0)
      expect(res.stdout).toMatch(new RegExp(`^usage: podcreds ${command}`))
    }
    const plain = await run(['help'])
    expect(plain.code).toBe(0)
    expect(plain.stdout).toMatch(/^usage: podcreds <command>/)
    const unknown = await run(['help', 'frobnicate'])
    expect(unknown.code).toBe(2)
    expect(unknown.stderr).toMatch(/unknown command 'frobnicate'/)
  })

  it('an unknown command or option is one line on stderr and exit 2', async () => {
    const unknown = await run(['frobnicate'])
    expect(unknown.code).toBe(2)
    expect(unknown.stderr.trim().split('\n')).toHaveLength(1)
    const badOption = await run(['doctor', '--bogus'])
    expect(badOption.code).toBe(2)
    expect(badOption.stderr).toMatch(/--bogus/)
    expect(badOption.stderr.trim().split('\n')).toHaveLength(1)
  })

  it('prints no colour when stdout is not a TTY', async () => {
    const res = await run(['trust-policy', 'lint', '-'], {}, '{"Version":"2012-10-17","Statement":[]}')
    expect(res.stdout).not.toContain('\u001b[')
  })
})

describe('podcreds credential-process', () => {
  it('prints Version 1 JSON from the Pod Identity agent', async () => {
    const res = await run(['credential-process'], podEnv(emulator.env))
    expect(res.stderr).toBe('')
    expect(res.code).toBe(0)
    const out = JSON.parse(res.stdout)
    expect(out.Version).toBe(1)
    expect(out.AccessKeyId).toMatch(/^ASIA/)
    expect(typeof out.SecretAccessKey).toBe('string')
    expect(typeof out.SessionToken).toBe('string')
    expect(Date.parse(out.Expiration)).toBeGreaterThan(Date.now())
  })

  it('prints Version 1 JSON through IRSA', async () => {
    const res = await run(['credential-process'], podEnv(emulator.irsaEnv))
    expect(res.code).toBe(0)
    expect(JSON.parse(res.stdout).AccessKeyId).toMatch(/^ASIA/)
  })

  it('--cache keeps a 0600 file and serves repeated calls without the agent', async () => {
    const cacheHome = await mkdtemp(join(tmpdir(), 'podcreds-cache-'))
    const env = podEnv({ ...emulator.env, XDG_CACHE_HOME: cacheHome })
    const first = await run(['credential-process', '--cache'], env)
    expect(first.code).toBe(0)
    const [file] = await readdir(join(cacheHome, 'podcreds'))
    expect(file).toMatch(/^credential-process-[0-9a-f]+\.json$/)
    const info = await stat(join(cacheHome, 'podcreds', file as string))
    expect(info.mode & 0o777).toBe(0o600)
    expect((await stat(join(cacheHome, 'podcreds'))).mode & 0o777).toBe(0o700)
    // With the agent down, the cached set still answers: no call was made.
    emulator.faults.set({ agent: { down: true } })
    try {
      const second = await run(['credential-process', '--cache'], env)
      expect(second.code).toBe(0)
      expect(JSON.parse(second.stdout).AccessKeyId).toBe(JSON.parse(first.stdout).AccessKeyId)
      // Without --cache the agent is asked, and it is down.
      const uncached = await run(['credential-process'], env)
      expect(uncached.code).toBe(1)
    } finally {
      emulator.faults.clear()
    }
  })

  it('ignores a cache file others can read', async () => {
    const cacheHome = await mkdtemp(join(tmpdir(), 'podcreds-cache-'))
    const env = podEnv({ ...emulator.env, XDG_CACHE_HOME: cacheHome })
    const first = await run(['credential-process', '--cache'], env)
    const [file] = await readdir(join(cacheHome, 'podcreds'))
    const path = join(cacheHome, 'podcreds', file as string)
    const planted = JSON.parse(await readFile(path, 'utf8'))
    planted.credentials.AccessKeyId = 'ASIAPLANTEDBYOTHERS0'
    await writeFile(path, JSON.stringify(planted), { mode: 0o644 })
    const { chmod } = await import('node:fs/promises')
    await chmod(path, 0o644)
    const second = await run(['credential-process', '--cache'], env)
    expect(second.code).toBe(0)
    expect(JSON.parse(second.stdout).AccessKeyId).not.toBe('ASIAPLANTEDBYOTHERS0')
    expect(JSON.parse(first.stdout).AccessKeyId).toMatch(/^ASIA/)
  })

  it('fails on stderr, exit 1 and nothing on stdout when no source is configured, in words for an AWS CLI user', async () => {
    const res = await run(['credential-process'], podEnv({}))
    expect(res.code).toBe(1)
    expect(res.stdout).toBe('')
    expect(res.stderr).toMatch(/ERR_CHAIN_EXHAUSTED/)
    // One line (the AWS CLI prints it after "Error when retrieving credentials from custom-process"),
    // naming what it reads and where to look, not the chain's option names (issue #21).
    expect(res.stderr.trim().split('\n')).toHaveLength(1)
    expect(res.stderr).toMatch(/AWS_ROLE_ARN .* AWS_CONTAINER_CREDENTIALS_FULL_URI/)
    expect(res.stderr).toMatch(/never reads AWS CLI profiles/)
    expect(res.stderr).toMatch(/podcreds doctor/)
    expect(res.stderr).not.toMatch(/sdkFallback/)
  })

  it('a configured but broken source is one line with the cause, and points at doctor', async () => {
    const res = await run(
      ['credential-process'],
      podEnv({ ...emulator.env, AWS_CONTAINER_CREDENTIALS_FULL_URI: 'http://127.0.0.1:1/v1/credentials' }),
    )
    expect(res.code).toBe(1)
    expect(res.stdout).toBe('')
    expect(res.stderr.trim().split('\n')).toHaveLength(1)
    expect(res.stderr).toMatch(/ECONNREFUSED.*podcreds doctor.*\[ERR_NETWORK\]/)
  })
})

// doctor's situations are in doctor.test.ts (issue #21).

describe('podcreds token inspect', () => {
  it('prints claims, expiry and rotation, never the token', async () => {
    const token = await readFile(emulator.irsaEnv.AWS_WEB_IDENTITY_TOKEN_FILE as string, 'utf8')
    const res = await run(['token', 'inspect', '--json'], podEnv(emulator.irsaEnv))
    expect(res.code).toBe(0)
    const out = JSON.parse(res.stdout)
    expect(out.claims.subject).toBe('system:serviceaccount:default:app')
    expect(out.claims.audiences).toBe('sts.amazonaws.com')
    expect(out.claims.rotationDueAt).toBeDefined()
    expect(res.stdout).not.toContain(token.trim())
    expect(res.stdout).not.toContain(token.trim().split('.')[2])
  })

  it('prints no control characters from a hostile token (no terminal escapes, no forged lines)', async () => {
    const now = Math.floor(Date.now() / 1000)
    const hostile = fakeJwt({
      iss: 'https://issuer\u001b[2J',
      sub: 'system:serviceaccount:a:b\nproblem forged line',
      aud: ['sts.amazonaws.com\u001b]0;title\u0007'],
      iat: now,
      exp: now + 3600,
    })
    const res = await run(['token', 'inspect', '-'], podEnv({}), hostile)
    expect(res.stdout).toContain('problem forged line')
    // biome-ignore lint/suspicious/noControlCharactersInRegex: asserting their absence
    expect(res.stdout).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f]/)
    expect(res.stdout.split('\n').some((line) => line.startsWith('problem forged line'))).toBe(false)
  })

  it('reads stdin with -, and exits 1 for an expired token', async () => {
    const now = Math.floor(Date.now() / 1000)
    const res = await run(
      ['token', 'inspect', '-'],
      {},
      fakeJwt({ iss: 'x', aud: 'sts.amazonaws.com', iat: now - 20, exp: now - 10 }),
    )
    expect(res.code).toBe(1)
    expect(res.stdout).toMatch(/expired/)
  })

  it("--purpose aks speaks of AKS's webhook, not EKS's (issue #21)", async () => {
    const now = Math.floor(Date.now() / 1000)
    const res = await run(
      ['token', 'inspect', '-', '--purpose', 'aks', '--json'],
      {},
      fakeJwt({ iss: 'x', aud: 'sts.amazonaws.com', iat: now, exp: now + 3600 }),
    )
    expect(res.code).toBe(1)
    const [problem] = JSON.parse(res.stdout).problems
    expect(problem.message).toMatch(/aks needs api:\/\/AzureADTokenExchange/)
    expect(problem.fix).toMatch(/Azure Workload Identity webhook/)
    expect(problem.fix).not.toMatch(/EKS/)
  })

  it('rejects a malformed token with ERR_TOKEN_INVALID', async () => {
    const res = await run(['token', 'inspect', '-'], {}, 'not-a-jwt')
    expect(res.code).toBe(1)
    expect(res.stderr).toMatch(/ERR_TOKEN_INVALID/)
  })

  it('with --json, a malformed or missing token is a problem in the one JSON object', async () => {
    const bad = await run(['token', 'inspect', '-', '--json'], {}, 'not-a-jwt')
    expect(bad.code).toBe(1)
    const out = JSON.parse(bad.stdout)
    expect(out.claims).toBeNull()
    expect(out.problems[0].message).toMatch(/ERR_TOKEN_INVALID/)
    expect(out.problems[0].fix).toMatch(/projected service-account token/)
    const missing = await run(['token', 'inspect', '/nonexistent/podcreds/token', '--json'], {})
    expect(missing.code).toBe(1)
    expect(JSON.parse(missing.stdout).problems[0].message).toMatch(/ERR_TOKEN_FILE/)
  })
})

describe('podcreds demo and emulate', () => {
  it('demo resolves Pod Identity and IRSA through a real AWS SDK client', async () => {
    const res = await run(['demo', '--json'], podEnv({}))
    expect(res.code).toBe(0)
    const out = JSON.parse(res.stdout)
    expect(out.pods.map((p: { link: string }) => p.link)).toEqual(['container', 'web-identity'])
    for (const pod of out.pods) {
      expect(pod.callerArn).toMatch(/^arn:aws:sts::\d{12}:assumed-role\//)
      expect(pod.accessKeyId).toMatch(/^ASIA…/)
    }
    // Issue 19: the cross-account hop, refreshing(fromAssumeRole({ source: <the Pod Identity
    // pod's chain>, roleArn })), proven by GetCallerIdentity in the other account (STS answers an
    // assumed role as arn:aws:sts::<account>:assumed-role/<role>/<session>).
    expect(out.crossAccount).toMatchObject({
      from: 'EKS Pod Identity',
      roleArn: 'arn:aws:iam::444455556666:role/podcreds-demo-cross-account',
      account: '444455556666',
    })
    expect(out.crossAccount.callerArn).toMatch(
      /^arn:aws:sts::444455556666:assumed-role\/podcreds-demo-cross-account\/podcreds-\d+-[0-9a-f]+$/,
    )
    expect(out.crossAccount.accessKeyId).toMatch(/^ASIA…[A-Z0-9]{4}$/)
    expect(Date.parse(out.crossAccount.expiresAt)).toBeGreaterThan(Date.now())
  })

  it('demo prints the cross-account hop after the two pods, key ids shortened', async () => {
    const res = await run(['demo'], podEnv({}))
    expect(res.code).toBe(0)
    const sections = res.stdout.match(/^\S.* pod$/gm)
    expect(sections).toEqual([
      'EKS Pod Identity pod',
      'IRSA pod',
      'Cross-account hop from the EKS Pod Identity pod',
    ])
    expect(res.stdout).toMatch(/role +arn:aws:iam::444455556666:role\/podcreds-demo-cross-account$/m)
    expect(res.stdout).toMatch(
      /AWS says +arn:aws:sts::444455556666:assumed-role\/podcreds-demo-cross-account\//,
    )
    // Three shortened key ids and no whole one (an access key id is 20 characters, AKIA/ASIA…).
    expect(res.stdout.match(/ASIA…[A-Z0-9]{4}/g)).toHaveLength(3)
    expect(res.stdout).not.toMatch(/\b(?:AKIA|ASIA)[A-Z0-9]{16}\b/)
    expect(res.stderr).toBe('')
  })

  it('emulate prints only export lines on stdout, its prose on stderr, and stops on SIGTERM', async () => {
    const child = spawn(process.execPath, [BIN, 'emulate', '--pod', 'irsa'], {
      env: { PATH: process.env.PATH },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString()
    })
    const closed = new Promise((resolve) => child.on('close', resolve))
    try {
      // stdout is a pipe: it is closed after the export lines, while the emulator runs on.
      await new Promise<void>((resolve) =>
        child.stdout.on('end', resolve).on('data', (d: Buffer) => {
          stdout += d.toString()
        }),
      )
      expect(stdout).toMatch(/^export AWS_ROLE_ARN=arn:aws:iam::\d{12}:role\//m)
      for (const text of stdout.trim().split('\n')) expect(text).toMatch(/^export [A-Z0-9_]+=/)
      expect(stdout).toContain(`export PODCREDS_EMULATOR_PID=${child.pid}`)
    } finally {
      // Stopped even when an assertion failed: no emulator outlives the test.
      child.kill('SIGTERM')
    }
    expect(await closed).toBe(0)
    // Read once the process is gone: the two pipes' events come in no set order.
    expect(stderr).toMatch(/podcreds emulator running/)
    expect(stderr).not.toMatch(/below/)
  })

  it('eval "$(podcreds emulate &)" loads the pod into a shell, as its help says', async () => {
    const script = [
      `eval "$("${process.execPath}" "${BIN}" emulate --pod irsa 2>/dev/null &)"`,
      `"${process.execPath}" "${BIN}" credential-process`,
      'kill "$PODCREDS_EMULATOR_PID"',
    ].join('\n')
    const child = spawn('bash', ['-c', script], {
      env: { PATH: process.env.PATH, HOME: home },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString()
    })
    const code = await new Promise((resolve) => child.on('close', resolve))
    expect(code).toBe(0)
    expect(JSON.parse(stdout).AccessKeyId).toMatch(/^ASIA/)
  })
})

// Issue 17: the node's instance role, as a pod meets it (the emulator's IMDSv2 stand-in).
describe('instance metadata in a pod', () => {
  /** A pod with no IRSA and no Pod Identity: only the node's IMDS. */
  const imdsOnlyPod = (extra: Record<string, string | undefined> = {}) =>
    podEnv({
      KUBERNETES_SERVICE_HOST: emulator.env.KUBERNETES_SERVICE_HOST,
      AWS_EC2_METADATA_SERVICE_ENDPOINT: emulator.imdsUrl,
      AWS_EC2_METADATA_DISABLED: undefined,
      ...extra,
    })

  it('doctor warns that the pod reaches an instance role, with the fixes, probing token and role name only', async () => {
    const before = emulator.stats().imdsRequests
    const res = await run(['doctor', '--json'], podEnv(emulator.env))
    const report = JSON.parse(res.stdout)
    const warning = report.findings.find(
      (f: { check: string; severity: string }) => f.check === 'instance-metadata' && f.severity === 'warning',
    )
    expect(warning.message).toBe(
      `the instance role podcreds-demo-node is reachable from this pod through IMDS at ${emulator.imdsUrl}/ (it answered the IMDSv2 token PUT and named the role): that is the node's role, unless kube2iam or kiam serve per-pod roles there, and any code in this pod can use its permissions. podcreds does not (its imds link is off in a pod); other SDKs fall back to it`,
    )
    expect(warning.fix).toMatch(/hop limit of 1/)
    expect(warning.fix).toMatch(/NetworkPolicy/)
    // The token PUT and the role name; never the credentials (and the chain skipped IMDS in the pod).
    expect(emulator.stats().imdsRequests - before).toBe(2)
    expect(report.chosen).toBe('container')
    const human = await run(['doctor'], podEnv(emulator.env))
    expect(human.stdout).toMatch(
      /warning instance-metadata +the instance role podcreds-demo-node is reachable/,
    )
  })

  it('doctor does not probe IMDS off-cluster', async () => {
    const before = emulator.stats().imdsRequests
    const res = await run(
      ['doctor', '--json'],
      podEnv({ ...emulator.env, KUBERNETES_SERVICE_HOST: undefined, AWS_EC2_METADATA_DISABLED: 'true' }),
    )
    const report = JSON.parse(res.stdout)
    expect(report.findings.some((f: { check: string }) => f.check === 'instance-metadata')).toBe(false)
    expect(emulator.stats().imdsRequests).toBe(before)
  })

  it('credential-process skips IMDS in a pod unless --instance-metadata (or PODCREDS_INSTANCE_METADATA=true)', async () => {
    const skipped = await run(['credential-process'], imdsOnlyPod())
    const flagged = await run(['credential-process', '--instance-metadata'], imdsOnlyPod())
    const byEnv = await run(['credential-process'], imdsOnlyPod({ PODCREDS_INSTANCE_METADATA: 'true' }))
    expect(skipped.code).toBe(1)
    expect(skipped.stderr).toMatch(
      /the instance role \(IMDS\) is skipped inside Kubernetes, .*--instance-metadata \(or PODCREDS_INSTANCE_METADATA=true\)/,
    )
    for (const res of [flagged, byEnv]) {
      expect(res.code).toBe(0)
      expect(JSON.parse(res.stdout).AccessKeyId).toMatch(/^ASIA/)
    }
    const secret = JSON.parse(flagged.stdout).SecretAccessKey as string
    // The node secret goes to stdout only (credential-process's job), never to stderr.
    expect(flagged.stderr + skipped.stderr).not.toContain(secret)
  })

  it('credential-process ignores AWS_PROFILE, even one that exists in the config file', async () => {
    const config = join(home, 'config-with-pod-profile')
    await writeFile(config, '[profile pod]\ncredential_process = podcreds credential-process\n')
    const res = await run(
      ['credential-process'],
      podEnv({ ...emulator.env, AWS_PROFILE: 'pod', AWS_CONFIG_FILE: config }),
    )
    expect(res.stderr).toBe('')
    expect(res.code).toBe(0)
    expect(JSON.parse(res.stdout).AccessKeyId).toMatch(/^ASIA/)
  })
})
