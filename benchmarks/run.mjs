// Benchmarks entry point. `--quick` runs every scenario small enough for CI (informational).
const quick = process.argv.includes('--quick')
console.log(`benchmarks: no scenarios yet${quick ? ' (quick)' : ''}`)
