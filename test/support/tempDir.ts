// Test support, shared by every package's tests and the hardening suite (import it by relative
// path; it is not a package): a real temporary directory for token files, caches and configs, which
// a test removes in afterEach/afterAll.
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export interface TempDir {
  dir: string
  /** Writes `<dir>/<name>` and returns its path. */
  write(name: string, data: string | Uint8Array): Promise<string>
  /** Removes the directory and everything in it. */
  cleanup(): Promise<void>
}

/** A new directory under the OS temporary directory, named `<prefix>XXXXXX`. */
export async function tempDir(prefix = 'podcreds-test-'): Promise<TempDir> {
  const dir = await mkdtemp(join(tmpdir(), prefix))
  return {
    dir,
    async write(name, data) {
      const path = join(dir, name)
      await writeFile(path, data)
      return path
    },
    cleanup: () => rm(dir, { recursive: true, force: true }),
  }
}
