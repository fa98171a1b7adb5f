// Bundles the JavaScript of every public package in packages/* (cold-start budget, DESIGN.md):
// Node loads each ESM file separately, and that per-file cost was most of our import time
// (benchmarks/RESULTS.md, scenario 6). Run after `tsc -b`, which stays the type checker and
// the author of every `.d.ts`; this script replaces the per-module `.js` files in dist/ with one
// bundle per entry point (the `default` targets of `exports`, and `bin`) plus shared/lazy chunks.
//
//   node scripts/bundle.mjs                      every public package
//   node scripts/bundle.mjs packages/chain ...   these and the @podcreds packages they depend on
//   node scripts/bundle.mjs --check              write nothing; exit 1 unless every dist/ holds
//                                                exactly the bundles of the current src/ (gates)
//
// The bundles are built from src/ with TypeScript's own transpiler (ts.transpileModule, the
// package's compiler options), not from tsc's emitted dist/*.js: once this script has deleted
// those files, an incremental `tsc -b` re-emits only the files whose sources changed, so dist/
// never again holds a complete per-module tree to bundle from. Reading src/ keeps `tsc -b`
// incremental and every bundle current, whatever tsc emitted or skipped.
//
// Bundle rules: ESM for Node 20; every bare specifier stays external — node:* builtins,
// third-party packages and the other @podcreds packages — so each module of ours ships in exactly
// one file of one package (issue 20: inlining siblings had put CredentialsError in 8 files and
// given a process two refresh schedulers), and lazily imported dependencies stay lazy. The build
// fails when a package does not declare a package its bundle imports. A relative import of
// another entry of the same package (token's index re-exporting `./read.js`) stays an import of
// that entry's file, so the two entries share it without a third chunk file. `splitting` so a
// package's own `import('./x.js')` becomes a separate chunk loaded on demand; no minification
// (readable stack traces: esbuild renames only top-level names that collide between a package's
// modules, e.g. the emulator's `list` → `list2`, and class names stay as in the source: see
// restoreClassNames); the entry's `#!/usr/bin/env node` line is kept. Output files are written
// only when their content changed, each atomically (temp file + rename), since tests may import
// dist/ while another test builds.
import { randomBytes } from 'node:crypto'
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmdirSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs'
import { dirname, join, relative, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import ts from 'typescript'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const packagesDir = join(root, 'packages')

/** Public workspaces of packages/*, by package name. */
function publicPackages() {
  const out = new Map()
  for (const name of readdirSync(packagesDir).sort()) {
    const dir = join(packagesDir, name)
    const file = join(dir, 'package.json')
    if (!existsSync(file)) continue
    const pkg = JSON.parse(readFileSync(file, 'utf8'))
    if (pkg.private) continue
    out.set(pkg.name, { dir, pkg })
  }
  return out
}

/** The packages named on the command line (directories) and the @podcreds packages they depend on. */
function selected(all) {
  const args = process.argv.slice(2).filter((a) => a !== '--check')
  if (args.length === 0) return [...all.values()]
  const byDir = new Map([...all.values()].map((p) => [p.dir, p]))
  const picked = new Set()
  const visit = (p) => {
    if (picked.has(p)) return
    picked.add(p)
    for (const dep of Object.keys({ ...p.pkg.dependencies, ...p.pkg.peerDependencies })) {
      const d = all.get(dep)
      if (d) visit(d)
    }
  }
  for (const arg of args) {
    const p = byDir.get(resolve(arg))
    if (!p) throw new Error(`bundle: ${arg} is not a public package in packages/`)
    visit(p)
  }
  return [...picked]
}

/** dist/ paths of the package's JavaScript entry points: `default` targets of exports, and bin. */
function entryPoints(pkg) {
  const found = new Set()
  const walk = (value, key) => {
    if (typeof value === 'string') {
      if (key === 'default' || key === undefined) if (value.endsWith('.js')) found.add(value)
    } else if (value && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) walk(v, k.startsWith('.') ? undefined : k)
    }
  }
  walk(pkg.exports)
  if (typeof pkg.bin === 'string') found.add(pkg.bin)
  else for (const target of Object.values(pkg.bin ?? {})) found.add(target)
  return [...found].map((p) => p.replace(/^\.\//, '')).sort()
}

const parsedOptions = new Map()

/** The package's compiler options, parsed once per package. */
function compilerOptions(dir) {
  let options = parsedOptions.get(dir)
  if (options === undefined) {
    options = parseCompilerOptions(dir)
    parsedOptions.set(dir, options)
  }
  return options
}

function parseCompilerOptions(dir) {
  const parsed = ts.getParsedCommandLineOfConfigFile(join(dir, 'tsconfig.json'), undefined, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'))
    },
  })
  if (!parsed) throw new Error(`bundle: cannot read ${dir}/tsconfig.json`)
  return parsed.options
}

/** esbuild plugin: load .ts sources through TypeScript's transpiler (what tsc emits per file). */
function typescriptLoader(options) {
  const transpileOptions = {
    ...options,
    // Every package is "type": "module", for which tsc's NodeNext emit is ES module syntax;
    // transpileModule cannot see package.json, so say it.
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    declaration: false,
    isolatedDeclarations: false,
    declarationMap: false,
    composite: false,
    incremental: false,
    tsBuildInfoFile: undefined,
    rootDir: undefined,
    outDir: undefined,
    sourceMap: false,
    inlineSourceMap: false,
  }
  return {
    name: 'typescript',
    setup(b) {
      b.onLoad({ filter: /\.[cm]?ts$/ }, (args) => {
        const out = ts.transpileModule(readFileSync(args.path, 'utf8'), {
          compilerOptions: transpileOptions,
          fileName: args.path,
          reportDiagnostics: true,
        })
        const errors = (out.diagnostics ?? []).map((d) => ({
          text: ts.flattenDiagnosticMessageText(d.messageText, '\n'),
        }))
        return { contents: out.outputText, loader: 'js', errors }
      })
    },
  }
}

/** Every file under dir (relative paths with '/'). */
function filesUnder(dir, base = dir) {
  if (!existsSync(dir)) return []
  const out = []
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) out.push(...filesUnder(path, base))
    else out.push(relative(base, path).split(sep).join('/'))
  }
  return out
}

function removeEmptyDirs(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue
    const path = join(dir, entry.name)
    removeEmptyDirs(path)
    if (readdirSync(path).length === 0) rmdirSync(path)
  }
}

/**
 * In a bundle, esbuild writes a top-level `class X` whose body refers to X as
 * `var X = class _X ...`, so `X.name` — and `new.target.name`, which CredentialsError assigns to
 * err.name — would read `_X`. Put the source name back, as the static block keepNames would add,
 * for these classes only. Any such class this pattern does not cover fails the build.
 */
function restoreClassNames(code, file) {
  const fixed = code.replace(
    /\bvar ([A-Za-z_$][\w$]*) = class (_\1\d*)((?: extends [A-Za-z_$][\w$.]*)?) \{/g,
    (match, name) =>
      `${match}\n  static {\n    Object.defineProperty(this, "name", { value: "${name}", configurable: true });\n  }`,
  )
  const missed =
    /\bvar ([A-Za-z_$][\w$]*) = class (_\1\d*)\b(?![^{]*\{\n {2}static \{\n {4}Object\.defineProperty\(this, "name")/.exec(
      fixed,
    )
  if (missed) throw new Error(`bundle: ${file}: cannot restore the name of class ${missed[1]}`)
  // esbuild renames a top-level class whose name another module of the bundle also uses at top
  // level: `var Foo2 = class ...`, so `Foo2.name` is "Foo2".
  const renamed = [...fixed.matchAll(/\bvar ([A-Za-z_$][\w$]*?)(\d+) = class\b/g)].find(([, name]) =>
    new RegExp(`^(?:var|let|const|function|class) ${name.replace(/\$/g, '\\$')}\\b`, 'm').test(fixed),
  )
  if (renamed)
    throw new Error(
      `bundle: ${file}: class ${renamed[1]} was renamed ${renamed[1]}${renamed[2]} (two modules of this bundle define ${renamed[1]} at top level): rename one of them`,
    )
  return fixed
}

/**
 * Writes atomically, and only when the content changed; an unchanged file still gets the current
 * mtime, so "bundle older than src/" means the bundle step has not run since (the tests' freshness
 * checks rely on it).
 */
function writeIfChanged(path, contents) {
  if (existsSync(path) && readFileSync(path).equals(contents)) {
    const now = new Date()
    utimesSync(path, now, now)
    return false
  }
  mkdirSync(dirname(path), { recursive: true })
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`
  writeFileSync(tmp, contents)
  renameSync(tmp, path)
  return true
}

/** The package name of a bare specifier: `@scope/name/sub` → `@scope/name`, `name/sub` → `name`. */
function packageNameOf(specifier) {
  const parts = specifier.split('/')
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]
}

/** The range `pkg` declares for `name` (dependencies, peer or optional), or undefined. */
function rangeOf(pkg, name) {
  for (const deps of [pkg.dependencies, pkg.peerDependencies, pkg.optionalDependencies]) {
    if (deps !== undefined && Object.hasOwn(deps, name)) return deps[name]
  }
  return undefined
}

/**
 * esbuild plugin: every bare specifier is external (node:*, third-party and @podcreds packages);
 * a relative import of another entry point of this package stays an import of that entry's
 * output. Collects the package names imported, for {@link dependencyProblems}.
 */
function externals(entrySources, srcDir) {
  return {
    name: 'externals',
    setup(b) {
      b.onResolve({ filter: /^[^./]/ }, (args) => ({ path: args.path, external: true }))
      b.onResolve({ filter: /^\.\.?\// }, (args) => {
        if (args.kind === 'entry-point') return undefined
        const target = resolve(dirname(args.importer), args.path).replace(/\.js$/, '.ts')
        if (!entrySources.has(target)) return undefined
        // The importer's output sits at the same place relative to dist/ as its source to src/.
        const fromDir = dirname(relative(srcDir, args.importer))
        let path = relative(fromDir, relative(srcDir, target)).split(sep).join('/').replace(/\.ts$/, '.js')
        if (!path.startsWith('.')) path = `./${path}`
        return { path, external: true }
      })
    },
  }
}

/**
 * Every package the bundles import at run time (after tree shaking: esbuild's metafile) must be
 * declared by the package: an undeclared one resolves only by luck of the install layout.
 * Returns the problems found.
 */
function dependencyProblems(pkg, metafile) {
  const used = new Set()
  for (const output of Object.values(metafile.outputs)) {
    for (const imp of output.imports) {
      if (imp.external && !imp.path.startsWith('node:') && !imp.path.startsWith('.'))
        used.add(packageNameOf(imp.path))
    }
  }
  const problems = []
  for (const name of [...used].sort()) {
    if (name === pkg.name || rangeOf(pkg, name) !== undefined) continue
    problems.push(
      `imports ${name} at run time but does not declare it in dependencies, peerDependencies or optionalDependencies`,
    )
  }
  return problems
}

async function bundlePackage({ dir, pkg }) {
  if (pkg.type !== 'module') throw new Error(`bundle: ${pkg.name} is not "type": "module"`)
  const options = compilerOptions(dir)
  const srcDir = options.rootDir ?? join(dir, 'src')
  const distDir = options.outDir ?? join(dir, 'dist')
  const entries = entryPoints(pkg).map((distPath) => {
    const inDist = relative(distDir, join(dir, distPath))
    if (inDist.startsWith('..'))
      throw new Error(`bundle: ${pkg.name} entry ${distPath} is outside ${distDir}`)
    const source = join(srcDir, inDist.replace(/\.js$/, '.ts'))
    if (!existsSync(source)) throw new Error(`bundle: ${pkg.name} entry ${distPath} has no source ${source}`)
    return source
  })
  const result = await build({
    absWorkingDir: dir,
    entryPoints: entries,
    outbase: srcDir,
    outdir: distDir,
    chunkNames: 'chunks/[name]-[hash]',
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    plugins: [externals(new Set(entries), srcDir), typescriptLoader(options)],
    minify: false,
    // Not keepNames: it wraps every function, closures included, in a name-defining call, which
    // took a refreshing() provider from ~2.7 to ~6.8 kB of heap. The one name that changes
    // without it is fixed by restoreClassNames().
    keepNames: false,
    sourcemap: false,
    legalComments: 'inline',
    charset: 'utf8',
    write: false,
    metafile: true,
    logLevel: 'silent',
  })
  for (const w of result.warnings) console.warn(`bundle: ${pkg.name}: warning: ${w.text}`)
  const dependencyErrors = dependencyProblems(pkg, result.metafile)
  if (dependencyErrors.length > 0)
    throw new Error(dependencyErrors.map((problem) => `bundle: ${pkg.name} ${problem}`).join('\n'))

  const written = new Set()
  const problems = []
  let changed = 0
  for (const file of result.outputFiles) {
    const rel = relative(distDir, file.path).split(sep).join('/')
    written.add(rel)
    const contents = Buffer.from(/\.[cm]?js$/.test(rel) ? restoreClassNames(file.text, rel) : file.contents)
    if (check) {
      if (!existsSync(file.path)) problems.push(`dist/${rel} is missing`)
      else if (!readFileSync(file.path).equals(contents))
        problems.push(`dist/${rel} is not the bundle of src/`)
    } else if (writeIfChanged(file.path, contents)) changed++
  }
  // tsc's per-module .js files (and chunks of an earlier bundle) are not used by any entry now.
  let removed = 0
  for (const rel of filesUnder(distDir)) {
    if (/\.[cm]?js$/.test(rel) && !written.has(rel)) {
      if (check) problems.push(`dist/${rel} is not part of the bundle`)
      else rmSync(join(distDir, rel), { force: true })
      removed++
    }
  }
  const rel = relative(root, dir)
  if (check) {
    for (const problem of problems) console.error(`bundle --check: ${pkg.name} (${rel}): ${problem}`)
    return problems.length === 0
  }
  removeEmptyDirs(distDir)
  console.log(
    `bundle: ${pkg.name} (${rel}): ${entries.length} entr${entries.length === 1 ? 'y' : 'ies'}, ${written.size} file(s), ${changed} written, ${removed} removed`,
  )
  return true
}

const check = process.argv.includes('--check')
const all = publicPackages()
let ok = true
for (const p of selected(all)) ok = (await bundlePackage(p)) && ok
if (!ok) {
  console.error('bundle --check: dist/ does not hold the current bundles: run `pnpm build`')
  process.exitCode = 1
}
