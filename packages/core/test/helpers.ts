import { existsSync, readdirSync, statSync } from 'node:fs'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import { createServer } from 'node:http'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Clock, Random, TimerHandle, TimerOptions } from '@podcreds/core'
import { buildPackage } from '../../../test/support/build.js'
import { closeServer, listenLoopback } from '../../../test/support/loopback.js'
import { assertNoSecret, consoleLog } from '../../../test/support/secrets.js'

/** Secret-looking strings that must never appear in any printed form. */
export const CANARY_SECRET = 'SECRETCANARYsecretAccessKey0123456789abcd'
export const CANARY_TOKEN = 'SECRETCANARYsessionTokenIQoJb3JpZ2luX2VjEJf'
export const CANARY_KEY_ID = 'ASIASECRETCANARYKEYID'

/** Asserts no canary appears in any printed form of `value` (test/support/secrets.ts). */
export function expectNoSecret(
  value: unknown,
  secrets: readonly string[] = [CANARY_SECRET, CANARY_TOKEN],
): void {
  assertNoSecret(value, [...secrets, 'SECRETCANARY'])
}

export { consoleLog }

interface ScheduledTimer {
  fn: () => void
  ms: number
  options: TimerOptions | undefined
  cleared: boolean
  fired: boolean
}

/**
 * A clock that records every timer and fires none by itself. `fire(predicate)` runs a pending
 * timer by hand, so a test decides exactly which timeout happens.
 */
export class ManualClock implements Clock {
  readonly timers: ScheduledTimer[] = []
  time = 1_700_000_000_000

  now(): number {
    return this.time
  }

  setTimeout(fn: () => void, ms: number, options?: TimerOptions): TimerHandle {
    const timer: ScheduledTimer = { fn, ms, options, cleared: false, fired: false }
    this.timers.push(timer)
    return timer
  }

  clearTimeout(handle: TimerHandle): void {
    const timer = this.timers.find((t) => t === handle)
    if (timer !== undefined) timer.cleared = true
  }

  pending(): ScheduledTimer[] {
    return this.timers.filter((t) => !t.cleared && !t.fired)
  }

  /** Fires the first pending timer scheduled with `ms`; fails when there is none. */
  fire(ms: number): void {
    const timer = this.pending().find((t) => t.ms === ms)
    if (timer === undefined) throw new Error(`no pending timer of ${ms} ms`)
    timer.fired = true
    this.time += ms
    timer.fn()
  }
}

/**
 * A clock whose timers fire on the next macrotask whatever their delay, recording each delay, so
 * `retry` runs at once while the test still sees the exact back-off it asked for.
 */
export class RecordingClock implements Clock {
  readonly delays: number[] = []
  readonly options: (TimerOptions | undefined)[] = []
  time = 1_700_000_000_000

  now(): number {
    return this.time
  }

  setTimeout(fn: () => void, ms: number, options?: TimerOptions): TimerHandle {
    this.delays.push(ms)
    this.options.push(options)
    return setImmediate(() => {
      this.time += ms
      fn()
    })
  }

  clearTimeout(handle: TimerHandle): void {
    clearImmediate(handle as ReturnType<typeof setImmediate>)
  }
}

/** A {@link Random} that replays `values` in order and fails when they run out. */
export function sequenceRandom(values: readonly number[]): Random & { calls: number } {
  let index = 0
  const random = (): number => {
    const value = values[index]
    if (value === undefined) throw new Error('sequenceRandom: no more values')
    index++
    random.calls = index
    return value
  }
  random.calls = 0
  return random
}

export interface TestServer {
  server: Server
  url: string
  port: number
  hits: number
  connections: number
  requests: IncomingMessage[]
  close(): Promise<void>
}

/** A loopback `node:http` server on an ephemeral port counting requests and connections. */
export async function startServer(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
  host = '127.0.0.1',
): Promise<TestServer> {
  const server = createServer()
  // Longer than the client's idle timeout, so the client always closes first.
  server.keepAliveTimeout = 60_000
  const state: TestServer = {
    server,
    url: '',
    port: 0,
    hits: 0,
    connections: 0,
    requests: [],
    close: () => closeServer(server),
  }
  server.on('connection', () => state.connections++)
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    state.hits++
    state.requests.push(req)
    handler(req, res)
  })
  const { port, origin } = await listenLoopback(server, host)
  state.port = port
  state.url = origin
  return state
}

const coreDir = fileURLToPath(new URL('..', import.meta.url))

/**
 * The built `dist/index.js` of this package, for tests that need real separate module instances
 * or a child process. The test script builds first; this rebuilds only when `src/` is newer
 * (a developer running vitest alone), under a lock since test files run in parallel.
 */
export function builtCoreEntry(): string {
  const entry = join(coreDir, 'dist', 'index.js')
  buildPackage(coreDir, () => !isStale(entry))
  return entry
}

function isStale(entry: string): boolean {
  if (!existsSync(entry)) return true
  // dist/index.js is the bundle (scripts/bundle.mjs), whose mtime the bundle step sets on every
  // run, changed or not; a `tsc -b` alone rewrites .d.ts and .tsbuildinfo but not the bundle.
  const newest = (dir: string): number =>
    Math.max(
      ...readdirSync(dir, { recursive: true }).map((file) => statSync(join(dir, String(file))).mtimeMs),
    )
  return newest(join(coreDir, 'src')) > statSync(entry).mtimeMs
}
