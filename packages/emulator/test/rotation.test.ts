import { lstat, readdir, readFile, readlink } from 'node:fs/promises'
import { join } from 'node:path'
import { startEmulator } from '@podcreds/emulator'
import { decodeJwt } from 'jose'
import { describe, expect, it } from 'vitest'
import { fakeClock, until } from './helpers.js'

async function layout(
  dir: string,
): Promise<{ data: string; entries: string[]; links: Record<string, string> }> {
  const entries = (await readdir(dir)).sort()
  const links: Record<string, string> = {}
  for (const name of ['azure-identity-token', 'eks-pod-identity-token', 'token']) {
    expect((await lstat(join(dir, name))).isSymbolicLink()).toBe(true)
    links[name] = await readlink(join(dir, name))
  }
  return { data: await readlink(join(dir, '..data')), entries, links }
}

describe('kubelet-style token rotation', () => {
  it('lays tokens out as kubelet does and swaps ..data atomically on rotateToken()', async () => {
    await using emulator = await startEmulator()
    const before = await layout(emulator.tokenDir)
    const oldPod = await readFile(emulator.tokenFiles.podIdentity, 'utf8')
    const oldIrsa = await readFile(emulator.tokenFiles.irsa, 'utf8')

    await emulator.rotateToken()
    const after = await layout(emulator.tokenDir)

    expect(before.data).toMatch(/^\.\.\d{4}_\d\d_\d\d_\d\d_\d\d_\d\d\.\d+$/)
    expect(before.entries).toEqual(
      [before.data, '..data', 'azure-identity-token', 'eks-pod-identity-token', 'token'].sort(),
    )
    expect(before.links).toEqual({
      'azure-identity-token': '..data/azure-identity-token',
      'eks-pod-identity-token': '..data/eks-pod-identity-token',
      token: '..data/token',
    })
    expect(after.data).not.toBe(before.data)
    // The old timestamped dir is gone; no ..data_tmp is left behind.
    expect(after.entries).toEqual(
      [after.data, '..data', 'azure-identity-token', 'eks-pod-identity-token', 'token'].sort(),
    )
    expect(await readFile(emulator.tokenFiles.podIdentity, 'utf8')).not.toBe(oldPod)
    expect(await readFile(emulator.tokenFiles.irsa, 'utf8')).not.toBe(oldIrsa)
    expect(emulator.stats().rotations).toBe(1)
  })

  it('never shows a reader a missing or torn token while rotating', async () => {
    await using emulator = await startEmulator()
    let rotating = true
    const reads: string[] = []
    const reader = (async () => {
      while (rotating) reads.push(await readFile(emulator.tokenFiles.irsa, 'utf8'))
    })()
    for (let i = 0; i < 15; i += 1) await emulator.rotateToken('irsa')
    rotating = false
    await reader
    expect(reads.length).toBeGreaterThan(0)
    for (const token of reads) expect(decodeJwt(token).aud).toEqual(['sts.amazonaws.com'])
  })

  it('rotates one token and keeps the other', async () => {
    await using emulator = await startEmulator()
    const pod = await readFile(emulator.tokenFiles.podIdentity, 'utf8')
    const irsa = await readFile(emulator.tokenFiles.irsa, 'utf8')
    await emulator.rotateToken('irsa')
    expect(await readFile(emulator.tokenFiles.podIdentity, 'utf8')).toBe(pod)
    expect(await readFile(emulator.tokenFiles.irsa, 'utf8')).not.toBe(irsa)
    await expect(emulator.rotateToken('both' as never)).rejects.toThrow(TypeError)
    await expect(emulator.mintToken({ audience: 42 } as never)).rejects.toThrow(/audience/)
    await expect(emulator.mintToken({ lifetimeMs: Number.NaN })).rejects.toThrow(/lifetimeMs/)
    await expect(emulator.mintToken({ aud: 'x' } as never)).rejects.toThrow(
      /aud is not an option of mintToken\(\); put raw claims under `claims`/,
    )
    const custom = decodeJwt(
      await emulator.mintToken({ claims: { azp: 'podcreds' }, subject: 'system:serviceaccount:x:y' }),
    )
    expect([custom.azp, custom.sub]).toEqual(['podcreds', 'system:serviceaccount:x:y'])
  })

  it('rotates on a schedule of its clock, with fresh iat/exp', async () => {
    const clock = fakeClock()
    await using emulator = await startEmulator({ clock, tokenLifetimeMs: 600_000 })
    const first = decodeJwt(await readFile(emulator.tokenFiles.irsa, 'utf8'))
    // Default period: 80 % of the token lifetime, as kubelet.
    clock.advance(479_000)
    expect(emulator.stats().rotations).toBe(0)
    clock.advance(1_000)
    await until(() => emulator.stats().rotations === 1, 'the scheduled rotation')
    const second = decodeJwt(await readFile(emulator.tokenFiles.irsa, 'utf8'))
    expect(second.iat! - first.iat!).toBe(480)
    expect(second.exp! - second.iat!).toBe(600)
    await until(() => clock.pending() === 1, 'the next rotation to be scheduled')
  })

  it('close() clears the rotation timer', async () => {
    const clock = fakeClock()
    const emulator = await startEmulator({ clock })
    expect(clock.pending()).toBe(1)
    await emulator.close()
    expect(clock.pending()).toBe(0)
    await expect(emulator.rotateToken()).rejects.toThrow(/closed/)
  })
})
