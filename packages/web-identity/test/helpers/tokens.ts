import { mkdir, mkdtemp, rename, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Clock } from '@podcreds/core'
import { systemClock } from '@podcreds/core'

/** Epoch ms the fake clock reports: 2026-11-23T12:00:00Z. */
export const NOW = Date.UTC(2026, 10, 23, 12, 0, 0)

/** A clock that reports a fixed time but runs real (unref'd) timers for timeouts and back-off. */
export function fixedClock(now = NOW): Clock {
  return {
    now: () => now,
    setTimeout: (fn, ms, options) => systemClock.setTimeout(fn, ms, options),
    clearTimeout: (handle) => systemClock.clearTimeout(handle),
  }
}

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url')

/** An unsigned-looking projected service-account token with the given claims. */
export function makeJwt(claims: Record<string, unknown> = {}): string {
  const payload = {
    iss: 'https://oidc.eks.us-west-2.amazonaws.com/id/EXAMPLE',
    sub: 'system:serviceaccount:default:app',
    aud: ['sts.amazonaws.com'],
    iat: Math.floor(NOW / 1000) - 60,
    exp: Math.floor(NOW / 1000) + 3600,
    'kubernetes.io': { namespace: 'default', serviceaccount: { name: 'app', uid: 'uid-1' } },
    canary: 'SECRETCANARYtokenpayload',
    ...claims,
  }
  return `${b64({ alg: 'RS256', kid: 'key-1' })}.${b64(payload)}.U0VDUkVUQ0FOQVJZc2lnbmF0dXJl`
}

/**
 * A kubelet-style projected volume: `<dir>/..<timestamp>/token`, `<dir>/..data -> ..<timestamp>`,
 * `<dir>/token -> ..data/token`. `rotate()` writes a new timestamped dir and swaps `..data`
 * atomically (rename of a new symlink over the old one), as kubelet's AtomicWriter does.
 */
export interface TokenDir {
  dir: string
  /** The path to configure: `<dir>/token`. */
  path: string
  rotate(token: string): Promise<void>
  remove(): Promise<void>
}

export async function makeTokenDir(token: string): Promise<TokenDir> {
  const dir = await mkdtemp(join(tmpdir(), 'podcreds-wi-'))
  let generation = 0
  const rotate = async (next: string): Promise<void> => {
    generation++
    const versioned = `..2026_11_23_12_00_0${generation}.000000000`
    await mkdir(join(dir, versioned))
    await writeFile(join(dir, versioned, 'token'), next)
    await symlink(versioned, join(dir, '..data_tmp'))
    await rename(join(dir, '..data_tmp'), join(dir, '..data'))
  }
  await rotate(token)
  await symlink(join('..data', 'token'), join(dir, 'token'))
  return { dir, path: join(dir, 'token'), rotate, remove: () => rm(dir, { recursive: true, force: true }) }
}
