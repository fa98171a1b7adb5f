import { readFileSync } from 'node:fs'
import { refreshing } from '@podcreds/refresh'
import { DEFAULT_SHARED_MAX, sharedProvider } from '@podcreds/refresh/shared'
import { describe, expect, it } from 'vitest'
import { FakeClock } from '../../../test/support/fakeClock.js'
import { mulberry32 } from '../../../test/support/random.js'
import { ScriptedSource } from './helpers.js'

describe('rule 16: sharedProvider()', () => {
  it('returns one engine per key, built once', async () => {
    const clock = new FakeClock()
    const source = new ScriptedSource(clock)
    let built = 0
    const factory = () => {
      built++
      return refreshing(source.fn, { clock, random: mulberry32(51) })
    }
    const a = sharedProvider('test:one-per-key', factory)
    const b = sharedProvider('test:one-per-key', factory)
    expect(b).toBe(a)
    expect(built).toBe(1)
    await Promise.all([a(), b()])
    expect(source.calls).toHaveLength(1) // two SDK clients, one cache
    const other = sharedProvider('test:another-key', factory)
    expect(other).not.toBe(a)
    expect(built).toBe(2)
    a.close()
    other.close()
  })

  it('closes an evicted engine; a later call with its key builds a new one', async () => {
    const clock = new FakeClock()
    const source = new ScriptedSource(clock)
    const engines = new Map<string, ReturnType<typeof refreshing>>()
    const make = (key: string) =>
      sharedProvider(key, () => {
        const e = refreshing(source.fn, { clock, random: mulberry32(52) })
        engines.set(key, e)
        return e
      })
    const first = make('test:evict:0')
    await first()
    expect(clock.pending()).toBe(1)
    for (let i = 1; i <= DEFAULT_SHARED_MAX; i++) make(`test:evict:${i}`)
    expect(first.stats().closed).toBe(true)
    expect(clock.pending()).toBe(0) // its timer stopped
    expect(engines.get('test:evict:1')!.stats().closed).toBe(false)
    const again = make('test:evict:0')
    expect(again).not.toBe(first)
    expect(again.stats().closed).toBe(false)
    for (const e of engines.values()) e.close()
  })

  it('grows when a larger max is asked for, closing nothing', () => {
    const clock = new FakeClock()
    const source = new ScriptedSource(clock)
    const made: ReturnType<typeof refreshing>[] = []
    const factory = () => {
      const e = refreshing(source.fn, { clock })
      made.push(e)
      return e
    }
    for (let i = 0; i < 10; i++) sharedProvider(`test:grow:${i}`, factory, { max: 500 })
    for (let i = 0; i < 300; i++) sharedProvider(`test:grow-more:${i}`, factory, { max: 500 })
    expect(made.filter((e) => e.stats().closed)).toHaveLength(0)
    expect(sharedProvider('test:grow:0', factory)).toBe(made[0])
    for (const e of made) e.close()
  })

  it('rejects bad arguments with a TypeError naming them', () => {
    const factory = () => refreshing(async () => ({}))
    expect(() => sharedProvider('', factory)).toThrow(/key/)
    expect(() => sharedProvider(5 as never, factory)).toThrow(/key/)
    expect(() => sharedProvider('test:bad', 'nope' as never)).toThrow(/factory/)
    expect(() => sharedProvider('test:bad', factory, { max: 0 })).toThrow(/max/)
    expect(() => sharedProvider('test:bad', factory, { max: 1.5 })).toThrow(/max/)
    expect(() => sharedProvider('test:bad', (() => ({})) as never)).toThrow(/factory/)
  })
})

describe('packaging', () => {
  it('loads lru-cache only behind the ./shared subpath', () => {
    const seen = new Set<string>()
    const imports: string[] = []
    const walk = (file: URL): void => {
      if (seen.has(file.href)) return
      seen.add(file.href)
      const text = readFileSync(file, 'utf8')
      for (const m of text.matchAll(/^\s*(?:import|export)\s+(type\s+)?[^'"]*?from\s+'([^']+)'/gm)) {
        if (m[1] !== undefined) continue // type-only: erased
        const spec = m[2]!
        if (spec.startsWith('.')) walk(new URL(spec.replace(/\.js$/, '.ts'), file))
        else imports.push(spec)
      }
    }
    walk(new URL('../src/index.ts', import.meta.url))
    expect(imports.length).toBeGreaterThan(0)
    expect(imports).not.toContain('lru-cache')
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'))
    expect(Object.keys(pkg.exports)).toContain('./shared')
    expect(readFileSync(new URL('../src/shared.ts', import.meta.url), 'utf8')).toContain('sharedProvider')
  })
})
