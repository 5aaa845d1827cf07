// The man pages agree with the code: options (spec, --help, page), EXIT STATUS
// (exit.ts) and mandoc -Tlint. And the check itself can fail.
import t from 'tap'
import { helpText, type CliSpec } from '../../src/cli/args.js'
import { EXIT_MEANING } from '../../src/cli/exit.js'
import { checkMan, exitProblems, haveMandoc, lintProblems, optionProblems } from '../../scripts/check-man.js'

t.test('man pages agree with the specs, exit.ts and mandoc', async (t) => {
  if (!haveMandoc()) t.comment('mandoc is not installed: the lint part is skipped')
  t.same(checkMan(), [])
})

const fake: CliSpec = {
  name: 'bt-fake',
  summary: 'pretend to do something',
  usage: ['[OPTIONS] DIR'],
  options: [
    { long: 'frobnicate', short: 'f', doc: 'frobnicate every entry' },
    { long: 'level', arg: 'N', doc: 'how hard' },
  ],
}

const exitStatus = [
  '.Sh EXIT STATUS',
  '.Bl -tag -width 3n',
  ...EXIT_MEANING.flatMap(([code, meaning]) => [`.It ${code}`, meaning]),
  '.El',
]

function page(optionItems: string[], exit = exitStatus): string {
  return [
    '.Dd November 26, 2026', '.Dt BT-FAKE 1', '.Os', '.Sh NAME', '.Nm bt-fake', `.Nd ${fake.summary}`,
    '.Sh SYNOPSIS', '.Nm', '.Sh DESCRIPTION', '.Bl -tag -width Ds', ...optionItems, '.El', ...exit, '',
  ].join('\n')
}

const allItems = [
  '.It Fl f , Fl -frobnicate', 'Frobnicate.',
  '.It Fl h , Fl -help', 'Help.',
  '.It Fl -level Ar N', 'How hard.',
  '.It Fl -version', 'Version.',
]

t.test('a complete fake page passes', async (t) => {
  t.same(optionProblems({ spec: fake, help: helpText(fake), page: page(allItems) }), [])
  t.same(exitProblems('man/bt-fake.1', page(allItems)), [])
})

t.test('an option missing from the page is reported', async (t) => {
  const items = allItems.filter((l) => !l.includes('frobnicate') && l !== 'Frobnicate.')
  const problems = optionProblems({ spec: fake, help: helpText(fake), page: page(items) })
  t.match(problems, [/man\/bt-fake\.1: --frobnicate is not documented/, /-f \(--frobnicate\) is not documented/])
  t.equal(problems.length, 2)
})

t.test('an option missing from --help is reported', async (t) => {
  const help = helpText({ ...fake, options: fake.options.filter((o) => o.long !== 'level') })
  t.same(optionProblems({ spec: fake, help, page: page(allItems) }), ['bt-fake: --level is missing from --help'])
})

t.test('an option the tool lacks, and a list out of order, are reported', async (t) => {
  const items = [...allItems, '.It Fl -colour', 'Colour.']
  const problems = optionProblems({ spec: fake, help: helpText(fake), page: page(items) })
  t.match(problems, [/documents --colour, which bt-fake does not have/, /not in alphabetical order/])
  t.equal(problems.length, 2)
})

t.test('an EXIT STATUS that drifts from exit.ts is reported', async (t) => {
  const drifted = exitStatus
    .filter((l) => l !== '.It 141' && l !== EXIT_MEANING.find(([c]) => c === 141)![1])
    .map((l) => (l === EXIT_MEANING[1]![1] ? 'something went wrong' : l))
  const problems = exitProblems('man/bt-fake.1', page(allItems, [...drifted.slice(0, -1), '.It 5', 'bad luck', '.El']))
  t.match(problems, [/lists 5, which exit\.ts does not define/, /gives 1 as "something went wrong"/, /lacks 141/])
  t.equal(problems.length, 3)
  t.same(exitProblems('man/bt-fake.1', page(allItems, [])), ['man/bt-fake.1: no EXIT STATUS section'])
})

t.test('mandoc -Tlint findings are reported', { skip: !haveMandoc() && 'mandoc is not installed' }, async (t) => {
  const dir = t.testdir({ 'bt-fake.1': page(allItems).replace('.Sh SYNOPSIS', '.Sh SYNOPSIS\n.Xx bogus') })
  const problems = lintProblems([`${dir}/bt-fake.1`])
  t.ok(problems.length > 0, 'lint output becomes problems')
  t.match(problems[0], /bt-fake\.1/)
})
