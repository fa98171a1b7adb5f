// Test support, shared by every package's tests and the hardening suite (import it by relative
// path; it is not a package): the leak check. Every bad-input test shows that no canary secret
// reaches any form in which an error or value gets printed (brief: message, stack, util.inspect,
// JSON.stringify), nor any error in its cause chain.
import { Console } from 'node:console'
import { PassThrough } from 'node:stream'
import { inspect } from 'node:util'
import { expect } from 'vitest'

/** What `console.log(...args)` prints, through a private `Console` (no global patching). */
export function consoleLog(...args: unknown[]): string {
  const stream = new PassThrough()
  const chunks: Buffer[] = []
  stream.on('data', (chunk: Buffer) => chunks.push(chunk))
  new Console({ stdout: stream, stderr: stream, colorMode: false }).log(...args)
  return Buffer.concat(chunks).toString('utf8')
}

/**
 * Every printed form of `value` and of each error in its `cause` chain: `util.inspect` (depth 10,
 * hidden properties too), `console.log`, `JSON.stringify`, `String()`, and an error's message and
 * stack.
 */
export function printedForms(value: unknown): string[] {
  const forms: string[] = []
  let current: unknown = value
  for (let depth = 0; current !== undefined && current !== null && depth < 8; depth++) {
    forms.push(inspect(current, { depth: 10, showHidden: true }), consoleLog(current))
    if (current instanceof Error) forms.push(current.message, String(current.stack))
    try {
      forms.push(JSON.stringify(current) ?? '', String(current))
    } catch {
      // A circular or BigInt value, or one without toString(): inspect covered it.
    }
    current = (current as { cause?: unknown }).cause
  }
  return forms
}

/** Fails when any of `secrets` appears in any printed form of `value` (see {@link printedForms}). */
export function assertNoSecret(value: unknown, secrets: readonly string[]): void {
  for (const form of printedForms(value)) {
    for (const secret of secrets)
      expect(form, `a secret leaked in: ${form.slice(0, 400)}`).not.toContain(secret)
  }
}
