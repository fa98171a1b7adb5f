import type { Deps } from './deps.js'

/** Serialises a response document with fast-xml-parser's builder (entities escaped, no hand-rolled XML). */
export type XmlWriter = (root: string, body: Record<string, unknown>, xmlns?: string) => string

export function createXmlWriter(deps: Deps): XmlWriter {
  const builder = new deps.XMLBuilder({
    ignoreAttributes: false,
    attributeNamePrefix: '@_',
    suppressEmptyNode: false,
    processEntities: true,
  })
  return (root, body, xmlns) =>
    builder.build({
      '?xml': { '@_version': '1.0', '@_encoding': 'UTF-8' },
      [root]: xmlns === undefined ? body : { '@_xmlns': xmlns, ...body },
    }) as string
}

export const STS_XMLNS = 'https://sts.amazonaws.com/doc/2011-06-15/'
export const S3_XMLNS = 'http://s3.amazonaws.com/doc/2006-03-01/'
