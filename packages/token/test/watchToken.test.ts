import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type TokenWatcher, watchToken } from '@podcreds/token'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { rejectionOf } from '../../../test/support/errors.js'
import { kubeletTokenDir } from '../../../test/support/kubeletTokenDir.js'

/** Collects onChange calls and lets a test await the n-th one. */
function recorder() {
  const seen: string[] = []
  const waiters: { n: number; resolve: () => void }[] = []
  return {
    seen,
    onChange(token: string): void {
      seen.push(token)
      for (const w of waiters.filter((w) => seen.length >= w.n)) w.resolve()
    },
    waitFor(n: number): Promise<void> {
      if (seen.length >= n) return Promise.resolve()
      return new Promise((resolve) => waiters.push({ n, resolve }))
    },
  }
}

const settle = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))
// Only ref'd handles are listed, so these tests watch with keepAlive: the watch and its poll timer.
const handles = (): number =>
  process.getActiveResourcesInfo().filter((r) => r === 'FSEventWrap' || r === 'Timeout').length

describe('watchToken', () => {
  let dir: string
  let watcher: TokenWatcher | undefined
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'podcreds-watch-'))
  })
  afterEach(async () => {
    watcher?.close()
    watcher = undefined
    await rm(dir, { recursive: true, force: true })
  })

  it('fires once per kubelet ..data symlink swap, with the new token', async () => {
    const volume = await kubeletTokenDir({ dir, token: 'token-1', removeOld: true })
    const rec = recorder()
    watcher = await watchToken(volume.path, rec.onChange, { debounceMs: 20 })

    await volume.write('token-2\n')
    await rec.waitFor(1)
    await volume.write('token-3')
    await rec.waitFor(2)
    await settle(100)
    expect(rec.seen).toEqual(['token-2', 'token-3'])
  })

  it('fires once per plain rewrite and rename-over, not for a rewrite with the same content', async () => {
    const path = join(dir, 'token')
    await writeFile(path, 'token-1')
    const rec = recorder()
    watcher = await watchToken(path, rec.onChange, { debounceMs: 20 })

    await writeFile(path, 'token-1') // same content: no change
    await writeFile(path, 'token-2')
    await rec.waitFor(1)
    await writeFile(join(dir, 'token.tmp'), 'token-3')
    await rename(join(dir, 'token.tmp'), path)
    await rec.waitFor(2)
    await settle(100)
    expect(rec.seen).toEqual(['token-2', 'token-3'])
  })

  it('reports a token that appears after the watch started', async () => {
    const path = join(dir, 'token')
    const rec = recorder()
    watcher = await watchToken(path, rec.onChange, { debounceMs: 20 })
    await writeFile(path, 'first')
    await rec.waitFor(1)
    expect(rec.seen).toEqual(['first'])
  })

  it('routes read failures and onChange errors to onError', async () => {
    const volume = await kubeletTokenDir({ dir, token: 'token-1', removeOld: true })
    const errors: unknown[] = []
    let failed!: () => void
    const sawChangeError = new Promise<void>((resolve) => {
      failed = resolve
    })
    watcher = await watchToken(
      volume.path,
      () => {
        throw new Error('consumer broke')
      },
      {
        debounceMs: 20,
        onError: (error) => {
          errors.push(error)
          if ((error as Error).message === 'consumer broke') failed()
        },
      },
    )
    await volume.write('token-2')
    await sawChangeError
    expect(errors.some((e) => (e as Error).message === 'consumer broke')).toBe(true)
  })

  it('polls when no event comes, with an injected reader', async () => {
    const path = join(dir, 'token')
    await writeFile(path, 'on-disk')
    let content = 'seed'
    const rec = recorder()
    watcher = await watchToken(path, rec.onChange, {
      pollIntervalMs: 10,
      readFile: async () => new TextEncoder().encode(content),
    })
    content = 'polled'
    await rec.waitFor(1)
    expect(rec.seen[0]).toBe('polled')
  })

  it('stops cleanly: no callback after close, no watch handle left, close is idempotent', async () => {
    const before = handles()
    const path = join(dir, 'token')
    await writeFile(path, 'token-1')
    const rec = recorder()
    const w = await watchToken(path, rec.onChange, { debounceMs: 20, keepAlive: true })
    expect(handles()).toBe(before + 2)
    w.close()
    w[Symbol.dispose]()
    await settle(0) // libuv completes a handle's close on the next turn of the loop
    expect(handles()).toBe(before)
    await writeFile(path, 'token-2')
    await settle(100)
    expect(rec.seen).toEqual([])
  })

  it('supports using', async () => {
    const before = handles()
    await writeFile(join(dir, 'token'), 'x')
    {
      using _watch = await watchToken(join(dir, 'token'), () => {}, { keepAlive: true })
      expect(handles()).toBe(before + 2)
    }
    await settle(0)
    expect(handles()).toBe(before)
  })

  it('rejects a missing directory with ERR_TOKEN_FILE naming it, and bad options with TypeError', async () => {
    const missing = join(dir, 'nope', 'token')
    const err = await rejectionOf(watchToken(missing, () => {}))
    expect(err.code).toBe('ERR_TOKEN_FILE')
    expect(err.message).toContain(join(dir, 'nope'))
    await expect(watchToken(join(dir, 'token'), () => {}, { debounceMs: -1 })).rejects.toThrow(/debounceMs/)
    await expect(watchToken(join(dir, 'token'), 'x' as never)).rejects.toThrow(/onChange/)
  })

  it('rejects bad maxBytes, readFile and keepAlive with a TypeError naming them, before watching', async () => {
    const reads: string[] = []
    const readFile = async (path: string): Promise<Uint8Array> => {
      reads.push(path)
      return new TextEncoder().encode('token-1')
    }
    const file = join(dir, 'token')
    await expect(watchToken(file, () => {}, { maxBytes: 0, readFile })).rejects.toThrow(TypeError)
    await expect(watchToken(file, () => {}, { maxBytes: 1.5, readFile })).rejects.toThrow(/maxBytes/)
    await expect(watchToken(file, () => {}, { readFile: 'fs' as never })).rejects.toThrow(/readFile/)
    await expect(watchToken(file, () => {}, { keepAlive: 'yes' as never, readFile })).rejects.toThrow(
      /keepAlive/,
    )
    expect(reads).toEqual([])
  })
})
