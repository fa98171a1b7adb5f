import type { KubernetesClaims, TokenClaims, TokenHeader } from '../TokenClaims.js'
import { invalidToken } from './invalidToken.js'

type Json = Record<string, unknown>

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function optionalString(object: Json, key: string, where: string): void {
  const value = object[key]
  if (value !== undefined && typeof value !== 'string') {
    throw invalidToken(`${where}"${key}" must be a string, got ${kind(value)}`)
  }
}

function optionalNumericDate(object: Json, key: string): void {
  const value = object[key]
  if (value !== undefined && (typeof value !== 'number' || !Number.isFinite(value))) {
    throw invalidToken(`claim "${key}" must be a number of seconds, got ${kind(value)}`)
  }
}

/** The JSON type of a value, for messages; never the value itself. */
export function kind(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  return typeof value
}

function objectRef(parent: Json, key: string, required: boolean): void {
  const value = parent[key]
  if (value === undefined && !required) return
  if (!isObject(value)) {
    throw invalidToken(`claim "kubernetes.io.${key}" must be an object, got ${kind(value)}`)
  }
  for (const field of ['name', 'uid']) {
    if (typeof value[field] !== 'string') {
      throw invalidToken(`claim "kubernetes.io.${key}.${field}" must be a string, got ${kind(value[field])}`)
    }
  }
}

function kubernetesClaims(value: unknown): asserts value is KubernetesClaims {
  if (!isObject(value)) throw invalidToken(`claim "kubernetes.io" must be an object, got ${kind(value)}`)
  if (typeof value.namespace !== 'string') {
    throw invalidToken(`claim "kubernetes.io.namespace" must be a string, got ${kind(value.namespace)}`)
  }
  objectRef(value, 'serviceaccount', true)
  objectRef(value, 'pod', false)
  objectRef(value, 'node', false)
  objectRef(value, 'secret', false)
  const warnafter = value.warnafter
  if (warnafter !== undefined && (typeof warnafter !== 'number' || !Number.isFinite(warnafter))) {
    throw invalidToken(`claim "kubernetes.io.warnafter" must be a number of seconds, got ${kind(warnafter)}`)
  }
}

/** Checks the registered claims' types (RFC 7519 §4.1) and the `kubernetes.io` claim. */
export function validateClaims(claims: Json): asserts claims is TokenClaims {
  optionalString(claims, 'iss', 'claim ')
  optionalString(claims, 'sub', 'claim ')
  optionalString(claims, 'jti', 'claim ')
  const aud = claims.aud
  if (
    aud !== undefined &&
    typeof aud !== 'string' &&
    !(Array.isArray(aud) && aud.every((entry) => typeof entry === 'string'))
  ) {
    throw invalidToken(`claim "aud" must be a string or an array of strings, got ${kind(aud)}`)
  }
  optionalNumericDate(claims, 'exp')
  optionalNumericDate(claims, 'iat')
  optionalNumericDate(claims, 'nbf')
  if (claims['kubernetes.io'] !== undefined) kubernetesClaims(claims['kubernetes.io'])
}

/** Checks the header: `alg` is a string (RFC 7515 §4.1.1 makes it required), `kid`/`typ` strings. */
export function validateHeader(header: Json): asserts header is TokenHeader {
  if (typeof header.alg !== 'string' || header.alg === '') {
    throw invalidToken(`header "alg" must be a non-empty string, got ${kind(header.alg)}`)
  }
  optionalString(header, 'kid', 'header ')
  optionalString(header, 'typ', 'header ')
}
