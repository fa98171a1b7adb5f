import { randomInt } from 'node:crypto'
import { mkdir, rename, rm, symlink, writeFile } from 'node:fs/promises'
import { basename, join } from 'node:path'

/**
 * A projected volume written the way kubelet's AtomicWriter writes it:
 *
 * ```
 * <dir>/..2026_11_23_13_06_32.1234567890/<file>   the payload, one timestamped dir per write
 * <dir>/..data -> ..2026_11_23_13_06_32.1234567890
 * <dir>/<file> -> ..data/<file>
 * ```
 *
 * Each write creates a new timestamped dir, points a new `..data_tmp` symlink at it and renames
 * it over `..data` (rename(2) is atomic), then removes the old dir: a reader that opens
 * `<dir>/<file>` sees the old or the new payload, never a torn one.
 */
export interface TokenVolume {
  write(payload: Readonly<Record<string, string>>, now: number): Promise<void>
}

export function createTokenVolume(dir: string): TokenVolume {
  let current: string | undefined
  const files = new Set<string>()
  return {
    async write(payload, now) {
      const stamp = new Date(now)
        .toISOString()
        .replace(/\.\d{3}Z$/, '')
        .replace(/[-T:]/g, '_')
      const tsDir = await makeTimestampedDir(dir, stamp)
      for (const [name, content] of Object.entries(payload)) {
        await writeFile(join(tsDir, name), content, { mode: 0o644 })
      }
      const tmpLink = join(dir, '..data_tmp')
      await rm(tmpLink, { force: true })
      await symlink(basename(tsDir), tmpLink)
      await rename(tmpLink, join(dir, '..data'))
      for (const name of Object.keys(payload)) {
        if (files.has(name)) continue
        await symlink(join('..data', name), join(dir, name))
        files.add(name)
      }
      const previous = current
      current = tsDir
      if (previous !== undefined) await rm(previous, { recursive: true, force: true })
    },
  }
}

/**
 * `..<UTC time>.<random decimal>`, as kubelet names it (Go's `os.MkdirTemp` with the prefix
 * `..2006_01_02_15_04_05.`); a name taken by a concurrent writer is retried.
 */
async function makeTimestampedDir(dir: string, stamp: string): Promise<string> {
  for (;;) {
    const path = join(dir, `..${stamp}.${randomInt(0, 2 ** 32 - 1)}`)
    try {
      await mkdir(path, { mode: 0o755 })
      return path
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    }
  }
}
