#!/usr/bin/env node
// Prints the functions with the most self time in a V8 .cpuprofile
// (node --cpu-prof), and the total time of selected callers.
//   node bench/cpuprofile-top.js FILE.cpuprofile [N]
import { readFileSync } from 'node:fs'

const [file, nArg = '25'] = process.argv.slice(2)
if (!file) {
  process.stderr.write('usage: node bench/cpuprofile-top.js FILE.cpuprofile [N]\n')
  process.exit(2)
}
const prof = JSON.parse(readFileSync(file, 'utf8'))
const byId = new Map(prof.nodes.map((n) => [n.id, n]))
const parent = new Map()
for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id)

// Sample i lasted timeDeltas[i + 1] microseconds (the last one: unknown, taken as 0).
const selfUs = new Map()
for (let i = 0; i < prof.samples.length; i++) {
  const id = prof.samples[i]
  selfUs.set(id, (selfUs.get(id) ?? 0) + (prof.timeDeltas[i + 1] ?? 0))
}
const total = [...selfUs.values()].reduce((a, b) => a + b, 0)

const label = (n) => {
  const f = n.callFrame
  const where = f.url ? `${f.url.replace(/^file:\/\/.*?\/(dist|node_modules)\//, '$1/').replace(/^node:/, 'node:')}:${f.lineNumber + 1}` : ''
  return `${f.functionName || '(anonymous)'} ${where}`.trim()
}

const self = new Map()
const inclusive = new Map()
for (const [id, us] of selfUs) {
  const l = label(byId.get(id))
  self.set(l, (self.get(l) ?? 0) + us)
  // Inclusive time: count each label once per sample stack.
  const seen = new Set()
  for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
    const cl = label(byId.get(cur))
    if (seen.has(cl)) continue
    seen.add(cl)
    inclusive.set(cl, (inclusive.get(cl) ?? 0) + us)
  }
}

const pct = (us) => `${((100 * us) / total).toFixed(1).padStart(5)}%`
const ms = (us) => `${(us / 1000).toFixed(0).padStart(7)} ms`
const top = (m, title) => {
  process.stdout.write(`${title} (of ${(total / 1e6).toFixed(2)} s sampled)\n`)
  for (const [l, us] of [...m].sort((a, b) => b[1] - a[1]).slice(0, Number(nArg))) {
    process.stdout.write(`${pct(us)} ${ms(us)}  ${l}\n`)
  }
}
top(self, 'self time')
process.stdout.write('\n')
top(inclusive, 'inclusive time')
