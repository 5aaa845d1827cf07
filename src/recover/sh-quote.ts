// Quoting for the sh that recover.sh is: every value from a layout reaches the
// script through these, never spliced in raw, since a label or a GPT name is
// whatever the captured machine's admin typed.

const SAFE = /^[A-Za-z0-9_./:=@%+,-]+$/

/** `s` as one sh word: bare when it is plain, else single-quoted. */
export function q(s: string): string {
  return SAFE.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`
}

/** Words joined as one sh command line, each quoted. */
export function words(...ws: string[]): string {
  return ws.map(q).join(' ')
}

/** A name as a part of an sh variable or function name (recover-lib.sh's bt_var does the same). */
export function shVar(name: string): string {
  return name.replace(/[^A-Za-z0-9]/g, '_')
}

/**
 * A function printing `text` verbatim through a quoted here-document, whose
 * terminator no line of `text` may equal.
 */
export function hereDocFunction(fn: string, text: string, end = 'BT_END'): string {
  if (text.split('\n').includes(end)) throw new Error(`a line of ${fn}'s text is its terminator ${end}`)
  return `${fn}() {\n  cat <<'${end}'\n${text.replace(/\n?$/, '\n')}${end}\n}\n`
}
