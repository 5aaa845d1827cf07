// What a name may not do on a person's terminal: start a new line (and so
// forge a listing line, even the trailer's "verified"), move the cursor, set
// colours, reverse the text's direction, or hide. Every human-readable output
// shows names through showName, in C style as GNU ls -b and tar do: \n \t \\
// and friends, \xHH for any other ASCII control and for an octet that is not UTF-8, \u{HHHH} for an invisible,
// line-breaking or direction-changing character and for U+FFFD (the sign of
// bytes that were not UTF-8). --json output is exact and never goes through here.

const NAMED: Record<string, string> = { '\x07': '\\a', '\b': '\\b', '\t': '\\t', '\n': '\\n', '\v': '\\v', '\f': '\\f', '\r': '\\r', '\\': '\\\\' }

// Controls (C0, DEL, C1), format characters (bidi overrides, zero widths, BOM),
// line and paragraph separators, lone surrogates, and the replacement character.
const ODD = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}\uFFFD]/u

function escapeOne(ch: string): string {
  const named = NAMED[ch]
  if (named) return named
  const cp = ch.codePointAt(0)!
  // An octet that was not UTF-8 (fsname.ts carries it as U+DC80+octet) shows as that octet, like ls -b.
  if (cp >= 0xdc80 && cp <= 0xdcff) return `\\x${(cp - 0xdc00).toString(16)}`
  return cp < 0x80 ? `\\x${cp.toString(16).padStart(2, '0')}` : `\\u{${cp.toString(16).toUpperCase().padStart(4, '0')}}`
}

/** A name (path, link target, object name) as a listing shows it: one line, printable, reversible. */
export function showName(s: string): string {
  return s.replace(new RegExp(`${ODD.source}|\\\\`, 'gu'), escapeOne)
}

/**
 * A whole message line: the same escapes, but a backslash stays as it is
 * (messages quote names JSON-style, whose escapes must not be doubled).
 */
export function showText(s: string): string {
  return s.replace(new RegExp(ODD.source, 'gu'), escapeOne)
}
