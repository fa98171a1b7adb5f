import type { AwsCredentialIdentity, DescribableProvider, Env, SourceDescription } from '@podcreds/core'
import { CredentialsError, isCredentialsError, scrub } from '@podcreds/core'
import type { AssumeRoleSource } from '@podcreds/sts'
import { mayTryNextLink, reasonOf } from './linkErrors.js'
import { selectedProfile } from './selectedProfile.js'
import { profileFiles } from './sharedProfiles.js'
import { loadWebIdentity } from './webIdentityLink.js'

// Issue 19: a selected profile that chains roles (role_arn with source_profile, credential_source
// or web_identity_token_file) resolves here, natively, with fromAssumeRole / fromWebIdentity; its
// root, when it is SSO, credential_process or another kind the SDK knows, comes from the SDK
// fallback's own providers. Any other profile is left to the `sdk` link (ERR_NOT_CONFIGURED).
// The files are read with the AWS SDK's loader (@smithy/shared-ini-file-loader), on every call,
// as the SDK reads them with ignoreCache.

/** One parsed profile: its keys as the shared files give them (credentials file wins). */
type Profile = Readonly<Record<string, string | undefined>>

/** What the link needs from the rest of the chain: the pod sources a `credential_source` names. */
export interface ProfileLinkOptions {
  env: Env | undefined
  profile: string | undefined
  /** `credential_source = Environment`. */
  environment: DescribableProvider<AwsCredentialIdentity>
  /** `credential_source = EcsContainer`. */
  container: DescribableProvider<AwsCredentialIdentity>
  /** `credential_source = Ec2InstanceMetadata`: the chain's imds link (off inside Kubernetes unless allowed). */
  instanceMetadata: DescribableProvider<AwsCredentialIdentity>
  /** The SDK fallback's providers for a root profile (SSO, credential_process, …), or why there are none. */
  sdkRoot: (profile: string) => Promise<(() => Promise<AwsCredentialIdentity>) | string>
}

/** `credential_source` values the AWS SDKs accept (botocore and the JS SDK's resolveCredentialSource). */
const CREDENTIAL_SOURCES = ['EcsContainer', 'Environment', 'Ec2InstanceMetadata'] as const

/** How one profile of the chain gets its credentials, for `describe()` and the provider. */
type Hop =
  | { kind: 'assume'; profile: string; roleArn: string; data: Profile }
  | { kind: 'web-identity'; profile: string; roleArn: string; tokenFile: string; data: Profile }
  | { kind: 'static'; profile: string }
  | { kind: 'source'; profile: string; source: (typeof CREDENTIAL_SOURCES)[number] }
  | { kind: 'sdk'; profile: string }

type IniLoader = typeof import('@smithy/shared-ini-file-loader')
let loader: Promise<IniLoader> | undefined

/** What a role-chaining profile needs: STS's validators and fromAssumeRole, and fromWebIdentity. */
interface RoleModules {
  sts: typeof import('@podcreds/sts')
  webIdentity: typeof import('@podcreds/web-identity')
}
let roleModules: Promise<RoleModules> | undefined

/** Loaded when a selected profile chains roles, never at import (issue 20: import time). */
function loadRoleModules(): Promise<RoleModules> {
  roleModules ??= Promise.all([import('@podcreds/sts'), loadWebIdentity()]).then(([sts, webIdentity]) => ({
    sts,
    webIdentity,
  }))
  roleModules.catch(() => {
    roleModules = undefined
  })
  return roleModules
}

/** The `profile` link of the default chain. */
export function profileLink(options: ProfileLinkOptions): DescribableProvider<AwsCredentialIdentity> {
  const envNow = (): Env => options.env ?? process.env

  /** The profiles of both files, and the files; ERR_INVALID_CONFIG when one cannot be read or parsed. */
  const load = async (name: string): Promise<{ profiles: Record<string, Profile>; where: string }> => {
    const files = profileFiles(envNow())
    const { readFile } = await import('node:fs/promises')
    const texts: Record<string, string | undefined> = {}
    for (const file of [files.config, files.credentials]) {
      try {
        texts[file] = await readFile(file, 'utf8')
      } catch (error) {
        const code = (error as { code?: unknown }).code
        if (code === 'ENOENT') continue
        throw new CredentialsError(
          `profile: profile ${name}: the shared file ${file} cannot be read (${typeof code === 'string' ? code : 'error'})`,
          { code: 'ERR_INVALID_CONFIG' },
        )
      }
    }
    loader ??= import('@smithy/shared-ini-file-loader')
    loader.catch(() => {
      loader = undefined
    })
    const { loadSharedConfigFiles } = await loader
    const parsed = await loadSharedConfigFiles({
      filepath: files.credentials,
      configFilepath: files.config,
      ignoreCache: true,
    })
    // The loader answers {} for a file its parser rejects: a file with a section it would keep
    // that parsed to nothing is malformed, and the user must hear so (issue 19, "Bad input"). It
    // answers {} too for a file with no such section (an empty [default], the AWS CLI's
    // [plugins]): that file is not malformed, and the SDK reads the other one.
    for (const [file, result, isConfig] of [
      [files.config, parsed.configFile, true],
      [files.credentials, parsed.credentialsFile, false],
    ] as const) {
      const text = texts[file]
      if (text !== undefined && holdsProfileKeys(text, isConfig) && Object.keys(result).length === 0) {
        throw new CredentialsError(
          `profile: profile ${name}: the shared file ${file} is malformed (the AWS SDK's parser rejects it)`,
          { code: 'ERR_INVALID_CONFIG' },
        )
      }
    }
    const profiles: Record<string, Profile> = {}
    for (const source of [parsed.configFile, parsed.credentialsFile]) {
      for (const [key, values] of Object.entries(source)) profiles[key] = { ...profiles[key], ...values }
    }
    const where = [files.config, files.credentials].filter((file) => texts[file] !== undefined).join(', ')
    return {
      profiles,
      where: where === '' ? `${files.config}, ${files.credentials} (neither exists)` : where,
    }
  }

  /** The hops from the selected profile down to its root; checks every value (ERR_INVALID_CONFIG). */
  const plan = (name: string, profiles: Record<string, Profile>, sts: RoleModules['sts']): Hop[] => {
    const hops: Hop[] = []
    const visited: string[] = []
    let current = name
    for (;;) {
      const data = profiles[current]
      if (data === undefined) {
        throw new CredentialsError(
          `profile: profile ${visited.at(-1) ?? name} names source_profile ${current}, which no shared file defines`,
          { code: 'ERR_INVALID_CONFIG' },
        )
      }
      if (visited.includes(current)) {
        throw new CredentialsError(
          `profile: profile ${name}: source_profile cycle ${[...visited, current].join(' → ')}`,
          { code: 'ERR_INVALID_CONFIG' },
        )
      }
      visited.push(current)
      const roleArn = data.role_arn
      if (roleArn === undefined) {
        // A root: static keys natively (the loader has them), anything else through the SDK.
        hops.push(
          hasStaticKeys(data) ? { kind: 'static', profile: current } : { kind: 'sdk', profile: current },
        )
        return hops
      }
      checkProfile(current, data, sts)
      if (data.web_identity_token_file !== undefined) {
        hops.push({
          kind: 'web-identity',
          profile: current,
          roleArn,
          tokenFile: data.web_identity_token_file,
          data,
        })
        return hops
      }
      hops.push({ kind: 'assume', profile: current, roleArn, data })
      if (data.credential_source !== undefined) {
        hops.push({
          kind: 'source',
          profile: current,
          source: data.credential_source as (typeof CREDENTIAL_SOURCES)[number],
        })
        return hops
      }
      const next = data.source_profile as string
      // `source_profile` naming the profile itself: its own static keys are the root (botocore
      // and the JS SDK allow this one self-reference).
      if (next === current) {
        if (!hasStaticKeys(data)) {
          throw new CredentialsError(
            `profile: profile ${name}: source_profile ${current} names itself but has no aws_access_key_id/aws_secret_access_key`,
            { code: 'ERR_INVALID_CONFIG' },
          )
        }
        hops.push({ kind: 'static', profile: current })
        return hops
      }
      current = next
    }
  }

  /** The provider of the whole chain of hops, built from the root up. */
  const build = (
    hops: Hop[],
    profiles: Record<string, Profile>,
    modules: RoleModules,
  ): (() => Promise<AwsCredentialIdentity>) => {
    const root = hops.at(-1) as Hop
    let provider: AssumeRoleSource
    switch (root.kind) {
      case 'static': {
        const data = profiles[root.profile] as Profile
        const credentials: AwsCredentialIdentity = {
          accessKeyId: data.aws_access_key_id as string,
          secretAccessKey: data.aws_secret_access_key as string,
          ...(data.aws_session_token === undefined ? {} : { sessionToken: data.aws_session_token }),
        }
        provider = async () => credentials
        break
      }
      case 'sdk':
        provider = async () => {
          const sdk = await options.sdkRoot(root.profile)
          if (typeof sdk === 'string') {
            throw new CredentialsError(
              `profile ${root.profile} (the root of the chain) is not a role-chaining profile and ${sdk}`,
              { code: 'ERR_INVALID_CONFIG' },
            )
          }
          return await sdk()
        }
        break
      case 'source':
        provider =
          root.source === 'Environment'
            ? options.environment
            : root.source === 'EcsContainer'
              ? options.container
              : options.instanceMetadata
        break
      case 'web-identity':
        provider = webIdentityHop(root, modules.webIdentity)
        break
      default:
        throw new Error('unreachable: a chain ends in a root')
    }
    // The hops above the root, from the bottom up: each assumes its role with the one below.
    for (const hop of hops.slice(0, -1).reverse()) {
      if (hop.kind !== 'assume') continue
      provider = modules.sts.fromAssumeRole({
        source: provider,
        roleArn: hop.roleArn,
        ...sessionOptions(hop.data),
        ...(options.env === undefined ? {} : { env: options.env }),
      })
    }
    return provider
  }

  const webIdentityHop = (
    hop: Extract<Hop, { kind: 'web-identity' }>,
    webIdentity: RoleModules['webIdentity'],
  ): AssumeRoleSource =>
    webIdentity.fromWebIdentity({
      roleArn: hop.roleArn,
      tokenFile: hop.tokenFile,
      ...(hop.data.role_session_name === undefined ? {} : { roleSessionName: hop.data.role_session_name }),
      ...(hop.data.duration_seconds === undefined
        ? {}
        : { durationSeconds: Number(hop.data.duration_seconds) }),
      ...(hop.data.region === undefined ? {} : { region: hop.data.region }),
      ...(options.env === undefined ? {} : { env: options.env }),
    })

  /** The selected profile and its hops, or why the link does not apply (ERR_NOT_CONFIGURED). */
  const resolve = async (): Promise<{
    name: string
    where: string
    hops: Hop[]
    profiles: Record<string, Profile>
    modules: RoleModules
  }> => {
    const selected = selectedProfile(options.profile, envNow())
    if (selected === undefined) {
      throw new CredentialsError(
        'profile: no profile selected (AWS_PROFILE or the profile option); the default profile is left to the sdk link',
        { code: 'ERR_NOT_CONFIGURED' },
      )
    }
    const { profiles, where } = await load(selected.name)
    const data = profiles[selected.name]
    if (data === undefined) {
      throw new CredentialsError(
        `profile: profile ${selected.name} (${selected.origin}) is in no shared config file (${where})`,
        { code: 'ERR_NOT_CONFIGURED' },
      )
    }
    if (data.role_arn === undefined) {
      throw new CredentialsError(
        `profile: profile ${selected.name} does not chain roles (no role_arn): left to the sdk link`,
        { code: 'ERR_NOT_CONFIGURED' },
      )
    }
    const modules = await loadRoleModules()
    return { name: selected.name, where, hops: plan(selected.name, profiles, modules.sts), profiles, modules }
  }

  const provider = async (): Promise<AwsCredentialIdentity> => {
    const { name, hops, profiles, modules } = await resolve()
    const chained = build(hops, profiles, modules)
    try {
      return await chained()
    } catch (error) {
      // The selected profile is configured: a source that says "not here" must not let the chain
      // move on to another identity (issue 17: never a silent switch).
      if (mayTryNextLink(error)) {
        throw new CredentialsError(`profile: profile ${name}: ${reasonOf(error)}`, {
          code: 'ERR_INVALID_CONFIG',
          cause: error,
        })
      }
      if (isCredentialsError(error) && !error.message.includes(`profile ${name}`)) {
        throw new CredentialsError(`profile: profile ${name}: ${scrub(error.message, [], 400)}`, {
          code: error.code,
          retryable: error.retryable,
          ...(error.status === undefined ? {} : { status: error.status }),
          ...(error.stsCode === undefined ? {} : { stsCode: error.stsCode }),
          cause: error,
        })
      }
      throw error
    }
  }

  const describe = async (): Promise<SourceDescription> => {
    let resolved: Awaited<ReturnType<typeof resolve>>
    try {
      resolved = await resolve()
    } catch (error) {
      if (isCredentialsError(error) && error.code === 'ERR_NOT_CONFIGURED') {
        return { configured: false, reason: error.message.replace(/^profile: /, ''), details: {} }
      }
      throw error
    }
    const { name, where, hops } = resolved
    const roles = hops
      .filter((hop): hop is Extract<Hop, { roleArn: string }> => 'roleArn' in hop)
      .reverse()
      .map((hop) => hop.roleArn)
    const root = hops.at(-1) as Hop
    const rootText =
      root.kind === 'static'
        ? `static keys of profile ${root.profile}`
        : root.kind === 'source'
          ? `credential_source ${root.source}`
          : root.kind === 'web-identity'
            ? `web identity token ${root.tokenFile}`
            : `profile ${root.profile} through the AWS SDK's providers (SSO, credential_process, …)`
    return {
      configured: true,
      reason: `profile ${name} chains roles: ${rootText} → ${roles.join(' → ')}`,
      details: {
        profile: name,
        profileFile: where,
        profiles: hops
          .map((hop) => hop.profile)
          .filter((p, i, all) => all.indexOf(p) === i)
          .join(' → '),
        root: rootText,
        roles: roles.join(' → '),
      },
    }
  }

  return Object.assign(provider, { describe })
}

/**
 * Whether `text` has a section the SDK's loader keeps holding at least one `key = value` line:
 * in a config file `[default]`, `[profile …]`, `[sso-session …]` or `[services …]` (the loader's
 * getConfigData drops the rest), in a credentials file any section; or an unclosed header.
 */
function holdsProfileKeys(text: string, isConfig: boolean): boolean {
  let kept = false
  for (const line of text.split(/\r?\n/)) {
    // An unclosed section header (`[profile dev`): the loader's parser gives up on the file, so
    // whatever follows is lost — malformed, whatever the section.
    if (/^\s*\[[^\]]*$/.test(line)) return true
    const section = /^\s*\[([^\]]*)\]/.exec(line)
    if (section !== null) {
      const name = (section[1] ?? '').trim()
      kept = !isConfig || name === 'default' || /^(profile|sso-session|services)\s/.test(name)
    } else if (kept && /^[^#;=]+=/.test(line.trim())) {
      return true
    }
  }
  return false
}

function hasStaticKeys(data: Profile): boolean {
  return data.aws_access_key_id !== undefined && data.aws_secret_access_key !== undefined
}

/** Checks a role-chaining profile's values; each failure names the profile and the key. */
function checkProfile(name: string, data: Profile, sts: RoleModules['sts']): void {
  const bad = (key: string, rule: string): CredentialsError =>
    new CredentialsError(`profile: profile ${name}: ${key} ${rule}`, { code: 'ERR_INVALID_CONFIG' })
  if (!sts.isRoleArn(data.role_arn ?? ''))
    throw bad('role_arn', 'must be an IAM role ARN (arn:aws:iam::<12-digit account>:role/<name>)')
  if (
    data.source_profile === undefined &&
    data.credential_source === undefined &&
    data.web_identity_token_file === undefined
  ) {
    throw bad('role_arn', 'needs source_profile, credential_source or web_identity_token_file')
  }
  if (data.source_profile !== undefined && data.credential_source !== undefined) {
    throw bad('source_profile', 'and credential_source are mutually exclusive')
  }
  if (
    data.credential_source !== undefined &&
    !(CREDENTIAL_SOURCES as readonly string[]).includes(data.credential_source)
  ) {
    throw bad(
      'credential_source',
      `must be ${CREDENTIAL_SOURCES.join(', ')}, got ${JSON.stringify(data.credential_source.slice(0, 40))}`,
    )
  }
  if (data.role_session_name !== undefined && !sts.isSessionName(data.role_session_name)) {
    throw bad('role_session_name', 'must be 2 to 64 characters of [\\w+=,.@-]')
  }
  if (data.external_id !== undefined && !/^[\w+=,.@:/-]{2,1224}$/.test(data.external_id)) {
    throw bad('external_id', 'must be 2 to 1224 characters of [\\w+=,.@:/-]')
  }
  if (data.duration_seconds !== undefined) {
    const seconds = Number(data.duration_seconds)
    if (!/^\d+$/.test(data.duration_seconds) || seconds < 900 || seconds > 43_200) {
      throw bad('duration_seconds', 'must be an integer from 900 to 43200')
    }
  }
  if (data.region !== undefined && !sts.isRegion(data.region))
    throw bad('region', 'must be a region code such as us-east-1')
}

/** The AssumeRole options a profile's keys give (checked by {@link checkProfile}). */
function sessionOptions(data: Profile): {
  roleSessionName?: string
  externalId?: string
  durationSeconds?: number
  region?: string
} {
  return {
    ...(data.role_session_name === undefined ? {} : { roleSessionName: data.role_session_name }),
    ...(data.external_id === undefined ? {} : { externalId: data.external_id }),
    ...(data.duration_seconds === undefined ? {} : { durationSeconds: Number(data.duration_seconds) }),
    ...(data.region === undefined ? {} : { region: data.region }),
  }
}
