import { type FSWatcher, watch } from 'node:fs'
import { basename, dirname } from 'node:path'
import type { Clock, Milliseconds, TimerHandle } from '@podcreds/core'
import {
  CredentialsError,
  systemClock,
  validateClock,
  validateFunction,
  validateInteger,
  validateMilliseconds,
} from '@podcreds/core'
// Through the read entry, so the bundle's two entries share one copy of it (scripts/bundle.mjs).
import { readToken } from './read.js'
import type { ReadFile } from './readToken.js'

/** Options of {@link watchToken}. Durations in milliseconds. */
export interface WatchTokenOptions {
  /**
   * Quiet time after the last file-system event before the file is re-read: kubelet's atomic
   * update is a burst of events (new directory, `..data_tmp` symlink, rename, old directory
   * removed), reported as one change.
   * @defaultValue 50
   */
  debounceMs?: Milliseconds
  /**
   * Re-read the file this often even without events, in case the file system does not report
   * them (some network and overlay file systems). `0` disables polling.
   * @defaultValue 60000
   */
  pollIntervalMs?: Milliseconds
  /** Keep the process alive while watching. @defaultValue false (like podcreds' timers) */
  keepAlive?: boolean
  /** Receives read failures (e.g. the file is gone) and errors thrown by `onChange`. @defaultValue ignored */
  onError?: (error: unknown) => void
  /** The file-reading seam, as in {@link readToken}. @defaultValue `fs.promises.readFile` */
  readFile?: ReadFile
  /** Largest accepted file, in bytes, as in {@link readToken}. @defaultValue 16384 */
  maxBytes?: number
  /** Owns the debounce and poll timers. @defaultValue systemClock */
  clock?: Clock
}

/** A running {@link watchToken}: close it (or `using` it) to stop. */
export interface TokenWatcher {
  /** Stops watching; no callback runs afterwards and no handle is left. Idempotent. */
  close(): void
  /** Same as {@link TokenWatcher.close}, for `using`. */
  [Symbol.dispose](): void
}

/** @defaultValue 50 */
export const DEFAULT_WATCH_DEBOUNCE_MS = 50
/** @defaultValue 60000 */
export const DEFAULT_WATCH_POLL_INTERVAL_MS = 60_000

/**
 * Watches a token file and calls `onChange` with the new token, once per change of its content.
 * It survives kubelet's atomic update of projected volumes (the `..data` symlink swapped to a
 * new timestamped directory, after which the old file is deleted) as well as a plain rewrite or
 * rename-over, because it watches the **directory** and compares the content it reads through
 * the path. Resolves once the watch is in place; rejects with `ERR_TOKEN_FILE` when the
 * directory cannot be watched. The token is never logged; `onChange` is the only place it goes.
 *
 * @param path - the token file, e.g. `/var/run/secrets/eks.amazonaws.com/serviceaccount/token`
 * @param onChange - called with the new token (trailing whitespace trimmed)
 * @param options - debounce, polling and seams
 * @example
 * ```ts
 * using watcher = await watchToken(path, (token) => {
 *   console.log('rotated, expires', inspectToken(token).expiresAt)
 * })
 * ```
 */
export async function watchToken(
  path: string,
  onChange: (token: string) => void | Promise<void>,
  options: WatchTokenOptions = {},
): Promise<TokenWatcher> {
  if (typeof path !== 'string' || path === '') throw new TypeError('path must be a non-empty string')
  if (typeof onChange !== 'function') throw new TypeError('onChange must be a function')
  validateMilliseconds('debounceMs', options.debounceMs)
  validateMilliseconds('pollIntervalMs', options.pollIntervalMs)
  validateClock('clock', options.clock)
  validateFunction('onError', options.onError)
  // Checked now, as readToken would: otherwise a bad value is swallowed by the first read and then
  // reported through onError on every event, and the watch never sees a token.
  validateInteger('maxBytes', options.maxBytes, 1, 2 ** 30)
  validateFunction('readFile', options.readFile)
  if (options.keepAlive !== undefined && typeof options.keepAlive !== 'boolean') {
    throw new TypeError('keepAlive must be a boolean')
  }
  const clock = options.clock ?? systemClock
  const debounceMs = options.debounceMs ?? DEFAULT_WATCH_DEBOUNCE_MS
  const pollIntervalMs = options.pollIntervalMs ?? DEFAULT_WATCH_POLL_INTERVAL_MS
  const readOptions = {
    ...(options.readFile === undefined ? {} : { readFile: options.readFile }),
    ...(options.maxBytes === undefined ? {} : { maxBytes: options.maxBytes }),
  }
  const report = (error: unknown): void => {
    try {
      options.onError?.(error)
    } catch {
      // An onError that throws has nowhere left to report to.
    }
  }

  let current: string | undefined
  try {
    current = await readToken(path, readOptions)
  } catch {
    // No token yet (the volume is being set up): the first one that appears is a change.
  }

  let closed = false
  let debounce: TimerHandle | undefined
  let poll: TimerHandle | undefined
  let checking = false
  let again = false

  // Serialized: an event during a read re-runs the check after it, never in parallel, so two
  // reads can never report the same change twice or out of order.
  const check = async (): Promise<void> => {
    if (checking) {
      again = true
      return
    }
    checking = true
    try {
      do {
        again = false
        let next: string
        try {
          next = await readToken(path, readOptions)
        } catch (error) {
          // Mid-swap reads can fail; the next event or poll tries again.
          if (!closed) report(error)
          continue
        }
        if (closed || next === current) continue
        current = next
        try {
          await onChange(next)
        } catch (error) {
          report(error)
        }
      } while (again && !closed)
    } finally {
      checking = false
    }
  }

  const schedule = (): void => {
    if (closed) return
    if (debounce !== undefined) clock.clearTimeout(debounce)
    debounce = clock.setTimeout(
      () => {
        debounce = undefined
        void check()
      },
      debounceMs,
      { keepAlive: options.keepAlive === true },
    )
  }

  const schedulePoll = (): void => {
    if (closed || pollIntervalMs === 0) return
    poll = clock.setTimeout(
      () => {
        void check().finally(schedulePoll)
      },
      pollIntervalMs,
      { keepAlive: options.keepAlive === true },
    )
  }

  const directory = dirname(path)
  let watcher: FSWatcher
  try {
    watcher = watch(directory, { persistent: options.keepAlive === true })
  } catch (error) {
    const code = (error as NodeJS.ErrnoException | undefined)?.code
    throw new CredentialsError(`cannot watch ${directory} for ${basename(path)}: ${code ?? 'watch failed'}`, {
      code: 'ERR_TOKEN_FILE',
      cause: error,
    })
  }
  // Any event in the directory may be the swap (`..data`), a rewrite or a rename-over of the file:
  // all are cheap to check, and the content comparison decides.
  watcher.on('change', schedule)
  watcher.on('error', (error) => {
    report(
      new CredentialsError(
        `watching ${directory} failed: ${(error as NodeJS.ErrnoException).code ?? error.message}`,
        {
          code: 'ERR_TOKEN_FILE',
          cause: error,
        },
      ),
    )
  })
  schedulePoll()

  const close = (): void => {
    if (closed) return
    closed = true
    watcher.close()
    if (debounce !== undefined) clock.clearTimeout(debounce)
    if (poll !== undefined) clock.clearTimeout(poll)
    debounce = undefined
    poll = undefined
  }
  return { close, [Symbol.dispose]: close }
}
