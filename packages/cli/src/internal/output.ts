import type { Env } from '@podcreds/core'

/** Where a command writes, and what it knows of the terminal. */
export interface Io {
  readonly env: Env
  readonly stdout: NodeJS.WritableStream
  readonly stderr: NodeJS.WritableStream
  readonly stdin: NodeJS.ReadableStream
  /** Colour only on a TTY, and never with NO_COLOR set (https://no-color.org). */
  readonly color: boolean
}

export interface Style {
  bold(text: string): string
  dim(text: string): string
  green(text: string): string
  yellow(text: string): string
  red(text: string): string
}

const wrap =
  (open: number, close: number, on: boolean) =>
  (text: string): string =>
    on ? `\u001b[${open}m${text}\u001b[${close}m` : text

export function style(io: Io): Style {
  return {
    bold: wrap(1, 22, io.color),
    dim: wrap(2, 22, io.color),
    green: wrap(32, 39, io.color),
    yellow: wrap(33, 39, io.color),
    red: wrap(31, 39, io.color),
  }
}

export function line(stream: NodeJS.WritableStream, text = ''): void {
  stream.write(`${text}\n`)
}

export function printJson(io: Io, value: unknown): void {
  line(io.stdout, JSON.stringify(value, null, 2))
}

/** A two-column list of `label  value` lines, labels padded to one width. */
export function pairs(rows: readonly (readonly [string, string])[], indent = '  '): string {
  const width = Math.max(0, ...rows.map(([label]) => label.length))
  return rows.map(([label, value]) => `${indent}${label.padEnd(width)}  ${value}`).join('\n')
}

/** "in 54 min", "3 h 2 min ago": durations as people read them. */
export function relative(ms: number): string {
  const abs = Math.abs(ms)
  const minutes = Math.round(abs / 60_000)
  let text: string
  if (abs < 60_000) text = `${Math.round(abs / 1000)} s`
  else if (minutes < 120) text = `${minutes} min`
  else text = `${Math.floor(minutes / 60)} h ${minutes % 60} min`
  return ms >= 0 ? `in ${text}` : `${text} ago`
}

/** A user error: bad arguments. Printed as one line, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError'
}
