// What a differential holds, for the summary bt-delta prints on stderr.

// "unchanged" counts what the differential leaves out; "deleted" the records of paths gone.
export type RecordKind = 'unchanged' | 'meta' | 'delta' | 'copy' | 'literal' | 'deleted' | 'other'

export class Summary {
  readonly count: Record<RecordKind, number> = { unchanged: 0, meta: 0, delta: 0, copy: 0, literal: 0, deleted: 0, other: 0 }
  readonly bytes: Record<RecordKind, number> = { unchanged: 0, meta: 0, delta: 0, copy: 0, literal: 0, deleted: 0, other: 0 }
  /** Bytes of new content represented by the delta records. */
  deltaCovers = 0
  streamBytes = 0

  add(kind: RecordKind, bytes = 0): void {
    this.count[kind]++
    this.bytes[kind] += bytes
  }

  lines(fullBytes: number): string[] {
    const kinds = Object.keys(this.count) as RecordKind[]
    const parts = kinds.filter((k) => this.count[k] > 0).map((k) => `${this.count[k]} ${k} (${this.bytes[k]} bytes)`)
    const pct = fullBytes > 0 ? ((100 * this.streamBytes) / fullBytes).toFixed(2) : '?'
    return [`records: ${parts.join(', ') || 'none'}`,
      `differential: ${this.streamBytes} bytes, ${pct}% of the full's ${fullBytes} bytes`]
  }
}
