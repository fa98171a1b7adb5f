import { createHash } from 'node:crypto'
import { chmod, mkdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import type { CredentialsError, Env } from '@podcreds/core'
import { isCredentialsError, readEnv } from '@podcreds/core'
import { advisoryWindowFor } from '@podcreds/refresh'
import type { Io } from '../output.js'
import { line } from '../output.js'

export const credentialProcessHelp = `usage: podcreds credential-process [--cache] [--instance-metadata]

Prints credentials in the AWS CLI credential_process format (Version 1) on stdout — the one
output of podcreds that carries secrets. Use it from ~/.aws/config:

  [profile pod]
  credential_process = podcreds credential-process --cache

Options:
  --cache   keep the credentials in a 0600 file under $XDG_CACHE_HOME/podcreds (or
            ~/.cache/podcreds) until their refresh point, so repeated aws commands do not each
            call the Pod Identity agent or STS
  --instance-metadata
            also use the EC2 instance role (IMDS) inside Kubernetes, where podcreds skips it by
            default (kube2iam/kiam serve per-pod roles there); same as PODCREDS_INSTANCE_METADATA=true
  --help    this text

The pod's own sources are used (env keys, IRSA, EKS Pod Identity, then IMDS); AWS_PROFILE is
ignored: the AWS CLI passes on the profile that runs this command, which must not send it back
into itself.

Errors go to stderr with a non-zero exit code.`

interface ProcessCredentials {
  Version: 1
  AccessKeyId: string
  SecretAccessKey: string
  SessionToken?: string
  Expiration?: string
}

interface CacheEntry {
  refreshAt: number
  credentials: ProcessCredentials
}

// The settings that decide which credentials the chain picks: a cache entry is only valid for the
// same ones, so switching roles or profiles never serves another role's credentials.
const CACHE_KEY_VARS = [
  'AWS_PROFILE',
  'AWS_ACCESS_KEY_ID',
  'AWS_ROLE_ARN',
  'AWS_ROLE_SESSION_NAME',
  'AWS_WEB_IDENTITY_TOKEN_FILE',
  'AWS_CONTAINER_CREDENTIALS_FULL_URI',
  'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI',
  'AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE',
  'AWS_REGION',
  'AWS_DEFAULT_REGION',
  'AWS_ENDPOINT_URL_STS',
  'AWS_ENDPOINT_URL',
  'AWS_EC2_METADATA_SERVICE_ENDPOINT',
  'PODCREDS_INSTANCE_METADATA',
  'KUBERNETES_SERVICE_HOST',
] as const

export async function credentialProcess(args: string[], io: Io): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      cache: { type: 'boolean', default: false },
      'instance-metadata': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  })
  if (values.help) {
    line(io.stdout, credentialProcessHelp)
    return 0
  }
  const now = Date.now()
  const instanceMetadata = values['instance-metadata'] === true
  const cacheFile = values.cache ? cachePath(io.env, instanceMetadata) : undefined
  if (cacheFile !== undefined) {
    const cached = await readCache(cacheFile, now)
    if (cached !== undefined) {
      line(io.stdout, JSON.stringify(cached))
      return 0
    }
  }
  // Only the chain path is loaded here: this command runs on every refresh of an AWS CLI or SDK
  // profile (DESIGN "Packages": no emulator import).
  const { defaultChain } = await import('@podcreds/chain')
  // The pod's own sources only: the AWS SDK's providers would read the profile that runs this
  // command (AWS_PROFILE is passed on to us) and run it again, without end. AWS_PROFILE is
  // dropped, not just the SDK link: a selected profile that exists but cannot be used is an
  // error for the chain (issue 17), and here it is the caller's own profile.
  const provider = defaultChain({
    env: { ...io.env, AWS_PROFILE: undefined },
    sdkFallback: false,
    ...(instanceMetadata ? { instanceMetadata: true } : {}),
  })
  try {
    const credentials = await provider()
    const out: ProcessCredentials = {
      Version: 1,
      AccessKeyId: credentials.accessKeyId,
      SecretAccessKey: credentials.secretAccessKey,
    }
    if (credentials.sessionToken !== undefined) out.SessionToken = credentials.sessionToken
    if (credentials.expiration !== undefined) out.Expiration = credentials.expiration.toISOString()
    if (cacheFile !== undefined && credentials.expiration !== undefined) {
      await writeCache(cacheFile, {
        refreshAt: refreshPoint(now, credentials.expiration.getTime()),
        credentials: out,
      })
    }
    line(io.stdout, JSON.stringify(out))
    return 0
  } catch (error) {
    if (!isCredentialsError(error)) throw error
    // The AWS CLI shows this text after "Error when retrieving credentials from custom-process":
    // it speaks to an AWS CLI user, not in the chain's option names (issue #21).
    line(
      io.stderr,
      `podcreds credential-process: ${failureText(error, io.env, instanceMetadata)} [${error.code}]`,
    )
    return 1
  } finally {
    provider.close()
  }
}

function failureText(error: CredentialsError, env: Env, instanceMetadata: boolean): string {
  const doctor = "Run 'podcreds doctor' in the same environment for the cause and the fix."
  if (error.code === 'ERR_CHAIN_EXHAUSTED') {
    const inPod = readEnv(env, 'KUBERNETES_SERVICE_HOST') !== undefined
    const optedIn = instanceMetadata || readEnv(env, 'PODCREDS_INSTANCE_METADATA')?.toLowerCase() === 'true'
    const imds =
      inPod && !optedIn
        ? "; the instance role (IMDS) is skipped inside Kubernetes, where it is the node's role: --instance-metadata (or PODCREDS_INSTANCE_METADATA=true) uses it, for kube2iam or kiam"
        : ', the instance role (IMDS)'
    return `no credentials: this command answers from this environment's own sources (AWS_ACCESS_KEY_ID, IRSA: AWS_ROLE_ARN with AWS_WEB_IDENTITY_TOKEN_FILE, EKS Pod Identity: AWS_CONTAINER_CREDENTIALS_FULL_URI${imds}), and none is set up here. It never reads AWS CLI profiles: a profile runs it. ${doctor}`
  }
  // CredentialsError messages carry no secrets by contract; one line, as the AWS CLI prints it.
  return `${error.message.replace(/\s*\n\s*/g, '; ')}. ${doctor}`
}

/** The advisory refresh window of DESIGN rule 2, so a cached set is never handed out near its end. */
function refreshPoint(now: number, expiresAt: number): number {
  const lifetime = expiresAt - now
  return expiresAt - Math.min(advisoryWindowFor(lifetime), lifetime / 2)
}

function cachePath(env: Env, instanceMetadata: boolean): string {
  const base = env.XDG_CACHE_HOME?.trim() || join(env.HOME?.trim() || homedir(), '.cache')
  const key = createHash('sha256')
    .update(JSON.stringify([...CACHE_KEY_VARS.map((name) => env[name] ?? null), instanceMetadata]))
    .digest('hex')
    .slice(0, 24)
  return join(base, 'podcreds', `credential-process-${key}.json`)
}

async function readCache(file: string, now: number): Promise<ProcessCredentials | undefined> {
  try {
    const info = await stat(file)
    // Someone else could read or plant it: ignore the cache rather than trust it.
    if (
      (info.mode & 0o077) !== 0 ||
      (typeof process.getuid === 'function' && info.uid !== process.getuid())
    ) {
      return undefined
    }
    const entry = JSON.parse(await readFile(file, 'utf8')) as Partial<CacheEntry>
    if (typeof entry.refreshAt !== 'number' || entry.refreshAt <= now) return undefined
    const c = entry.credentials
    if (c?.Version !== 1 || typeof c.AccessKeyId !== 'string' || typeof c.SecretAccessKey !== 'string')
      return undefined
    return c
  } catch {
    return undefined
  }
}

async function writeCache(file: string, entry: CacheEntry): Promise<void> {
  const dir = join(file, '..')
  await mkdir(dir, { recursive: true, mode: 0o700 })
  const temp = `${file}.${process.pid}.tmp`
  try {
    // 'wx' (O_CREAT | O_EXCL): never write through a file or symlink someone planted under the
    // temporary name, in a cache directory we did not create ($XDG_CACHE_HOME=/tmp, say).
    await writeFile(temp, JSON.stringify(entry), { mode: 0o600, flag: 'wx' })
    await chmod(temp, 0o600)
    await rename(temp, file)
  } catch {
    // A cache that cannot be written only costs a call next time.
    await unlink(temp).catch(() => undefined)
  }
}
