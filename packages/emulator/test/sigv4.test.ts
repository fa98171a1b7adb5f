import { type Emulator, startEmulator } from '@podcreds/emulator'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  agentKeys,
  assumeRole,
  fakeClock,
  getCallerIdentity,
  getCredentials,
  type Keys,
  signedSend,
  stsKeys,
  xmlField,
} from './helpers.js'

describe('SigV4-verifying AWS endpoint', () => {
  const clock = fakeClock()
  let emulator: Emulator
  let podKeys: Keys
  beforeAll(async () => {
    emulator = await startEmulator({ clock, credentialLifetimeMs: 900_000 })
    const token = await emulator.mintToken({ audience: 'pods.eks.amazonaws.com' })
    podKeys = agentKeys(await getCredentials(emulator.agentUrl, token))
  })
  afterAll(() => emulator.close())

  it('answers GetCallerIdentity for agent credentials, on the AWS endpoint and on STS', async () => {
    for (const url of [emulator.awsUrl, emulator.stsUrl]) {
      const reply = await getCallerIdentity(url, podKeys)
      expect(reply.status).toBe(200)
      expect(xmlField(reply.body, 'Account')).toBe('111122223333')
      expect(xmlField(reply.body, 'Arn')).toMatch(
        /^arn:aws:sts::111122223333:assumed-role\/podcreds-demo\/eks-podcreds-/,
      )
      expect(xmlField(reply.body, 'UserId')).toMatch(/^AROA[A-Z2-7]{17}:eks-podcreds-/)
    }
  })

  it('answers GetCallerIdentity for STS credentials and ListBuckets for S3', async () => {
    const stsReply = await assumeRole(
      emulator.stsUrl,
      emulator.irsaEnv.AWS_ROLE_ARN!,
      await emulator.mintToken(),
    )
    const irsaKeys = stsKeys(stsReply)
    const who = await getCallerIdentity(emulator.awsUrl, irsaKeys)
    const buckets = await signedSend(emulator.awsUrl, irsaKeys, { service: 's3', method: 'GET' })
    expect(xmlField(who.body, 'Arn')).toBe(
      'arn:aws:sts::111122223333:assumed-role/podcreds-demo-irsa/test-session',
    )
    expect(buckets.status).toBe(200)
    expect(buckets.body).toContain('<ListAllMyBucketsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">')
    expect(xmlField(buckets.body, 'Name')).toBe('podcreds-demo')
  })

  it('rejects a key it never issued with InvalidClientTokenId (STS) and InvalidAccessKeyId (S3)', async () => {
    const stranger = {
      accessKeyId: 'ASIAAAAAAAAAAAAAAAAA',
      secretAccessKey: 'SECRETCANARY0000000000000000000000000000',
      sessionToken: 'x',
    }
    const sts = await getCallerIdentity(emulator.awsUrl, stranger)
    const s3 = await signedSend(emulator.awsUrl, stranger, { service: 's3', method: 'GET' })
    expect([sts.status, xmlField(sts.body, 'Code')]).toEqual([403, 'InvalidClientTokenId'])
    expect([s3.status, xmlField(s3.body, 'Code')]).toEqual([403, 'InvalidAccessKeyId'])
    expect(sts.body + s3.body).not.toContain('SECRETCANARY')
  })

  it('rejects a wrong secret, a tampered body and a wrong session token', async () => {
    const wrongSecret = await getCallerIdentity(emulator.awsUrl, {
      ...podKeys,
      secretAccessKey: 'x'.repeat(40),
    })
    const tampered = await signedSend(emulator.awsUrl, podKeys, {
      service: 'sts',
      body: 'Action=GetCallerIdentity&Version=2011-06-15',
      tamper: (headers) => {
        headers['x-amz-date'] = headers['x-amz-date']!.replace(
          /\d{2}Z$/,
          (s) => `${`${(Number(s.slice(0, 2)) + 1) % 60}`.padStart(2, '0')}Z`,
        )
      },
    })
    const wrongToken = await getCallerIdentity(emulator.awsUrl, { ...podKeys, sessionToken: 'forged' })
    expect([wrongSecret.status, xmlField(wrongSecret.body, 'Code')]).toEqual([403, 'SignatureDoesNotMatch'])
    expect([tampered.status, xmlField(tampered.body, 'Code')]).toEqual([403, 'SignatureDoesNotMatch'])
    expect([wrongToken.status, xmlField(wrongToken.body, 'Code')]).toEqual([403, 'InvalidClientTokenId'])
    expect(wrongSecret.body).not.toContain(podKeys.secretAccessKey)
  })

  it('rejects an unsigned request and a request signed too far from its clock', async () => {
    const unsigned = await signedSend(emulator.awsUrl, podKeys, {
      service: 'sts',
      body: 'Action=GetCallerIdentity&Version=2011-06-15',
      tamper: (headers) => {
        delete headers.authorization
      },
    })
    const skewed = await getCallerIdentity(emulator.awsUrl, podKeys, {
      service: 'sts',
      signingDate: new Date(clock.now() - 20 * 60_000),
    })
    expect([unsigned.status, xmlField(unsigned.body, 'Code')]).toEqual([403, 'MissingAuthenticationToken'])
    expect([skewed.status, xmlField(skewed.body, 'Code')]).toEqual([403, 'RequestTimeTooSkewed'])
  })

  it('rejects credentials once they expire on its clock with ExpiredToken', async () => {
    const before = await getCallerIdentity(emulator.awsUrl, podKeys)
    clock.advance(901_000)
    const sts = await getCallerIdentity(emulator.awsUrl, podKeys, {
      service: 'sts',
      signingDate: new Date(clock.now()),
    })
    const s3 = await signedSend(emulator.awsUrl, podKeys, {
      service: 's3',
      method: 'GET',
      signingDate: new Date(clock.now()),
    })
    expect(before.status).toBe(200)
    expect([sts.status, xmlField(sts.body, 'Code')]).toEqual([403, 'ExpiredToken'])
    expect([s3.status, xmlField(s3.body, 'Code')]).toEqual([400, 'ExpiredToken'])
  })
})
