#!/usr/bin/env node
// The `podcreds` command. Subcommands land with issue #9.
const [command] = process.argv.slice(2)
if (command === 'demo') {
  process.stdout.write('podcreds demo: not yet available (issue #9)\n')
} else {
  process.stdout.write('usage: podcreds <demo>\n')
  process.exitCode = command === undefined || command === '--help' ? 0 : 2
}
