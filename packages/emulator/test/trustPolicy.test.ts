import {
  ACCOUNT_ID_PLACEHOLDER,
  generateTrustPolicy,
  lintTrustPolicy,
  type TrustPolicy,
  type TrustPolicyFindingCode,
  type TrustPolicyStatement,
} from '@podcreds/emulator'
import { describe, expect, it } from 'vitest'

const ISSUER = 'oidc.eks.us-west-2.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE'
const PROVIDER = `arn:aws:iam::111122223333:oidc-provider/${ISSUER}`

function irsa(condition: NonNullable<TrustPolicyStatement['Condition']>): TrustPolicy {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { Federated: PROVIDER },
        Action: 'sts:AssumeRoleWithWebIdentity',
        Condition: condition,
      },
    ],
  }
}

function codes(policy: unknown): TrustPolicyFindingCode[] {
  return lintTrustPolicy(policy).map((finding) => finding.code)
}

describe('generateTrustPolicy', () => {
  it('writes the IRSA trust policy with StringEquals on :sub and :aud', () => {
    const policy = generateTrustPolicy({
      issuer: `https://${ISSUER}/`,
      namespace: 'default',
      serviceAccount: 'app',
      accountId: '111122223333',
    })
    expect(policy).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { Federated: PROVIDER },
          Action: 'sts:AssumeRoleWithWebIdentity',
          Condition: {
            StringEquals: {
              [`${ISSUER}:sub`]: 'system:serviceaccount:default:app',
              [`${ISSUER}:aud`]: 'sts.amazonaws.com',
            },
          },
        },
      ],
    })
    expect(lintTrustPolicy(policy)).toEqual([])
  })

  it('puts a placeholder in the provider ARN without an account id', () => {
    const policy = generateTrustPolicy({ issuer: ISSUER, namespace: 'ns', serviceAccount: 'sa' })
    expect(JSON.stringify(policy)).toContain(`arn:aws:iam::${ACCOUNT_ID_PLACEHOLDER}:oidc-provider/${ISSUER}`)
  })

  it('rejects malformed options with a TypeError naming them', () => {
    const base = { issuer: ISSUER, namespace: 'default', serviceAccount: 'app' }
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ ...base, issuer: '' }, /issuer/],
      [{ ...base, issuer: 'https://x.example/?q=1' }, /issuer/],
      [{ ...base, namespace: 'Default' }, /namespace/],
      [{ ...base, serviceAccount: '*' }, /serviceAccount/],
      [{ ...base, accountId: '1234' }, /accountId/],
    ]
    for (const [options, message] of cases) {
      expect(() => generateTrustPolicy(options as never)).toThrow(TypeError)
      expect(() => generateTrustPolicy(options as never)).toThrow(message)
    }
  })
})

describe('lintTrustPolicy', () => {
  it('flags a wildcard sub and a missing sub', () => {
    expect(
      codes(
        irsa({
          StringLike: { [`${ISSUER}:sub`]: 'system:serviceaccount:*' },
          StringEquals: { [`${ISSUER}:aud`]: 'sts.amazonaws.com' },
        }),
      ),
    ).toEqual(['WILDCARD_SUB'])
    expect(codes(irsa({ StringEquals: { [`${ISSUER}:aud`]: 'sts.amazonaws.com' } }))).toEqual(['MISSING_SUB'])
  })

  it('warns that StringEquals compares a wildcard literally', () => {
    const findings = lintTrustPolicy(
      irsa({
        StringEquals: {
          [`${ISSUER}:sub`]: 'system:serviceaccount:default:*',
          [`${ISSUER}:aud`]: 'sts.amazonaws.com',
        },
      }),
    )
    expect(findings.map((f) => [f.code, f.severity])).toEqual([['WILDCARD_SUB', 'warning']])
    expect(findings[0]!.message).toMatch(/literally/)
  })

  it('flags a missing aud', () => {
    expect(codes(irsa({ StringEquals: { [`${ISSUER}:sub`]: 'system:serviceaccount:default:app' } }))).toEqual(
      ['MISSING_AUD'],
    )
  })

  it('flags StringLike without a wildcard as a warning', () => {
    const findings = lintTrustPolicy(
      irsa({
        StringLike: {
          [`${ISSUER}:sub`]: 'system:serviceaccount:default:app',
          [`${ISSUER}:aud`]: 'sts.amazonaws.com',
        },
      }),
    )
    expect(findings.map((f) => [f.code, f.severity])).toEqual([
      ['STRING_LIKE_WITHOUT_WILDCARD', 'warning'],
      ['STRING_LIKE_WITHOUT_WILDCARD', 'warning'],
    ])
    expect(findings[0]!.fix).toMatch(/StringEquals/)
  })

  it('flags the Pod Identity audience on an IRSA trust', () => {
    const findings = lintTrustPolicy(
      irsa({
        StringEquals: {
          [`${ISSUER}:sub`]: 'system:serviceaccount:default:app',
          [`${ISSUER}:aud`]: 'pods.eks.amazonaws.com',
        },
      }),
    )
    expect(findings.map((f) => f.code)).toEqual(['WRONG_AUDIENCE'])
    expect(findings[0]!.message).toMatch(/pods\.eks\.amazonaws\.com is the Pod Identity token's audience/)
  })

  it('accepts a correct Pod Identity trust and flags a missing sts:TagSession or :aud conditions on it', () => {
    const good: TrustPolicy = {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { Service: 'pods.eks.amazonaws.com' },
          Action: ['sts:AssumeRole', 'sts:TagSession'],
        },
      ],
    }
    const noTag: TrustPolicy = {
      Statement: {
        Effect: 'Allow',
        Principal: { Service: 'pods.eks.amazonaws.com' },
        Action: 'sts:AssumeRole',
      },
    }
    const withAud: TrustPolicy = {
      Statement: [
        {
          Effect: 'Allow',
          Principal: { Service: 'pods.eks.amazonaws.com' },
          Action: ['sts:AssumeRole', 'sts:TagSession'],
          Condition: { StringEquals: { [`${ISSUER}:aud`]: 'pods.eks.amazonaws.com' } },
        },
      ],
    }
    const webIdentityToService: TrustPolicy = {
      Statement: [
        {
          Effect: 'Allow',
          Principal: { Service: 'sts.amazonaws.com' },
          Action: 'sts:AssumeRoleWithWebIdentity',
        },
      ],
    }
    expect(lintTrustPolicy(good)).toEqual([])
    expect(codes(noTag)).toEqual(['POD_IDENTITY_ACTIONS'])
    expect(codes(withAud)).toEqual(['WRONG_AUDIENCE'])
    expect(codes(webIdentityToService)).toContain('WRONG_AUDIENCE')
  })

  it('checks the kind of role with mode', () => {
    const irsaPolicy = generateTrustPolicy({
      issuer: ISSUER,
      namespace: 'a',
      serviceAccount: 'b',
      accountId: '111122223333',
    })
    const podPolicy: TrustPolicy = {
      Statement: [
        {
          Effect: 'Allow',
          Principal: { Service: 'pods.eks.amazonaws.com' },
          Action: ['sts:AssumeRole', 'sts:TagSession'],
        },
      ],
    }
    expect(lintTrustPolicy(irsaPolicy, { mode: 'irsa' })).toEqual([])
    expect(lintTrustPolicy(podPolicy, { mode: 'pod-identity' })).toEqual([])
    const wrong = lintTrustPolicy(irsaPolicy, { mode: 'pod-identity' })
    expect(wrong.map((f) => [f.code, f.statement])).toEqual([['WRONG_AUDIENCE', -1]])
    expect(wrong[0]!.message).toMatch(/pods\.eks\.amazonaws\.com/)
    expect(lintTrustPolicy(podPolicy, { mode: 'irsa' }).map((f) => f.code)).toEqual(['WRONG_AUDIENCE'])
  })

  it('flags a wildcard principal', () => {
    expect(
      codes({ Statement: [{ Effect: 'Allow', Principal: '*', Action: 'sts:AssumeRoleWithWebIdentity' }] }),
    ).toContain('WILDCARD_PRINCIPAL')
  })

  it('reports invalid documents as findings instead of throwing, and accepts JSON text', () => {
    expect(codes('{not json')).toEqual(['INVALID_POLICY'])
    expect(codes(42)).toEqual(['INVALID_POLICY'])
    expect(codes({ Version: '2012-10-17' })).toEqual(['INVALID_POLICY'])
    expect(
      codes(JSON.stringify(generateTrustPolicy({ issuer: ISSUER, namespace: 'a', serviceAccount: 'b' }))),
    ).toEqual([])
  })

  it('ignores Deny statements', () => {
    expect(codes({ Statement: [{ Effect: 'Deny', Principal: '*', Action: '*' }] })).toEqual([])
  })
})
