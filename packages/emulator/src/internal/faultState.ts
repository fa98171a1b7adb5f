import type { EmulatorFaults, FaultSettings, FaultSpec } from '../Faults.js'
import type { EntraFaults } from '../startEntraEndpoint.js'

/** The endpoints the emulator's own servers serve (the Entra endpoint keeps its faults itself). */
export type Target = Exclude<keyof FaultSettings, 'entra'>
const TARGETS: readonly (keyof FaultSettings)[] = ['agent', 'sts', 'aws', 'imds', 'entra']
const NAMES = 'agent, sts, aws, imds or entra'
const KEYS = new Set(['latencyMs', 'status', 'code', 'rate', 'down', 'throttle', 'sameCredentials', 'skewMs'])

/** The switchboard plus the read side the servers use. */
export interface FaultState extends EmulatorFaults {
  get(target: Target): Readonly<FaultSpec>
  /** Hands the `entra` target to the Entra endpoint's own switchboard, once it runs. */
  attachEntra(entra: EntraFaults): void
}

export function createFaultState(): FaultState {
  const specs: Record<Target, FaultSpec> = { agent: {}, sts: {}, aws: {}, imds: {} }
  let entra: EntraFaults | undefined
  return {
    set(settings: FaultSettings): void {
      if (typeof settings !== 'object' || settings === null) throw new TypeError('faults must be an object')
      const next: Partial<Record<keyof FaultSettings, FaultSpec>> = {}
      for (const [target, spec] of Object.entries(settings)) {
        if (!TARGETS.includes(target as keyof FaultSettings)) {
          throw new TypeError(`faults.${target} is not an endpoint; use ${NAMES}`)
        }
        if (spec === undefined) continue
        next[target as keyof FaultSettings] = validateSpec(target as keyof FaultSettings, spec)
      }
      // Validate everything before changing anything: a bad setting leaves the faults as they were.
      const { entra: entraSpec, ...own } = next
      Object.assign(specs, own)
      if (entraSpec !== undefined) entra?.set(entraSpec)
    },
    clear(target?: keyof FaultSettings): void {
      if (target !== undefined && !TARGETS.includes(target)) {
        throw new TypeError(`faults.clear(target): ${String(target)} is not an endpoint; use ${NAMES}`)
      }
      for (const name of target === undefined ? TARGETS : [target]) {
        if (name === 'entra') entra?.clear()
        else specs[name] = {}
      }
    },
    current(): FaultSettings {
      return {
        agent: { ...specs.agent },
        sts: { ...specs.sts },
        aws: { ...specs.aws },
        imds: { ...specs.imds },
        entra: entra?.current() ?? {},
      }
    },
    get: (target) => specs[target],
    attachEntra: (faults) => {
      entra = faults
    },
  }
}

/**
 * Checks one endpoint's faults; a bad value throws a `TypeError` naming it (`faults.entra.rate`).
 * The Entra endpoint knows `down`, `latencyMs`, `throttle` and `status`/`rate` only: it issues no
 * credentials (`sameCredentials`), has no error codes of the STS kind (`code`) and no signed dates
 * to skew (`skewMs`).
 */
export function validateSpec(target: keyof FaultSettings, value: unknown): FaultSpec {
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
  if (target === 'entra') {
    for (const key of ['code', 'skewMs', 'sameCredentials']) {
      if (spec[key] !== undefined) throw new TypeError(`${name}.${key} does not apply to the Entra endpoint`)
    }
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
