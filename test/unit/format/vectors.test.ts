// Replays every test/vectors/stream_* file through readFrames, whole and in
// odd-sized slices, and checks that the committed files are exactly what
// scripts/gen-vectors.ts generates.
import t from 'tap'
import { createHash } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import { InputError } from '../../../src/errors.js'
import { readFrames } from '../../../src/format/reader.js'
import { listFrames, parseVector, payloadOf, vectorFiles } from '../../../scripts/gen-vectors.js'
import { ROOT, SLICES, chunked } from '../../helpers.js'

const DIR = `${ROOT}test/vectors`

/** Which `expect` each error code may appear under. */
const LAYER: Record<string, string[]> = {
  none: ['success'],
  BT_NOT_STREAM: ['header failure'],
  BT_VERSION: ['header failure'],
  BT_FRAME: ['header failure', 'frame failure'],
  BT_FRAME_SIZE: ['header failure', 'frame failure'],
  BT_DIGEST: ['digest failure'],
  BT_TRUNCATED: ['truncated'],
  BT_TRAILING: ['trailing data'],
}

/** The cases backtory-stream(5) promises vectors for. */
const REQUIRED = [
  'success', 'empty_input', 'not_a_stream', 'truncated_header_frame', 'truncated_entry_pax', 'truncated_file_data',
  'truncated_before_trailer', 'truncated_eoa', 'missing_trailer', 'digest_mismatch', 'trailer_count_mismatch',
  'trailing_garbage', 'trailing_zero_block', 'oversized_header', 'unknown_version', 'unknown_frame_kind',
  'second_header', 'entry_without_pax',
  // Differential records: backtory-stream(5), DIFFERENTIAL RECORDS.
  'success_diff', 'success_quick', 'op_in_full', 'delta_in_quick', 'unknown_op', 'delta_bad_hash', 'copy_without_from',
  // Captured files: backtory-stream(5), CAPTURES.
  'success_capture', 'capture_gap', 'capture_wrong_order', 'capture_path_change', 'capture_part_after_last',
  'capture_cut_by_trailer', 'capture_truncated', 'capture_digest_mismatch',
  // Version 2 (backtory-stream(5), FRAMING) and the rules that hold in both versions.
  'v2_success', 'v2_success_empty', 'v2_success_incomplete', 'v2_success_diff', 'v2_success_capture', 'v2_success_diff_unlisted',
  'v2_success_binary_names', 'v2_end_not_root', 'v2_end_records_differ', 'v2_global_frame', 'v2_note_names_another_path',
  'hardlink_empty_target', 'symlink_empty_target', 'dev_not_decimal', 'pax_empty_key', 'pax_nul_key', 'empty_path',
  'root_not_directory', 'note_names_another_path', 'v2_diff_without_base', 'v2_full_with_base', 'success_octal_tolerance',
]

type Outcome = { ok: true; payload: string } | { ok: false; code: string; input: boolean; message: string }

async function outcome(source: AsyncIterable<Buffer>): Promise<Outcome> {
  try {
    return { ok: true, payload: payloadOf(await listFrames(readFrames(source))) }
  } catch (err) {
    const e = err as Error & { code?: unknown }
    return { ok: false, code: String(e.code), input: err instanceof InputError, message: e.message }
  }
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex')
const names = readdirSync(DIR).filter((f) => f.startsWith('stream_')).sort()

t.test('the committed vectors are exactly what gen-vectors makes', async (t) => {
  const files = vectorFiles()
  t.strictSame(names, [...files.keys()].sort(), 'same set of files')
  for (const [name, bytes] of files) {
    if (names.includes(name)) t.ok(readFileSync(`${DIR}/${name}`).equals(bytes), `${name} is byte-identical`)
  }
  const again = vectorFiles()
  for (const [name, bytes] of files) t.ok(again.get(name)?.equals(bytes), `${name} regenerates identically`)
})

t.test('every required case has a vector', async (t) => {
  for (const c of REQUIRED) t.ok(names.includes(`stream_${c}`), c)
})

for (const name of names) {
  t.test(name, async (t) => {
    const v = parseVector(readFileSync(`${DIR}/${name}`))
    t.match(v.payload, /^[0-9a-f]{64}$/, 'payload is a SHA-256')
    t.ok(LAYER[v.code]?.includes(v.expect), `expect "${v.expect}" fits code ${v.code}`)
    t.notMatch(v.comment, /^\s*$/, 'has a comment')

    const whole = await outcome(chunked(v.stream, 0))
    if (v.expect === 'success') {
      t.strictSame(whole, { ok: true, payload: v.payload }, 'decodes fully to the listed payload')
    } else {
      t.equal(v.payload, sha256(v.stream), 'payload pins the raw bytes')
      t.match(whole, { ok: false, code: v.code, input: true }, `rejects with ${v.code}`)
    }
    for (const n of SLICES) {
      const sliced = await outcome(chunked(v.stream, n))
      t.strictSame(sliced, whole, `same outcome in ${n}-byte slices`)
    }
  })
}
