// Shared helpers of the benchmark scripts: arguments, statistics, seeded randomness, child
// processes, and the result protocol between a scenario and run.mjs.
import { spawn } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { cpus } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'

export const BENCH_DIR = join(dirname(fileURLToPath(import.meta.url)), '..')
export const OUT_DIR = join(BENCH_DIR, '.out')

/** `--quick`, `--json <file>`, `--worker <name>` and free-form `--opt k=v` of a scenario script. */
export function scenarioArgs() {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      json: { type: 'string' },
      worker: { type: 'string' },
      opt: { type: 'string', multiple: true, default: [] },
    },
    strict: false,
  })
  const opts = {}
  for (const kv of values.opt) {
    const i = kv.indexOf('=')
    opts[kv.slice(0, i)] = kv.slice(i + 1)
  }
  return { quick: values.quick === true, json: values.json, worker: values.worker, opts }
}

/** Writes a scenario's (or a worker's) result where the parent asked for it. */
export function emit(jsonPath, result) {
  const text = JSON.stringify(result, null, 2)
  if (jsonPath) {
    mkdirSync(dirname(jsonPath), { recursive: true })
    writeFileSync(jsonPath, text)
  } else {
    console.log(text)
  }
}

let childSeq = 0

/**
 * Runs `node [execArgv] script --json <tmp> ...args` and returns the parsed JSON it wrote.
 * Throws (with the child's stderr) when the child exits non-zero.
 */
export async function runNode(
  script,
  args = [],
  { env, execArgv = [], timeoutMs = 240_000, cwd, node = process.execPath } = {},
) {
  mkdirSync(OUT_DIR, { recursive: true })
  const jsonPath = join(OUT_DIR, `child-${process.pid}-${childSeq++}.json`)
  const child = spawn(node, [...execArgv, script, '--json', jsonPath, ...args], {
    env: env ?? process.env,
    cwd: cwd ?? BENCH_DIR,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stderr = ''
  let stdout = ''
  child.stderr.on('data', (d) => {
    stderr += d
  })
  child.stdout.on('data', (d) => {
    stdout += d
  })
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
  const code = await new Promise((resolve) => child.on('close', (c, signal) => resolve(c ?? signal)))
  clearTimeout(timer)
  if (code !== 0) {
    throw new Error(
      `${script} ${args.join(' ')} exited with ${code}\n${stderr.slice(-4000)}${stdout.slice(-2000)}`,
    )
  }
  return JSON.parse(readFileSync(jsonPath, 'utf8'))
}

/** A small, fast, seedable PRNG (mulberry32) returning [0, 1). */
export function seededRandom(seed) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export function percentile(sorted, p) {
  if (sorted.length === 0) return Number.NaN
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[i]
}

export function median(values) {
  return percentile(
    [...values].sort((a, b) => a - b),
    50,
  )
}

export function sum(values) {
  let s = 0
  for (const v of values) s += v
  return s
}

/** Formats a number for the table: integers as is, small numbers with 2–3 significant digits. */
export function fmt(value, unit = '') {
  if (value === null || value === undefined) return 'n/a'
  if (typeof value === 'string') return value
  if (!Number.isFinite(value)) return String(value)
  const abs = Math.abs(value)
  let text
  if (abs >= 1000 || Number.isInteger(value)) text = Math.round(value).toLocaleString('en-US')
  else if (abs >= 100) text = value.toFixed(0)
  else if (abs >= 10) text = value.toFixed(1)
  else if (abs >= 1) text = value.toFixed(2)
  else if (abs === 0) text = '0'
  else text = value.toPrecision(2)
  return unit ? `${text} ${unit}` : text
}

export function ratio(ours, sdk) {
  if (
    typeof ours !== 'number' ||
    typeof sdk !== 'number' ||
    !Number.isFinite(ours) ||
    !Number.isFinite(sdk)
  ) {
    return null
  }
  if (sdk === 0) return ours === 0 ? 1 : Number.POSITIVE_INFINITY
  return ours / sdk
}

/** One table row: `ours`/`sdk` are numbers (formatted with `unit`) or strings. */
export function row(
  scenario,
  figure,
  { ours, sdk, unit = '', goal = '', met = null, note = '', ratio: r } = {},
) {
  return {
    scenario,
    figure,
    ours: typeof ours === 'number' ? fmt(ours, unit) : (ours ?? 'n/a'),
    sdk: typeof sdk === 'number' ? fmt(sdk, unit) : (sdk ?? 'n/a'),
    ratio: r !== undefined ? r : ratio(ours, sdk),
    goal,
    met,
    note,
    raw: { ours: typeof ours === 'number' ? ours : null, sdk: typeof sdk === 'number' ? sdk : null },
  }
}

export function machine() {
  const list = cpus()
  return {
    cores: list.length,
    cpu: list[0]?.model?.trim() ?? 'unknown',
    node: process.version,
    date: new Date().toISOString(),
  }
}

/** `import()` that returns null (with the reason) instead of throwing. */
export async function tryImport(specifier) {
  try {
    return { mod: await import(specifier), error: null }
  } catch (error) {
    return { mod: null, error: String(error?.message ?? error).split('\n')[0] }
  }
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
