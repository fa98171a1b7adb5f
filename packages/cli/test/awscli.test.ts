import { execFile } from 'node:child_process'
import { mkdtemp, readdir, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import { promisify } from 'node:util'
import type { Emulator } from '@podcreds/emulator'
import { startEmulator } from '@podcreds/emulator'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BIN } from './run.js'

const exec = promisify(execFile)

async function findAws(): Promise<string | undefined> {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    try {
      await exec(join(dir, 'aws'), ['--version'])
      return join(dir, 'aws')
    } catch {}
  }
  return undefined
}

/** A scratch HOME with an AWS config of `profile`, and the environment of a pod on the emulator. */
async function awsSetup(emulator: Emulator, profile: string, extra: Record<string, string> = {}) {
  const home = await mkdtemp(join(tmpdir(), 'podcreds-awscli-'))
  const config = join(home, 'config')
  await writeFile(
    config,
    `[${profile}]\nregion = us-east-1\ncredential_process = ${process.execPath} ${BIN} credential-process --cache\n`,
  )
  const env = {
    PATH: process.env.PATH,
    HOME: home,
    XDG_CACHE_HOME: join(home, 'cache'),
    AWS_CONFIG_FILE: config,
    AWS_SHARED_CREDENTIALS_FILE: join(home, 'no-credentials'),
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    // The pod: podcreds (run by the AWS CLI) finds the Pod Identity agent through these.
    AWS_CONTAINER_CREDENTIALS_FULL_URI: emulator.env.AWS_CONTAINER_CREDENTIALS_FULL_URI,
    AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: emulator.env.AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE,
    AWS_EC2_METADATA_DISABLED: 'true',
    ...extra,
  }
  return { home, env }
}

const aws = await findAws()
if (aws === undefined) console.warn('skipping the AWS CLI credential_process test: `aws` is not on PATH')

describe.skipIf(aws === undefined)(
  'the AWS CLI with credential_process = podcreds credential-process',
  () => {
    let emulator: Emulator
    beforeAll(async () => {
      emulator = await startEmulator()
    })
    afterAll(async () => {
      await emulator.close()
    })

    it('signs a real aws sts get-caller-identity that the emulator verifies, through --cache', async () => {
      const { home, env } = await awsSetup(emulator, 'default')
      const { stdout } = await exec(
        aws as string,
        ['sts', 'get-caller-identity', '--endpoint-url', emulator.awsUrl, '--output', 'json'],
        {
          env,
        },
      )
      const identity = JSON.parse(stdout)
      expect(identity.Arn).toMatch(/^arn:aws:sts::\d{12}:assumed-role\/podcreds-demo\//)
      // The credentials came through our credential-process (it wrote its cache), not botocore's own
      // container provider.
      expect(await readdir(join(home, 'cache', 'podcreds'))).toHaveLength(1)
    })
    it('with AWS_PROFILE naming that profile, podcreds does not run itself again (no recursion)', async () => {
      // The README's setup: a profile whose credential_process is podcreds, selected through
      // AWS_PROFILE. The AWS CLI passes AWS_PROFILE on to podcreds; podcreds must answer from the
      // pod's own sources, not through the SDK's chain, which would read that profile and run
      // podcreds again, without end.
      const { env } = await awsSetup(emulator, 'profile pod', { AWS_PROFILE: 'pod' })
      const { stdout } = await exec(
        aws as string,
        ['sts', 'get-caller-identity', '--endpoint-url', emulator.awsUrl, '--output', 'json'],
        { env, timeout: 30_000, killSignal: 'SIGKILL' },
      )
      expect(JSON.parse(stdout).Arn).toMatch(/^arn:aws:sts::\d{12}:assumed-role\/podcreds-demo\//)
      // And podcreds itself, run with that environment (as a tool started with AWS_PROFILE=pod).
      const direct = await exec(process.execPath, [BIN, 'credential-process'], {
        env,
        timeout: 30_000,
        killSignal: 'SIGKILL',
      })
      expect(JSON.parse(direct.stdout).Version).toBe(1)
    }, 60_000)
  },
)
