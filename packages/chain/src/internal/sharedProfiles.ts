import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Env } from '@podcreds/core'
import { readEnv } from '@podcreds/core'

/** The two shared files, as the AWS SDK locates them (@smithy/shared-ini-file-loader). */
export interface ProfileFiles {
  config: string
  credentials: string
}

/** `AWS_CONFIG_FILE` / `AWS_SHARED_CREDENTIALS_FILE`, else `~/.aws/config` / `~/.aws/credentials`. */
export function profileFiles(env: Env): ProfileFiles {
  // getHomeDir(): HOME, USERPROFILE, HOMEDRIVE + HOMEPATH, then os.homedir().
  const drive = readEnv(env, 'HOMEDRIVE')
  const homePath = readEnv(env, 'HOMEPATH')
  const home =
    readEnv(env, 'HOME') ??
    readEnv(env, 'USERPROFILE') ??
    (homePath === undefined ? undefined : `${drive ?? 'C:'}${homePath}`) ??
    // Looked up only here: importing node:os would cost every process, not just one with a profile.
    process.getBuiltinModule('node:os').homedir()
  const expand = (path: string): string => (path.startsWith('~/') ? join(home, path.slice(2)) : path)
  return {
    config: expand(readEnv(env, 'AWS_CONFIG_FILE') ?? join(home, '.aws', 'config')),
    credentials: expand(readEnv(env, 'AWS_SHARED_CREDENTIALS_FILE') ?? join(home, '.aws', 'credentials')),
  }
}

/**
 * The file that defines profile `name` (`[profile name]` or `[default]` in the config file,
 * `[name]` in the credentials file), or `undefined` when none does (or neither can be read). Read
 * on each call: a user may just have added the profile.
 */
export async function findProfile(name: string, env: Env): Promise<string | undefined> {
  const files = profileFiles(env)
  for (const [file, kind] of [
    [files.config, 'config'],
    [files.credentials, 'credentials'],
  ] as const) {
    let text: string
    try {
      text = await readFile(file, 'utf8')
    } catch {
      continue
    }
    for (const line of text.split(/\r?\n/)) {
      const section = /^\s*\[\s*([^\]]*?)\s*\]/.exec(line)?.[1]
      if (section === undefined) continue
      const profile =
        kind === 'credentials'
          ? section
          : section === 'default'
            ? 'default'
            : /^profile\s+(["']?)(.+)\1$/.exec(section)?.[2]?.trim()
      if (profile === name) return file
    }
  }
  return undefined
}
