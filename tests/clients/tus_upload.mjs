#!/usr/bin/env node
// Uploads a file to a tus 1.0 server with tus-js-client (the tus project's JavaScript client) on
// Node, in chunks.
//
//   node tus_upload.mjs ENDPOINT TOKEN FILE CHUNK_SIZE STATE [--interrupt-at BYTES]
//                       [--cut chunk|request] [--filetype T]
//
// ENDPOINT is the creation URL (http://host:port/uploads). STATE is the client's FileUrlStorage
// (a JSON file): the upload's URL is kept there under the file's fingerprint, and a later run
// for the same file finds it (findPreviousUploads), resumes from it (resumeFromPreviousUpload:
// HEAD for the offset, then PATCH from there), as an application that was interrupted would.
//
// With --interrupt-at BYTES the run aborts the upload once that many bytes are in and exits
// without finishing: the interruption. --cut chunk (the default) aborts between chunks, once
// the server has acknowledged at least BYTES; --cut request aborts in the middle of a PATCH,
// once at least BYTES of the file have been handed to the socket, so the server sees the
// request body end early. Without --interrupt-at, the run uploads whatever is left.
//
// Progress events come at most every 100 ms (the client throttles them), so on loopback a
// request cut happens at the first event past BYTES: early in some later PATCH.
//
// The last line printed is JSON: {"url", "offset" (the last offset the server answered),
// "resumed_from" (the offset the first HEAD answered, if any), "length", "outcome",
// "requests" (the methods sent, in order), "answered" (how many got an answer)}.

import * as fs from 'node:fs'
import * as path from 'node:path'
import { parseArgs } from 'node:util'
import * as tus from 'tus-js-client'

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    'interrupt-at': { type: 'string' },
    cut: { type: 'string', default: 'chunk' },
    filetype: { type: 'string' },
  },
})
if (positionals.length !== 5) {
  console.error('usage: tus_upload.mjs ENDPOINT TOKEN FILE CHUNK_SIZE STATE [--interrupt-at BYTES] [--cut chunk|request] [--filetype T]')
  process.exit(2)
}
const [endpoint, token, file, chunkArg, state] = positionals
const chunkSize = Number(chunkArg)
const interruptAt = values['interrupt-at'] === undefined ? null : Number(values['interrupt-at'])
const cut = values.cut
if (cut !== 'chunk' && cut !== 'request') {
  console.error(`--cut must be chunk or request, not ${cut}`)
  process.exit(2)
}
const length = fs.statSync(file).size

const metadata = { filename: path.basename(file) }
if (values.filetype) metadata.filetype = values.filetype

let resumedFrom = null
let acknowledged = 0
const requests = []
let answered = 0

let upload
const outcome = await new Promise((resolve, reject) => {
  let interrupted = false
  const interrupt = () => {
    if (interrupted) return
    interrupted = true
    // abort(false): stop sending and keep the upload on the server (true would DELETE it).
    upload.abort(false).then(() => resolve('interrupted'), reject)
  }
  upload = new tus.Upload(fs.createReadStream(file), {
    endpoint,
    chunkSize,
    metadata,
    headers: { Authorization: `Bearer ${token}` },
    urlStorage: new tus.FileUrlStorage(state),
    // Retries re-ask the offset (HEAD) first; 409 and 423 are among the answers retried.
    retryDelays: [0, 250, 500, 1000, 2000],
    removeFingerprintOnSuccess: false,
    onBeforeRequest(req) {
      requests.push(req.getMethod())
    },
    onAfterResponse(req, res) {
      answered += 1
      const offset = res.getHeader('Upload-Offset')
      console.error(`${req.getMethod()} ${req.getURL()} -> ${res.getStatus()} offset ${offset ?? '-'}`)
      if (req.getMethod() === 'HEAD' && resumedFrom === null && offset !== undefined) {
        resumedFrom = Number(offset)
      }
      if (offset !== undefined && res.getStatus() < 300) acknowledged = Number(offset)
    },
    onProgress(bytesSent) {
      // The client also reports progress once a PATCH is answered (bytesSent is then the new
      // offset); only bytes beyond the acknowledged offset are in flight.
      if (interruptAt !== null && cut === 'request' && bytesSent >= interruptAt && bytesSent > acknowledged) {
        interrupt()
      }
    },
    onChunkComplete(_chunkSize, bytesAccepted) {
      if (interruptAt !== null && cut === 'chunk' && bytesAccepted >= interruptAt && bytesAccepted < length) {
        interrupt()
      }
    },
    onSuccess() {
      resolve('done')
    },
    onError(error) {
      reject(error)
    },
  })
  upload.findPreviousUploads().then((previous) => {
    if (previous.length > 0) upload.resumeFromPreviousUpload(previous[0])
    upload.start()
  }, reject)
}).catch((error) => {
  console.error(`upload failed: ${error}`)
  process.exit(1)
})

console.log(
  JSON.stringify({
    url: upload.url,
    offset: acknowledged,
    resumed_from: resumedFrom,
    length,
    outcome,
    requests,
    answered,
  }),
)
process.exit(0)
