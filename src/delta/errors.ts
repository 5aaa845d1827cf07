// The two ways delta input can be bad. Both are InputError (exit 4): a signature
// or delta that does not parse is corrupt or hostile input, never a usage slip.
import { InputError } from '../errors.js'

export class SignatureFormatError extends InputError {
  constructor(detail: string) {
    super('BT_BAD_SIGNATURE', `malformed block signature: ${detail}`,
      'the index holding it is corrupt; rebuild it from the stored full backup')
  }
}

export class DeltaFormatError extends InputError {
  constructor(detail: string) {
    super('BT_BAD_DELTA', `malformed delta: ${detail}`,
      'the stream is corrupt; fetch it again or restore from another copy')
  }
}
