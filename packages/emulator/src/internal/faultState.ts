import type { EmulatorFaults, FaultSettings, FaultSpec } from '../Faults.js'

export type Target = keyof FaultSettings
const TARGETS: readonly Target[] = ['agent', 'sts', 'aws', 'imds']
const KEYS = new Set(['latencyMs', 'status', 'code', 'rate', 'down', 'throttle', 'sameCredentials', 'skewMs'])

/** The switchboard plus the read side the servers use. */
export interface FaultState extends EmulatorFaults {
  get(target: Target): Readonly<FaultSpec>
}

export function createFaultState(): FaultState {
  const specs: Record<Target, FaultSpec> = { agent: {}, sts: {}, aws: {}, imds: {} }
  return {
    set(settings: FaultSettings): void {
      if (typeof settings !== 'object' || settings === null) throw new TypeError('faults must be an object')
      const next: Partial<Record<Target, FaultSpec>> = {}
      for (const [target, spec] of Object.entries(settings)) {
        if (!TARGETS.includes(target as Target)) {
          throw new TypeError(`faults.${target} is not an endpoint; use agent, sts, aws or imds`)
        }
        if (spec === undefined) continue
        next[target as Target] = validateSpec(target as Target, spec)
      }
      // Validate everything before changing anything: a bad setting leaves the faults as they were.
      Object.assign(specs, next)
    },
    clear(target?: Target): void {
      if (target !== undefined && !TARGETS.includes(target)) {
        throw new TypeError(
          `faults.clear(target): ${String(target)} is not an endpoint; use agent, sts, aws or imds`,
        )
      }
      for (const name of target === undefined ? TARGETS : [target]) specs[name] = {}
    },
    current(): FaultSettings {
      return {
        agent: { ...specs.agent },
        sts: { ...specs.sts },
        aws: { ...specs.aws },
        imds: { ...specs.imds },
      }
    },
    get: (target) => specs[target],
  }
}

function validateSpec(target: Target, value: unknown): FaultSpec {
  const name = `faults.${target}`
  if (typeof value !== 'object' || value === null) throw new TypeError(`${name} must be an object`)
  const spec = value as Record<string, unknown>
  for (const key of Object.keys(spec)) {
    if (!KEYS.has(key)) throw new TypeError(`${name}.${key} is not a fault`)
  }
  const number = (key: string, min: number, max: number, integer = false): void => {
    const v = spec[key]
    if (v === undefined) return
    if (
      typeof v !== 'number' ||
      !Number.isFinite(v) ||
      v < min ||
      v > max ||
      (integer && !Number.isInteger(v))
    ) {
      throw new TypeError(`${name}.${key} must be ${integer ? 'an integer' : 'a number'} in [${min}, ${max}]`)
    }
  }
  number('latencyMs', 0, 600_000)
  number('status', 400, 599, true)
  number('rate', 0, 1)
  number('skewMs', -Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER)
  if (spec.code !== undefined && (typeof spec.code !== 'string' || !/^[A-Za-z.]{1,64}$/.test(spec.code))) {
    throw new TypeError(`${name}.code must be an error code such as IDPCommunicationError`)
  }
  if (spec.rate !== undefined && spec.status === undefined) throw new TypeError(`${name}.rate needs a status`)
  if (spec.code !== undefined && spec.status === undefined) throw new TypeError(`${name}.code needs a status`)
  const { down, throttle } = spec
  if (down !== undefined && typeof down !== 'boolean') {
    const window = down as { from?: unknown; until?: unknown }
    if (
      typeof down !== 'object' ||
      down === null ||
      typeof window.until !== 'number' ||
      (window.from !== undefined && typeof window.from !== 'number')
    ) {
      throw new TypeError(`${name}.down must be a boolean or { from?, until } in epoch milliseconds`)
    }
  }
  if (throttle !== undefined && typeof throttle !== 'boolean') number('throttle', 0, 1)
  if (spec.sameCredentials !== undefined) {
    if (typeof spec.sameCredentials !== 'boolean')
      throw new TypeError(`${name}.sameCredentials must be a boolean`)
    if (target !== 'agent') throw new TypeError(`${name}.sameCredentials applies to the agent only`)
  }
  return { ...(spec as FaultSpec) }
}

/** Whether the endpoint is in an outage at `now`. */
export function isDown(spec: FaultSpec, now: number): boolean {
  const { down } = spec
  if (down === undefined || down === false) return false
  if (down === true) return true
  return now >= (down.from ?? Number.NEGATIVE_INFINITY) && now < down.until
}

/** Draws against a fraction (`true` = 1). */
export function hit(fraction: boolean | number | undefined, random: () => number): boolean {
  if (fraction === undefined || fraction === false) return false
  if (fraction === true) return true
  return fraction >= 1 || random() < fraction
}
