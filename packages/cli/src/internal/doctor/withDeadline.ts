/** What {@link withDeadline} resolves to: the value, or that the deadline passed first. */
export type Bounded<T> = { done: true; value: T } | { done: false }

/**
 * Races `work` against a deadline of `ms` milliseconds, so no doctor probe can hang the command
 * (issue #21, "doctor never hangs on a probe"). The timer is ref'd while it runs: a probe whose
 * sockets are all unref'd would otherwise let Node exit with the promise unsettled (exit code 13)
 * instead of reporting it. It is cleared as soon as `work` settles. A rejection of `work` passes
 * through.
 */
export async function withDeadline<T>(work: Promise<T>, ms: number): Promise<Bounded<T>> {
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<Bounded<T>>((resolve) => {
    timer = setTimeout(() => resolve({ done: false }), ms)
  })
  try {
    return await Promise.race([work.then((value): Bounded<T> => ({ done: true, value })), deadline])
  } finally {
    clearTimeout(timer)
  }
}
