/**
 * The `podcreds` command-line tool. Its interface is the `podcreds` binary; this entry exposes
 * the version for tools that embed it.
 *
 * @packageDocumentation
 */

/** The CLI's package name, as published. */
export const CLI_NAME: string = 'podcreds'
