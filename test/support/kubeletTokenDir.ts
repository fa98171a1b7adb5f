// Test support, shared by every package's tests and the end-to-end suite (import it by relative
// path; it is not a package): a projected service-account token volume laid out as kubelet's
// AtomicWriter writes it, so tests rotate tokens the way a real pod sees them.
import { mkdir, mkdtemp, rename, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export interface KubeletTokenDirOptions {
  /** The token's file name in the volume: `token`, `eks-pod-identity-token`, `azure-identity-token`. */
  fileName?: string
  /** A token to write at once; without it the volume is empty until the first `write()`. */
  token?: string
  /** Lay the volume out in this directory (created if missing) instead of a new temporary one. */
  dir?: string
  /** The prefix of the new temporary directory when `dir` is not given. */
  prefix?: string
  /** Remove the previous `..<timestamp>` directory after each swap, as kubelet does. Default: kept. */
  removeOld?: boolean
}

/**
 * `<dir>/..<timestamp>/<file>`, `<dir>/..data -> ..<timestamp>`, `<dir>/<file> -> ..data/<file>`.
 * `write()` writes a new timestamped directory and swaps `..data` atomically (a new symlink renamed
 * over the old one); the first `write()` also creates `<dir>/<file>`.
 */
export interface KubeletTokenDir {
  dir: string
  /** The path to configure: `<dir>/<file>`. */
  path: string
  write(token: string): Promise<void>
  /** Removes the whole directory. */
  remove(): Promise<void>
}

export async function kubeletTokenDir(options: KubeletTokenDirOptions = {}): Promise<KubeletTokenDir> {
  const fileName = options.fileName ?? 'token'
  let dir: string
  if (options.dir === undefined) {
    dir = await mkdtemp(join(tmpdir(), options.prefix ?? 'podcreds-token-'))
  } else {
    dir = options.dir
    await mkdir(dir, { recursive: true })
  }
  let generation = 0
  const version = (n: number): string =>
    `..2026_11_23_12_00_${String(n % 60).padStart(2, '0')}.${String(n).padStart(9, '0')}`
  const write = async (token: string): Promise<void> => {
    generation++
    const next = version(generation)
    await mkdir(join(dir, next))
    await writeFile(join(dir, next, fileName), token)
    await symlink(next, join(dir, '..data_tmp'))
    await rename(join(dir, '..data_tmp'), join(dir, '..data'))
    if (generation === 1) await symlink(join('..data', fileName), join(dir, fileName))
    else if (options.removeOld === true) await rm(join(dir, version(generation - 1)), { recursive: true })
  }
  if (options.token !== undefined) await write(options.token)
  return { dir, path: join(dir, fileName), write, remove: () => rm(dir, { recursive: true, force: true }) }
}
