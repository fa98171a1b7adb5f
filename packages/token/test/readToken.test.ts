import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { readToken } from '@podcreds/token'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { rejectionOf } from '../../../test/support/errors.js'
import { kubeletTokenDir } from '../../../test/support/kubeletTokenDir.js'
import { expectNoLeak } from './helpers.js'

const CANARY = 'SECRETCANARYTOKEN'

describe('readToken', () => {
  let dir: string
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'podcreds-read-'))
  })
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('reads through kubelet symlinks and trims trailing whitespace', async () => {
    const volume = await kubeletTokenDir({ dir, token: 'eyJ.header.sig \n\t\n' })
    expect(await readToken(volume.path)).toBe('eyJ.header.sig')
  })

  it('reports a missing file with the path and the reason', async () => {
    const path = join(dir, 'missing')
    const err = await rejectionOf(readToken(path))
    expect(err.code).toBe('ERR_TOKEN_FILE')
    expect(err.message).toBe(`cannot read token file ${path}: no such file (ENOENT)`)
  })

  it('reports a directory', async () => {
    const err = await rejectionOf(readToken(dir))
    expect(err.code).toBe('ERR_TOKEN_FILE')
    expect(err.message).toContain(`${dir}: is a directory (EISDIR)`)
  })

  it('reports an unreadable file (permission denied), never its content', async () => {
    const path = join(dir, 'token')
    await writeFile(path, CANARY)
    await chmod(path, 0o000)
    // Root reads anything: then the seam plays the file system's answer.
    const readFile =
      process.getuid?.() === 0
        ? async () => {
            throw Object.assign(new Error(`EACCES: permission denied, open '${path}'`), { code: 'EACCES' })
          }
        : undefined
    const err = await rejectionOf(readToken(path, readFile ? { readFile } : {}))
    expect(err.code).toBe('ERR_TOKEN_FILE')
    expect(err.message).toContain(`${path}: permission denied (EACCES)`)
    expectNoLeak(err, CANARY)
  })

  it('caps the size without reading a huge file whole, never printing it', async () => {
    const path = join(dir, 'token')
    await writeFile(path, CANARY.repeat(700_000)) // ~12 MiB
    const err = await rejectionOf(readToken(path))
    expect(err.code).toBe('ERR_TOKEN_FILE')
    expect(err.message).toBe(`token file ${path} is over the 16384-byte cap`)
    expectNoLeak(err, CANARY)
    const small = await rejectionOf(
      readToken(path, { maxBytes: 10, readFile: async () => Buffer.from(CANARY) }),
    )
    expect(small.message).toContain('over the 10-byte cap')
    expectNoLeak(small, CANARY)
  })

  it('accepts a file of exactly maxBytes', async () => {
    const path = join(dir, 'token')
    await writeFile(path, 'x'.repeat(64))
    expect(await readToken(path, { maxBytes: 64 })).toHaveLength(64)
  })

  it('reports an empty or whitespace-only file', async () => {
    const path = join(dir, 'token')
    await writeFile(path, ' \n\n')
    const err = await rejectionOf(readToken(path))
    expect(err.code).toBe('ERR_TOKEN_FILE')
    expect(err.message).toBe(`token file ${path} is empty`)
  })

  it('reports a non-UTF-8 file without its content', async () => {
    const path = join(dir, 'token')
    await writeFile(path, Buffer.concat([Buffer.from(CANARY), Buffer.from([0xff, 0xfe, 0xfd])]))
    const err = await rejectionOf(readToken(path))
    expect(err.code).toBe('ERR_TOKEN_FILE')
    expect(err.message).toContain('not valid UTF-8')
    expectNoLeak(err, CANARY)
  })

  it('validates its options', async () => {
    await expect(readToken(join(dir, 'x'), { maxBytes: 0 })).rejects.toThrow(/maxBytes/)
    await expect(readToken(join(dir, 'x'), { readFile: 'no' as never })).rejects.toThrow(/readFile/)
  })
})
