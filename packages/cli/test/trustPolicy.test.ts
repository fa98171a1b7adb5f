import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { run } from './run.js'

const ISSUER = 'https://oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE'
const ISSUER_KEY = ISSUER.replace('https://', '')

describe('podcreds trust-policy', () => {
  it('generates an IRSA trust policy with StringEquals on sub and aud', async () => {
    const res = await run([
      'trust-policy',
      'generate',
      '--issuer',
      ISSUER,
      '--namespace',
      'shop',
      '--service-account',
      'cart',
      '--account',
      '111122223333',
    ])
    expect(res.code).toBe(0)
    expect(res.stderr).toBe('')
    const policy = JSON.parse(res.stdout)
    const statement = policy.Statement[0]
    expect(statement.Action).toBe('sts:AssumeRoleWithWebIdentity')
    expect(statement.Principal.Federated).toBe(`arn:aws:iam::111122223333:oidc-provider/${ISSUER_KEY}`)
    expect(statement.Condition.StringEquals[`${ISSUER_KEY}:sub`]).toBe('system:serviceaccount:shop:cart')
    expect(statement.Condition.StringEquals[`${ISSUER_KEY}:aud`]).toBe('sts.amazonaws.com')
  })

  it('says on stderr when the account is a placeholder', async () => {
    const res = await run([
      'trust-policy',
      'generate',
      '--issuer',
      ISSUER,
      '--namespace',
      'a',
      '--service-account',
      'b',
    ])
    expect(res.code).toBe(0)
    expect(res.stderr).toMatch(/placeholder/)
    expect(JSON.parse(res.stdout).Statement[0].Principal.Federated).toContain('<ACCOUNT_ID>')
  })

  it('prints a Terraform aws_iam_role', async () => {
    const res = await run([
      'trust-policy',
      'generate',
      '--issuer',
      ISSUER,
      '--namespace',
      'shop',
      '--service-account',
      'cart',
      '--account',
      '111122223333',
      '--format',
      'terraform',
    ])
    expect(res.code).toBe(0)
    expect(res.stdout).toMatch(/^resource "aws_iam_role" "cart_irsa" \{/)
    expect(res.stdout).toContain('assume_role_policy = jsonencode(')
    expect(res.stdout).toContain(`"${ISSUER_KEY}:sub" = "system:serviceaccount:shop:cart"`)
  })

  it('rejects bad arguments with one line and exit 2', async () => {
    const missing = await run(['trust-policy', 'generate', '--issuer', ISSUER])
    expect(missing.code).toBe(2)
    expect(missing.stderr.trim().split('\n')).toHaveLength(1)
    expect(missing.stderr).toMatch(/--namespace/)
    const badFormat = await run([
      'trust-policy',
      'generate',
      '--issuer',
      ISSUER,
      '--namespace',
      'a',
      '--service-account',
      'b',
      '--format',
      'yaml',
    ])
    expect(badFormat.code).toBe(2)
    const unknown = await run(['trust-policy', 'generate', '--nope'])
    expect(unknown.code).toBe(2)
    expect(unknown.stderr).toMatch(/--nope/)
  })

  it('lint flags a wildcard sub and a missing aud, and passes a generated policy', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'podcreds-tp-'))
    const weak = {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { Federated: `arn:aws:iam::111122223333:oidc-provider/${ISSUER_KEY}` },
          Action: 'sts:AssumeRoleWithWebIdentity',
          Condition: { StringLike: { [`${ISSUER_KEY}:sub`]: 'system:serviceaccount:*' } },
        },
      ],
    }
    await writeFile(join(dir, 'weak.json'), JSON.stringify(weak))
    const res = await run(['trust-policy', 'lint', join(dir, 'weak.json'), '--json'])
    expect(res.code).toBe(1)
    const { findings } = JSON.parse(res.stdout)
    const codes = findings.map((f: { code: string }) => f.code)
    expect(codes).toContain('WILDCARD_SUB')
    expect(codes).toContain('MISSING_AUD')

    const generated = await run([
      'trust-policy',
      'generate',
      '--issuer',
      ISSUER,
      '--namespace',
      'shop',
      '--service-account',
      'cart',
      '--account',
      '111122223333',
    ])
    const good = await run(['trust-policy', 'lint', '-'], {}, generated.stdout)
    expect(good.code).toBe(0)
    expect(good.stdout).toMatch(/no problems/)
  })
})
