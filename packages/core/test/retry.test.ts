import { CredentialsError, DEFAULT_MAX_ATTEMPTS, retry, sleep } from '@podcreds/core'
import { describe, expect, it } from 'vitest'
import { ManualClock, RecordingClock, sequenceRandom } from './helpers.js'

const transient = (): CredentialsError => new CredentialsError('agent down', { code: 'ERR_NETWORK' })

/** The full-jitter delay rule the docs promise: floor(r · min(cap, base · 2^(n-1))). */
const fullJitter = (r: number, n: number, base: number, cap: number): number =>
  Math.floor(r * Math.min(cap, base * 2 ** (n - 1)))

describe('retry', () => {
  it('stops at maxAttempts and throws the last error', async () => {
    const clock = new RecordingClock()
    const random = sequenceRandom([0.5, 0.5, 0.5, 0.5])
    const errors: CredentialsError[] = []
    const attempts: number[] = []
    const promise = retry(
      async (attempt) => {
        attempts.push(attempt)
        const err = transient()
        errors.push(err)
        throw err
      },
      { maxAttempts: 4, clock, random },
    )
    const thrown = await promise.then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(errors).toHaveLength(4)
    expect(thrown).toBe(errors[3])
    expect(attempts).toEqual([1, 2, 3, 4])
    expect(clock.delays).toHaveLength(3)
    expect(random.calls).toBe(3)
  })

  it('draws each back-off from the injected random with full jitter, capped', async () => {
    const clock = new RecordingClock()
    const draws = [0.5, 0.999, 0.3, 0, 0.75]
    const random = sequenceRandom(draws)
    const reported: [number, number][] = []
    const base = 100
    const cap = 250
    await expect(
      retry(
        async () => {
          throw transient()
        },
        {
          maxAttempts: 6,
          baseDelayMs: base,
          maxDelayMs: cap,
          clock,
          random,
          onRetry: (_err, attempt, delay) => reported.push([attempt, delay]),
        },
      ),
    ).rejects.toMatchObject({ code: 'ERR_NETWORK' })
    const expected = draws.map((r, i) => fullJitter(r, i + 1, base, cap))
    expect(expected).toEqual([50, 199, 75, 0, 187])
    expect(clock.delays).toEqual(expected)
    expect(reported).toEqual(expected.map((delay, i) => [i + 1, delay]))
    // An awaited back-off holds the process open (see TimerOptions.keepAlive).
    expect(clock.options.every((o) => o?.keepAlive === true)).toBe(true)
  })

  it('uses 3 attempts, 100 ms base and 2000 ms cap by default', async () => {
    expect(DEFAULT_MAX_ATTEMPTS).toBe(3)
    const clock = new RecordingClock()
    const random = sequenceRandom([0.999999, 0.999999])
    let calls = 0
    await expect(
      retry(
        async () => {
          calls++
          throw transient()
        },
        { clock, random },
      ),
    ).rejects.toBeInstanceOf(CredentialsError)
    expect(calls).toBe(3)
    expect(clock.delays).toEqual([99, 199])
    const big = new RecordingClock()
    await expect(
      retry(
        async () => {
          throw transient()
        },
        {
          clock: big,
          random: sequenceRandom([0.999999, 0.999999, 0.999999, 0.999999, 0.999999]),
          maxAttempts: 6,
        },
      ),
    ).rejects.toBeInstanceOf(CredentialsError)
    expect(big.delays).toEqual([99, 199, 399, 799, 1599])
    const capped = new RecordingClock()
    await expect(
      retry(
        async () => {
          throw transient()
        },
        { clock: capped, random: sequenceRandom(Array(6).fill(0.999999)), maxAttempts: 7 },
      ),
    ).rejects.toBeInstanceOf(CredentialsError)
    expect(capped.delays.at(-1)).toBe(1999)
  })

  it('returns the first success', async () => {
    const clock = new RecordingClock()
    let calls = 0
    const value = await retry(
      async () => {
        calls++
        if (calls < 3) throw transient()
        return 'credentials'
      },
      { maxAttempts: 5, clock, random: sequenceRandom([0.1, 0.1]) },
    )
    expect(value).toBe('credentials')
    expect(calls).toBe(3)
    expect(clock.delays).toEqual([10, 20])
  })

  it('does not retry errors that are not retryable', async () => {
    const clock = new RecordingClock()
    const random = sequenceRandom([])
    for (const err of [
      new CredentialsError('no association', { code: 'ERR_HTTP_STATUS', status: 404 }),
      new CredentialsError('denied', { code: 'ERR_STS', stsCode: 'AccessDenied' }),
      new CredentialsError('flag off', { code: 'ERR_NETWORK', retryable: false }),
      new TypeError('a bug'),
    ]) {
      let calls = 0
      await expect(
        retry(
          async () => {
            calls++
            throw err
          },
          { maxAttempts: 5, clock, random },
        ),
      ).rejects.toBe(err)
      expect(calls).toBe(1)
    }
    expect(clock.delays).toEqual([])
    expect(random.calls).toBe(0)
  })

  it('asks shouldRetry with the error and the attempt number', async () => {
    const clock = new RecordingClock()
    const seen: [unknown, number][] = []
    const err = new CredentialsError('throttled', { code: 'ERR_HTTP_STATUS', status: 429 })
    let calls = 0
    await expect(
      retry(
        async () => {
          calls++
          throw err
        },
        {
          maxAttempts: 5,
          clock,
          random: sequenceRandom([0, 0]),
          shouldRetry: (error, attempt) => {
            seen.push([error, attempt])
            return attempt < 3
          },
        },
      ),
    ).rejects.toBe(err)
    expect(calls).toBe(3)
    expect(seen).toEqual([
      [err, 1],
      [err, 2],
      [err, 3],
    ])
  })

  it('maxAttempts 1 means a single call', async () => {
    let calls = 0
    await expect(
      retry(
        async () => {
          calls++
          throw transient()
        },
        { maxAttempts: 1, clock: new RecordingClock(), random: sequenceRandom([]) },
      ),
    ).rejects.toMatchObject({ code: 'ERR_NETWORK' })
    expect(calls).toBe(1)
  })

  it('stops with ERR_ABORTED when the signal aborts during a back-off', async () => {
    const clock = new ManualClock()
    const controller = new AbortController()
    let calls = 0
    const promise = retry(
      async () => {
        calls++
        throw transient()
      },
      { maxAttempts: 5, clock, random: sequenceRandom([0.5]), signal: controller.signal },
    )
    await new Promise((resolve) => setImmediate(resolve))
    expect(clock.pending().map((t) => t.ms)).toEqual([50])
    controller.abort(new Error('shutting down'))
    await expect(promise).rejects.toMatchObject({ code: 'ERR_ABORTED' })
    expect(calls).toBe(1)
    expect(clock.pending()).toEqual([])
  })

  it('does not retry after the signal aborted during an attempt', async () => {
    const controller = new AbortController()
    const err = transient()
    let calls = 0
    await expect(
      retry(
        async () => {
          calls++
          controller.abort()
          throw err
        },
        {
          maxAttempts: 5,
          clock: new RecordingClock(),
          random: sequenceRandom([]),
          signal: controller.signal,
        },
      ),
    ).rejects.toBe(err)
    expect(calls).toBe(1)
  })
})

describe('sleep', () => {
  it('waits on the injected clock with a timer that holds the process open', async () => {
    const clock = new ManualClock()
    let done = false
    const promise = sleep(1234, clock).then(() => {
      done = true
    })
    expect(clock.pending()).toHaveLength(1)
    expect(clock.pending()[0]?.options).toEqual({ keepAlive: true })
    await Promise.resolve()
    expect(done).toBe(false)
    clock.fire(1234)
    await promise
    expect(done).toBe(true)
  })

  it('rejects with ERR_ABORTED when the signal aborts, and clears its timer', async () => {
    const clock = new ManualClock()
    const controller = new AbortController()
    const reason = new Error('stop')
    const promise = sleep(1000, clock, controller.signal)
    controller.abort(reason)
    const err = await promise.then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(err).toBeInstanceOf(CredentialsError)
    expect(err).toMatchObject({ code: 'ERR_ABORTED', cause: reason, retryable: false, tryNextLink: false })
    expect(clock.pending()).toEqual([])
  })

  it('rejects at once on an already-aborted signal without a timer', async () => {
    const clock = new ManualClock()
    await expect(sleep(1000, clock, AbortSignal.abort())).rejects.toMatchObject({ code: 'ERR_ABORTED' })
    expect(clock.timers).toEqual([])
  })

  it('removes its abort listener once it resolved', async () => {
    const clock = new ManualClock()
    const controller = new AbortController()
    const promise = sleep(5, clock, controller.signal)
    clock.fire(5)
    await promise
    // A later abort must not reject anything or touch the clock.
    controller.abort()
    expect(clock.timers.filter((t) => t.cleared)).toEqual([])
  })

  it('works with the system clock', async () => {
    const { systemClock } = await import('@podcreds/core')
    await expect(sleep(1, systemClock)).resolves.toBeUndefined()
  })
})
