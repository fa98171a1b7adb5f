import { inspect } from 'node:util'
import { type Emulator, startEmulator } from '@podcreds/emulator'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fakeClock, getCallerIdentity, send, xmlField } from './helpers.js'

const TOKEN_PATH = '/latest/api/token'
const ROLE_PATH = '/latest/meta-data/iam/security-credentials/'

// EC2 IMDSv2 with HttpTokens=required: PUT /latest/api/token with a TTL in [1, 21600] s, then GETs
// with X-aws-ec2-metadata-token; 401 without a valid token; a PUT with X-Forwarded-For is refused.
describe('IMDSv2 stand-in', () => {
  const clock = fakeClock()
  let emulator: Emulator
  const putToken = (headers: Record<string, string> = { 'x-aws-ec2-metadata-token-ttl-seconds': '60' }) =>
    send(`${emulator.imdsUrl}${TOKEN_PATH}`, { method: 'PUT', headers })
  const get = (path: string, token?: string) =>
    send(
      `${emulator.imdsUrl}${path}`,
      token === undefined ? {} : { headers: { 'x-aws-ec2-metadata-token': token } },
    )
  beforeAll(async () => {
    emulator = await startEmulator({ clock, rotateEveryMs: 0 })
  })
  afterAll(() => emulator.close())

  it('serves the node role name and its credentials to a token holder, credentials the AWS endpoint accepts', async () => {
    // Act
    const token = await putToken()
    const role = await get(ROLE_PATH, token.body)
    const creds = await get(`${ROLE_PATH}${role.body}`, token.body)
    const again = await get(`${ROLE_PATH}${role.body}`, (await putToken()).body)
    const json = JSON.parse(creds.body) as Record<string, string>
    const identity = await getCallerIdentity(
      emulator.awsUrl,
      { accessKeyId: json.AccessKeyId!, secretAccessKey: json.SecretAccessKey!, sessionToken: json.Token! },
      { service: 'sts', signingDate: new Date(clock.now()) },
    )
    // Assess
    expect([token.status, token.headers['x-aws-ec2-metadata-token-ttl-seconds']]).toEqual([200, '60'])
    expect([role.status, role.body]).toEqual([200, 'podcreds-demo-node'])
    expect(emulator.instanceRoleArn).toBe('arn:aws:iam::111122223333:role/podcreds-demo-node')
    expect([json.Code, json.Type]).toEqual(['Success', 'AWS-HMAC'])
    expect(json.AccessKeyId).toMatch(/^ASIA/)
    expect(Date.parse(json.Expiration!) - Math.floor(clock.now() / 1000) * 1000).toBe(21_600_000)
    expect(again.body).toBe(creds.body) // the same set until IMDS rotates it
    expect(xmlField(identity.body, 'Arn')).toMatch(/:assumed-role\/podcreds-demo-node\/i-0[0-9a-f]+$/)
    expect(emulator.env.AWS_EC2_METADATA_SERVICE_ENDPOINT).toBe(emulator.imdsUrl)
    expect(emulator.irsaEnv.AWS_EC2_METADATA_SERVICE_ENDPOINT).toBe(emulator.imdsUrl)
    expect(emulator.env).not.toHaveProperty('AWS_EC2_METADATA_DISABLED')
  })

  it('answers 401 without a token, with an unknown one, or after the token TTL', async () => {
    const token = (await putToken({ 'x-aws-ec2-metadata-token-ttl-seconds': '1' })).body
    const before = emulator.stats().imdsRequests
    const none = await get(ROLE_PATH)
    const unknown = await get(ROLE_PATH, 'SECRETCANARY-not-a-token')
    const valid = await get(ROLE_PATH, token)
    clock.advance(1000)
    const expired = await get(ROLE_PATH, token)
    expect([none.status, unknown.status, valid.status, expired.status]).toEqual([401, 401, 200, 401])
    expect(inspect(unknown)).not.toContain('SECRETCANARY')
    expect(emulator.stats().imdsRequests).toBe(before + 4)
  })

  it('refuses a token PUT without a TTL, with a TTL out of [1, 21600], or with X-Forwarded-For', async () => {
    const replies = await Promise.all([
      putToken({}),
      putToken({ 'x-aws-ec2-metadata-token-ttl-seconds': '0' }),
      putToken({ 'x-aws-ec2-metadata-token-ttl-seconds': '21601' }),
      putToken({ 'x-aws-ec2-metadata-token-ttl-seconds': '21600' }),
      putToken({ 'x-aws-ec2-metadata-token-ttl-seconds': '60', 'x-forwarded-for': '10.0.0.1' }),
      send(`${emulator.imdsUrl}${TOKEN_PATH}`),
    ])
    expect(replies.map((reply) => reply.status)).toEqual([400, 400, 400, 200, 403, 405])
  })

  it('answers 404 for another role or path, and takes faults like the other endpoints', async () => {
    const token = (await putToken()).body
    expect((await get(`${ROLE_PATH}someone-else`, token)).status).toBe(404)
    emulator.faults.set({ imds: { status: 503 } })
    const failed = await get(ROLE_PATH, token)
    emulator.faults.set({ imds: { throttle: true } })
    const throttled = await get(ROLE_PATH, token)
    emulator.faults.clear('imds')
    expect([failed.status, throttled.status]).toEqual([503, 429])
  })
})
