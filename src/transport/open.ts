// Opens the transport a target names, wrapped with retries. The network
// backends load on demand, so bt-put to a local directory never loads an SSH stack.
import { type Target } from './url.js'
import { FileTransport } from './file.js'
import { type RetryPolicy, withRetry } from './retry.js'
import { type Transport, type TransportOptions } from './transport.js'

export async function openTransport(target: Target, o: TransportOptions, retry: RetryPolicy): Promise<Transport> {
  let tx: Transport
  switch (target.scheme) {
    case 'file':
      tx = new FileTransport(target.path)
      break
    case 'ftp':
    case 'ftps': {
      const { openFtp } = await import('./ftp.js')
      tx = await openFtp({ ...target, scheme: target.scheme }, o)
      break
    }
    case 'sftp': {
      const { openSftp } = await import('./sftp.js')
      tx = await openSftp({ ...target, scheme: 'sftp' }, o)
      break
    }
    case 's3': {
      const { openS3 } = await import('./s3.js')
      tx = await openS3(target, o)
      break
    }
  }
  return withRetry(tx, retry)
}
